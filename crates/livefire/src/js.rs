//! JS commands: client-side DOM changes and richer pushes, written in the template.
//!
//! A [`JS`] value is a chain of commands that the Phoenix LiveView client runs in the browser,
//! in order, when the binding it sits in fires: `phx-click`, `phx-click-away`, `phx-change`,
//! `phx-submit`, `phx-blur`, `phx-focus`, `phx-window-*`, `phx-keydown`/`phx-keyup`,
//! `phx-mounted`, `phx-remove`, `phx-connected`, `phx-disconnected`, or any attribute that an
//! [`exec`](JS::exec) command (or a hook's `this.js().exec(…)`, or
//! `liveSocket.execJS(el, el.getAttribute("data-js"))`) later reads. It renders as the JSON list
//! the client parses, `[["push",{"event":"inc"}],["hide",{"to":"#modal"}]]`, exactly as
//! Phoenix's `Phoenix.LiveView.JS` encodes it: same command names, same argument names, and
//! options left out of the JSON when they are not given.
//!
//! # Commands or events?
//!
//! Use JS commands for changes that only the browser needs to know about: opening a menu,
//! showing a modal, toggling a class, moving focus, running a transition, dispatching a DOM
//! event for your own script. They run at once, with no round trip, and the client keeps
//! their effect across later patches from the server (a shown element stays shown, an added
//! class stays added) until the server renders something that decides otherwise.
//!
//! Use an event (a plain `phx-click="save"`, or [`JS::push`]) when the server must decide or
//! remember something: state that other renders depend on, validation, persistence. A push
//! can be combined with client-side commands in one chain (`push` the event and `hide` the
//! modal optimistically); the client runs them in order without waiting for the server's
//! reply, and the commands that do reach the server (`push`, `navigate`, `patch`) reach it in
//! the order they were chained.
//!
//! # Targets
//!
//! Most commands act on the element the binding is on ([`To::Source`], no `to` in the JSON),
//! or on the elements a [`To`] names: a CSS selector over the whole document (`"#modal"`, or
//! [`To::Selector`]), the matches inside the source element ([`To::inner`]), or the source
//! element's closest ancestor-or-self matching a selector ([`To::closest`]). A
//! [`push`](JS::push) goes to the live view, or to a component through [`Push::target`] and
//! [`Target`].
//!
//! ```
//! use livefire::html;
//! use livefire::js::{JS, Push, ShowOpts, To};
//!
//! let close = JS::new()
//!     .push(Push::new("close").value(serde_json::json!({"id": 7})))
//!     .hide("#modal");
//! let open = JS::new().show(ShowOpts::new().to("#modal").transition("fade-in").time(300));
//! assert_eq!(
//!     close.to_string(),
//!     r##"[["push",{"event":"close","value":{"id":7}}],["hide",{"to":"#modal"}]]"##
//! );
//! let page = html!(
//!     <button phx-click={&open}>"Open"</button>
//!     <div id="modal" phx-remove={JS::new().hide(To::Source)}>
//!         <button phx-click={close}>"Close"</button>
//!     </div>
//! );
//! assert!(page.to_html().starts_with(
//!     "<button phx-click=\"[[&quot;show&quot;,{&quot;time&quot;:300,&quot;to&quot;:&quot;#modal&quot;,\
//!      &quot;transition&quot;:[[&quot;fade-in&quot;],[],[]]}]]\">Open</button>"
//! ));
//! ```
//!
//! # Class names
//!
//! Every argument that takes class names (`add_class`, transitions) takes them as one string
//! separated by whitespace, as in a `class` attribute; empty names are dropped. (Phoenix splits
//! on spaces only; splitting on any ASCII whitespace gives the same JSON for those strings and
//! never sends a name the browser's `classList` would reject.)

use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dynamic::{AttrValue, IntoDynamic, ToDynamic, push_attr};
use crate::rendered::Dynamic;

/// A chain of JS commands, rendered as the JSON the LiveView client executes.
///
/// Build it with [`JS::new`] (or `JS::default()`) and one method per command; each returns the
/// extended chain. Render it in any attribute of [`html!`](crate::html) (it implements
/// [`AttrValue`], HTML-escaping the JSON), format it with `Display`/`to_string()` for the bare
/// JSON, or serialize it with serde (as a JSON list) to send it in an event payload for
/// `liveSocket.execJS`.
///
/// ```
/// use livefire::html;
/// use livefire::js::JS;
///
/// let js = JS::new().push("inc").toggle_class("active", "#counter");
/// assert_eq!(
///     js.to_string(),
///     r##"[["push",{"event":"inc"}],["toggle_class",{"names":["active"],"to":"#counter"}]]"##
/// );
/// let page = html!(<button phx-click={js}>"+"</button>);
/// assert_eq!(
///     page.to_html(),
///     "<button phx-click=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}],\
///      [&quot;toggle_class&quot;,{&quot;names&quot;:[&quot;active&quot;],&quot;to&quot;:&quot;#counter&quot;}]]\">+</button>"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "a JS chain does nothing until it is rendered"]
#[allow(clippy::upper_case_acronyms)] // The name of Phoenix's `Phoenix.LiveView.JS`.
pub struct JS {
    ops: Vec<Op>,
}

/// One command: its name and its arguments, keys in the order Phoenix encodes them (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Op {
    kind: &'static str,
    args: Vec<(&'static str, Value)>,
}

/// The arguments of one command, built in key order; `None` options are left out.
struct Args(Vec<(&'static str, Value)>);

impl Args {
    fn new() -> Self {
        Self(Vec::new())
    }

    fn put(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.0.push((key, value.into()));
        self
    }

    fn opt(self, key: &'static str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.put(key, value),
            None => self,
        }
    }

    fn to(self, to: &To) -> Self {
        self.opt("to", to.to_value())
    }
}

impl JS {
    /// An empty chain; it renders as `[]`, which the client runs as nothing.
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(JS::new().to_string(), "[]");
    /// assert_eq!(JS::new(), JS::default());
    /// assert!(JS::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        Self { ops: Vec::new() }
    }

    /// Whether the chain has no command.
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert!(JS::new().is_empty());
    /// assert!(!JS::new().pop_focus().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The number of commands in the chain.
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(JS::new().push("a").hide("#b").len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Appends the commands of `other` after this chain's (Phoenix's `JS.concat/2`).
    ///
    /// ```
    /// use livefire::js::JS;
    /// fn hide_modal(js: JS) -> JS {
    ///     js.hide("#modal").pop_focus()
    /// }
    /// let js = JS::new().push("save").concat(hide_modal(JS::new()));
    /// assert_eq!(js, hide_modal(JS::new().push("save")));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["push",{"event":"save"}],["hide",{"to":"#modal"}],["pop_focus",{}]]"##
    /// );
    /// ```
    pub fn concat(mut self, other: JS) -> Self {
        self.ops.extend(other.ops);
        self
    }

    fn op(mut self, kind: &'static str, args: Args) -> Self {
        debug_assert!(
            args.0.windows(2).all(|w| w[0].0 < w[1].0),
            "arguments of {kind} must be in key order"
        );
        self.ops.push(Op { kind, args: args.0 });
        self
    }

    /// Pushes an event to the server (`push`): a string is the event name; [`Push`] adds a
    /// component [`target`](Push::target), a [`loading`](Push::loading) selector,
    /// [`page_loading`](Push::page_loading) and a [`value`](Push::value) payload.
    ///
    /// On `phx-change` and `phx-submit` the pushed event carries the form, as the plain
    /// binding would. The `value` is merged over the element's `phx-value-*` attributes, and
    /// `target` replaces its `phx-target`.
    ///
    /// ```
    /// use livefire::js::{JS, Push};
    /// assert_eq!(JS::new().push("inc").to_string(), r#"[["push",{"event":"inc"}]]"#);
    /// let js = JS::new().push(Push::new("inc").target(3u64).loading(".thermo"));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["push",{"event":"inc","loading":".thermo","target":3}]]"#
    /// );
    /// ```
    pub fn push(self, push: impl Into<Push>) -> Self {
        let Push {
            event,
            target,
            loading,
            page_loading,
            value,
        } = push.into();
        let args = Args::new()
            .put("event", event)
            .opt("loading", loading)
            .opt("page_loading", page_loading)
            .opt("target", target.map(Target::into_value))
            .opt("value", value);
        self.op("push", args)
    }

    /// Dispatches a DOM event to the target elements (`dispatch`): a string is the event
    /// name (sent to the source element); [`Dispatch`] adds `to`, `detail`, `bubbles` and
    /// `blocking`.
    ///
    /// The client sends a `CustomEvent` whose `detail` also holds `dispatcher` (the source
    /// element), except for `"click"`, which it sends as a real mouse click.
    ///
    /// # Panics
    ///
    /// As Phoenix raises: if the event is `"click"` and a `detail` is given (the browser
    /// replaces a click's detail with a number), or if `blocking` is set and the detail has a
    /// `done` key (the client puts its own `done` callback there).
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS};
    /// assert_eq!(
    ///     JS::new().dispatch("app:opened").to_string(),
    ///     r#"[["dispatch",{"event":"app:opened"}]]"#
    /// );
    /// let js = JS::new().dispatch(Dispatch::new("click").to(".nav"));
    /// assert_eq!(js.to_string(), r#"[["dispatch",{"event":"click","to":".nav"}]]"#);
    /// ```
    #[track_caller]
    pub fn dispatch(self, dispatch: impl Into<Dispatch>) -> Self {
        let Dispatch {
            event,
            to,
            detail,
            bubbles,
            blocking,
        } = dispatch.into();
        assert!(
            !(event == "click" && detail.is_some()),
            "click events cannot be dispatched with details: the browser rewrites a \
             MouseEvent's detail to an integer; dispatch your own proxy event instead"
        );
        assert!(
            !(blocking && detail.as_ref().is_some_and(|d| d.contains_key("done"))),
            "the detail passed to a blocking dispatch must not contain a `done` key"
        );
        let args = Args::new()
            .opt("blocking", blocking.then_some(true))
            .opt("bubbles", bubbles)
            .opt("detail", detail)
            .put("event", event)
            .to(&to);
        self.op("dispatch", args)
    }

    /// Shows the target elements if they are hidden (`show`), optionally through a transition.
    ///
    /// Takes a selector, a [`To`], or [`ShowOpts`] (target, `transition`, `display`, `time`,
    /// `blocking`). The client sets `display` (default `"block"`, `"table-row"` for `tr`,
    /// `"table-cell"` for `td`) and dispatches `phx:show-start` and `phx:show-end` on each
    /// element. Only hidden elements (no width and no height) are affected.
    ///
    /// ```
    /// use livefire::js::{JS, ShowOpts, To};
    /// assert_eq!(JS::new().show("#x").to_string(), r##"[["show",{"to":"#x"}]]"##);
    /// assert_eq!(JS::new().show(To::Source).to_string(), r#"[["show",{}]]"#);
    /// let js = JS::new().show(
    ///     ShowOpts::new()
    ///         .to("#x")
    ///         .display("flex")
    ///         .transition(("ease-out duration-300", "opacity-0", "opacity-100"))
    ///         .time(300)
    ///         .blocking(false),
    /// );
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["show",{"blocking":false,"display":"flex","time":300,"to":"#x","transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"##
    /// );
    /// ```
    pub fn show(self, opts: impl Into<ShowOpts>) -> Self {
        let ShowOpts {
            to,
            transition,
            display,
            time,
            blocking,
        } = opts.into();
        let args = Args::new()
            .opt("blocking", blocking)
            .opt("display", display)
            .opt("time", time)
            .to(&to)
            .opt("transition", transition.map(Transition::into_value));
        self.op("show", args)
    }

    /// Hides the target elements if they are visible (`hide`), optionally through a
    /// transition.
    ///
    /// Takes a selector, a [`To`], or [`HideOpts`] (target, `transition`, `time`,
    /// `blocking`). The client dispatches `phx:hide-start` and `phx:hide-end` on each element.
    ///
    /// ```
    /// use livefire::js::{HideOpts, JS};
    /// assert_eq!(JS::new().hide("#modal").to_string(), r##"[["hide",{"to":"#modal"}]]"##);
    /// let js = JS::new().hide(HideOpts::new().to("#modal").transition("fade-out").time(100));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["hide",{"time":100,"to":"#modal","transition":[["fade-out"],[],[]]}]]"##
    /// );
    /// ```
    pub fn hide(self, opts: impl Into<HideOpts>) -> Self {
        let HideOpts {
            to,
            transition,
            time,
            blocking,
        } = opts.into();
        let args = Args::new()
            .opt("blocking", blocking)
            .opt("time", time)
            .to(&to)
            .opt("transition", transition.map(Transition::into_value));
        self.op("hide", args)
    }

    /// Shows the target elements that are hidden and hides those that are visible (`toggle`).
    ///
    /// Takes a selector, a [`To`], or [`ToggleOpts`] (target, `in` and `out` transitions,
    /// `display`, `time`, `blocking`).
    ///
    /// ```
    /// use livefire::js::{JS, ToggleOpts};
    /// assert_eq!(JS::new().toggle("#item").to_string(), r##"[["toggle",{"to":"#item"}]]"##);
    /// let js = JS::new().toggle(
    ///     ToggleOpts::new()
    ///         .to("#item")
    ///         .transition_in("fade-in-scale")
    ///         .transition_out("fade-out-scale"),
    /// );
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["toggle",{"ins":[["fade-in-scale"],[],[]],"outs":[["fade-out-scale"],[],[]],"to":"#item"}]]"##
    /// );
    /// ```
    pub fn toggle(self, opts: impl Into<ToggleOpts>) -> Self {
        let ToggleOpts {
            to,
            transition_in,
            transition_out,
            display,
            time,
            blocking,
        } = opts.into();
        let args = Args::new()
            .opt("blocking", blocking)
            .opt("display", display)
            .opt("ins", transition_in.map(Transition::into_value))
            .opt("outs", transition_out.map(Transition::into_value))
            .opt("time", time)
            .to(&to);
        self.op("toggle", args)
    }

    /// Adds classes to the target elements (`add_class`), optionally through a transition.
    ///
    /// `names` is a whitespace-separated class list; the second argument is a selector, a
    /// [`To`], or [`ClassOpts`] (target, `transition`, `time`, `blocking`).
    ///
    /// ```
    /// use livefire::js::{ClassOpts, JS, To};
    /// assert_eq!(
    ///     JS::new().add_class("warmer hot", ".thermo").to_string(),
    ///     r#"[["add_class",{"names":["warmer","hot"],"to":".thermo"}]]"#
    /// );
    /// let js = JS::new().add_class("open", ClassOpts::new().transition("fade-in").time(150));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["add_class",{"names":["open"],"time":150,"transition":[["fade-in"],[],[]]}]]"#
    /// );
    /// assert_eq!(
    ///     JS::new().add_class("open", To::Source).to_string(),
    ///     r#"[["add_class",{"names":["open"]}]]"#
    /// );
    /// ```
    pub fn add_class(self, names: &str, opts: impl Into<ClassOpts>) -> Self {
        self.class_op("add_class", names, opts.into())
    }

    /// Removes classes from the target elements (`remove_class`), optionally through a
    /// transition. Arguments as in [`add_class`](JS::add_class).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().remove_class("show", "#modal").to_string(),
    ///     r##"[["remove_class",{"names":["show"],"to":"#modal"}]]"##
    /// );
    /// ```
    pub fn remove_class(self, names: &str, opts: impl Into<ClassOpts>) -> Self {
        self.class_op("remove_class", names, opts.into())
    }

    /// Adds each class the target elements lack and removes each one they have
    /// (`toggle_class`). Arguments as in [`add_class`](JS::add_class).
    ///
    /// ```
    /// use livefire::js::{ClassOpts, JS};
    /// let js = JS::new().toggle_class("active", ClassOpts::new().to("#tab").blocking(false));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["toggle_class",{"blocking":false,"names":["active"],"to":"#tab"}]]"##
    /// );
    /// ```
    pub fn toggle_class(self, names: &str, opts: impl Into<ClassOpts>) -> Self {
        self.class_op("toggle_class", names, opts.into())
    }

    fn class_op(self, kind: &'static str, names: &str, opts: ClassOpts) -> Self {
        let ClassOpts {
            to,
            transition,
            time,
            blocking,
        } = opts;
        let args = Args::new()
            .opt("blocking", blocking)
            .put("names", class_names(names))
            .opt("time", time)
            .to(&to)
            .opt("transition", transition.map(Transition::into_value));
        self.op(kind, args)
    }

    /// Runs a transition on the target elements (`transition`): the classes are applied for
    /// `time` milliseconds (the client's default is 200), then removed.
    ///
    /// `transition` is a class list or a `(transition, start, end)` triple (see
    /// [`Transition`]); the second argument is a selector, a [`To`], or [`TransitionOpts`]
    /// (target, `time`, `blocking`).
    ///
    /// ```
    /// use livefire::js::{JS, TransitionOpts};
    /// assert_eq!(
    ///     JS::new().transition("shake", "#form").to_string(),
    ///     r##"[["transition",{"to":"#form","transition":[["shake"],[],[]]}]]"##
    /// );
    /// let js = JS::new().transition(
    ///     ("ease-out duration-300", "opacity-0", "opacity-100"),
    ///     TransitionOpts::new().time(300),
    /// );
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["transition",{"time":300,"transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"#
    /// );
    /// ```
    pub fn transition(
        self,
        transition: impl Into<Transition>,
        opts: impl Into<TransitionOpts>,
    ) -> Self {
        let TransitionOpts { to, time, blocking } = opts.into();
        let args = Args::new()
            .opt("blocking", blocking)
            .opt("time", time)
            .to(&to)
            .put("transition", transition.into().into_value());
        self.op("transition", args)
    }

    /// Sets an attribute on the target elements (`set_attr`): `(name, value)`.
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// assert_eq!(
    ///     JS::new().set_attribute(("aria-expanded", "true"), To::Source).to_string(),
    ///     r#"[["set_attr",{"attr":["aria-expanded","true"]}]]"#
    /// );
    /// assert_eq!(
    ///     JS::new().set_attribute(("open", ""), "#menu").to_string(),
    ///     r##"[["set_attr",{"attr":["open",""],"to":"#menu"}]]"##
    /// );
    /// ```
    pub fn set_attribute(
        self,
        (name, value): (impl Into<String>, impl Into<String>),
        to: impl Into<To>,
    ) -> Self {
        let attr = vec![Value::String(name.into()), Value::String(value.into())];
        let args = Args::new().put("attr", attr).to(&to.into());
        self.op("set_attr", args)
    }

    /// Removes an attribute from the target elements (`remove_attr`).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().remove_attribute("aria-expanded", "#menu").to_string(),
    ///     r##"[["remove_attr",{"attr":"aria-expanded","to":"#menu"}]]"##
    /// );
    /// ```
    pub fn remove_attribute(self, name: impl Into<String>, to: impl Into<To>) -> Self {
        let args = Args::new().put("attr", name.into()).to(&to.into());
        self.op("remove_attr", args)
    }

    /// Toggles an attribute on the target elements (`toggle_attr`).
    ///
    /// With `(name, value)`: sets it to `value` if it is absent, removes it if present. With
    /// `(name, value1, value2)`: sets it to `value2` if it equals `value1`, else to `value1`.
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// assert_eq!(
    ///     JS::new().toggle_attribute(("open", "true"), "#details").to_string(),
    ///     r##"[["toggle_attr",{"attr":["open","true"],"to":"#details"}]]"##
    /// );
    /// assert_eq!(
    ///     JS::new().toggle_attribute(("aria-expanded", "true", "false"), To::Source).to_string(),
    ///     r#"[["toggle_attr",{"attr":["aria-expanded","true","false"]}]]"#
    /// );
    /// ```
    pub fn toggle_attribute(self, attr: impl Into<ToggleAttr>, to: impl Into<To>) -> Self {
        let ToggleAttr { name, on, off } = attr.into();
        let mut attr = vec![Value::String(name), Value::String(on)];
        attr.extend(off.map(Value::String));
        let args = Args::new().put("attr", attr).to(&to.into());
        self.op("toggle_attr", args)
    }

    /// Makes the client keep the current value of these attributes on the target elements when
    /// the server patches them (`ignore_attrs`). A name may end in `*` to match a prefix, such
    /// as `"data-*"`.
    ///
    /// Typical use: `phx-mounted` on a `<details>` or `<dialog>`, so that the browser's own
    /// `open` attribute survives patches.
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// assert_eq!(
    ///     JS::new().ignore_attributes(["open"], To::Source).to_string(),
    ///     r#"[["ignore_attrs",{"attrs":["open"]}]]"#
    /// );
    /// assert_eq!(
    ///     JS::new().ignore_attributes(vec!["open", "data-*"], "#d").to_string(),
    ///     r##"[["ignore_attrs",{"attrs":["open","data-*"],"to":"#d"}]]"##
    /// );
    /// ```
    pub fn ignore_attributes(
        self,
        attrs: impl IntoIterator<Item = impl Into<String>>,
        to: impl Into<To>,
    ) -> Self {
        let attrs: Vec<Value> = attrs.into_iter().map(|a| Value::String(a.into())).collect();
        let args = Args::new().put("attrs", attrs).to(&to.into());
        self.op("ignore_attrs", args)
    }

    /// Focuses the target element (`focus`).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().focus("#email").to_string(),
    ///     r##"[["focus",{"to":"#email"}]]"##
    /// );
    /// ```
    pub fn focus(self, to: impl Into<To>) -> Self {
        self.op("focus", Args::new().to(&to.into()))
    }

    /// Focuses the first focusable element inside the target (`focus_first`).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().focus_first("#modal").to_string(),
    ///     r##"[["focus_first",{"to":"#modal"}]]"##
    /// );
    /// ```
    pub fn focus_first(self, to: impl Into<To>) -> Self {
        self.op("focus_first", Args::new().to(&to.into()))
    }

    /// Remembers the target element (by default the source element) on the client's focus
    /// stack (`push_focus`), for a later [`pop_focus`](JS::pop_focus).
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// let open = JS::new().push_focus(To::Source).show("#modal").focus_first("#modal");
    /// assert_eq!(
    ///     open.to_string(),
    ///     r##"[["push_focus",{}],["show",{"to":"#modal"}],["focus_first",{"to":"#modal"}]]"##
    /// );
    /// ```
    pub fn push_focus(self, to: impl Into<To>) -> Self {
        self.op("push_focus", Args::new().to(&to.into()))
    }

    /// Focuses the element last remembered by [`push_focus`](JS::push_focus) (`pop_focus`).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().hide("#modal").pop_focus().to_string(),
    ///     r##"[["hide",{"to":"#modal"}],["pop_focus",{}]]"##
    /// );
    /// ```
    pub fn pop_focus(self) -> Self {
        self.op("pop_focus", Args::new())
    }

    /// Navigates to another live view (`navigate`), pushing a browser history entry; a live
    /// redirect, like `<a data-phx-link="redirect">`.
    ///
    /// `href` is a path (`/orders?page=2`) or an `http(s)` URL to a live view of this
    /// application. Validate a destination that comes from user input with
    /// [`redirect::local_path`](crate::redirect::local_path) first.
    ///
    /// # Panics
    ///
    /// As Phoenix raises: if `href` starts with a scheme other than `http` or `https`
    /// (`javascript:`, `mailto:`, …); link to those with an `href` attribute instead.
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().navigate("/orders").to_string(),
    ///     r#"[["navigate",{"href":"/orders","replace":false}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn navigate(self, href: impl Into<String>) -> Self {
        self.navigation("navigate", href.into(), false)
    }

    /// Like [`navigate`](JS::navigate), replacing the current history entry instead of pushing
    /// one.
    ///
    /// # Panics
    ///
    /// As [`navigate`](JS::navigate).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().navigate_replace("/orders").to_string(),
    ///     r#"[["navigate",{"href":"/orders","replace":true}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn navigate_replace(self, href: impl Into<String>) -> Self {
        self.navigation("navigate", href.into(), true)
    }

    /// Patches the current live view (`patch`): the URL changes, a history entry is pushed,
    /// and the view's `handle_params` runs, like `<a data-phx-link="patch">`.
    ///
    /// # Panics
    ///
    /// As [`navigate`](JS::navigate).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().push("select").patch("/items?sort=name").to_string(),
    ///     r#"[["push",{"event":"select"}],["patch",{"href":"/items?sort=name","replace":false}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn patch(self, href: impl Into<String>) -> Self {
        self.navigation("patch", href.into(), false)
    }

    /// Like [`patch`](JS::patch), replacing the current history entry instead of pushing one.
    ///
    /// # Panics
    ///
    /// As [`navigate`](JS::navigate).
    ///
    /// ```
    /// use livefire::js::JS;
    /// assert_eq!(
    ///     JS::new().patch_replace("/items?page=3").to_string(),
    ///     r#"[["patch",{"href":"/items?page=3","replace":true}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn patch_replace(self, href: impl Into<String>) -> Self {
        self.navigation("patch", href.into(), true)
    }

    #[track_caller]
    fn navigation(self, kind: &'static str, href: String, replace: bool) -> Self {
        if let Some(scheme) = uri_scheme(&href) {
            assert!(
                scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"),
                "unsupported scheme {scheme:?} given to JS {kind}: destinations must be a path \
                 or a full http(s) URL to a live view of this application; link to other \
                 schemes with an href attribute instead"
            );
        }
        let args = Args::new().put("href", href).put("replace", replace);
        self.op(kind, args)
    }

    /// Runs the JS commands stored in an attribute of the target elements (`exec`): for
    /// example the `phx-remove` of a modal, so the close button and the server-side removal
    /// share one definition. The client fails if the attribute is missing.
    ///
    /// ```
    /// use livefire::html;
    /// use livefire::js::{JS, To};
    ///
    /// let page = html!(
    ///     <div id="modal" phx-remove={JS::new().hide(To::Source)}>
    ///         <button phx-click={JS::new().exec("phx-remove", "#modal")}>"Close"</button>
    ///     </div>
    /// );
    /// assert_eq!(
    ///     JS::new().exec("phx-remove", "#modal").to_string(),
    ///     r##"[["exec",{"attr":"phx-remove","to":"#modal"}]]"##
    /// );
    /// assert_eq!(
    ///     JS::new().exec("data-cancel", To::closest("dialog")).to_string(),
    ///     r#"[["exec",{"attr":"data-cancel","to":{"closest":"dialog"}}]]"#
    /// );
    /// # assert!(page.to_html().contains("phx-remove=\"[[&quot;hide&quot;,{}]]\""));
    /// ```
    pub fn exec(self, attr: impl Into<String>, to: impl Into<To>) -> Self {
        let args = Args::new().put("attr", attr.into()).to(&to.into());
        self.op("exec", args)
    }
}

/// Phoenix's `uri_scheme/1`: the text before a `:` that comes before any `/`, `?` or `#`.
fn uri_scheme(href: &str) -> Option<&str> {
    if href.starts_with('/') {
        return None;
    }
    let pos = href.find([':', '/', '?', '#'])?;
    (href.as_bytes()[pos] == b':').then(|| &href[..pos])
}

/// A class list (`"a b"`) as the JSON list of its names.
fn class_names(names: &str) -> Vec<Value> {
    names
        .split_ascii_whitespace()
        .map(|n| Value::String(n.to_owned()))
        .collect()
}

impl Serialize for JS {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.ops.len()))?;
        for op in &self.ops {
            seq.serialize_element(op)?;
        }
        seq.end()
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct ArgMap<'a>(&'a [(&'static str, Value)]);
        impl Serialize for ArgMap<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, value) in self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(self.kind)?;
        tuple.serialize_element(&ArgMap(&self.args))?;
        tuple.end()
    }
}

/// The compact JSON the client parses (`[["push",{"event":"inc"}]]`), not HTML-escaped.
///
/// ```
/// use livefire::js::JS;
/// let js = JS::new().dispatch("app:copy");
/// assert_eq!(format!("{js}"), r#"[["dispatch",{"event":"app:copy"}]]"#);
/// ```
impl fmt::Display for JS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// `name={js}` in [`html!`](crate::html) writes the JSON, HTML-escaped, as the attribute value.
///
/// ```
/// use livefire::dynamic::AttrValue;
/// use livefire::js::JS;
/// let mut out = String::new();
/// JS::new().push("inc").write_attr("phx-click", &mut out);
/// assert_eq!(out, r#" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}]]""#);
/// ```
impl AttrValue for JS {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, &self.to_string(), out);
    }
}

/// `{js}` in element content writes the JSON as escaped text, as Phoenix does for a `JS` in
/// element content.
///
/// ```
/// use livefire::html;
/// use livefire::js::JS;
/// let page = html!(<template id="cmds">{JS::new().pop_focus()}</template>);
/// assert_eq!(
///     page.to_html(),
///     "<template id=\"cmds\">[[&quot;pop_focus&quot;,{}]]</template>"
/// );
/// ```
impl ToDynamic for JS {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::text(&self.to_string())
    }
}

/// By value: see the [`ToDynamic`] impl.
///
/// ```
/// use livefire::dynamic::IntoDynamic;
/// use livefire::js::JS;
/// let mut out = String::new();
/// JS::new().focus("#a").into_dynamic().write_html(&mut out);
/// assert_eq!(out, "[[&quot;focus&quot;,{&quot;to&quot;:&quot;#a&quot;}]]");
/// ```
impl IntoDynamic for JS {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

/// The elements a command acts on (its `to` argument).
///
/// A `&str` or `String` converts into [`To::Selector`].
///
/// ```
/// use livefire::js::{JS, To};
/// let js = JS::new()
///     .hide(To::Source)
///     .show("#a")
///     .show(To::inner(".menu"))
///     .show(To::closest(".card"));
/// assert_eq!(
///     js.to_string(),
///     r##"[["hide",{}],["show",{"to":"#a"}],["show",{"to":{"inner":".menu"}}],["show",{"to":{"closest":".card"}}]]"##
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum To {
    /// The source element: the one the binding (`phx-click`, `phx-mounted`, …) is on, or for
    /// commands run by [`exec`](JS::exec), the element holding the attribute. No `to` in the
    /// JSON.
    #[default]
    Source,
    /// Every element of the document matching a CSS selector (`"to": selector`).
    Selector(String),
    /// Every element inside the source element matching a CSS selector
    /// (`"to": {"inner": selector}`).
    Inner(String),
    /// The closest ancestor-or-self of the source element matching a CSS selector
    /// (`"to": {"closest": selector}`).
    Closest(String),
}

impl To {
    /// [`To::Inner`]: the matches inside the source element.
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// assert_eq!(
    ///     JS::new().show(To::inner(".menu")).to_string(),
    ///     r#"[["show",{"to":{"inner":".menu"}}]]"#
    /// );
    /// ```
    pub fn inner(selector: impl Into<String>) -> Self {
        Self::Inner(selector.into())
    }

    /// [`To::Closest`]: the closest ancestor-or-self of the source element that matches.
    ///
    /// ```
    /// use livefire::js::{JS, To};
    /// assert_eq!(
    ///     JS::new().hide(To::closest(".toast")).to_string(),
    ///     r#"[["hide",{"to":{"closest":".toast"}}]]"#
    /// );
    /// ```
    pub fn closest(selector: impl Into<String>) -> Self {
        Self::Closest(selector.into())
    }

    fn to_value(&self) -> Option<Value> {
        let scoped = |scope: &str, selector: &str| {
            let mut map = Map::new();
            map.insert(scope.to_owned(), Value::String(selector.to_owned()));
            Value::Object(map)
        };
        match self {
            Self::Source => None,
            Self::Selector(s) => Some(Value::String(s.clone())),
            Self::Inner(s) => Some(scoped("inner", s)),
            Self::Closest(s) => Some(scoped("closest", s)),
        }
    }
}

impl From<&str> for To {
    /// A document selector.
    ///
    /// ```
    /// use livefire::js::To;
    /// assert_eq!(To::from("#a"), To::Selector("#a".into()));
    /// ```
    fn from(selector: &str) -> Self {
        Self::Selector(selector.to_owned())
    }
}

impl From<String> for To {
    /// A document selector.
    ///
    /// ```
    /// use livefire::js::To;
    /// assert_eq!(To::from(format!("#row-{}", 7)), To::Selector("#row-7".into()));
    /// ```
    fn from(selector: String) -> Self {
        Self::Selector(selector)
    }
}

impl From<&String> for To {
    /// A document selector.
    ///
    /// ```
    /// use livefire::js::To;
    /// let id = String::from("#a");
    /// assert_eq!(To::from(&id), To::Selector(id));
    /// ```
    fn from(selector: &String) -> Self {
        Self::Selector(selector.clone())
    }
}

/// Where a [`push`](JS::push) is handled: the live view or component owning the elements
/// a selector matches, or a component by its id (cid).
///
/// Converts from `&str`/`String` (a selector) and `u64` (a cid). Without a target the event
/// goes where the element's `phx-target` says, or to the live view.
///
/// ```
/// use livefire::js::{JS, Push, Target};
/// assert_eq!(Target::from(3u64), Target::Cid(3));
/// let js = JS::new()
///     .push(Push::new("a").target(3u64))
///     .push(Push::new("b").target("#cart"));
/// assert_eq!(
///     js.to_string(),
///     r##"[["push",{"event":"a","target":3}],["push",{"event":"b","target":"#cart"}]]"##
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A CSS selector, sent as a string: the event goes to the live view or component that
    /// owns each matching element.
    Selector(String),
    /// A component id, sent as a number.
    Cid(u64),
}

impl Target {
    fn into_value(self) -> Value {
        match self {
            Self::Selector(s) => Value::String(s),
            Self::Cid(cid) => Value::from(cid),
        }
    }
}

impl From<&str> for Target {
    /// A selector.
    ///
    /// ```
    /// use livefire::js::Target;
    /// assert_eq!(Target::from("#cart"), Target::Selector("#cart".into()));
    /// ```
    fn from(selector: &str) -> Self {
        Self::Selector(selector.to_owned())
    }
}

impl From<String> for Target {
    /// A selector.
    ///
    /// ```
    /// use livefire::js::Target;
    /// assert_eq!(Target::from(String::from("#cart")), Target::Selector("#cart".into()));
    /// ```
    fn from(selector: String) -> Self {
        Self::Selector(selector)
    }
}

impl From<&String> for Target {
    /// A selector.
    ///
    /// ```
    /// use livefire::js::Target;
    /// let sel = String::from("#cart");
    /// assert_eq!(Target::from(&sel), Target::Selector(sel));
    /// ```
    fn from(selector: &String) -> Self {
        Self::Selector(selector.clone())
    }
}

/// A live component's own id: `JS::new().push(Push::new("save").target(myself))`.
impl From<crate::component::Myself> for Target {
    fn from(myself: crate::component::Myself) -> Self {
        Target::Cid(u64::from(myself.cid()))
    }
}

impl From<u64> for Target {
    /// A component id.
    ///
    /// ```
    /// use livefire::js::Target;
    /// assert_eq!(Target::from(1u64), Target::Cid(1));
    /// ```
    fn from(cid: u64) -> Self {
        Self::Cid(cid)
    }
}

/// Transition classes: `transition` (applied for the whole transition), `start` (applied
/// first, removed at the next frame) and `end` (applied from the next frame on), encoded
/// `[[transition…],[start…],[end…]]`.
///
/// A class list string (`"fade-in"`) is the one-part form, with empty start and end; a
/// `(transition, start, end)` triple is the three-part form used for Tailwind-style
/// transitions. The client keeps the classes for `time` milliseconds (default 200).
///
/// ```
/// use livefire::js::{JS, Transition};
/// let fade = Transition::new("ease-out duration-300", "opacity-0", "opacity-100");
/// assert_eq!(fade, Transition::from(("ease-out duration-300", "opacity-0", "opacity-100")));
/// assert_eq!(
///     JS::new().transition(fade, "#a").to_string(),
///     r##"[["transition",{"to":"#a","transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"##
/// );
/// assert_eq!(
///     JS::new().transition("shake", "#a").to_string(),
///     r##"[["transition",{"to":"#a","transition":[["shake"],[],[]]}]]"##
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transition {
    run: String,
    start: String,
    end: String,
}

impl Transition {
    /// The three-part form: classes for the whole transition, for its start, for its end;
    /// each a whitespace-separated class list.
    ///
    /// ```
    /// use livefire::js::{ShowOpts, Transition, JS};
    /// let js = JS::new().show(
    ///     ShowOpts::new().transition(Transition::new("transition", "opacity-0", "opacity-100")),
    /// );
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["show",{"transition":[["transition"],["opacity-0"],["opacity-100"]]}]]"#
    /// );
    /// ```
    pub fn new(
        transition: impl Into<String>,
        start: impl Into<String>,
        end: impl Into<String>,
    ) -> Self {
        Self {
            run: transition.into(),
            start: start.into(),
            end: end.into(),
        }
    }

    fn into_value(self) -> Value {
        Value::Array(vec![
            Value::Array(class_names(&self.run)),
            Value::Array(class_names(&self.start)),
            Value::Array(class_names(&self.end)),
        ])
    }
}

impl From<&str> for Transition {
    /// The one-part form: these classes for the whole transition.
    ///
    /// ```
    /// use livefire::js::Transition;
    /// assert_eq!(Transition::from("fade-in"), Transition::new("fade-in", "", ""));
    /// ```
    fn from(classes: &str) -> Self {
        Self::new(classes, "", "")
    }
}

impl From<String> for Transition {
    /// The one-part form.
    ///
    /// ```
    /// use livefire::js::Transition;
    /// assert_eq!(Transition::from(String::from("a b")), Transition::new("a b", "", ""));
    /// ```
    fn from(classes: String) -> Self {
        Self::new(classes, "", "")
    }
}

impl<A, B, C> From<(A, B, C)> for Transition
where
    A: Into<String>,
    B: Into<String>,
    C: Into<String>,
{
    /// The three-part form `(transition, start, end)`.
    ///
    /// ```
    /// use livefire::js::Transition;
    /// assert_eq!(Transition::from(("a", "b", "c")), Transition::new("a", "b", "c"));
    /// ```
    fn from((transition, start, end): (A, B, C)) -> Self {
        Self::new(transition, start, end)
    }
}

/// The argument of [`JS::toggle_attribute`]: `(name, value)` or `(name, value1, value2)`.
///
/// ```
/// use livefire::js::ToggleAttr;
/// let two = ToggleAttr::from(("open", "true"));
/// let three = ToggleAttr::from(("aria-expanded", "true", "false"));
/// assert_ne!(two, three);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ToggleAttr {
    name: String,
    on: String,
    off: Option<String>,
}

impl<A: Into<String>, B: Into<String>> From<(A, B)> for ToggleAttr {
    /// `(name, value)`: add the attribute with `value` when absent, remove it when present.
    ///
    /// ```
    /// use livefire::js::{JS, ToggleAttr, To};
    /// let js = JS::new().toggle_attribute(ToggleAttr::from(("hidden", "")), To::Source);
    /// assert_eq!(js.to_string(), r#"[["toggle_attr",{"attr":["hidden",""]}]]"#);
    /// ```
    fn from((name, value): (A, B)) -> Self {
        Self {
            name: name.into(),
            on: value.into(),
            off: None,
        }
    }
}

impl<A: Into<String>, B: Into<String>, C: Into<String>> From<(A, B, C)> for ToggleAttr {
    /// `(name, value1, value2)`: switch the attribute between the two values.
    ///
    /// ```
    /// use livefire::js::{JS, ToggleAttr, To};
    /// let js = JS::new().toggle_attribute(ToggleAttr::from(("x", "1", "2")), "#a");
    /// assert_eq!(js.to_string(), r##"[["toggle_attr",{"attr":["x","1","2"],"to":"#a"}]]"##);
    /// ```
    fn from((name, value1, value2): (A, B, C)) -> Self {
        Self {
            name: name.into(),
            on: value1.into(),
            off: Some(value2.into()),
        }
    }
}

/// The arguments of [`JS::push`]: the event name and its options.
///
/// A `&str` or `String` converts into a push of that event with no option.
///
/// ```
/// use livefire::js::{JS, Push};
/// let js = JS::new().push(
///     Push::new("save")
///         .target(2u64)
///         .loading("#form")
///         .page_loading(true)
///         .value(serde_json::json!({"id": 7, "draft": false})),
/// );
/// assert_eq!(
///     js.to_string(),
///     r##"[["push",{"event":"save","loading":"#form","page_loading":true,"target":2,"value":{"draft":false,"id":7}}]]"##
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a Push does nothing until given to JS::push"]
pub struct Push {
    event: String,
    target: Option<Target>,
    loading: Option<String>,
    page_loading: Option<bool>,
    value: Option<Map<String, Value>>,
}

impl Push {
    /// A push of `event`, with no option.
    ///
    /// ```
    /// use livefire::js::{JS, Push};
    /// assert_eq!(JS::new().push(Push::new("inc")), JS::new().push("inc"));
    /// ```
    pub fn new(event: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            target: None,
            loading: None,
            page_loading: None,
            value: None,
        }
    }

    /// The component or element to send the event to (`target`), replacing the element's
    /// `phx-target`: a component id (`u64`, a number in the JSON) or a selector (a string).
    ///
    /// ```
    /// use livefire::js::{JS, Push, Target};
    /// let js = JS::new().push(Push::new("inc").target(Target::Cid(5)));
    /// assert_eq!(js.to_string(), r#"[["push",{"event":"inc","target":5}]]"#);
    /// ```
    pub fn target(mut self, target: impl Into<Target>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// A document selector for more elements that get the `phx-<event>-loading` class and
    /// are locked against server patches until the server acknowledges the push (`loading`).
    ///
    /// ```
    /// use livefire::js::{JS, Push};
    /// let js = JS::new().push(Push::new("inc").loading(".thermo"));
    /// assert_eq!(js.to_string(), r#"[["push",{"event":"inc","loading":".thermo"}]]"#);
    /// ```
    pub fn loading(mut self, selector: impl Into<String>) -> Self {
        self.loading = Some(selector.into());
        self
    }

    /// Whether the client dispatches `phx:page-loading-start` and `phx:page-loading-stop`
    /// around the push (`page_loading`; the client's default is `false`).
    ///
    /// ```
    /// use livefire::js::{JS, Push};
    /// let js = JS::new().push(Push::new("export").page_loading(true));
    /// assert_eq!(js.to_string(), r#"[["push",{"event":"export","page_loading":true}]]"#);
    /// ```
    pub fn page_loading(mut self, page_loading: bool) -> Self {
        self.page_loading = Some(page_loading);
        self
    }

    /// Values sent with the event (`value`), merged over the element's `phx-value-*`
    /// attributes (and, for a form event, over the form's fields): anything that serializes
    /// to a JSON object, such as a struct, a map or `serde_json::json!({…})`.
    ///
    /// # Panics
    ///
    /// If `value` does not serialize to a JSON object (Phoenix raises likewise for a
    /// non-map), or fails to serialize.
    ///
    /// ```
    /// use livefire::js::{JS, Push};
    /// #[derive(serde::Serialize)]
    /// struct Pick {
    ///     id: u32,
    ///     name: &'static str,
    /// }
    /// let js = JS::new().push(Push::new("pick").value(Pick { id: 4, name: "Ann" }));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["push",{"event":"pick","value":{"id":4,"name":"Ann"}}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn value(mut self, value: impl Serialize) -> Self {
        self.value = Some(json_object(value, "the value of a JS push"));
        self
    }
}

impl From<&str> for Push {
    /// A push of this event.
    ///
    /// ```
    /// use livefire::js::Push;
    /// assert_eq!(Push::from("inc"), Push::new("inc"));
    /// ```
    fn from(event: &str) -> Self {
        Self::new(event)
    }
}

impl From<String> for Push {
    /// A push of this event.
    ///
    /// ```
    /// use livefire::js::Push;
    /// assert_eq!(Push::from(String::from("inc")), Push::new("inc"));
    /// ```
    fn from(event: String) -> Self {
        Self::new(event)
    }
}

impl From<&String> for Push {
    /// A push of this event.
    ///
    /// ```
    /// use livefire::js::Push;
    /// let event = String::from("inc");
    /// assert_eq!(Push::from(&event), Push::new("inc"));
    /// ```
    fn from(event: &String) -> Self {
        Self::new(event.clone())
    }
}

/// The arguments of [`JS::dispatch`]: the DOM event name and its options.
///
/// A `&str` or `String` converts into a dispatch of that event to the source element.
///
/// ```
/// use livefire::js::{Dispatch, JS};
/// let js = JS::new().dispatch(
///     Dispatch::new("app:highlight")
///         .to("#row-3")
///         .detail(serde_json::json!({"color": "yellow"}))
///         .bubbles(false),
/// );
/// assert_eq!(
///     js.to_string(),
///     r##"[["dispatch",{"bubbles":false,"detail":{"color":"yellow"},"event":"app:highlight","to":"#row-3"}]]"##
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a Dispatch does nothing until given to JS::dispatch"]
pub struct Dispatch {
    event: String,
    to: To,
    detail: Option<Map<String, Value>>,
    bubbles: Option<bool>,
    blocking: bool,
}

impl Dispatch {
    /// A dispatch of `event` to the source element, with no option.
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS};
    /// assert_eq!(JS::new().dispatch(Dispatch::new("x")), JS::new().dispatch("x"));
    /// ```
    pub fn new(event: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            to: To::Source,
            detail: None,
            bubbles: None,
            blocking: false,
        }
    }

    /// The elements to dispatch the event to (`to`).
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS, To};
    /// let js = JS::new().dispatch(Dispatch::new("app:copy").to(To::inner("code")));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["dispatch",{"event":"app:copy","to":{"inner":"code"}}]]"#
    /// );
    /// ```
    pub fn to(mut self, to: impl Into<To>) -> Self {
        self.to = to.into();
        self
    }

    /// The event's `detail` (`detail`): anything that serializes to a JSON object. The client
    /// adds `dispatcher`, the source element.
    ///
    /// # Panics
    ///
    /// If `detail` does not serialize to a JSON object, or fails to serialize.
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS};
    /// let js = JS::new().dispatch(Dispatch::new("app:x").detail(serde_json::json!({"n": 1})));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["dispatch",{"detail":{"n":1},"event":"app:x"}]]"#
    /// );
    /// ```
    #[track_caller]
    pub fn detail(mut self, detail: impl Serialize) -> Self {
        self.detail = Some(json_object(detail, "the detail of a JS dispatch"));
        self
    }

    /// Whether the event bubbles (`bubbles`; the client's default is `true`).
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS};
    /// let js = JS::new().dispatch(Dispatch::new("app:x").bubbles(false));
    /// assert_eq!(js.to_string(), r#"[["dispatch",{"bubbles":false,"event":"app:x"}]]"#);
    /// ```
    pub fn bubbles(mut self, bubbles: bool) -> Self {
        self.bubbles = Some(bubbles);
        self
    }

    /// Whether the client blocks the page (as during a transition) until a listener calls
    /// `event.detail.done()` (`blocking`, sent only when true, as Phoenix does). The listener
    /// *must* call it eventually; useful with JavaScript animation libraries.
    ///
    /// ```
    /// use livefire::js::{Dispatch, JS};
    /// let js = JS::new().dispatch(Dispatch::new("app:animate").blocking(true));
    /// assert_eq!(js.to_string(), r#"[["dispatch",{"blocking":true,"event":"app:animate"}]]"#);
    /// let js = JS::new().dispatch(Dispatch::new("app:animate").blocking(false));
    /// assert_eq!(js.to_string(), r#"[["dispatch",{"event":"app:animate"}]]"#);
    /// ```
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.blocking = blocking;
        self
    }
}

impl From<&str> for Dispatch {
    /// A dispatch of this event to the source element.
    ///
    /// ```
    /// use livefire::js::Dispatch;
    /// assert_eq!(Dispatch::from("x"), Dispatch::new("x"));
    /// ```
    fn from(event: &str) -> Self {
        Self::new(event)
    }
}

impl From<String> for Dispatch {
    /// A dispatch of this event to the source element.
    ///
    /// ```
    /// use livefire::js::Dispatch;
    /// assert_eq!(Dispatch::from(String::from("x")), Dispatch::new("x"));
    /// ```
    fn from(event: String) -> Self {
        Self::new(event)
    }
}

impl From<&String> for Dispatch {
    /// A dispatch of this event to the source element.
    ///
    /// ```
    /// use livefire::js::Dispatch;
    /// let event = String::from("x");
    /// assert_eq!(Dispatch::from(&event), Dispatch::new("x"));
    /// ```
    fn from(event: &String) -> Self {
        Self::new(event.clone())
    }
}

/// Serializes `value`, which must become a JSON object.
#[track_caller]
fn json_object(value: impl Serialize, what: &str) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        Ok(other) => panic!("{what} must serialize to a JSON object, got: {other}"),
        Err(err) => panic!("{what} failed to serialize: {err}"),
    }
}

/// Defines an options type: the struct, `new`, conversions from a target, and the setters.
macro_rules! opts {
    (
        $(#[$meta:meta])*
        $ty:ident for $call:literal { $($field:ident: $fty:ty),* $(,)? }
        setters [$($setter:ident),*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[must_use = "options do nothing until given to a JS command"]
        pub struct $ty {
            to: To,
            $($field: $fty,)*
        }

        impl $ty {
            #[doc = concat!(
                "No option: the source element, the client's defaults.\n\n```\n",
                "use livefire::js::{JS, ", stringify!($ty), "};\n",
                "assert!(!JS::new().", $call, stringify!($ty), "::new()).is_empty());\n```"
            )]
            pub fn new() -> Self {
                Self::default()
            }

            #[doc = concat!(
                "The elements to act on (`to`); by default the source element.\n\n```\n",
                "use livefire::js::{JS, To, ", stringify!($ty), "};\n",
                "let js = JS::new().", $call, stringify!($ty), "::new().to(To::inner(\".menu\")));\n",
                "assert!(js.to_string().contains(r#\"\"to\":{\"inner\":\".menu\"}\"#));\n```"
            )]
            pub fn to(mut self, to: impl Into<To>) -> Self {
                self.to = to.into();
                self
            }
        }

        impl From<To> for $ty {
            #[doc = concat!(
                "No option but the target.\n\n```\n",
                "use livefire::js::{JS, To, ", stringify!($ty), "};\n",
                "assert_eq!(", stringify!($ty), "::from(To::closest(\"li\")), ",
                stringify!($ty), "::new().to(To::closest(\"li\")));\n```"
            )]
            fn from(to: To) -> Self {
                Self::new().to(to)
            }
        }

        impl From<&str> for $ty {
            #[doc = concat!(
                "No option but the target: a document selector.\n\n```\n",
                "use livefire::js::", stringify!($ty), ";\n",
                "assert_eq!(", stringify!($ty), "::from(\"#a\"), ",
                stringify!($ty), "::new().to(\"#a\"));\n```"
            )]
            fn from(selector: &str) -> Self {
                Self::new().to(selector)
            }
        }

        impl From<String> for $ty {
            #[doc = concat!(
                "No option but the target: a document selector.\n\n```\n",
                "use livefire::js::", stringify!($ty), ";\n",
                "assert_eq!(", stringify!($ty), "::from(String::from(\"#a\")), ",
                stringify!($ty), "::new().to(\"#a\"));\n```"
            )]
            fn from(selector: String) -> Self {
                Self::new().to(selector)
            }
        }

        impl From<&String> for $ty {
            #[doc = concat!(
                "No option but the target: a document selector.\n\n```\n",
                "use livefire::js::", stringify!($ty), ";\n",
                "let sel = String::from(\"#a\");\n",
                "assert_eq!(", stringify!($ty), "::from(&sel), ",
                stringify!($ty), "::new().to(\"#a\"));\n```"
            )]
            fn from(selector: &String) -> Self {
                Self::new().to(selector.clone())
            }
        }

        $( opts!(@setter $setter $ty $call); )*
    };

    (@setter transition $ty:ident $call:literal) => {
        impl $ty {
            #[doc = concat!(
                "Classes applied during the change (`transition`): a class list, or a ",
                "`(transition, start, end)` triple; see [`Transition`].\n\n```\n",
                "use livefire::js::{JS, ", stringify!($ty), "};\n",
                "let js = JS::new().", $call, stringify!($ty), "::new().transition(\"fade\"));\n",
                "assert!(js.to_string().contains(r#\"\"transition\":[[\"fade\"],[],[]]\"#));\n```"
            )]
            pub fn transition(mut self, transition: impl Into<Transition>) -> Self {
                self.transition = Some(transition.into());
                self
            }
        }
    };

    (@setter time $ty:ident $call:literal) => {
        impl $ty {
            #[doc = concat!(
                "How long the transition classes stay, in milliseconds (`time`; the ",
                "client's default is 200).\n\n```\n",
                "use livefire::js::{JS, ", stringify!($ty), "};\n",
                "let js = JS::new().", $call, stringify!($ty), "::new().time(500));\n",
                "assert!(js.to_string().contains(r#\"\"time\":500\"#));\n```"
            )]
            pub fn time(mut self, ms: u64) -> Self {
                self.time = Some(ms);
                self
            }
        }
    };

    (@setter blocking $ty:ident $call:literal) => {
        impl $ty {
            #[doc = concat!(
                "Whether the page is blocked during the transition (`blocking`; the ",
                "client's default is `true`): with `false` the client does not wait for ",
                "the transition before applying patches.\n\n```\n",
                "use livefire::js::{JS, ", stringify!($ty), "};\n",
                "let js = JS::new().", $call, stringify!($ty), "::new().blocking(false));\n",
                "assert!(js.to_string().contains(r#\"\"blocking\":false\"#));\n```"
            )]
            pub fn blocking(mut self, blocking: bool) -> Self {
                self.blocking = Some(blocking);
                self
            }
        }
    };

    (@setter display $ty:ident $call:literal) => {
        impl $ty {
            #[doc = concat!(
                "The CSS `display` value for shown elements (`display`; the client's ",
                "default is `\"block\"`, `\"table-row\"` for `tr`, `\"table-cell\"` for `td`).",
                "\n\n```\n",
                "use livefire::js::{JS, ", stringify!($ty), "};\n",
                "let js = JS::new().", $call, stringify!($ty), "::new().display(\"flex\"));\n",
                "assert!(js.to_string().contains(r#\"\"display\":\"flex\"\"#));\n```"
            )]
            pub fn display(mut self, display: impl Into<String>) -> Self {
                self.display = Some(display.into());
                self
            }
        }
    };
}

opts! {
    /// The options of [`JS::show`]: target, `transition`, `display`, `time`, `blocking`.
    ///
    /// A selector or a [`To`] converts into options with only that target.
    ///
    /// ```
    /// use livefire::js::{JS, ShowOpts};
    /// let js = JS::new().show(ShowOpts::new().to("#a").display("grid"));
    /// assert_eq!(js.to_string(), r##"[["show",{"display":"grid","to":"#a"}]]"##);
    /// ```
    ShowOpts for "show(" {
        transition: Option<Transition>,
        display: Option<String>,
        time: Option<u64>,
        blocking: Option<bool>,
    }
    setters [transition, display, time, blocking]
}

opts! {
    /// The options of [`JS::hide`]: target, `transition`, `time`, `blocking`.
    ///
    /// A selector or a [`To`] converts into options with only that target.
    ///
    /// ```
    /// use livefire::js::{HideOpts, JS};
    /// let js = JS::new().hide(HideOpts::new().to("#a").blocking(false));
    /// assert_eq!(js.to_string(), r##"[["hide",{"blocking":false,"to":"#a"}]]"##);
    /// ```
    HideOpts for "hide(" {
        transition: Option<Transition>,
        time: Option<u64>,
        blocking: Option<bool>,
    }
    setters [transition, time, blocking]
}

opts! {
    /// The options of [`JS::toggle`]: target, `in` and `out` transitions, `display`, `time`,
    /// `blocking`.
    ///
    /// A selector or a [`To`] converts into options with only that target.
    ///
    /// ```
    /// use livefire::js::{JS, ToggleOpts};
    /// let js = JS::new().toggle(
    ///     ToggleOpts::new()
    ///         .transition_in(("ease-out duration-300", "opacity-0", "opacity-100"))
    ///         .transition_out(("ease-in duration-200", "opacity-100", "opacity-0"))
    ///         .time(300),
    /// );
    /// assert_eq!(
    ///     js.to_string(),
    ///     r#"[["toggle",{"ins":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]],"outs":[["ease-in","duration-200"],["opacity-100"],["opacity-0"]],"time":300}]]"#
    /// );
    /// ```
    ToggleOpts for "toggle(" {
        transition_in: Option<Transition>,
        transition_out: Option<Transition>,
        display: Option<String>,
        time: Option<u64>,
        blocking: Option<bool>,
    }
    setters [display, time, blocking]
}

impl ToggleOpts {
    /// Classes applied while showing (`ins`; Phoenix's `in:` option): a class list or a
    /// `(transition, start, end)` triple.
    ///
    /// ```
    /// use livefire::js::{JS, ToggleOpts};
    /// let js = JS::new().toggle(ToggleOpts::new().transition_in("fade-in"));
    /// assert_eq!(js.to_string(), r#"[["toggle",{"ins":[["fade-in"],[],[]]}]]"#);
    /// ```
    pub fn transition_in(mut self, transition: impl Into<Transition>) -> Self {
        self.transition_in = Some(transition.into());
        self
    }

    /// Classes applied while hiding (`outs`; Phoenix's `out:` option): a class list or a
    /// `(transition, start, end)` triple.
    ///
    /// ```
    /// use livefire::js::{JS, ToggleOpts};
    /// let js = JS::new().toggle(ToggleOpts::new().transition_out("fade-out"));
    /// assert_eq!(js.to_string(), r#"[["toggle",{"outs":[["fade-out"],[],[]]}]]"#);
    /// ```
    pub fn transition_out(mut self, transition: impl Into<Transition>) -> Self {
        self.transition_out = Some(transition.into());
        self
    }
}

opts! {
    /// The options of [`JS::add_class`], [`JS::remove_class`] and [`JS::toggle_class`]:
    /// target, `transition`, `time`, `blocking`.
    ///
    /// A selector or a [`To`] converts into options with only that target.
    ///
    /// ```
    /// use livefire::js::{ClassOpts, JS};
    /// let js = JS::new().remove_class("open", ClassOpts::new().to("#a").transition("fade-out"));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["remove_class",{"names":["open"],"to":"#a","transition":[["fade-out"],[],[]]}]]"##
    /// );
    /// ```
    ClassOpts for "add_class(\"on\", " {
        transition: Option<Transition>,
        time: Option<u64>,
        blocking: Option<bool>,
    }
    setters [transition, time, blocking]
}

opts! {
    /// The options of [`JS::transition`]: target, `time`, `blocking`.
    ///
    /// A selector or a [`To`] converts into options with only that target.
    ///
    /// ```
    /// use livefire::js::{JS, TransitionOpts};
    /// let js = JS::new().transition("shake", TransitionOpts::new().to("#a").time(400));
    /// assert_eq!(
    ///     js.to_string(),
    ///     r##"[["transition",{"time":400,"to":"#a","transition":[["shake"],[],[]]}]]"##
    /// );
    /// ```
    TransitionOpts for "transition(\"shake\", " {
        time: Option<u64>,
        blocking: Option<bool>,
    }
    setters [time, blocking]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json(js: &JS) -> String {
        js.to_string()
    }

    #[test]
    fn empty_chain_is_an_empty_list() {
        assert_eq!(json(&JS::new()), "[]");
        assert_eq!(serde_json::to_value(JS::new()).unwrap(), json!([]));
    }

    #[test]
    fn every_command_keeps_its_keys_sorted() {
        // `op` debug-asserts the key order; build every command with every option.
        let all = JS::new()
            .push(
                Push::new("e")
                    .target("#t")
                    .loading("#l")
                    .page_loading(false)
                    .value(json!({"b": 1, "a": 2})),
            )
            .dispatch(
                Dispatch::new("d")
                    .to("#x")
                    .detail(json!({"k": "v"}))
                    .bubbles(true)
                    .blocking(true),
            )
            .show(
                ShowOpts::new()
                    .to("#x")
                    .transition("a")
                    .display("flex")
                    .time(1)
                    .blocking(true),
            )
            .hide(
                HideOpts::new()
                    .to("#x")
                    .transition("a")
                    .time(1)
                    .blocking(true),
            )
            .toggle(
                ToggleOpts::new()
                    .to("#x")
                    .transition_in("a")
                    .transition_out("b")
                    .display("grid")
                    .time(1)
                    .blocking(true),
            )
            .add_class(
                "c",
                ClassOpts::new()
                    .to("#x")
                    .transition("a")
                    .time(1)
                    .blocking(true),
            )
            .transition("t", TransitionOpts::new().to("#x").time(1).blocking(true))
            .set_attribute(("a", "b"), "#x")
            .remove_attribute("a", "#x")
            .toggle_attribute(("a", "b", "c"), "#x")
            .ignore_attributes(["a"], "#x")
            .focus("#x")
            .focus_first("#x")
            .push_focus("#x")
            .pop_focus()
            .navigate("/a")
            .patch("/b")
            .exec("data-x", "#x");
        assert_eq!(all.len(), 18);
        for op in &all.ops {
            assert!(op.args.windows(2).all(|w| w[0].0 < w[1].0), "{}", op.kind);
        }
        // Every command the 1.2 client implements (`exec_<kind>` in js.js) is covered.
        let mut kinds: Vec<_> = all.ops.iter().map(|op| op.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                "add_class",
                "dispatch",
                "exec",
                "focus",
                "focus_first",
                "hide",
                "ignore_attrs",
                "navigate",
                "patch",
                "pop_focus",
                "push",
                "push_focus",
                "remove_attr",
                "set_attr",
                "show",
                "toggle",
                "toggle_attr",
                "transition"
            ]
        );
    }

    #[test]
    fn class_lists_split_on_whitespace_and_drop_empties() {
        assert_eq!(
            json(&JS::new().add_class("  a \t b\nc  ", To::Source)),
            r#"[["add_class",{"names":["a","b","c"]}]]"#
        );
        assert_eq!(
            json(&JS::new().remove_class("", To::Source)),
            r#"[["remove_class",{"names":[]}]]"#
        );
        assert_eq!(
            json(&JS::new().transition(("", "a  b", " "), To::Source)),
            r#"[["transition",{"transition":[[],["a","b"],[]]}]]"#
        );
    }

    #[test]
    fn uri_scheme_follows_phoenix() {
        assert_eq!(uri_scheme("/a:b"), None);
        assert_eq!(uri_scheme("a/b:c"), None);
        assert_eq!(uri_scheme("?x=a:b"), None);
        assert_eq!(uri_scheme("#a:b"), None);
        assert_eq!(uri_scheme("rel"), None);
        assert_eq!(uri_scheme("https://x"), Some("https"));
        assert_eq!(uri_scheme("JavaScript:alert(1)"), Some("JavaScript"));
        assert_eq!(uri_scheme(":x"), Some(""));
        assert_eq!(uri_scheme(" javascript:x"), Some(" javascript"));
    }

    #[test]
    fn navigation_accepts_paths_and_http_urls() {
        let js = JS::new()
            .navigate("https://example.com/a")
            .patch("HTTP://example.com/b")
            .navigate("relative?x=a:b");
        assert_eq!(js.len(), 3);
    }

    #[test]
    #[should_panic(expected = "unsupported scheme \"javascript\"")]
    fn navigation_refuses_script_urls() {
        let _ = JS::new().navigate("javascript:alert(1)");
    }

    #[test]
    #[should_panic(expected = "unsupported scheme")]
    fn patch_refuses_other_schemes() {
        let _ = JS::new().patch_replace("mailto:a@example.com");
    }

    #[test]
    #[should_panic(expected = "click events cannot be dispatched with details")]
    fn click_with_detail_is_refused() {
        let _ = JS::new().dispatch(Dispatch::new("click").detail(json!({"a": 1})));
    }

    #[test]
    #[should_panic(expected = "must not contain a `done` key")]
    fn blocking_detail_with_done_is_refused() {
        let _ = JS::new().dispatch(Dispatch::new("x").detail(json!({"done": 1})).blocking(true));
    }

    #[test]
    fn done_is_fine_when_not_blocking() {
        let js = JS::new().dispatch(Dispatch::new("x").detail(json!({"done": 1})));
        assert_eq!(
            json(&js),
            r#"[["dispatch",{"detail":{"done":1},"event":"x"}]]"#
        );
    }

    #[test]
    #[should_panic(expected = "must serialize to a JSON object, got: [1,2]")]
    fn push_value_must_be_an_object() {
        let _ = Push::new("x").value([1, 2]);
    }

    #[test]
    #[should_panic(expected = "must serialize to a JSON object")]
    fn dispatch_detail_must_be_an_object() {
        let _ = Dispatch::new("x").detail("text");
    }

    #[test]
    fn content_holes_escape_the_json() {
        let mut out = String::new();
        JS::new()
            .push(Push::new("<'&\">"))
            .to_dynamic()
            .write_html(&mut out);
        assert_eq!(
            out,
            "[[&quot;push&quot;,{&quot;event&quot;:&quot;&lt;&#39;&amp;\\&quot;&gt;&quot;}]]"
        );
    }
}
