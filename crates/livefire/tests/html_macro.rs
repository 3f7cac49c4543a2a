//! Tests of the `html!` macro: the statics/dynamics split, escaping, control flow and
//! attributes.

use livefire::html;
use livefire::rendered::{Comprehension, Dynamic, Raw, Rendered, Statics};
use proptest::prelude::*;

/// The HTML of one dynamic.
fn dyn_html(d: &Dynamic) -> String {
    let mut out = String::new();
    d.write_html(&mut out);
    out
}

fn dyn_htmls(r: &Rendered) -> Vec<String> {
    r.dynamics().iter().map(dyn_html).collect()
}

fn nested(d: &Dynamic) -> &Rendered {
    match d {
        Dynamic::Nested(r) => r,
        other => panic!("expected a nested node, got {other:?}"),
    }
}

fn comprehension(d: &Dynamic) -> &Comprehension {
    match d {
        Dynamic::Comprehension(c) => c,
        other => panic!("expected a comprehension, got {other:?}"),
    }
}

/// Asserts that the compile-time fingerprint equals `Statics::fingerprint_of(parts)`.
fn assert_fingerprint(s: &Statics) {
    assert_eq!(
        s.fingerprint(),
        Statics::fingerprint_of(s.parts()),
        "{:?}",
        s.parts()
    );
}

fn button(label: &str) -> Rendered {
    html!(<button type="submit" class="btn">{label}</button>)
}

#[test]
fn representative_template_splits_statics_and_dynamics() {
    let id = 7;
    let name = "Ann";
    let r = html!(
        <div class="box" id={id}>
            <p>"Hello, " {name} "!"</p>
        </div>
    );
    assert_eq!(
        r.statics().parts(),
        &["<div class=\"box\"", "><p>Hello, ", "!</p></div>"]
    );
    assert_eq!(dyn_htmls(&r), [" id=\"7\"", "Ann"]);
    assert_eq!(
        r.to_html(),
        "<div class=\"box\" id=\"7\"><p>Hello, Ann!</p></div>"
    );
}

#[test]
fn adjacent_static_text_is_merged() {
    let r = html!(<ul class="a"><li>"x"</li> "y" <li>"z"</li></ul>);
    assert_eq!(
        r.statics().parts(),
        &["<ul class=\"a\"><li>x</li>y<li>z</li></ul>"]
    );
    assert!(r.dynamics().is_empty());
}

#[test]
fn macro_fingerprint_equals_statics_fingerprint_of() {
    let n = 3;
    let items = ["a", "b"];
    let r = html!(
        <p>"n=" {n}</p>
        @if n > 2 { <b>"big " {n}</b> } else { <i>"small"</i> }
        <ul>@for item in items { <li>{item}</li> }</ul>
    );
    assert_fingerprint(r.statics());
    assert_fingerprint(nested(&r.dynamics()[1]).statics());
    assert_fingerprint(comprehension(&r.dynamics()[2]).statics());
    assert_fingerprint(html!().statics());
    // Equal parts at two call sites: equal fingerprints.
    let a = html!(<p>"same"</p>);
    let b = html!(<p>"same"</p>);
    assert_eq!(a.statics().fingerprint(), b.statics().fingerprint());
    assert_ne!(
        a.statics().fingerprint(),
        html!(<p>"other"</p>).statics().fingerprint()
    );
}

#[test]
fn whitespace_inside_quotes_is_kept_exactly() {
    let x = 1;
    let r = html!(<p>"  a  b " {x} "  c\n"</p>);
    assert_eq!(r.statics().parts(), &["<p>  a  b ", "  c\n</p>"]);
    // Whitespace between tokens is not text.
    let r = html!(
        <p>
            "a"
        </p>
    );
    assert_eq!(r.to_html(), "<p>a</p>");
}

#[test]
fn static_text_and_attributes_are_escaped_at_compile_time() {
    let r = html!(<p title="a\"b<c>'&">"1 < 2 & \"q\" 'x'"</p>);
    assert_eq!(
        r.statics().parts(),
        &["<p title=\"a&quot;b&lt;c&gt;&#39;&amp;\">1 &lt; 2 &amp; &quot;q&quot; &#39;x&#39;</p>"]
    );
}

#[test]
fn dynamic_text_is_escaped() {
    let evil = "<script>alert('x')</script>";
    let r = html!(<p>{evil}</p>);
    assert_eq!(
        r.to_html(),
        "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>"
    );
}

/// docs/threat-model.md case 28: a flash message with markup is escaped (here: in the rendered tree
/// that both the dead render and the live diff are built from).
#[test]
fn case_28_flash_markup_is_escaped() {
    for flash in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ] {
        let r = html!(<div id="flash" title={flash}>{flash}</div>);
        let out = r.to_html();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert_eq!(out.matches('<').count(), 2, "{out}");
        // Every dynamic, as sent on the wire, is free of markup.
        for d in dyn_htmls(&r) {
            assert!(!d.contains('<') && !d.contains('>'), "{d}");
        }
    }
}

proptest! {
    /// Any string in an attribute and in content: the only `<`, `>` and `"` in the output are
    /// the template's own, and unescaping gives the input back.
    #[test]
    fn dynamic_text_and_attributes_cannot_break_out(s in any::<String>()) {
        let out = html!(<p title={s.clone()}>{s.clone()}</p>).to_html();
        let inner = out
            .strip_prefix("<p title=\"")
            .and_then(|rest| rest.strip_suffix("</p>"));
        prop_assert!(inner.is_some(), "{}", out);
        let inner = inner.unwrap_or_default();
        prop_assert!(!inner.contains('<'), "{}", out);
        prop_assert_eq!(inner.matches('"').count(), 1, "{}", out);
        prop_assert_eq!(inner.matches('>').count(), 1, "{}", out);
        let (attr, text) = inner.split_once("\">").unwrap_or_default();
        prop_assert_eq!(attr, text);
        let unescaped = text
            .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
            .replace("&#39;", "'").replace("&amp;", "&");
        prop_assert_eq!(unescaped, s);
    }
}

#[test]
fn if_else_branches_are_nested_templates() {
    fn view(admin: bool, n: i32) -> Rendered {
        html!(<p>"Hi"</p>@if admin { <b>"admin (" {n} ")"</b> } else { <i>"guest"</i> })
    }
    let r = view(true, 3);
    assert_eq!(r.statics().parts(), &["<p>Hi</p>", ""]);
    let b = nested(&r.dynamics()[0]);
    assert_eq!(b.statics().parts(), &["<b>admin (", ")</b>"]);
    assert_eq!(dyn_htmls(b), ["3"]);
    assert_eq!(r.to_html(), "<p>Hi</p><b>admin (3)</b>");

    let r = view(false, 3);
    let i = nested(&r.dynamics()[0]);
    assert_eq!(i.statics().parts(), &["<i>guest</i>"]);
    assert_eq!(r.to_html(), "<p>Hi</p><i>guest</i>");
    // Each branch has its own statics.
    assert_ne!(b.statics().fingerprint(), i.statics().fingerprint());
}

#[test]
fn if_without_else_renders_empty_text() {
    let show = false;
    let r = html!(<div>@if show { <b>"x"</b> }</div>);
    assert!(matches!(&r.dynamics()[0], Dynamic::Html(s) if s.is_empty()));
    assert_eq!(r.to_html(), "<div></div>");
}

#[test]
fn else_if_chains_and_if_let_work() {
    fn view(n: Option<i32>) -> String {
        html!(
            @if let Some(n) = n {
                @if n > 10 { "big" } else if n > 0 { "small " {n} } @else { "none" }
            } else { "missing" }
        )
        .to_html()
    }
    assert_eq!(view(Some(11)), "big");
    assert_eq!(view(Some(2)), "small 2");
    assert_eq!(view(Some(-1)), "none");
    assert_eq!(view(None), "missing");
}

#[test]
fn match_arms_are_nested_templates() {
    enum Status {
        Active,
        Count(u32),
        Other(&'static str),
    }
    fn view(s: &Status) -> Rendered {
        html!(
            <span>
                @match s {
                    Status::Active => { <b>"active"</b> }
                    Status::Count(n) if *n > 1 => { {n} " items" },
                    Status::Count(_) => { "one item" }
                    Status::Other(text) => { <em>{text}</em> }
                }
            </span>
        )
    }
    let r = view(&Status::Active);
    assert_eq!(r.statics().parts(), &["<span>", "</span>"]);
    assert_eq!(
        nested(&r.dynamics()[0]).statics().parts(),
        &["<b>active</b>"]
    );
    let r = view(&Status::Count(5));
    assert_eq!(nested(&r.dynamics()[0]).statics().parts(), &["", " items"]);
    assert_eq!(r.to_html(), "<span>5 items</span>");
    assert_eq!(view(&Status::Count(1)).to_html(), "<span>one item</span>");
    assert_eq!(
        view(&Status::Other("<x>")).to_html(),
        "<span><em>&lt;x&gt;</em></span>"
    );
}

fn list(items: &[&str]) -> Rendered {
    html!(<ul>@for item in items.iter() { <li>{item}</li> }</ul>)
}

#[test]
fn for_loop_is_a_comprehension_sharing_statics() {
    let r = list(&["a", "<b>"]);
    assert_eq!(r.statics().parts(), &["<ul>", "</ul>"]);
    let c = comprehension(&r.dynamics()[0]);
    assert_eq!(c.statics().parts(), &["<li>", "</li>"]);
    let entries: Vec<Vec<String>> = c
        .entries()
        .iter()
        .map(|e| e.iter().map(dyn_html).collect())
        .collect();
    assert_eq!(entries, [["a"], ["&lt;b&gt;"]]);
    assert_eq!(r.to_html(), "<ul><li>a</li><li>&lt;b&gt;</li></ul>");
}

#[test]
fn empty_for_loop_still_has_statics() {
    let r = list(&[]);
    let c = comprehension(&r.dynamics()[0]);
    assert_eq!(c.statics().parts(), &["<li>", "</li>"]);
    assert!(c.entries().is_empty());
    assert_eq!(r.to_html(), "<ul></ul>");
    // Same statics as a non-empty run of the same template.
    let full = list(&["x"]);
    assert!(std::ptr::eq(
        c.statics(),
        comprehension(&full.dynamics()[0]).statics()
    ));
}

#[test]
fn control_flow_inside_a_for_body_is_nested_in_the_entry() {
    let todos = [("write", true), ("test", false)];
    let r = html!(
        <ul>
            @for (i, (title, done)) in todos.iter().enumerate() {
                @let n = i + 1;
                <li phx-value-id={n}>{title} @if *done { <s>"done"</s> }</li>
            }
        </ul>
    );
    let c = comprehension(&r.dynamics()[0]);
    assert_eq!(c.statics().parts(), &["<li", ">", "", "</li>"]);
    let first = &c.entries()[0];
    assert_eq!(dyn_html(&first[0]), " phx-value-id=\"1\"");
    assert_eq!(nested(&first[2]).statics().parts(), &["<s>done</s>"]);
    assert!(matches!(&c.entries()[1][2], Dynamic::Html(s) if s.is_empty()));
    assert_eq!(
        r.to_html(),
        "<ul><li phx-value-id=\"1\">write<s>done</s></li><li phx-value-id=\"2\">test</li></ul>"
    );
}

#[test]
fn nested_html_and_function_components() {
    let c = true;
    let r = html!(
        <form>
            {if c { html!(<b>"x"</b>) } else { html!() }}
            {button("Save")}
        </form>
    );
    assert_eq!(r.statics().parts(), &["<form>", "", "</form>"]);
    assert_eq!(nested(&r.dynamics()[0]).statics().parts(), &["<b>x</b>"]);
    assert_eq!(
        nested(&r.dynamics()[1]).statics().parts(),
        &["<button type=\"submit\" class=\"btn\">", "</button>"]
    );
    assert_eq!(
        r.to_html(),
        "<form><b>x</b><button type=\"submit\" class=\"btn\">Save</button></form>"
    );
    let c = false;
    let r = html!({ if c { html!(<b>"x"</b>) } else { html!() } });
    assert_eq!(r.to_html(), "");
    assert_eq!(html!().statics().parts(), &[""]);
}

#[test]
fn boolean_and_optional_attributes() {
    let on = true;
    let off = false;
    let class: Option<&str> = None;
    let r = html!(
        <input type="checkbox" disabled checked={on} readonly={off} required=true hidden=false class={class}>
    );
    assert_eq!(
        r.statics().parts(),
        &["<input type=\"checkbox\" disabled", "", " required", ">"]
    );
    assert_eq!(
        r.to_html(),
        "<input type=\"checkbox\" disabled checked required>"
    );
    let class = Some("a b");
    let r = html!(<p class={class} tabindex=1 data-x='c'></p>);
    assert_eq!(
        r.to_html(),
        "<p class=\"a b\" tabindex=\"1\" data-x=\"c\"></p>"
    );
}

#[test]
fn phx_attributes_with_dashes_colons_and_json() {
    let id = 42;
    let js = r#"[["push",{"event":"inc","value":{"by":"<1>"}}]]"#.to_owned();
    let r = html!(
        <div phx-click="inc" phx-value-id={id} data-phx-link="patch" xlink:href="#a">
            <form phx-change="validate" phx-submit={js.clone()}></form>
        </div>
    );
    assert_eq!(
        r.to_html(),
        "<div phx-click=\"inc\" phx-value-id=\"42\" data-phx-link=\"patch\" xlink:href=\"#a\">\
         <form phx-change=\"validate\" phx-submit=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;,\
         &quot;value&quot;:{&quot;by&quot;:&quot;&lt;1&gt;&quot;}}]]\"></form></div>"
    );
    // The JSON survives an HTML attribute round trip.
    let html = r.to_html();
    let start = html
        .find("phx-submit=\"")
        .map_or(0, |i| i + "phx-submit=\"".len());
    let end = start + html[start..].find('"').unwrap_or(0);
    let decoded = html[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    assert_eq!(decoded, js);
}

#[test]
fn raw_is_the_only_bypass() {
    let trusted = Raw::new_unchecked("<b>bold</b>");
    let untrusted = "<b>bold</b>";
    let r = html!(<p>{trusted} {untrusted}</p>);
    assert_eq!(r.to_html(), "<p><b>bold</b>&lt;b&gt;bold&lt;/b&gt;</p>");
}

#[test]
fn void_elements_doctype_script_style_and_comments() {
    let r = html!(
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8">
                <link rel="stylesheet" href="/app.css"/>
                <style>"p > a { color: red; }"</style>
                <script>"if (1 < 2 && a) { go(\"x\"); }"</script>
            </head>
            <!-- "dropped" -->
            <body><br><img src="/a.png" alt=""><input name="q"/><div/></body>
        </html>
    );
    assert_eq!(
        r.to_html(),
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/app.css\">\
         <style>p > a { color: red; }</style><script>if (1 < 2 && a) { go(\"x\"); }</script></head>\
         <body><br><img src=\"/a.png\" alt=\"\"><input name=\"q\"><div></div></body></html>"
    );
}

#[test]
fn content_values_of_many_types() {
    let s = String::from("s<");
    let cow: std::borrow::Cow<'_, str> = "c".into();
    let none: Option<&str> = None;
    let r = html!(
        {&s} {s} {cow} {1u8} {-2i64} {3usize} {1.5f32} {true} {'<'} {none} {Some(4)}
        {Dynamic::text("d")} {}
    );
    assert_eq!(r.to_html(), "s&lt;s&lt;c1-231.5true&lt;4d");
    assert_eq!(r.dynamics().len(), 12);
}

#[test]
fn vec_of_rendered_follows_the_documented_rule() {
    // Same template: one comprehension sharing the statics.
    let rows: Vec<Rendered> = ["a", "b"].iter().map(|x| html!(<li>{x}</li>)).collect();
    let r = html!(<ul>{rows}</ul>);
    let c = comprehension(&r.dynamics()[0]);
    assert_eq!(c.statics().parts(), &["<li>", "</li>"]);
    assert_eq!(c.entries().len(), 2);
    assert_eq!(r.to_html(), "<ul><li>a</li><li>b</li></ul>");

    // Different templates: entries hold nested nodes.
    let mixed = vec![html!(<li>"x"</li>), button("y")];
    let r = html!(<div>{mixed}</div>);
    let c = comprehension(&r.dynamics()[0]);
    assert_eq!(c.statics().parts(), &["", ""]);
    assert_eq!(
        nested(&c.entries()[1][0]).statics().parts()[0],
        "<button type=\"submit\" class=\"btn\">"
    );
    assert_eq!(
        r.to_html(),
        "<div><li>x</li><button type=\"submit\" class=\"btn\">y</button></div>"
    );

    // Empty: nothing.
    let r = html!(<div>{Vec::<Rendered>::new()}</div>);
    assert_eq!(r.to_html(), "<div></div>");
}

#[test]
fn fragments_are_inlined() {
    let x = 1;
    let r = html!(<><p>"a"</p>{x}</><p>"b"</p>);
    assert_eq!(r.statics().parts(), &["<p>a</p>", "<p>b</p>"]);
}

#[test]
fn let_binding_is_visible_to_the_rest_of_the_template() {
    let items = ["a", "b", "c"];
    let r = html!(@let count = items.len(); <p>{count} " items"</p>);
    assert_eq!(r.to_html(), "<p>3 items</p>");
}

/// A view-like struct rendered through `&self`: owned fields go into holes without a move or a
/// `.clone()` (fields, indexes and dereferences are borrowed by the macro).
struct Profile {
    name: String,
    class: String,
    tags: Vec<String>,
    header: Rendered,
    nick: Option<String>,
}

impl Profile {
    fn render(&self) -> Rendered {
        let first = &self.tags[0];
        html!(
            <div class={self.class}>
                {self.header}
                <h1 title={self.name}>{self.name}</h1>
                <p>{self.tags[1]} {*first} {self.nick}</p>
            </div>
        )
    }
}

#[test]
fn owned_fields_render_by_reference() {
    let profile = Profile {
        name: "Ann <admin>".to_owned(),
        class: "card".to_owned(),
        tags: vec!["a".to_owned(), "b&c".to_owned()],
        header: html!(<header>"H"</header>),
        nick: Some("an".to_owned()),
    };
    let r = profile.render();
    assert_eq!(
        r.to_html(),
        "<div class=\"card\"><header>H</header><h1 title=\"Ann &lt;admin&gt;\">Ann &lt;admin&gt;</h1>\
         <p>b&amp;caan</p></div>"
    );
    // The struct is untouched and still usable: nothing was moved out of it.
    assert_eq!(profile.name, "Ann <admin>");
    assert_eq!(profile.render().to_html(), r.to_html());
    // The borrowed Rendered field still nests as a template, not as text.
    assert!(matches!(r.dynamics()[1], Dynamic::Nested(_)));
}

#[test]
fn locals_and_temporaries_are_still_taken_by_value() {
    // A local Rendered is moved into the hole (no clone) and nests; a temporary String too.
    let row = html!(<li>"x"</li>);
    let r = html!(<ul>{row}</ul><p>{format!("{}-{}", 1, 2)}</p>);
    assert!(matches!(r.dynamics()[0], Dynamic::Nested(_)));
    assert_eq!(r.to_html(), "<ul><li>x</li></ul><p>1-2</p>");
}

#[test]
fn braced_string_literals_keep_their_braces() {
    let r = html!(<div data-x={"{kept}"}></div>);
    assert_eq!(r.to_html(), "<div data-x=\"{kept}\"></div>");
}
