//! Links: live navigation ([`patch`], [`navigate`]) and plain links ([`href`]).
//!
//! # Live navigation
//!
//! A plain `<a href="/rooms/2">` makes the browser load a new page: a new HTTP request, a dead
//! render, a new WebSocket join. Inside a live page the official client can do better when the
//! link carries two attributes that it reads on click: `data-phx-link` (`"patch"` or
//! `"redirect"`) and `data-phx-link-state` (`"push"` or `"replace"`, how the browser history
//! changes). This module writes them:
//!
//! | Function | Renders | What the client does on click |
//! |---|---|---|
//! | [`patch`] | `<a href data-phx-link="patch" data-phx-link-state="push">` | Stays in the **same live view**: sends the new URL, which runs [`handle_params`](crate::LiveView::handle_params); only the diff comes back. For tabs, filters, pagination, the selected item. |
//! | [`navigate`] | `<a href data-phx-link="redirect" data-phx-link-state="push">` | Goes to **another live view of the same live session** ([`LiveRouter::live_session`](crate::LiveRouter::live_session)) over the same WebSocket: the current view ends, the new one mounts, no page reload. Across live sessions (or to a dead route) the client falls back to a full page load. |
//! | [`href`] | `<a href>` | An ordinary link: a full page load. For dead routes, downloads and other sites. |
//!
//! [`Link::replace`] replaces the current history entry instead of pushing one (the back button
//! then skips it). Without JavaScript, or when the socket is down, every link is an ordinary
//! link, so the page works either way. The `href` is HTML-escaped, never interpreted: build it
//! from user input only after checking it (for example with
//! [`redirect::local_path`](crate::redirect::local_path)).
//!
//! The server side has the same three moves: [`Socket::push_patch`](crate::SocketCore::push_patch),
//! [`Socket::push_navigate`](crate::SocketCore::push_navigate) and
//! [`Socket::redirect`](crate::SocketCore::redirect) (each with a `replace_` variant where it
//! applies), and the client side has [`JS::patch`](crate::js::JS::patch) and
//! [`JS::navigate`](crate::js::JS::navigate) for buttons and other elements.
//!
//! A view with patch links and the route that serves it:
//!
//! ```
//! use livefire::link;
//! use livefire::{html, LiveRouter, LiveView, Params, Rendered, Result, Socket};
//!
//! #[derive(Default)]
//! struct Rooms { room: String }
//!
//! impl LiveView for Rooms {
//!     type Message = ();
//!
//!     // Runs on mount and on every patch: the URL is the state.
//!     async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
//!         self.room = params.get("room").unwrap_or("lobby").to_owned();
//!         socket.set_title(format!("#{}", self.room));
//!         Ok(())
//!     }
//!
//!     fn render(&self, _socket: &Socket) -> Rendered {
//!         html! {
//!             <nav>
//!                 @for room in ["lobby", "rust"] {
//!                     {link::patch(format!("/rooms/{room}")).class("room").render(room)}
//!                 }
//!                 {link::navigate("/settings").render("Settings")}
//!                 {link::href("/logout-page").render("Log out")}
//!             </nav>
//!             <h1>{self.room.as_str()}</h1>
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // Both routes in one live session, so `navigate` to /settings stays on the socket.
//! let app: axum::Router = LiveRouter::new(livefire::token::Keyring::random())
//!     .live_session("main")
//!     .live("/rooms/{room}", Rooms::default)
//!     .live("/settings", Rooms::default)
//!     .build()
//!     .unwrap();
//! # let _ = app;
//!
//! let (mut view, mut socket) = (Rooms::default(), Socket::disconnected());
//! let mut path_params = std::collections::HashMap::new();
//! path_params.insert("room".to_owned(), "rust".to_owned());
//! view.handle_params(&Params::from_uri("/rooms/rust", path_params), &mut socket).await.unwrap();
//! let html = view.render(&socket).to_html();
//! assert!(html.contains(
//!     r#"<a href="/rooms/rust" data-phx-link="patch" data-phx-link-state="push" class="room">rust</a>"#
//! ));
//! assert!(html.contains(r#"<a href="/settings" data-phx-link="redirect" data-phx-link-state="push">Settings</a>"#));
//! assert!(html.contains(r#"<a href="/logout-page">Log out</a>"#));
//! assert!(html.contains("<h1>rust</h1>"));
//! # }
//! ```

use std::borrow::Cow;

use crate::dynamic::{IntoDynamic, push_attr};
use crate::rendered::{Dynamic, Rendered, Statics};

/// What a click on a [`Link`] does.
///
/// ```
/// use livefire::link::{self, LinkKind};
/// assert_eq!(link::patch("/a").kind(), LinkKind::Patch);
/// assert_eq!(link::navigate("/a").kind(), LinkKind::Navigate);
/// assert_eq!(link::href("/a").kind(), LinkKind::Href);
/// assert_eq!(LinkKind::Navigate.attribute(), Some("redirect"));
/// assert_eq!(LinkKind::Href.attribute(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Same live view, new URL: `handle_params` runs (`data-phx-link="patch"`).
    Patch,
    /// Another live view of the same live session, over the same socket
    /// (`data-phx-link="redirect"`).
    Navigate,
    /// An ordinary link (no `data-phx-link`).
    Href,
}

impl LinkKind {
    /// The value of `data-phx-link` the client reads, if any.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            LinkKind::Patch => Some("patch"),
            LinkKind::Navigate => Some("redirect"),
            LinkKind::Href => None,
        }
    }
}

/// An `<a>` element under construction: made by [`patch`], [`navigate`] or [`href`], finished
/// by [`render`](Link::render) with its content.
///
/// Every value is HTML-escaped. Attributes come out in a fixed order: `href`, the live
/// navigation pair, `id`, `class`, then [`attr`](Link::attr)s in the order they were added.
///
/// ```
/// use livefire::link;
/// let a = link::patch("/items?page=2&sort=\"name\"")
///     .replace()
///     .id("next")
///     .class("pager")
///     .attr("phx-click", r#"[["push",{"event":"track"}]]"#)
///     .render("Next <page>");
/// assert_eq!(
///     a.to_html(),
///     "<a href=\"/items?page=2&amp;sort=&quot;name&quot;\" data-phx-link=\"patch\" \
///      data-phx-link-state=\"replace\" id=\"next\" class=\"pager\" \
///      phx-click=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;track&quot;}]]\">Next &lt;page&gt;</a>"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a link renders nothing until `render` is called"]
pub struct Link {
    to: String,
    kind: LinkKind,
    replace: bool,
    id: Option<String>,
    class: Option<String>,
    attrs: Vec<(String, String)>,
}

/// A patch link: a click keeps the current live view and runs its
/// [`handle_params`](crate::LiveView::handle_params) with the new URL (history: push).
///
/// ```
/// let html = livefire::link::patch("/rooms/rust").render("Rust").to_html();
/// assert_eq!(html, r#"<a href="/rooms/rust" data-phx-link="patch" data-phx-link-state="push">Rust</a>"#);
/// ```
pub fn patch(to: impl Into<String>) -> Link {
    Link::new(to.into(), LinkKind::Patch)
}

/// A navigate link: a click mounts the live view of that URL over the same socket when it is in
/// the same live session, and loads the page otherwise (history: push).
///
/// ```
/// let html = livefire::link::navigate("/settings").render("Settings").to_html();
/// assert_eq!(html, r#"<a href="/settings" data-phx-link="redirect" data-phx-link-state="push">Settings</a>"#);
/// ```
pub fn navigate(to: impl Into<String>) -> Link {
    Link::new(to.into(), LinkKind::Navigate)
}

/// A plain link: a full page load.
///
/// ```
/// let html = livefire::link::href("/files/report.pdf").attr("download", "").render("Report").to_html();
/// assert_eq!(html, r#"<a href="/files/report.pdf" download="">Report</a>"#);
/// ```
pub fn href(to: impl Into<String>) -> Link {
    Link::new(to.into(), LinkKind::Href)
}

static LINK: Statics = Statics::new(
    &["<a", ">", "</a>"],
    Statics::fingerprint_of(&["<a", ">", "</a>"]),
);

impl Link {
    fn new(to: String, kind: LinkKind) -> Self {
        Self {
            to,
            kind,
            replace: false,
            id: None,
            class: None,
            attrs: Vec::new(),
        }
    }

    /// Replaces the current browser history entry instead of pushing a new one
    /// (`data-phx-link-state="replace"`). No effect on an [`href`] link.
    ///
    /// ```
    /// let html = livefire::link::navigate("/b").replace().render("B").to_html();
    /// assert!(html.contains(r#"data-phx-link="redirect" data-phx-link-state="replace""#));
    /// let plain = livefire::link::href("/b").replace().render("B").to_html();
    /// assert_eq!(plain, r#"<a href="/b">B</a>"#);
    /// ```
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }

    /// Sets the `id` attribute.
    ///
    /// ```
    /// let html = livefire::link::href("/").id("home").render("Home").to_html();
    /// assert_eq!(html, r#"<a href="/" id="home">Home</a>"#);
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the `class` attribute.
    ///
    /// ```
    /// let html = livefire::link::href("/").class("nav active").render("Home").to_html();
    /// assert_eq!(html, r#"<a href="/" class="nav active">Home</a>"#);
    /// ```
    pub fn class(mut self, class: impl Into<String>) -> Self {
        self.class = Some(class.into());
        self
    }

    /// Adds any other attribute (`phx-click`, `aria-current`, `title`, …); the value is escaped.
    ///
    /// # Panics
    /// If `name` is empty or has a character other than ASCII letters, digits, `-`, `_`, `:`
    /// and `.` (a name is written as is, so it must not be able to end the tag).
    ///
    /// ```
    /// let html = livefire::link::patch("/?tab=2").attr("aria-current", "page").render("Two").to_html();
    /// assert!(html.ends_with(r#" aria-current="page">Two</a>"#));
    /// ```
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b)),
            "invalid attribute name {name:?} for a link"
        );
        self.attrs.push((name, value.into()));
        self
    }

    /// The destination, as given.
    ///
    /// ```
    /// assert_eq!(livefire::link::patch("/a?b=c").to(), "/a?b=c");
    /// ```
    pub fn to(&self) -> &str {
        &self.to
    }

    /// What a click does.
    ///
    /// ```
    /// assert_eq!(livefire::link::patch("/").kind(), livefire::link::LinkKind::Patch);
    /// ```
    pub fn kind(&self) -> LinkKind {
        self.kind
    }

    /// The attributes of the `<a>` tag, each with its leading space, escaped.
    ///
    /// ```
    /// assert_eq!(
    ///     livefire::link::patch("/x").attributes(),
    ///     r#" href="/x" data-phx-link="patch" data-phx-link-state="push""#
    /// );
    /// ```
    pub fn attributes(&self) -> String {
        let mut out = String::new();
        push_attr("href", &self.to, &mut out);
        if let Some(kind) = self.kind.attribute() {
            push_attr("data-phx-link", kind, &mut out);
            let state = if self.replace { "replace" } else { "push" };
            push_attr("data-phx-link-state", state, &mut out);
        }
        if let Some(id) = &self.id {
            push_attr("id", id, &mut out);
        }
        if let Some(class) = &self.class {
            push_attr("class", class, &mut out);
        }
        for (name, value) in &self.attrs {
            push_attr(name, value, &mut out);
        }
        out
    }

    /// The `<a>` element around `content` (text is escaped, a [`Rendered`] nests). The
    /// attributes and the content are two dynamics of one shared template, so a list of links
    /// sends its statics once.
    ///
    /// ```
    /// use livefire::{html, link};
    /// let a = link::navigate("/profile").render(html!(<b>"Me"</b>));
    /// assert_eq!(a.statics().parts(), ["<a", ">", "</a>"]);
    /// assert_eq!(
    ///     a.to_html(),
    ///     r#"<a href="/profile" data-phx-link="redirect" data-phx-link-state="push"><b>Me</b></a>"#
    /// );
    /// ```
    pub fn render(&self, content: impl IntoDynamic) -> Rendered {
        Rendered::new(
            &LINK,
            vec![
                Dynamic::Html(Cow::Owned(self.attributes())),
                content.into_dynamic(),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_match_what_the_client_reads() {
        // live_socket.ts reads PHX_LIVE_LINK = "data-phx-link" ("patch" | "redirect") and
        // PHX_LINK_STATE = "data-phx-link-state" ("push" | "replace") and throws otherwise.
        for (link, kind, state) in [
            (patch("/a"), "patch", "push"),
            (patch("/a").replace(), "patch", "replace"),
            (navigate("/a"), "redirect", "push"),
            (navigate("/a").replace(), "redirect", "replace"),
        ] {
            let attrs = link.attributes();
            assert!(
                attrs.contains(&format!(" data-phx-link=\"{kind}\"")),
                "{attrs}"
            );
            assert!(
                attrs.contains(&format!(" data-phx-link-state=\"{state}\"")),
                "{attrs}"
            );
        }
        assert!(!href("/a").attributes().contains("data-phx"));
    }

    #[test]
    fn values_are_escaped() {
        let html = href("\"><script>x</script>")
            .id("a\"b")
            .class("<c>")
            .attr("title", "'")
            .render("<b>")
            .to_html();
        assert_eq!(
            html,
            "<a href=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" id=\"a&quot;b\" \
             class=\"&lt;c&gt;\" title=\"&#39;\">&lt;b&gt;</a>"
        );
    }

    #[test]
    #[should_panic(expected = "invalid attribute name")]
    fn attribute_names_that_could_end_the_tag_are_refused() {
        let _ = href("/").attr("onclick=\"x\" a", "1");
    }

    #[test]
    fn links_share_statics() {
        let a = patch("/a").render("a");
        let b = navigate("/b").render("b");
        assert!(std::ptr::eq(a.statics(), b.statics()));
        assert_eq!(
            a.statics().fingerprint(),
            Statics::fingerprint_of(a.statics().parts())
        );
    }
}
