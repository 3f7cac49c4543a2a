//! The root layout of a dead render: the app's own HTML around the live container.
//!
//! The app keeps full control of the page. It only has to put [`Page::csrf_meta`] in the head
//! (or its own `<meta name="csrf-token">`), the live container ([`Page::content`]) in the body,
//! and load the client ([`Page::scripts`], or its own script tags and a few lines of
//! `new LiveSocket("/live", Phoenix.Socket, {params: {_csrf_token}})`).

use std::sync::{Arc, OnceLock};

use crate::assets::{BOOTSTRAP_JS, LIVE_VIEW_JS, PHOENIX_JS};
use crate::escape::{escape_html, escape_html_into};
use crate::flash::Flash;
use crate::rendered::{Dynamic, Raw, Rendered, Statics};

/// What a layout gets to render one page.
///
/// ```
/// use livefire::layout::Page;
/// let page = Page::new(Some("Home".into()), "tok".into(), "<div id=\"phx-1\"></div>".into(), Default::default());
/// assert_eq!(page.title(), "Home");
/// assert_eq!(page.csrf_token(), "tok");
/// assert_eq!(page.csrf_meta().as_str(), "<meta name=\"csrf-token\" content=\"tok\">");
/// assert_eq!(page.content().as_str(), "<div id=\"phx-1\"></div>");
/// assert!(page.flash().is_empty());
/// assert!(page.scripts().as_str().contains("/assets/livefire.js"));
/// ```
#[derive(Debug, Clone)]
pub struct Page {
    title: Option<String>,
    csrf_token: String,
    content: String,
    flash: Flash,
    extensions: http::Extensions,
}

impl Page {
    /// A page (normally built by the router's dead render).
    pub fn new(title: Option<String>, csrf_token: String, content: String, flash: Flash) -> Self {
        Self {
            title,
            csrf_token,
            content,
            flash,
            extensions: http::Extensions::new(),
        }
    }

    /// Attaches the request's extensions, so a layout can read what middleware put there
    /// (for example the signed-in user).
    pub fn with_extensions(mut self, extensions: http::Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// A value a middleware inserted into the request's extensions.
    ///
    /// ```
    /// use livefire::layout::Page;
    /// #[derive(Clone)]
    /// struct User(&'static str);
    /// let mut ext = http::Extensions::new();
    /// ext.insert(User("ann@example.com"));
    /// let page = Page::new(None, String::new(), String::new(), Default::default()).with_extensions(ext);
    /// assert_eq!(page.extension::<User>().map(|u| u.0), Some("ann@example.com"));
    /// ```
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// The title the view set, or an empty string.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or("")
    }

    /// The masked CSRF token for this page's session.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// `<meta name="csrf-token" content="…">`.
    pub fn csrf_meta(&self) -> Raw {
        Raw::new_unchecked(format!(
            "<meta name=\"csrf-token\" content=\"{}\">",
            escape_html(&self.csrf_token)
        ))
    }

    /// The live container with the view's dead render inside.
    pub fn content(&self) -> Raw {
        Raw::new_unchecked(self.content.clone())
    }

    /// The flash of this request (also available to the view as `socket.flash()`).
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// The two official client bundles and livefire's bootstrap script, which connects the
    /// live socket (three deferred `<script src>` tags; no inline script).
    pub fn scripts(&self) -> Raw {
        Raw::new_unchecked(scripts())
    }

    /// `<link rel="icon" href="data:,">`: an empty favicon, so that browsers do not request
    /// `/favicon.ico` (a 404 in the console) for apps that have none. Apps with an icon link
    /// their own instead.
    pub fn empty_favicon(&self) -> Raw {
        Raw::new_unchecked(EMPTY_FAVICON)
    }
}

const EMPTY_FAVICON: &str = "<link rel=\"icon\" href=\"data:,\">";

/// The script tags of [`Page::scripts`]: the two client bundles and livefire's bootstrap,
/// deferred (they run in this order once the document is parsed). No inline script, so the
/// page works under a Content-Security-Policy without `'unsafe-inline'`.
fn scripts() -> &'static str {
    static SCRIPTS: OnceLock<String> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        format!(
            "<script defer src=\"{PHOENIX_JS}\"></script>\
             <script defer src=\"{LIVE_VIEW_JS}\"></script>\
             <script defer src=\"{BOOTSTRAP_JS}\"></script>"
        )
    })
}

/// A layout: the app's root template. Pass the closure to
/// [`LiveRouter::layout`](crate::LiveRouter::layout); [`default_layout`] is used otherwise.
///
/// The layout is rendered once per dead render and never sent over the socket: only the view
/// inside [`Page::content`] is live (plus the title, which the client updates).
///
/// ```
/// use std::sync::Arc;
/// use livefire::flash::Flash;
/// use livefire::html;
/// use livefire::layout::{Layout, Page};
///
/// let layout: Layout = Arc::new(|page: &Page| html!(
///     <!DOCTYPE html>
///     <html lang="en">
///         <head>{page.csrf_meta()}<title>{page.title()}</title>{page.scripts()}</head>
///         <body>
///             @if let Some(info) = page.flash().get_str("info") { <p class="alert">{info}</p> }
///             {page.content()}
///         </body>
///     </html>
/// ));
///
/// let mut flash = Flash::new();
/// flash.put("info", "Welcome <back>");
/// let page = Page::new(Some("Home".into()), "tok".into(), "<div id=\"phx-1\"></div>".into(), flash);
/// let html = layout(&page).to_html();
/// assert!(html.contains("<title>Home</title>"));
/// assert!(html.contains("<p class=\"alert\">Welcome &lt;back&gt;</p><div id=\"phx-1\"></div>"));
/// ```
pub type Layout = Arc<dyn Fn(&Page) -> Rendered + Send + Sync>;

static DEFAULT_STATICS: Statics = {
    const PARTS: &[&str] = &[
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">",
        "<title>",
        "</title>",
        "</head><body>",
        "</body></html>",
    ];
    Statics::new(PARTS, Statics::fingerprint_of(PARTS))
};

/// A minimal layout: head with the CSRF meta tag, an empty favicon, title and scripts; the
/// container in the body.
///
/// ```
/// use livefire::layout::{Page, default_layout};
/// let page = Page::new(None, "t".into(), "<div id=\"phx-1\"></div>".into(), Default::default());
/// let html = default_layout(&page).to_html();
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<div id=\"phx-1\"></div>"));
/// ```
pub fn default_layout(page: &Page) -> Rendered {
    Rendered::new(
        &DEFAULT_STATICS,
        vec![
            page.csrf_meta().into_dynamic(),
            Dynamic::text(page.title()),
            page.scripts().into_dynamic(),
            page.content().into_dynamic(),
        ],
    )
}

/// The element a routed live view is rendered in: its *live container*,
/// `<div id="phx-…" data-phx-main data-phx-session="…" data-phx-static="…">` by default.
///
/// Phoenix's `live "/path", View, container: {:section, class: "page"}`: give a route (with
/// [`LiveRouter::live_with_container`](crate::LiveRouter::live_with_container)) or the routes
/// of a live session ([`LiveRouter::container`](crate::LiveRouter::container)) another tag and
/// extra attributes, for example a `phx-remove` transition that the client runs on the whole
/// page when live navigation leaves it. Attribute values are escaped; the tag and the
/// attribute names are checked by [`LiveRouter::build`](crate::LiveRouter::build) (see
/// [`Container::check`]). The container is part of the dead render only: after live
/// navigation the client keeps the first page's container element.
///
/// ```
/// use livefire::layout::Container;
/// use livefire::js::{JS, TransitionOpts};
///
/// let container = Container::new("section")
///     .attr("class", "page")
///     .attr("phx-remove", JS::new().transition("fade-out", TransitionOpts::new().time(100)));
/// assert_eq!(container.tag(), "section");
/// assert!(container.check().is_ok());
/// assert_eq!(container.attrs().next(), Some(("class", "page")));
/// assert_eq!(Container::default(), Container::new("div"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    tag: String,
    attrs: Vec<(String, String)>,
}

impl Default for Container {
    fn default() -> Self {
        Self::new("div")
    }
}

/// A [`Container`] that cannot hold a live view; reported by
/// [`LiveRouter::build`](crate::LiveRouter::build) inside
/// [`ConfigError::InvalidContainer`](crate::ConfigError::InvalidContainer).
///
/// ```
/// use livefire::layout::{Container, ContainerError};
/// assert!(matches!(Container::new("my view").check(), Err(ContainerError::InvalidTag(_))));
/// assert!(matches!(Container::new("img").check(), Err(ContainerError::UnsupportedTag(_))));
/// let err = Container::new("div").attr("id", "main").check().unwrap_err();
/// assert_eq!(err.to_string(), "container attribute \"id\" is set by livefire");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// Not an element name: ASCII lowercase letters, digits and `-`, starting with a letter.
    #[error("container tag {0:?} is not an element name (a-z, 0-9 and -, starting with a letter)")]
    InvalidTag(String),
    /// A void element (`img`, `input`…), or one whose content is not markup (`script`,
    /// `textarea`, `template`…): it cannot hold the view.
    #[error("container tag {0:?} cannot hold a live view")]
    UnsupportedTag(String),
    /// Not an attribute name: empty, or with whitespace, a control character, a quote, `=`,
    /// `/`, `<` or `>`.
    #[error("container attribute name {0:?} is not valid")]
    InvalidAttribute(String),
    /// `id` and `data-phx-*`: livefire sets them (the page tokens).
    #[error("container attribute {0:?} is set by livefire")]
    ReservedAttribute(String),
    /// The same attribute twice.
    #[error("container attribute {0:?} is given twice")]
    DuplicateAttribute(String),
}

/// Elements that cannot contain the view's markup: void elements, and those whose content is
/// text or inert (raw text, escapable raw text, `template`, legacy ones).
const UNSUPPORTED_TAGS: &[&str] = &[
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
    "script",
    "style",
    "textarea",
    "title",
    "template",
    "noscript",
    "iframe",
    "noembed",
    "noframes",
    "xmp",
    "plaintext",
    "html",
    "head",
    "body",
];

impl Container {
    /// A container with element `tag` and no extra attributes.
    pub fn new(tag: impl Into<String>) -> Self {
        Self {
            tag: tag.into(),
            attrs: Vec::new(),
        }
    }

    /// Adds the attribute `name="value"` (the value is escaped when the page is rendered). A
    /// [`JS`](crate::js::JS) command is written as its JSON, as in a template.
    pub fn attr(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.attrs.push((name.into(), value.to_string()));
        self
    }

    /// The element name.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The extra attributes, in the order added.
    pub fn attrs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attrs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether the container can hold a live view: a valid element name that is not a void
    /// or raw-text element, valid attribute names, none of them twice, and neither `id` nor
    /// `data-phx-*` (which livefire sets).
    ///
    /// ```
    /// use livefire::layout::{Container, ContainerError};
    /// assert!(Container::new("main").attr("class", "a \"b\" <c>").check().is_ok());
    /// assert_eq!(
    ///     Container::new("div").attr("data-phx-session", "x").check(),
    ///     Err(ContainerError::ReservedAttribute("data-phx-session".into()))
    /// );
    /// assert_eq!(
    ///     Container::new("div").attr("onclick=\"x", "").check(),
    ///     Err(ContainerError::InvalidAttribute("onclick=\"x".into()))
    /// );
    /// ```
    pub fn check(&self) -> Result<(), ContainerError> {
        let tag = self.tag.as_str();
        let valid_tag = tag.starts_with(|c: char| c.is_ascii_lowercase())
            && tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_tag {
            return Err(ContainerError::InvalidTag(self.tag.clone()));
        }
        if UNSUPPORTED_TAGS.contains(&tag) {
            return Err(ContainerError::UnsupportedTag(self.tag.clone()));
        }
        for (i, (name, _)) in self.attrs.iter().enumerate() {
            let valid = !name.is_empty()
                && !name.chars().any(|c| {
                    c.is_whitespace()
                        || c.is_control()
                        || matches!(c, '"' | '\'' | '=' | '/' | '<' | '>')
                });
            if !valid {
                return Err(ContainerError::InvalidAttribute(name.clone()));
            }
            let lower = name.to_ascii_lowercase();
            if lower == "id" || lower.starts_with("data-phx-") {
                return Err(ContainerError::ReservedAttribute(name.clone()));
            }
            if self.attrs[..i]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
            {
                return Err(ContainerError::DuplicateAttribute(name.clone()));
            }
        }
        Ok(())
    }

    /// Writes the opening tag of a main view's container (checked by the router's build).
    pub(crate) fn open_main(&self, out: &mut String, id: &str, session: &str, static_token: &str) {
        out.push('<');
        out.push_str(&self.tag);
        out.push_str(" id=\"");
        escape_html_into(id, out);
        out.push_str("\" data-phx-main data-phx-session=\"");
        escape_html_into(session, out);
        out.push_str("\" data-phx-static=\"");
        escape_html_into(static_token, out);
        out.push('"');
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_html_into(value, out);
            out.push('"');
        }
        out.push('>');
    }

    /// Writes the closing tag.
    pub(crate) fn close(&self, out: &mut String) {
        out.push_str("</");
        out.push_str(&self.tag);
        out.push('>');
    }
}

/// A root layout to configure instead of writing one: the [`default_layout`] plus a title
/// prefix/suffix that survive live title changes ([`live_title`](crate::components::live_title)),
/// stylesheets, an inline style, extra head content and a `<body>` class. An app that needs
/// more writes its own [`Layout`] (start from [`RootLayout::render`]'s output).
///
/// ```
/// use livefire::layout::{Page, RootLayout};
/// use livefire::{LiveRouter, LiveView, Rendered, Socket, html};
///
/// let root = RootLayout::new()
///     .title_suffix(" · Chat")
///     .stylesheet("/assets/app.css")
///     .style("body{font-family:sans-serif}")
///     .body_class("app");
///
/// let page = Page::new(Some("Lobby".into()), "tok".into(), "<div id=\"phx-1\"></div>".into(), Default::default());
/// let html = root.render(&page).to_html();
/// assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"));
/// assert!(html.contains("<meta name=\"csrf-token\" content=\"tok\">"));
/// assert!(html.contains("<title data-suffix=\" · Chat\">Lobby · Chat</title>"));
/// assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/app.css\">"));
/// assert!(html.contains("<style>body{font-family:sans-serif}</style>"));
/// assert!(html.ends_with("<body class=\"app\"><div id=\"phx-1\"></div></body></html>"));
///
/// # #[derive(Default)] struct Lobby;
/// # impl LiveView for Lobby { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!() } }
/// let app: axum::Router = LiveRouter::new(livefire::token::Keyring::random())
///     .layout(root.into_layout())
///     .live("/", Lobby::default)
///     .build()
///     .unwrap();
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a root layout does nothing until it is given to `LiveRouter::layout`"]
pub struct RootLayout {
    lang: Option<String>,
    title_prefix: Option<String>,
    title_suffix: Option<String>,
    default_title: Option<String>,
    stylesheets: Vec<String>,
    style: Option<String>,
    head: Vec<Raw>,
    body_class: Option<String>,
}

impl RootLayout {
    /// The layout with no options: the same page as [`default_layout`].
    ///
    /// ```
    /// use livefire::layout::{Page, RootLayout, default_layout};
    /// let page = Page::new(Some("T".into()), "t".into(), "<div></div>".into(), Default::default());
    /// assert_eq!(RootLayout::new().render(&page).to_html(), default_layout(&page).to_html());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The `lang` of `<html>` (default `"en"`).
    ///
    /// ```
    /// # use livefire::layout::{Page, RootLayout};
    /// let page = Page::new(None, String::new(), String::new(), Default::default());
    /// assert!(RootLayout::new().lang("fr").render(&page).to_html().contains("<html lang=\"fr\">"));
    /// ```
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// Text before every page title (`data-prefix`, kept by the client on live title changes).
    ///
    /// ```
    /// # use livefire::layout::{Page, RootLayout};
    /// let page = Page::new(Some("Inbox".into()), String::new(), String::new(), Default::default());
    /// let html = RootLayout::new().title_prefix("Mail · ").render(&page).to_html();
    /// assert!(html.contains("<title data-prefix=\"Mail · \">Mail · Inbox</title>"));
    /// ```
    pub fn title_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.title_prefix = Some(prefix.into());
        self
    }

    /// Text after every page title (`data-suffix`).
    pub fn title_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.title_suffix = Some(suffix.into());
        self
    }

    /// The title of pages whose view set none, or an empty one (`data-default`).
    ///
    /// ```
    /// # use livefire::layout::{Page, RootLayout};
    /// let page = Page::new(None, String::new(), String::new(), Default::default());
    /// let html = RootLayout::new().default_title("Mail").render(&page).to_html();
    /// assert!(html.contains("<title data-default=\"Mail\">Mail</title>"));
    /// ```
    pub fn default_title(mut self, title: impl Into<String>) -> Self {
        self.default_title = Some(title.into());
        self
    }

    /// Adds `<link rel="stylesheet" href="…">` (in the order added).
    pub fn stylesheet(mut self, href: impl Into<String>) -> Self {
        self.stylesheets.push(href.into());
        self
    }

    /// An inline `<style>` (written as is; it must not contain `</style`).
    ///
    /// # Panics
    /// If `css` contains `</style` (in any case), which would end the element early.
    ///
    /// ```should_panic
    /// livefire::layout::RootLayout::new().style("</STYLE><script>");
    /// ```
    pub fn style(mut self, css: impl Into<String>) -> Self {
        let css = css.into();
        assert!(
            !css.to_ascii_lowercase().contains("</style"),
            "an inline style must not contain </style"
        );
        self.style = Some(css);
        self
    }

    /// Adds HTML to the end of `<head>` (icons, meta tags, the app's own scripts), unescaped.
    ///
    /// ```
    /// # use livefire::layout::{Page, RootLayout};
    /// use livefire::Raw;
    /// let page = Page::new(None, String::new(), String::new(), Default::default());
    /// let root = RootLayout::new().head(Raw::new_unchecked("<meta name=\"robots\" content=\"noindex\">"));
    /// assert!(root.render(&page).to_html().contains("<meta name=\"robots\" content=\"noindex\"></head>"));
    /// ```
    pub fn head(mut self, html: Raw) -> Self {
        self.head.push(html);
        self
    }

    /// The `class` of `<body>`.
    pub fn body_class(mut self, class: impl Into<String>) -> Self {
        self.body_class = Some(class.into());
        self
    }

    /// The page: doctype, `<head>` (charset, viewport, empty favicon, CSRF meta tag, live
    /// title, stylesheets, style, the client scripts, extra head content), `<body>` with the
    /// live container.
    pub fn render(&self, page: &Page) -> Rendered {
        let mut title = crate::components::live_title(page.title());
        if let Some(prefix) = &self.title_prefix {
            title = title.prefix(prefix.as_str());
        }
        if let Some(suffix) = &self.title_suffix {
            title = title.suffix(suffix.as_str());
        }
        if let Some(default) = &self.default_title {
            title = title.default(default.as_str());
        }
        let lang = self.lang.as_deref().unwrap_or("en");
        let style = self.style.clone().map(Raw::new_unchecked);
        crate::html! {
            <!DOCTYPE html>
            <html lang={lang}>
                <head>
                    <meta charset="utf-8">
                    <meta name="viewport" content="width=device-width, initial-scale=1">
                    {page.empty_favicon()}
                    {page.csrf_meta()}
                    {title.render()}
                    @for href in &self.stylesheets { <link rel="stylesheet" href={href}> }
                    @if let Some(style) = style { <style>{style}</style> }
                    {page.scripts()}
                    @for html in &self.head { {html} }
                </head>
                <body class={self.body_class.as_deref()}>{page.content()}</body>
            </html>
        }
    }

    /// The layout as a closure for [`LiveRouter::layout`](crate::LiveRouter::layout).
    pub fn into_layout(self) -> impl Fn(&Page) -> Rendered + Send + Sync + 'static {
        move |page| self.render(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_escapes_values_after_the_page_tokens() {
        let container = Container::new("section")
            .attr("class", "a\"b<c>&")
            .attr("phx-remove", "[[\"transition\",{}]]");
        let mut out = String::new();
        container.open_main(&mut out, "phx-1", "S", "T");
        container.close(&mut out);
        assert_eq!(
            out,
            "<section id=\"phx-1\" data-phx-main data-phx-session=\"S\" data-phx-static=\"T\" \
             class=\"a&quot;b&lt;c&gt;&amp;\" phx-remove=\"[[&quot;transition&quot;,{}]]\"></section>"
        );
    }

    #[test]
    fn tags_and_names_are_checked() {
        assert!(Container::default().check().is_ok());
        assert!(Container::new("my-view2").check().is_ok());
        for bad in ["", "Div", "1div", "div>", "di v", "-x"] {
            assert_eq!(
                Container::new(bad).check(),
                Err(ContainerError::InvalidTag(bad.into())),
                "{bad:?}"
            );
        }
        for unsupported in ["img", "script", "template", "textarea"] {
            assert_eq!(
                Container::new(unsupported).check(),
                Err(ContainerError::UnsupportedTag(unsupported.into()))
            );
        }
        for bad in ["", "a b", "a>", "x/", "q'"] {
            assert_eq!(
                Container::new("div").attr(bad, "v").check(),
                Err(ContainerError::InvalidAttribute(bad.into()))
            );
        }
        for reserved in [
            "id",
            "ID",
            "data-phx-main",
            "data-phx-static",
            "data-phx-parent-id",
        ] {
            assert_eq!(
                Container::new("div").attr(reserved, "v").check(),
                Err(ContainerError::ReservedAttribute(reserved.into()))
            );
        }
        assert_eq!(
            Container::new("div")
                .attr("class", "a")
                .attr("CLASS", "b")
                .check(),
            Err(ContainerError::DuplicateAttribute("CLASS".into()))
        );
    }
}
