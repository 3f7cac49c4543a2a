//! Turns the parsed node tree into statics (compile-time strings) and dynamics (Rust
//! expressions), and emits the code that builds a `::livefire::rendered::Rendered`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use rstml::node::{
    KVAttributeValue, KeyedAttributeValue, NodeAttribute, NodeBlock, NodeElement, NodeName,
};
use rstml::{Parser, ParserConfig};
use syn::spanned::Spanned;
use syn::{Expr, Lit, Stmt};

use crate::control::{Body, Control, ForNode, IfNode, MatchNode, TNode};
use crate::text::{escape_html, fingerprint_of};

/// Elements that never have content or a closing tag.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];

/// Elements whose quoted text is written without escaping.
const RAW_TEXT_ELEMENTS: &[&str] = &["script", "style"];

/// Where we are in the tree.
#[derive(Clone, Copy, Debug, Default)]
struct Ctx {
    /// Inside `<script>` or `<style>`: the name of that element.
    raw_text_in: Option<&'static str>,
}

/// Static parts and hole expressions of one template, under construction.
#[derive(Debug, Default)]
struct Template {
    parts: Vec<String>,
    current: String,
    /// Statements evaluating the holes in order (and `@let` bindings).
    stmts: TokenStream,
    holes: Vec<Ident>,
}

impl Template {
    fn push_static(&mut self, text: &str) {
        self.current.push_str(text);
    }

    /// Adds a hole; `expr` evaluates to a `::livefire::rendered::Dynamic`.
    fn push_hole(&mut self, expr: TokenStream) {
        let id = format_ident!("__lf_d{}", self.holes.len(), span = Span::mixed_site());
        self.stmts
            .extend(quote!(let #id: ::livefire::rendered::Dynamic = #expr;));
        self.parts.push(std::mem::take(&mut self.current));
        self.holes.push(id);
    }

    fn push_stmt(&mut self, stmt: TokenStream) {
        self.stmts.extend(stmt);
    }

    fn finish(mut self) -> Finished {
        self.parts.push(self.current);
        Finished {
            parts: self.parts,
            stmts: self.stmts,
            holes: self.holes,
        }
    }
}

/// A complete template: `parts.len() == holes.len() + 1`.
#[derive(Debug)]
struct Finished {
    parts: Vec<String>,
    stmts: TokenStream,
    holes: Vec<Ident>,
}

impl Finished {
    /// `static __LIVEFIRE_STATICS: Statics = …;` with the fingerprint computed here.
    fn statics_item(&self) -> TokenStream {
        let parts = &self.parts;
        let fingerprint = fingerprint_of(parts);
        quote! {
            static __LIVEFIRE_STATICS: ::livefire::rendered::Statics =
                ::livefire::rendered::Statics::new(&[#(#parts),*], #fingerprint);
        }
    }

    /// The dynamics as a `Vec<Dynamic>` expression (after `stmts` ran).
    fn dynamics_vec(&self) -> TokenStream {
        let holes = &self.holes;
        if holes.is_empty() {
            quote!(::std::vec::Vec::new())
        } else {
            quote!(::std::vec![#(#holes),*])
        }
    }

    /// An expression of type `Rendered`.
    fn rendered_expr(&self) -> TokenStream {
        let item = self.statics_item();
        let stmts = &self.stmts;
        let dynamics = self.dynamics_vec();
        quote! {
            {
                #item
                #stmts
                ::livefire::rendered::Rendered::new(&__LIVEFIRE_STATICS, #dynamics)
            }
        }
    }
}

/// Walks the tree, collecting errors instead of stopping at the first one.
#[derive(Debug, Default)]
struct Compiler {
    errors: Vec<syn::Error>,
}

impl Compiler {
    fn error(&mut self, span: impl ToTokens, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(span, message));
    }

    fn into_result(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in errors {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }

    fn template(&mut self, nodes: &[TNode], ctx: Ctx) -> Finished {
        let mut t = Template::default();
        self.nodes(&mut t, nodes, ctx);
        t.finish()
    }

    fn nodes(&mut self, t: &mut Template, nodes: &[TNode], ctx: Ctx) {
        for node in nodes {
            self.node(t, node, ctx);
        }
    }

    fn node(&mut self, t: &mut Template, node: &TNode, ctx: Ctx) {
        match node {
            TNode::Comment(_) => {}
            TNode::Doctype(d) => {
                let value = d.value.to_token_stream_string();
                t.push_static(&format!("<!DOCTYPE {value}>"));
            }
            TNode::Fragment(f) => self.nodes(t, &f.children, ctx),
            TNode::Element(e) => self.element(t, e, ctx),
            TNode::Block(b) => {
                if let Some((expr, place)) = block_value(b) {
                    let span = b.span();
                    // A place (`self.name`, `row.title`, `items[0]`, `*name`) is borrowed, so an
                    // owned field renders without a move or a `.clone()`; any other expression
                    // (a call, a temporary, a local variable) is converted by value as before.
                    t.push_hole(if place {
                        quote_spanned! {span=>
                            ::livefire::dynamic::ToDynamic::to_dynamic(&(#expr))
                        }
                    } else {
                        quote_spanned! {span=>
                            ::livefire::dynamic::IntoDynamic::into_dynamic(#expr)
                        }
                    });
                }
            }
            TNode::Text(text) => {
                let value = text.value.value();
                match ctx.raw_text_in {
                    Some(element) => {
                        if value.to_ascii_lowercase().contains(&format!("</{element}")) {
                            self.error(
                                &text.value,
                                format!("`</{element}` inside <{element}> would end it early"),
                            );
                        }
                        t.push_static(&value);
                    }
                    None => t.push_static(&escape_html(&value)),
                }
            }
            TNode::RawText(raw) => {
                if !raw.is_empty() {
                    let text = raw.to_string_best();
                    self.error(
                        raw,
                        format!(
                            "quote text in html!: {text:?} (text must be a string literal; \
                             whitespace inside the quotes is kept exactly)"
                        ),
                    );
                }
            }
            TNode::Custom(control) => self.control(t, control, ctx),
        }
    }

    fn element(&mut self, t: &mut Template, el: &NodeElement<Control>, ctx: Ctx) {
        let Some(name) = self.element_name(el.name()) else {
            return;
        };
        let lower = name.to_ascii_lowercase();
        t.push_static("<");
        t.push_static(&name);
        for attr in el.attributes() {
            self.attribute(t, attr);
        }
        t.push_static(">");
        if VOID_ELEMENTS.contains(&lower.as_str()) {
            if !el.children.is_empty() {
                self.error(
                    el.name(),
                    format!("<{name}> is a void element and cannot have content"),
                );
            }
            return;
        }
        let child_ctx = Ctx {
            raw_text_in: RAW_TEXT_ELEMENTS
                .iter()
                .find(|r| **r == lower)
                .copied()
                .or(ctx.raw_text_in),
        };
        self.nodes(t, &el.children, child_ctx);
        t.push_static("</");
        t.push_static(&name);
        t.push_static(">");
    }

    fn element_name(&mut self, name: &NodeName) -> Option<String> {
        match name {
            NodeName::Block(_) => {
                self.error(name, "element names must be written literally in html!");
                None
            }
            NodeName::Path(path) if path.path.segments.len() != 1 => {
                self.error(
                    name,
                    "paths are not element names; call a function component in a block instead: \
                     `{my_component(args)}`",
                );
                None
            }
            _ => Some(name.to_string().replace("r#", "")),
        }
    }

    fn attribute(&mut self, t: &mut Template, attr: &NodeAttribute) {
        let attr = match attr {
            NodeAttribute::Block(b) => {
                self.error(
                    b,
                    "attribute blocks are not supported in html!; write `name={expr}`",
                );
                return;
            }
            NodeAttribute::Attribute(a) => a,
        };
        if attr.key.is_block() {
            self.error(
                &attr.key,
                "attribute names must be written literally in html!",
            );
            return;
        }
        let key = attr.key.to_string().replace("r#", "");
        match &attr.possible_value {
            KeyedAttributeValue::None => t.push_static(&format!(" {key}")),
            KeyedAttributeValue::Binding(b) => {
                self.error(
                    b,
                    "write attribute values as `name=\"text\"` or `name={expr}`",
                );
            }
            KeyedAttributeValue::Value(v) => match &v.value {
                KVAttributeValue::InvalidBraced(b) => {
                    self.error(b, "invalid attribute value expression");
                }
                KVAttributeValue::Expr(expr) => {
                    // `name="… {x} …"` (a bare literal) is checked for interpolation that would
                    // render literally; `name={"… {x} …"}` is the explicit way to keep braces.
                    if let Expr::Lit(syn::ExprLit {
                        lit: Lit::Str(s), ..
                    }) = expr
                    {
                        self.check_interpolation(&key, s);
                    }
                    let expr = unwrap_block_expr(expr);
                    if let Expr::Lit(lit) = expr {
                        self.static_attribute(t, &key, &lit.lit);
                    } else {
                        let span = expr.span();
                        // Places are borrowed, as in content holes.
                        t.push_hole(if is_place(expr) {
                            quote_spanned! {span=>
                                ::livefire::dynamic::attr_ref(#key, &(#expr))
                            }
                        } else {
                            quote_spanned! {span=>
                                ::livefire::dynamic::attr(#key, #expr)
                            }
                        });
                    }
                }
            },
        }
    }

    /// Refuses `name="text {ident} text"`: attribute strings are static, so the braces would be
    /// sent to the browser as they are. The error suggests the `format!` that interpolates.
    fn check_interpolation(&mut self, key: &str, lit: &syn::LitStr) {
        let value = lit.value();
        let holes = interpolations(&value);
        let Some(first) = holes.first() else {
            return;
        };
        let suggestion = format_suggestion(&value, &holes);
        self.error(
            lit,
            format!(
                "`{{{first}}}` is not interpolated in a string attribute: html! strings are static \
                 text, so the braces would reach the browser as they are; \
                 write `{key}={{{suggestion}}}` (or `{key}={{{value:?}}}` to keep the braces)"
            ),
        );
    }

    fn static_attribute(&mut self, t: &mut Template, key: &str, lit: &Lit) {
        let value = match lit {
            Lit::Str(s) => s.value(),
            Lit::Char(c) => c.value().to_string(),
            Lit::Int(i) => i.base10_digits().to_owned(),
            Lit::Float(f) => f.base10_digits().to_owned(),
            Lit::Bool(b) => {
                if b.value {
                    t.push_static(&format!(" {key}"));
                }
                return;
            }
            other => {
                self.error(other, "unsupported literal in an attribute value");
                return;
            }
        };
        t.push_static(&format!(" {key}=\"{}\"", escape_html(&value)));
    }

    fn control(&mut self, t: &mut Template, control: &Control, ctx: Ctx) {
        match control {
            Control::If(node) => {
                let expr = self.if_expr(node, ctx);
                t.push_hole(expr);
            }
            Control::Match(node) => {
                let expr = self.match_expr(node, ctx);
                t.push_hole(expr);
            }
            Control::For(node) => {
                let expr = self.for_expr(node, ctx);
                t.push_hole(expr);
            }
            Control::Let(node) => t.push_stmt(node.stmt.to_token_stream()),
        }
    }

    /// A branch body as `Dynamic::Nested(Rendered)`.
    fn nested(&mut self, body: &Body, ctx: Ctx) -> TokenStream {
        let rendered = self.template(&body.nodes, ctx).rendered_expr();
        quote!(::livefire::rendered::Dynamic::Nested(#rendered))
    }

    fn if_expr(&mut self, node: &IfNode, ctx: Ctx) -> TokenStream {
        let mut out = TokenStream::new();
        for (i, (if_token, cond, body)) in node.branches.iter().enumerate() {
            let nested = self.nested(body, ctx);
            if i > 0 {
                out.extend(quote!(else));
            }
            out.extend(quote!(#if_token #cond { #nested }));
        }
        let else_branch = match &node.else_body {
            Some((_, body)) => self.nested(body, ctx),
            None => quote!(::livefire::rendered::Dynamic::empty()),
        };
        out.extend(quote!(else { #else_branch }));
        out
    }

    fn match_expr(&mut self, node: &MatchNode, ctx: Ctx) -> TokenStream {
        let mut arms = TokenStream::new();
        for arm in &node.arms {
            let pat = &arm.pat;
            let guard = arm.guard.as_ref().map(|(if_token, g)| quote!(#if_token #g));
            let arrow = &arm.arrow;
            let nested = self.nested(&arm.body, ctx);
            arms.extend(quote!(#pat #guard #arrow #nested,));
        }
        let match_token = &node.match_token;
        let expr = &node.expr;
        quote!(#match_token #expr { #arms })
    }

    fn for_expr(&mut self, node: &ForNode, ctx: Ctx) -> TokenStream {
        let body = self.template(&node.body.nodes, ctx);
        let item = body.statics_item();
        let stmts = &body.stmts;
        let entry = body.dynamics_vec();
        let entries = Ident::new("__lf_entries", Span::mixed_site());
        let for_token = &node.for_token;
        let pat = &node.pat;
        let in_token = &node.in_token;
        let expr = &node.expr;
        let iter = Ident::new("__lf_iter", Span::mixed_site());
        let meta = Ident::new("__lf_stream", Span::mixed_site());
        let keys = Ident::new("__lf_keys", Span::mixed_site());
        // The source is evaluated once; a `Stream` adds its operations to the comprehension
        // (found by autoref specialisation: any other source has none).
        let (declare_keys, push_key, build) = match &node.key {
            Some(key) => (
                quote!(let mut #keys: ::std::vec::Vec<u64> = ::std::vec::Vec::new();),
                quote!(#keys.push(::livefire::rendered::key_hash(&(#key)));),
                quote!(::livefire::rendered::Comprehension::keyed(&__LIVEFIRE_STATICS, #entries, #keys)),
            ),
            None => (
                quote!(),
                quote!(),
                quote!(::livefire::rendered::Comprehension::new(&__LIVEFIRE_STATICS, #entries)),
            ),
        };
        quote! {
            {
                #item
                let #iter = #expr;
                let #meta = {
                    #[allow(unused_imports)]
                    use ::livefire::stream::__private::{NoStream as _, IsStream as _};
                    (&::livefire::stream::__private::Source(&#iter)).__livefire_stream()
                };
                let mut #entries: ::std::vec::Vec<::std::vec::Vec<::livefire::rendered::Dynamic>> =
                    ::std::vec::Vec::new();
                #declare_keys
                #for_token #pat #in_token #iter {
                    #push_key
                    #stmts
                    #entries.push(#entry);
                }
                ::livefire::rendered::Dynamic::Comprehension(#build.with_stream(#meta))
            }
        }
    }
}

/// The expression of a `{…}` content block, without redundant braces (so rustc's
/// `unused_braces` lint stays quiet), and whether it is a place to borrow ([`is_place`]);
/// `None` for an empty block such as `{/* comment */}`.
fn block_value(block: &NodeBlock) -> Option<(TokenStream, bool)> {
    match block {
        NodeBlock::ValidBlock(b) => match b.stmts.as_slice() {
            [] => None,
            [Stmt::Expr(expr, None)] => Some((expr.to_token_stream(), is_place(expr))),
            _ => Some((b.to_token_stream(), false)),
        },
        NodeBlock::Invalid(b) => Some((b.to_token_stream(), false)),
    }
}

/// Whether a hole's expression names a place that is not a plain local: a field
/// (`self.name`, `row.0`), an index (`items[0]`) or a dereference (`*name`), possibly in
/// parentheses. Such holes are borrowed (`ToDynamic::to_dynamic(&(expr))`, `attr_ref`), so an owned `String` field of `&self`
/// renders without being moved. Plain locals (`{name}`) and every other expression keep the
/// by-value conversion, which moves a `Rendered` instead of cloning it.
fn is_place(expr: &Expr) -> bool {
    match expr {
        Expr::Field(_) | Expr::Index(_) => true,
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
        Expr::Paren(p) => is_place(&p.expr),
        _ => false,
    }
}

/// The `{path}` interpolations written in a string attribute (`"/rooms/{room}"`,
/// `"{self.id}"`): an identifier, possibly followed by `.field`s, directly between braces.
/// JSON (`{"a":1}`), CSS and JavaScript objects (`{ open: true }`) do not match.
fn interpolations(value: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let inner = &after[..close];
        if is_path(inner) {
            found.push(inner);
            rest = &after[close + 1..];
        } else {
            rest = after;
        }
    }
    found
}

/// `ident(.ident|.digits)*`.
fn is_path(text: &str) -> bool {
    let mut segments = text.split('.');
    let first_ok = segments.next().is_some_and(|first| {
        first
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && first.chars().all(|c| c.is_alphanumeric() || c == '_')
            && first != "_"
    });
    first_ok
        && segments.all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// `format!("/rooms/{room}")` for plain names, `format!("/rooms/{}", self.room)` when a
/// hole has fields (which `format!` cannot capture inline).
fn format_suggestion(value: &str, holes: &[&str]) -> String {
    if holes.iter().all(|h| !h.contains('.')) {
        return format!("format!({value:?})");
    }
    let mut template = value.to_owned();
    for hole in holes {
        template = template.replacen(&format!("{{{hole}}}"), "{}", 1);
    }
    format!("format!({template:?}, {})", holes.join(", "))
}

/// `{expr}` → `expr` when the block holds exactly one expression.
fn unwrap_block_expr(expr: &Expr) -> &Expr {
    if let Expr::Block(b) = expr
        && b.attrs.is_empty()
        && b.label.is_none()
        && let [Stmt::Expr(inner, None)] = b.block.stmts.as_slice()
    {
        return unwrap_block_expr(inner);
    }
    expr
}

/// Parses and compiles `html!` input into an expression of type `Rendered`.
pub(crate) fn compile(input: TokenStream) -> syn::Result<TokenStream> {
    let config = ParserConfig::new()
        .always_self_closed_elements(VOID_ELEMENTS.iter().copied().collect())
        .custom_node::<Control>();
    let (nodes, diagnostics) = Parser::new(config).parse_recoverable(input).split_vec();
    if let Some(first) = diagnostics.into_iter().next() {
        return Err(first.into());
    }
    let mut compiler = Compiler::default();
    let template = compiler.template(&nodes, Ctx::default());
    compiler.into_result()?;
    Ok(template.rendered_expr())
}
