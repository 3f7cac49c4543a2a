//! [`live_title`]: a `<title>` that keeps its prefix and suffix across live title changes.

use crate::html;
use crate::rendered::Rendered;

/// A `<title>` element for the root layout: `live_title(page.title()).suffix(" · MyApp")`.
/// See [`LiveTitle`].
///
/// ```
/// use livefire::components::live_title;
/// assert_eq!(live_title("Home").render().to_html(), "<title>Home</title>");
/// ```
pub fn live_title(title: impl Into<String>) -> LiveTitle {
    LiveTitle {
        title: title.into(),
        prefix: None,
        suffix: None,
        default: None,
    }
}

/// A `<title>` with a prefix, a suffix and a default, as Phoenix's `live_title`.
///
/// The layout is rendered once, on the dead render; afterwards a view's
/// [`Socket::set_title`](crate::SocketCore::set_title) reaches the client as a bare title, and the
/// client writes `document.title = prefix + title + suffix` from the `data-prefix` and
/// `data-suffix` attributes of the page's `<title>` (and uses `data-default` when the new title
/// is empty). So the suffix must be in those attributes, not only in the text: a layout that
/// writes `<title>{page.title()} " · MyApp"</title>` loses " · MyApp" at the first live title
/// change.
///
/// ```
/// use livefire::components::live_title;
/// let title = live_title("Inbox").prefix("(3) ").suffix(" · Mail").default("Welcome");
/// assert_eq!(
///     title.render().to_html(),
///     r#"<title data-prefix="(3) " data-suffix=" · Mail" data-default="Welcome">(3) Inbox · Mail</title>"#
/// );
/// // An empty title shows the default.
/// assert_eq!(
///     live_title("").suffix(" · Mail").default("Welcome").render().to_html(),
///     r#"<title data-suffix=" · Mail" data-default="Welcome">Welcome · Mail</title>"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a title renders nothing until `render` is called"]
pub struct LiveTitle {
    title: String,
    prefix: Option<String>,
    suffix: Option<String>,
    default: Option<String>,
}

impl LiveTitle {
    /// Text before every title (`data-prefix`).
    ///
    /// ```
    /// let html = livefire::components::live_title("A").prefix("App · ").render().to_html();
    /// assert_eq!(html, r#"<title data-prefix="App · ">App · A</title>"#);
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Text after every title (`data-suffix`).
    ///
    /// ```
    /// let html = livefire::components::live_title("A").suffix(" · App").render().to_html();
    /// assert_eq!(html, r#"<title data-suffix=" · App">A · App</title>"#);
    /// ```
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.suffix = Some(suffix.into());
        self
    }

    /// The title shown when the title is empty or blank (`data-default`).
    ///
    /// ```
    /// let html = livefire::components::live_title(" ").default("App").render().to_html();
    /// assert_eq!(html, r#"<title data-default="App">App</title>"#);
    /// ```
    pub fn default(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self
    }

    /// The text the browser shows: prefix, title (or the default when it is blank), suffix.
    ///
    /// ```
    /// let title = livefire::components::live_title("Inbox").suffix(" · Mail");
    /// assert_eq!(title.text(), "Inbox · Mail");
    /// ```
    pub fn text(&self) -> String {
        let inner = match &self.default {
            Some(default) if self.title.trim().is_empty() => default.as_str(),
            _ => self.title.as_str(),
        };
        format!(
            "{}{inner}{}",
            self.prefix.as_deref().unwrap_or(""),
            self.suffix.as_deref().unwrap_or("")
        )
    }

    /// The `<title>` element (every value escaped).
    ///
    /// ```
    /// let html = livefire::components::live_title("<b>").render().to_html();
    /// assert_eq!(html, "<title>&lt;b&gt;</title>");
    /// ```
    pub fn render(&self) -> Rendered {
        html! {
            <title data-prefix={self.prefix.as_deref()} data-suffix={self.suffix.as_deref()}
                data-default={self.default.as_deref()}>{self.text()}</title>
        }
    }
}
