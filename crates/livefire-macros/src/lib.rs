//! The `html!` macro for livefire: HTML templates split into statics and dynamics at compile
//! time. Use it through `livefire::html`; the generated code refers to `::livefire`.

mod codegen;
mod control;
mod text;

use proc_macro::TokenStream;

/// Compiles an HTML template into a `::livefire::rendered::Rendered`.
///
/// The template is split at compile time into static parts (a `static Statics`, fingerprinted
/// with the same FNV-1a as `Statics::fingerprint_of`) and one dynamic per hole. Adjacent static
/// text is merged, so a template with N holes has exactly N + 1 static parts.
///
/// # Syntax
///
/// | Write | Renders as |
/// |---|---|
/// | `"text"` | Text, HTML-escaped at compile time. Only quoted text is text: whitespace inside the quotes is kept exactly, whitespace between tokens is ignored. Unquoted text is a compile error. |
/// | `<div class="box">…</div>`, `<my-el>…</my-el>`, `<div/>` | An element; names may contain `-`, `:` and `.`. A self-closed non-void element renders with a closing tag. |
/// | `<input disabled>`, `<br>`, `<meta …>` | Void elements (`area base br col embed hr img input keygen link meta param source track wbr`) render without a closing tag, with or without `/`. |
/// | `name="text"`, `name=1`, `name='c'` | A static attribute ` name="…"` (value escaped at compile time). A string containing `{ident}` or `{a.b}` is a compile error, since it would render the braces: write `name={format!("/rooms/{room}")}` to interpolate, or `name={"{kept}"}` to keep the braces. |
/// | `name`, `name=true`, `name=false` | A boolean attribute ` name` (or nothing for `false`). |
/// | `name={expr}` (or `name=expr`) | One hole covering the whole attribute, written by `::livefire::dynamic::AttrValue` (` name="escaped"`; a `bool` writes ` name` or nothing; `None` writes nothing). |
/// | `{expr}` | A hole: `::livefire::dynamic::IntoDynamic::into_dynamic(expr)`. Text is escaped; `Rendered` nests; `Raw` is the only unescaped value. `{}` and `{/* comment */}` render nothing. |
/// | `{self.name}`, `{row.title}`, `{items[0]}`, `{*name}` | A field, index or dereference is **borrowed**: `::livefire::dynamic::ToDynamic::to_dynamic(&(expr))` (and `attr_ref` in attributes), so an owned `String` (or `Rendered`, cloned) field of `&self` needs no `.clone()` or `.as_str()`. Locals (`{name}`) and other expressions (calls, temporaries) are converted by value, so a local `Rendered` is moved, not cloned. |
/// | `@if cond { … } else if cond { … } else { … }` | One hole holding the taken branch as its own nested template (`Dynamic::Nested`); no branch taken and no `else` renders `""`. `if let` conditions work. Bodies need braces: `@if x > 2 <b>…</b>` is an error that says so. |
/// | `@match expr { Pat => { … } Pat if guard => { … }, … }` | One hole holding the arm's nested template. Arm bodies must be braced; commas between arms are optional. |
/// | `@for pat in iter { … }` | One hole holding a `Comprehension`: the statics come from the body at compile time (so an empty loop still has them) and each iteration is one entry with the body's dynamics. Control flow inside the body becomes nested dynamics of the entry. Over a `&Stream<T>` (`@for (dom_id, item) in &self.items { <li id={dom_id}>…</li> }`) it renders the stream's new items and sends its operations. |
/// | `@for pat in iter; key = expr { … }` | A keyed comprehension: `expr` (any `Hash` value, e.g. `item.id`) identifies each entry, so reordered entries keep their DOM elements and only moves and changes are sent. |
/// | `@let pat = expr;` | A local binding, visible to the rest of the enclosing template body. |
/// | `<!DOCTYPE html>` | `<!DOCTYPE html>` |
/// | `<script>"…"</script>`, `<style>"…"</style>` | Quoted content written without escaping (a literal containing `</script` is rejected). |
/// | `<!-- "…" -->` | Dropped. |
/// | `<>…</>` | Its children, inline. |
///
/// Nested `html!` works anywhere an expression does: `{if c { html!(<b>"x"</b>) } else { html!() }}`
/// (an empty `html!()` renders nothing), and function components are plain functions returning
/// `Rendered`, called in a block: `{button("Save")}`.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    match codegen::compile(input.into()) {
        Ok(tokens) => tokens.into(),
        // Several `compile_error!` calls are statements of a block whose `!` value satisfies
        // any expected type, so rustc reports only our errors.
        Err(error) => {
            let errors = error.into_compile_error();
            quote::quote!({ #errors loop {} }).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::codegen::compile;

    fn error_of(input: proc_macro2::TokenStream) -> String {
        match compile(input) {
            Ok(tokens) => panic!("expected an error, got {tokens}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unquoted_text_is_rejected() {
        let message = error_of(quote!(<p>Hello world</p>));
        assert!(message.starts_with("quote text in html!: \""), "{message}");
        assert!(message.contains("Hello"), "{message}");
    }

    #[test]
    fn unknown_control_keyword_is_rejected() {
        let message = error_of(quote!(<p>@while x { "a" }</p>));
        assert!(
            message.contains("expected `if`, `match`, `for` or `let`"),
            "{message}"
        );
    }

    #[test]
    fn match_arm_without_braces_is_rejected() {
        let message = error_of(quote!(@match x { A => <p>"a"</p> }));
        assert!(message.contains("braced template body"), "{message}");
    }

    #[test]
    fn unclosed_tag_in_body_is_an_error_not_a_panic() {
        let message = error_of(quote!(@if c { <b>"x" }));
        assert!(!message.is_empty());
    }

    #[test]
    fn script_end_tag_in_script_literal_is_rejected() {
        let message = error_of(quote!(<script>"a</script><b>"</script>));
        assert!(message.contains("would end it early"), "{message}");
    }

    #[test]
    fn attribute_blocks_are_rejected() {
        let message = error_of(quote!(<div {attrs}></div>));
        assert!(message.contains("attribute blocks"), "{message}");
    }

    #[test]
    fn interpolation_in_string_attributes_is_rejected_with_a_suggestion() {
        let message = error_of(quote!(<a href="/rooms/{room}/{msg}">"x"</a>));
        assert!(
            message.contains("`{room}` is not interpolated"),
            "{message}"
        );
        assert!(
            message.contains(r#"write `href={format!("/rooms/{room}/{msg}")}`"#),
            "{message}"
        );
        let message = error_of(quote!(<p class="a {self.kind}"></p>));
        assert!(
            message.contains(r#"`class={format!("a {}", self.kind)}`"#),
            "{message}"
        );
    }

    #[test]
    fn braces_that_are_not_interpolation_pass() {
        for tokens in [
            quote!(<button phx-click=r#"[["push",{"event":"inc"}]]"#></button>),
            quote!(<div x-data="{ open: false }"></div>),
            quote!(<div data-x="{}" data-y="{1a}" data-z="{_}" data-w="{a b}"></div>),
            // Braced literals keep their braces on purpose.
            quote!(<div data-x={"{kept}"}></div>),
        ] {
            let compiled = compile(tokens.clone());
            assert!(compiled.is_ok(), "{tokens}: {:?}", compiled.err());
        }
    }

    #[test]
    fn if_body_without_braces_is_named() {
        for tokens in [
            quote!(@if x > 2 <b>"many"</b>),
            quote!(@if admin <b>"a"</b>),
            quote!(@if a < b <b>"less"</b>),
            quote!(<p>@if ok "yes"</p>),
            quote!(@if a { "x" } else if b <i>"y"</i>),
        ] {
            let message = error_of(tokens.clone());
            assert!(
                message.contains("the body of `@if` needs braces"),
                "{tokens}: {message}"
            );
        }
        let message = error_of(quote!(@if a { "x" } else "y"));
        assert!(
            message.contains("the body of `else` needs braces"),
            "{message}"
        );
        let message = error_of(quote!(@for x in xs <li>{x}</li>));
        assert!(
            message.contains("the body of `@for` needs braces"),
            "{message}"
        );
    }

    #[test]
    fn a_bad_condition_keeps_its_own_error() {
        // Braces are there: the error is about the condition, not the body.
        let message = error_of(quote!(@if x > > 2 { "a" }));
        assert!(!message.contains("needs braces"), "{message}");
    }

    #[test]
    fn places_are_borrowed_and_values_are_not() {
        let tokens =
            compile(quote!(<p title={self.title}>{self.name}{name}{f()}{items[0]}{*r}</p>))
                .map(|t| t.to_string())
                .unwrap_or_default();
        assert!(tokens.contains("to_dynamic (& (self . name))"), "{tokens}");
        assert!(tokens.contains("to_dynamic (& (items [0]))"), "{tokens}");
        assert!(tokens.contains("to_dynamic (& (* r))"), "{tokens}");
        assert!(
            tokens.contains("attr_ref (\"title\" , & (self . title))"),
            "{tokens}"
        );
        assert!(tokens.contains("into_dynamic (name)"), "{tokens}");
        assert!(tokens.contains("into_dynamic (f ())"), "{tokens}");
    }

    #[test]
    fn static_parts_are_merged() {
        let tokens = compile(quote!(<div class="a"><p>"x" "y"</p></div>))
            .map(|t| t.to_string())
            .unwrap_or_default();
        assert!(
            tokens.contains(r#""<div class=\"a\"><p>xy</p></div>""#),
            "{tokens}"
        );
    }
}
