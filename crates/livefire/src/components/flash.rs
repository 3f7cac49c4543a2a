//! [`flash_group`]: flash messages and the connection notices.

use serde_json::Value;

use crate::flash::Flash;
use crate::html;
use crate::js::{JS, Push};
use crate::rendered::Rendered;

/// The flash messages and the client's connection notices, with the default texts: what a view
/// renders at the top of its template, `{flash_group(socket.flash())}`. See [`FlashGroup`].
///
/// ```
/// use livefire::components::flash_group;
/// use livefire::flash::Flash;
///
/// let mut flash = Flash::new();
/// flash.put("info", "Saved <draft>");
/// let html = flash_group(&flash).to_html();
/// assert!(html.starts_with(r#"<div id="flash-group" aria-live="polite"><div id="flash-info""#));
/// assert!(html.contains("<p>Saved &lt;draft&gt;</p>"));
/// assert!(html.contains(r#"id="client-error""#) && html.contains(r#"id="server-error""#));
/// ```
pub fn flash_group(flash: &Flash) -> Rendered {
    FlashGroup::new(flash).render()
}

/// One flash message: `<div id="flash-{kind}" class="flash flash-{kind}" role="alert">`, which
/// a click clears (the server drops the message through the `lv:clear-flash` event that every
/// live view handles, and the client hides it at once).
///
/// A string value is one paragraph; an object `{"title": …, "subtitle": …}` (or `"message"`
/// in place of `"subtitle"`) is a title and a paragraph; any other JSON value is shown as JSON.
///
/// ```
/// use livefire::components::flash_message;
/// use serde_json::json;
///
/// let html = flash_message("error", &json!({"title": "Oops", "subtitle": "Try again"})).to_html();
/// assert!(html.starts_with(r#"<div id="flash-error" class="flash flash-error" role="alert" phx-click=""#));
/// assert!(html.contains("lv:clear-flash"));
/// assert!(html.ends_with(r#"<strong class="flash-title">Oops</strong><p>Try again</p></div>"#));
/// ```
pub fn flash_message(kind: &str, value: &Value) -> Rendered {
    let id = format!("flash-{kind}");
    let class = format!("flash flash-{kind}");
    let clear = JS::new()
        .push(Push::new("lv:clear-flash").value(serde_json::json!({ "key": kind })))
        .hide(format!("#{id}").as_str());
    html! {
        <div id={id} class={class} role="alert" phx-click={clear}>
            @match value {
                Value::String(text) => { <p>{text.as_str()}</p> }
                Value::Object(map) => {
                    @let title = map.get("title").and_then(Value::as_str);
                    @let text = map.get("subtitle").or_else(|| map.get("message")).and_then(Value::as_str);
                    @if let Some(title) = title { <strong class="flash-title">{title}</strong> }
                    @if let Some(text) = text { <p>{text}</p> }
                }
                other => { <p>{other.to_string()}</p> }
            }
        </div>
    }
}

/// The flash group with its texts set: every message of a [`Flash`] (in key order, see
/// [`flash_message`]), then two notices the client shows while the connection is down, as
/// Phoenix's `flash_group`:
///
/// * `#client-error` ("We can't find the internet" / "Attempting to reconnect"): the browser
///   lost the server (the live container gets `phx-client-error`);
/// * `#server-error` ("Something went wrong!" / "Attempting to reconnect"): the view crashed
///   on the server and the client is rejoining (`phx-server-error`).
///
/// Both start `hidden`. Their `phx-disconnected` commands, which the client runs half a second
/// after the view is lost, show the notice only under a container with the matching class;
/// their `phx-connected` commands, run on every (re)join, hide it again. Nothing is sent to
/// the server, so the notices work while it is unreachable.
///
/// ```
/// use livefire::components::FlashGroup;
/// use livefire::flash::Flash;
///
/// let html = FlashGroup::new(&Flash::new())
///     .id("notices")
///     .client_error("Offline", "Reconnecting…")
///     .server_error("Server error", "Reloading…")
///     .render()
///     .to_html();
/// assert!(html.starts_with(r#"<div id="notices" aria-live="polite">"#));
/// // Shown only inside a container that has lost its connection, hidden again on reconnect.
/// assert!(html.contains(
///     r##"phx-disconnected="[[&quot;show&quot;,{&quot;to&quot;:&quot;.phx-client-error #client-error&quot;}],[&quot;remove_attr&quot;,{&quot;attr&quot;:&quot;hidden&quot;,&quot;to&quot;:&quot;#client-error&quot;}]]""##
/// ));
/// assert!(html.contains(
///     r##"phx-connected="[[&quot;hide&quot;,{&quot;to&quot;:&quot;#client-error&quot;}],[&quot;set_attr&quot;,{&quot;attr&quot;:[&quot;hidden&quot;,&quot;&quot;],&quot;to&quot;:&quot;#client-error&quot;}]]""##
/// ));
/// assert!(html.contains("<strong class=\"flash-title\">Offline</strong><p>Reconnecting…</p>"));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a flash group renders nothing until `render` is called"]
pub struct FlashGroup<'a> {
    flash: &'a Flash,
    id: String,
    client_error: (String, String),
    server_error: (String, String),
}

impl<'a> FlashGroup<'a> {
    /// The group for `flash`, with the default id (`flash-group`) and texts.
    ///
    /// ```
    /// let html = livefire::components::FlashGroup::new(&Default::default()).render().to_html();
    /// assert!(html.contains("We can&#39;t find the internet"));
    /// assert!(html.contains("Something went wrong!"));
    /// ```
    pub fn new(flash: &'a Flash) -> Self {
        Self {
            flash,
            id: "flash-group".to_owned(),
            client_error: (
                "We can't find the internet".to_owned(),
                "Attempting to reconnect".to_owned(),
            ),
            server_error: (
                "Something went wrong!".to_owned(),
                "Attempting to reconnect".to_owned(),
            ),
        }
    }

    /// The id of the wrapping `<div>`.
    ///
    /// ```
    /// let html = livefire::components::FlashGroup::new(&Default::default()).id("f").render().to_html();
    /// assert!(html.starts_with(r#"<div id="f""#));
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The title and text of the notice shown while the browser cannot reach the server.
    ///
    /// ```
    /// let html = livefire::components::FlashGroup::new(&Default::default())
    ///     .client_error("Hors ligne", "Reconnexion…").render().to_html();
    /// assert!(html.contains("Hors ligne"));
    /// ```
    pub fn client_error(mut self, title: impl Into<String>, text: impl Into<String>) -> Self {
        self.client_error = (title.into(), text.into());
        self
    }

    /// The title and text of the notice shown while the view is down on the server.
    ///
    /// ```
    /// let html = livefire::components::FlashGroup::new(&Default::default())
    ///     .server_error("Erreur", "Reconnexion…").render().to_html();
    /// assert!(html.contains("Erreur"));
    /// ```
    pub fn server_error(mut self, title: impl Into<String>, text: impl Into<String>) -> Self {
        self.server_error = (title.into(), text.into());
        self
    }

    /// The group.
    ///
    /// ```
    /// let mut flash = livefire::flash::Flash::new();
    /// flash.put("error", "No");
    /// flash.put("info", "Yes");
    /// let html = livefire::components::FlashGroup::new(&flash).render().to_html();
    /// assert!(html.find("flash-error").unwrap() < html.find("flash-info").unwrap());
    /// ```
    pub fn render(&self) -> Rendered {
        let messages: Vec<Rendered> = self
            .flash
            .iter()
            .map(|(kind, value)| flash_message(kind, value))
            .collect();
        let client = notice("client-error", "phx-client-error", &self.client_error);
        let server = notice("server-error", "phx-server-error", &self.server_error);
        html!(<div id={self.id.as_str()} aria-live="polite">{messages}{client}{server}</div>)
    }
}

/// A connection notice: hidden until the client runs its `phx-disconnected` commands under a
/// container with `container_class`.
fn notice(id: &str, container_class: &str, (title, text): &(String, String)) -> Rendered {
    let selector = format!("#{id}");
    let disconnected = JS::new()
        .show(format!(".{container_class} {selector}").as_str())
        .remove_attribute("hidden", selector.as_str());
    let connected = JS::new()
        .hide(selector.as_str())
        .set_attribute(("hidden", ""), selector.as_str());
    html! {
        <div id={id} class="flash flash-error" role="alert" hidden
            phx-disconnected={disconnected} phx-connected={connected}>
            <strong class="flash-title">{title.as_str()}</strong>
            <p>{text.as_str()}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_click_clears_the_message_on_the_server_and_hides_it() {
        let html = flash_message("info", &json!("Hi")).to_html();
        let js: Value = serde_json::from_str(
            &html
                .split("phx-click=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a phx-click")
                .replace("&quot;", "\""),
        )
        .expect("JSON commands");
        assert_eq!(
            js,
            json!([
                ["push", {"event": "lv:clear-flash", "value": {"key": "info"}}],
                ["hide", {"to": "#flash-info"}]
            ])
        );
    }

    #[test]
    fn message_shapes() {
        assert!(
            flash_message("info", &json!({"title": "T", "message": "M"}))
                .to_html()
                .contains("<strong class=\"flash-title\">T</strong><p>M</p>")
        );
        assert!(
            flash_message("info", &json!(3))
                .to_html()
                .contains("<p>3</p>")
        );
        let title_only = flash_message("info", &json!({"title": "<T>"})).to_html();
        assert!(title_only.contains("<strong class=\"flash-title\">&lt;T&gt;</strong></div>"));
    }

    #[test]
    fn keys_and_values_are_escaped() {
        let mut flash = Flash::new();
        flash.put("a\"b", "<script>");
        let html = flash_group(&flash).to_html();
        assert!(html.contains("id=\"flash-a&quot;b\""), "{html}");
        assert!(html.contains("<p>&lt;script&gt;</p>"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn empty_flash_keeps_only_the_notices() {
        let html = flash_group(&Flash::new()).to_html();
        assert_eq!(html.matches("role=\"alert\"").count(), 2);
        assert_eq!(html.matches(" hidden ").count(), 2, "{html}");
    }
}
