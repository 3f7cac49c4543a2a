//! JS commands: the exact JSON of every command and option (written by hand from what
//! Phoenix's `Phoenix.LiveView.JS` 1.2 encodes: a map per command, so keys in sorted order, and
//! options left out when not given), HTML escaping inside attributes with a round trip back to
//! the same JSON, and a check against the installed client's `js.js` that every command it
//! implements is produced and every argument sent is one it reads.

use std::collections::{BTreeMap, BTreeSet};

use livefire::html;
use livefire::js::{
    ClassOpts, Dispatch, HideOpts, JS, Push, ShowOpts, Target, To, ToggleAttr, ToggleOpts,
    Transition, TransitionOpts,
};
use serde_json::{Value, json};

/// `(built chain, JSON Phoenix produces for the same call)`.
fn cases() -> Vec<(JS, &'static str)> {
    let fade = ("ease-out duration-300", "opacity-0", "opacity-100");
    vec![
        // JS.push("inc")
        (JS::new().push("inc"), r#"[["push",{"event":"inc"}]]"#),
        // JS.push("inc", target: @myself) (cid 1)
        (
            JS::new().push(Push::new("inc").target(1u64)),
            r#"[["push",{"event":"inc","target":1}]]"#,
        ),
        // JS.push("inc", target: "#thermo")
        (
            JS::new().push(Push::new("inc").target("#thermo")),
            r##"[["push",{"event":"inc","target":"#thermo"}]]"##,
        ),
        // JS.push("inc", loading: ".thermo")
        (
            JS::new().push(Push::new("inc").loading(".thermo")),
            r#"[["push",{"event":"inc","loading":".thermo"}]]"#,
        ),
        // JS.push("inc", page_loading: true) / false
        (
            JS::new().push(Push::new("inc").page_loading(true)),
            r#"[["push",{"event":"inc","page_loading":true}]]"#,
        ),
        (
            JS::new().push(Push::new("inc").page_loading(false)),
            r#"[["push",{"event":"inc","page_loading":false}]]"#,
        ),
        // JS.push("inc", value: %{limit: 40})
        (
            JS::new().push(Push::new("inc").value(json!({"limit": 40}))),
            r#"[["push",{"event":"inc","value":{"limit":40}}]]"#,
        ),
        // JS.push("inc", value: %{}, target: 2, loading: "#l", page_loading: true)
        (
            JS::new().push(
                Push::new("inc")
                    .value(json!({}))
                    .target(2u64)
                    .loading("#l")
                    .page_loading(true),
            ),
            r##"[["push",{"event":"inc","loading":"#l","page_loading":true,"target":2,"value":{}}]]"##,
        ),
        // JS.dispatch("app:clipcopy")
        (
            JS::new().dispatch("app:clipcopy"),
            r#"[["dispatch",{"event":"app:clipcopy"}]]"#,
        ),
        // JS.dispatch("click", to: ".nav")
        (
            JS::new().dispatch(Dispatch::new("click").to(".nav")),
            r#"[["dispatch",{"event":"click","to":".nav"}]]"#,
        ),
        // JS.dispatch("x", detail: %{a: 1}, bubbles: false, blocking: true, to: {:inner, "p"})
        (
            JS::new().dispatch(
                Dispatch::new("x")
                    .detail(json!({"a": 1}))
                    .bubbles(false)
                    .blocking(true)
                    .to(To::inner("p")),
            ),
            r#"[["dispatch",{"blocking":true,"bubbles":false,"detail":{"a":1},"event":"x","to":{"inner":"p"}}]]"#,
        ),
        // JS.dispatch("x", bubbles: true, blocking: false): blocking false is not sent
        (
            JS::new().dispatch(Dispatch::new("x").bubbles(true).blocking(false)),
            r#"[["dispatch",{"bubbles":true,"event":"x"}]]"#,
        ),
        // JS.toggle()
        (JS::new().toggle(To::Source), r#"[["toggle",{}]]"#),
        // JS.toggle(to: "#item", in: "fade-in-scale", out: "fade-out-scale")
        (
            JS::new().toggle(
                ToggleOpts::new()
                    .to("#item")
                    .transition_in("fade-in-scale")
                    .transition_out("fade-out-scale"),
            ),
            r##"[["toggle",{"ins":[["fade-in-scale"],[],[]],"outs":[["fade-out-scale"],[],[]],"to":"#item"}]]"##,
        ),
        // JS.toggle(in: {…}, out: {…}, display: "flex", time: 300, blocking: false)
        (
            JS::new().toggle(
                ToggleOpts::new()
                    .transition_in(fade)
                    .transition_out(("ease-in", "opacity-100", "opacity-0"))
                    .display("flex")
                    .time(300)
                    .blocking(false),
            ),
            r#"[["toggle",{"blocking":false,"display":"flex","ins":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]],"outs":[["ease-in"],["opacity-100"],["opacity-0"]],"time":300}]]"#,
        ),
        // JS.show()
        (JS::new().show(ShowOpts::new()), r#"[["show",{}]]"#),
        // JS.show(to: "#item")
        (JS::new().show("#item"), r##"[["show",{"to":"#item"}]]"##),
        // JS.show(to: "#item", transition: "fade-in-scale")
        (
            JS::new().show(ShowOpts::new().to("#item").transition("fade-in-scale")),
            r##"[["show",{"to":"#item","transition":[["fade-in-scale"],[],[]]}]]"##,
        ),
        // JS.show(to: "#item", transition: {…}, display: "inline-block", time: 400, blocking: true)
        (
            JS::new().show(
                ShowOpts::new()
                    .to("#item")
                    .transition(fade)
                    .display("inline-block")
                    .time(400)
                    .blocking(true),
            ),
            r##"[["show",{"blocking":true,"display":"inline-block","time":400,"to":"#item","transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"##,
        ),
        // JS.hide()
        (JS::new().hide(To::Source), r#"[["hide",{}]]"#),
        // JS.hide(to: "#modal", transition: "fade-out", time: 100, blocking: false)
        (
            JS::new().hide(
                HideOpts::new()
                    .to("#modal")
                    .transition("fade-out")
                    .time(100)
                    .blocking(false),
            ),
            r##"[["hide",{"blocking":false,"time":100,"to":"#modal","transition":[["fade-out"],[],[]]}]]"##,
        ),
        // JS.add_class("warmer", to: ".thermo")
        (
            JS::new().add_class("warmer", ".thermo"),
            r#"[["add_class",{"names":["warmer"],"to":".thermo"}]]"#,
        ),
        // JS.add_class("a b", transition: "t", time: 10, blocking: false)
        (
            JS::new().add_class(
                "a b",
                ClassOpts::new().transition("t").time(10).blocking(false),
            ),
            r#"[["add_class",{"blocking":false,"names":["a","b"],"time":10,"transition":[["t"],[],[]]}]]"#,
        ),
        // JS.remove_class("show", to: "#modal", transition: "fade-out")
        (
            JS::new().remove_class("show", ClassOpts::new().to("#modal").transition("fade-out")),
            r##"[["remove_class",{"names":["show"],"to":"#modal","transition":[["fade-out"],[],[]]}]]"##,
        ),
        // JS.toggle_class("active", to: {:closest, "li"}, time: 0)
        (
            JS::new().toggle_class("active", ClassOpts::new().to(To::closest("li")).time(0)),
            r#"[["toggle_class",{"names":["active"],"time":0,"to":{"closest":"li"}}]]"#,
        ),
        // JS.remove_class("a", to: "#m", transition: {…}, time: 50, blocking: true)
        (
            JS::new().remove_class(
                "a",
                ClassOpts::new()
                    .to("#m")
                    .transition(fade)
                    .time(50)
                    .blocking(true),
            ),
            r##"[["remove_class",{"blocking":true,"names":["a"],"time":50,"to":"#m","transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"##,
        ),
        // JS.toggle_class("a b", transition: "t", blocking: false)
        (
            JS::new().toggle_class("a b", ClassOpts::new().transition("t").blocking(false)),
            r#"[["toggle_class",{"blocking":false,"names":["a","b"],"transition":[["t"],[],[]]}]]"#,
        ),
        // JS.transition("shake", to: "#form")
        (
            JS::new().transition("shake", "#form"),
            r##"[["transition",{"to":"#form","transition":[["shake"],[],[]]}]]"##,
        ),
        // JS.transition({…}, time: 300, blocking: false)
        (
            JS::new().transition(fade, TransitionOpts::new().time(300).blocking(false)),
            r#"[["transition",{"blocking":false,"time":300,"transition":[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]}]]"#,
        ),
        // JS.set_attribute({"aria-expanded", "true"}, to: "#menu")
        (
            JS::new().set_attribute(("aria-expanded", "true"), "#menu"),
            r##"[["set_attr",{"attr":["aria-expanded","true"],"to":"#menu"}]]"##,
        ),
        // JS.remove_attribute("aria-expanded")
        (
            JS::new().remove_attribute("aria-expanded", To::Source),
            r#"[["remove_attr",{"attr":"aria-expanded"}]]"#,
        ),
        // JS.remove_attribute("open", to: {:inner, "details"})
        (
            JS::new().remove_attribute("open", To::inner("details")),
            r#"[["remove_attr",{"attr":"open","to":{"inner":"details"}}]]"#,
        ),
        // JS.set_attribute({"hidden", ""})
        (
            JS::new().set_attribute(("hidden", ""), To::Source),
            r#"[["set_attr",{"attr":["hidden",""]}]]"#,
        ),
        // JS.toggle_attribute({"open", "true"}, to: "#d")
        (
            JS::new().toggle_attribute(("open", "true"), "#d"),
            r##"[["toggle_attr",{"attr":["open","true"],"to":"#d"}]]"##,
        ),
        // JS.toggle_attribute({"aria-expanded", "true", "false"})
        (
            JS::new().toggle_attribute(("aria-expanded", "true", "false"), To::Source),
            r#"[["toggle_attr",{"attr":["aria-expanded","true","false"]}]]"#,
        ),
        // JS.ignore_attributes("open") / (["open", "data-*"], to: "#d")
        (
            JS::new().ignore_attributes(["open"], To::Source),
            r#"[["ignore_attrs",{"attrs":["open"]}]]"#,
        ),
        (
            JS::new().ignore_attributes(["open", "data-*"], "#d"),
            r##"[["ignore_attrs",{"attrs":["open","data-*"],"to":"#d"}]]"##,
        ),
        // JS.focus() / JS.focus(to: "#email")
        (JS::new().focus(To::Source), r#"[["focus",{}]]"#),
        (
            JS::new().focus("#email"),
            r##"[["focus",{"to":"#email"}]]"##,
        ),
        // JS.focus_first(to: "#modal")
        (
            JS::new().focus_first("#modal"),
            r##"[["focus_first",{"to":"#modal"}]]"##,
        ),
        // JS.push_focus() / JS.push_focus(to: "#b")
        (JS::new().push_focus(To::Source), r#"[["push_focus",{}]]"#),
        (
            JS::new().push_focus("#b"),
            r##"[["push_focus",{"to":"#b"}]]"##,
        ),
        // JS.pop_focus()
        (JS::new().pop_focus(), r#"[["pop_focus",{}]]"#),
        // JS.navigate("/p") / JS.navigate("/p", replace: true)
        (
            JS::new().navigate("/p"),
            r#"[["navigate",{"href":"/p","replace":false}]]"#,
        ),
        (
            JS::new().navigate_replace("/p"),
            r#"[["navigate",{"href":"/p","replace":true}]]"#,
        ),
        // JS.patch("/p?x=1") / JS.patch("/p", replace: true)
        (
            JS::new().patch("/p?x=1"),
            r#"[["patch",{"href":"/p?x=1","replace":false}]]"#,
        ),
        (
            JS::new().patch_replace("/p"),
            r#"[["patch",{"href":"/p","replace":true}]]"#,
        ),
        // JS.exec("phx-remove", to: "#modal") / JS.exec("data-js")
        (
            JS::new().exec("phx-remove", "#modal"),
            r##"[["exec",{"attr":"phx-remove","to":"#modal"}]]"##,
        ),
        (
            JS::new().exec("data-js", To::Source),
            r#"[["exec",{"attr":"data-js"}]]"#,
        ),
        // JS.push("save") |> JS.hide(to: "#modal") |> JS.pop_focus()
        (
            JS::new().push("save").hide("#modal").pop_focus(),
            r##"[["push",{"event":"save"}],["hide",{"to":"#modal"}],["pop_focus",{}]]"##,
        ),
    ]
}

#[test]
fn every_command_and_option_encodes_like_phoenix() {
    for (js, expected) in cases() {
        assert_eq!(js.to_string(), expected);
        // serde gives the same structure as Display.
        let parsed: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(serde_json::to_value(&js).unwrap(), parsed, "{expected}");
    }
}

#[test]
fn option_types_convert_from_targets() {
    assert_eq!(
        JS::new().show("#a"),
        JS::new().show(ShowOpts::new().to("#a"))
    );
    assert_eq!(
        JS::new().hide(String::from("#a")),
        JS::new().hide(HideOpts::new().to("#a"))
    );
    let sel = String::from(".x");
    assert_eq!(
        JS::new().toggle(&sel),
        JS::new().toggle(ToggleOpts::new().to(To::Selector(sel)))
    );
    assert_eq!(
        JS::new().add_class("c", To::inner("p")),
        JS::new().add_class("c", ClassOpts::new().to(To::inner("p")))
    );
    assert_eq!(
        JS::new().transition("t", To::closest("p")),
        JS::new().transition(
            Transition::from("t"),
            TransitionOpts::new().to(To::closest("p"))
        )
    );
    assert_eq!(
        JS::new().toggle_attribute(ToggleAttr::from(("a", "b")), To::Source),
        JS::new().toggle_attribute(("a", "b"), To::Source)
    );
    assert_eq!(
        JS::new().push(Push::new("e").target(Target::Cid(9))),
        JS::new().push(Push::new("e").target(9u64))
    );
    assert_eq!(
        JS::new().push(String::from("e")),
        JS::new().push(Push::from("e"))
    );
}

#[test]
fn concat_appends_in_order() {
    let a = JS::new().push("a");
    let b = JS::new().hide("#b").pop_focus();
    let both = a.clone().concat(b);
    assert_eq!(
        both.to_string(),
        r##"[["push",{"event":"a"}],["hide",{"to":"#b"}],["pop_focus",{}]]"##
    );
    assert_eq!(both, JS::new().push("a").hide("#b").pop_focus());
    assert_eq!(JS::new().concat(a.clone()), a);
    assert_eq!(a.clone().concat(JS::new()), a);
    assert_eq!(JS::default().concat(JS::default()).to_string(), "[]");
}

/// The value of the first `name="…"` attribute in `html` (escaped values hold no `"`).
fn attribute<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 3;
    let len = html[start..].find('"').unwrap();
    &html[start..start + len]
}

/// Decodes the five entities the escaper writes; any other `&` is an error.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (ch, len) = [
            ('&', "&amp;"),
            ('<', "&lt;"),
            ('>', "&gt;"),
            ('"', "&quot;"),
            ('\'', "&#39;"),
        ]
        .into_iter()
        .find(|(_, entity)| rest.starts_with(entity))
        .map(|(ch, entity)| (ch, entity.len()))
        .unwrap_or_else(|| panic!("unexpected entity at {rest}"));
        out.push(ch);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn attribute_values_are_escaped_and_round_trip() {
    let nasty = "a\"b<c>&d'e</button><script>x</script>";
    let js = JS::new()
        .push(Push::new(nasty).value(json!({"q": nasty, "n": 1})))
        .dispatch(Dispatch::new("app:x").detail(json!({"html": "<b>'&'</b>"})))
        .set_attribute(("title", nasty), "[data-x=\"1\"]")
        .show(To::closest("li[data-name='a&b']"));
    let page = html!(<button id="b" phx-click={&js}>"go"</button>);
    let html = page.to_html();
    let raw = attribute(&html, "phx-click");
    assert!(
        !raw.contains(['"', '<', '>', '\'']),
        "unescaped character in {raw}"
    );
    assert!(html.ends_with("\">go</button>"), "{html}");
    // Unescaped, the attribute is exactly the chain's JSON…
    let json_text = unescape(raw);
    assert_eq!(json_text, js.to_string());
    // …and parses back to the same structure.
    let parsed: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(
        parsed,
        json!([
            ["push", {"event": nasty, "value": {"n": 1, "q": nasty}}],
            ["dispatch", {"detail": {"html": "<b>'&'</b>"}, "event": "app:x"}],
            ["set_attr", {"attr": ["title", nasty], "to": "[data-x=\"1\"]"}],
            ["show", {"to": {"closest": "li[data-name='a&b']"}}]
        ])
    );
}

#[test]
fn works_in_any_attribute_by_value_reference_or_option() {
    let open = JS::new().show("#m");
    let none: Option<JS> = None;
    let page = html!(
        <div id="m" phx-mounted={JS::new().focus_first(To::Source)}
            phx-remove={Some(JS::new().hide(To::Source))} data-js={&open} data-none={none}>
            <button phx-click={open.push("opened")}>"x"</button>
        </div>
    );
    let html = page.to_html();
    let decode =
        |name: &str| -> Value { serde_json::from_str(&unescape(attribute(&html, name))).unwrap() };
    assert_eq!(decode("phx-mounted"), json!([["focus_first", {}]]));
    assert_eq!(decode("phx-remove"), json!([["hide", {}]]));
    assert_eq!(decode("data-js"), json!([["show", {"to": "#m"}]]));
    assert_eq!(
        decode("phx-click"),
        json!([["show", {"to": "#m"}], ["push", {"event": "opened"}]])
    );
    assert!(!html.contains("data-none"), "{html}");
    // An empty chain renders `[]`, which the client parses and runs as nothing.
    let empty = html!(<a phx-click={JS::new()}>"x"</a>);
    assert_eq!(empty.to_html(), "<a phx-click=\"[]\">x</a>");
}

#[test]
fn content_holes_render_escaped_json() {
    let page = html!(<code>{JS::new().push("a'b")}</code>);
    assert_eq!(
        page.to_html(),
        "<code>[[&quot;push&quot;,{&quot;event&quot;:&quot;a&#39;b&quot;}]]</code>"
    );
}

#[test]
fn serializes_inside_event_payloads() {
    // For `push_event(…, {"js": …})` and `liveSocket.execJS(el, e.detail.js)` on the client.
    let payload = json!({"to": "#row-1", "js": JS::new().add_class("flash", To::Source)});
    assert_eq!(
        payload.to_string(),
        r##"{"js":[["add_class",{"names":["flash"]}]],"to":"#row-1"}"##
    );
}

/// The argument names each `exec_<kind>` of the client's `js.js` reads (plus `to`, which
/// `filterToEls` reads for every command).
fn client_commands(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut commands = BTreeMap::new();
    let mut rest = source;
    while let Some(i) = rest.find("exec_") {
        rest = &rest[i + "exec_".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = rest[name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('(') {
            continue;
        }
        let params = balanced(after, '(', ')');
        let body_start = after[params.len()..].trim_start();
        if !body_start.starts_with('{') {
            continue; // a call, not a definition
        }
        let body = balanced(body_start, '{', '}');
        let mut keys = BTreeSet::from(["to".to_owned()]);
        let params_inner = &params[1..params.len() - 1];
        if let Some(open) = params_inner.rfind('{') {
            keys.extend(destructured(balanced(&params_inner[open..], '{', '}')));
        } else if params_inner.trim_end().ends_with("args") {
            // Every `const { … } = args;` in the body, and `args.key` uses.
            let mut from = 0;
            while let Some(eq) = body[from..].find("} = args").map(|j| from + j) {
                let open = body[..eq].rfind('{').unwrap();
                keys.extend(destructured(&body[open..=eq]));
                from = eq + 1;
            }
            let mut uses = body;
            while let Some(j) = uses.find("args.") {
                uses = &uses[j + 5..];
                let key: String = uses
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                keys.insert(key);
            }
        }
        commands.insert(name, keys);
    }
    commands
}

/// The text of `s` from its opening delimiter through the matching closing one.
fn balanced(s: &str, open: char, close: char) -> &str {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return &s[..=i];
            }
        }
    }
    panic!("unbalanced {open}{close} in {s}")
}

/// The top-level keys of a destructuring pattern `{ a, b: [c, d], e }`.
fn destructured(pattern: &str) -> Vec<String> {
    let inner = &pattern[1..pattern.len() - 1];
    let mut keys = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in inner.chars().chain([',']) {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                let key = current.split(':').next().unwrap().trim().to_owned();
                if !key.is_empty() {
                    keys.push(key);
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    keys
}

#[test]
fn matches_the_installed_client() {
    let path = livefire::assets::find_node_modules()
        .join("phoenix_live_view/assets/js/phoenix_live_view/js.js");
    let Ok(source) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipped: {} not found (run `npm ci` in the workspace)",
            path.display()
        );
        return;
    };
    let client = client_commands(&source);
    assert!(client.len() >= 18, "parsed too few commands: {client:?}");
    assert_eq!(
        client["push"],
        BTreeSet::from(
            [
                "to",
                "event",
                "data",
                "target",
                "page_loading",
                "loading",
                "value",
                "dispatcher",
                "callback",
                "newCid",
                "_target",
                "submitter",
                "targetView",
                "targetCtx"
            ]
            .map(String::from)
        ),
        "the parser read push's arguments"
    );

    let mut produced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (js, _) in cases() {
        let Value::Array(ops) = serde_json::to_value(&js).unwrap() else {
            unreachable!()
        };
        for op in ops {
            let kind = op[0].as_str().unwrap().to_owned();
            let keys = op[1].as_object().unwrap().keys().cloned();
            produced.entry(kind).or_default().extend(keys);
        }
    }
    // Every command the client implements is produced, and nothing else.
    assert_eq!(
        produced.keys().collect::<Vec<_>>(),
        client.keys().collect::<Vec<_>>()
    );
    // Every argument sent is one the client reads.
    for (kind, keys) in &produced {
        let unread: Vec<_> = keys.difference(&client[kind]).collect();
        assert!(
            unread.is_empty(),
            "{kind}: the client never reads {unread:?}"
        );
    }
    // Every argument the client reads is offered, except the ones Phoenix's `JS` does not
    // offer either: the push arguments the client sets itself (form recovery, `phx-change`
    // internals, the hook API's `data`), `to` on push/navigate/patch/pop_focus, and `display` on hide
    // (only read when showing).
    let not_offered = [
        ("push", "_target"),
        ("push", "callback"),
        ("push", "data"),
        ("push", "dispatcher"),
        ("push", "newCid"),
        ("push", "submitter"),
        ("push", "targetCtx"),
        ("push", "targetView"),
        ("push", "to"),
        ("navigate", "to"),
        ("patch", "to"),
        ("pop_focus", "to"),
        ("hide", "display"),
    ];
    for (kind, keys) in &client {
        for key in keys {
            assert!(
                produced[kind].contains(key)
                    || not_offered.contains(&(kind.as_str(), key.as_str())),
                "{kind}: the client reads {key}, which no case produces"
            );
        }
    }
}
