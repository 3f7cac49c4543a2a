//! Control-flow nodes inside templates: `@if`, `@match`, `@for` and `@let`.
//!
//! These are parsed as rstml custom nodes: a node that starts with `@`. Template bodies are
//! braced lists of ordinary nodes, parsed recursively with the same parser.

use proc_macro2::TokenStream;
use quote::ToTokens;
use rstml::node::{CustomNode, Node};
use rstml::recoverable::{ParseRecoverable, RecoverableContext};
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseBuffer, ParseStream};
use syn::spanned::Spanned;
use syn::token::Brace;
use syn::{Expr, Pat, Stmt, Token, braced};

/// A node of the template tree.
pub(crate) type TNode = Node<Control>;

/// A braced template body: `{ <p>"…"</p> {x} }`.
#[derive(Clone, Debug)]
pub(crate) struct Body {
    pub(crate) brace: Brace,
    pub(crate) nodes: Vec<TNode>,
}

impl ToTokens for Body {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.brace.surround(tokens, |tokens| {
            for node in &self.nodes {
                node.to_tokens(tokens);
            }
        });
    }
}

/// `@if cond { … } else if cond { … } else { … }` (conditions may be `let` patterns).
#[derive(Clone, Debug)]
pub(crate) struct IfNode {
    pub(crate) at: Token![@],
    /// `(if keyword, condition, body)` for the `if` and every `else if`.
    pub(crate) branches: Vec<(Token![if], Expr, Body)>,
    pub(crate) else_body: Option<(Token![else], Body)>,
}

/// One `pattern if guard => { … }` arm.
#[derive(Clone, Debug)]
pub(crate) struct Arm {
    pub(crate) pat: Pat,
    pub(crate) guard: Option<(Token![if], Expr)>,
    pub(crate) arrow: Token![=>],
    pub(crate) body: Body,
}

/// `@match expr { pat => { … } … }`.
#[derive(Clone, Debug)]
pub(crate) struct MatchNode {
    pub(crate) at: Token![@],
    pub(crate) match_token: Token![match],
    pub(crate) expr: Expr,
    pub(crate) brace: Brace,
    pub(crate) arms: Vec<Arm>,
}

/// `@for pat in expr { … }`, or keyed: `@for pat in expr; key = key_expr { … }`.
#[derive(Clone, Debug)]
pub(crate) struct ForNode {
    pub(crate) at: Token![@],
    pub(crate) for_token: Token![for],
    pub(crate) pat: Pat,
    pub(crate) in_token: Token![in],
    pub(crate) expr: Expr,
    /// The key expression of a keyed loop.
    pub(crate) key: Option<Box<Expr>>,
    pub(crate) body: Body,
}

/// `@let pat = expr;`: a local binding visible to the rest of the enclosing template.
#[derive(Clone, Debug)]
pub(crate) struct LetNode {
    pub(crate) at: Token![@],
    pub(crate) stmt: Stmt,
}

/// A control-flow node.
#[derive(Clone, Debug)]
pub(crate) enum Control {
    If(IfNode),
    Match(MatchNode),
    For(ForNode),
    Let(LetNode),
}

impl ToTokens for Control {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Control::If(n) => {
                n.at.to_tokens(tokens);
                for (i, (if_token, cond, body)) in n.branches.iter().enumerate() {
                    if i > 0 {
                        <Token![else]>::default().to_tokens(tokens);
                    }
                    if_token.to_tokens(tokens);
                    cond.to_tokens(tokens);
                    body.to_tokens(tokens);
                }
                if let Some((else_token, body)) = &n.else_body {
                    else_token.to_tokens(tokens);
                    body.to_tokens(tokens);
                }
            }
            Control::Match(n) => {
                n.at.to_tokens(tokens);
                n.match_token.to_tokens(tokens);
                n.expr.to_tokens(tokens);
                n.brace.surround(tokens, |tokens| {
                    for arm in &n.arms {
                        arm.pat.to_tokens(tokens);
                        if let Some((if_token, guard)) = &arm.guard {
                            if_token.to_tokens(tokens);
                            guard.to_tokens(tokens);
                        }
                        arm.arrow.to_tokens(tokens);
                        arm.body.to_tokens(tokens);
                    }
                });
            }
            Control::For(n) => {
                n.at.to_tokens(tokens);
                n.for_token.to_tokens(tokens);
                n.pat.to_tokens(tokens);
                n.in_token.to_tokens(tokens);
                n.expr.to_tokens(tokens);
                if let Some(key) = &n.key {
                    <Token![;]>::default().to_tokens(tokens);
                    key.to_tokens(tokens);
                }
                n.body.to_tokens(tokens);
            }
            Control::Let(n) => {
                n.at.to_tokens(tokens);
                n.stmt.to_tokens(tokens);
            }
        }
    }
}

impl CustomNode for Control {
    fn peek_element(input: ParseStream<'_>) -> bool {
        input.peek(Token![@])
    }
}

impl ParseRecoverable for Control {
    fn parse_recoverable(parser: &mut RecoverableContext, input: ParseStream<'_>) -> Option<Self> {
        let at: Token![@] = parser.parse_simple(input)?;
        if input.peek(Token![if]) {
            parse_if(parser, input, at).map(Control::If)
        } else if input.peek(Token![match]) {
            parse_match(parser, input, at).map(Control::Match)
        } else if input.peek(Token![for]) {
            parse_for(parser, input, at).map(Control::For)
        } else if input.peek(Token![let]) {
            parse_let(parser, input, at).map(Control::Let)
        } else {
            parser.push_diagnostic(syn::Error::new(
                at.span,
                "expected `if`, `match`, `for` or `let` after `@` in html!",
            ));
            None
        }
    }
}

/// Runs `f` on a fork and advances `input` only on success, so a failed header leaves the
/// stream where it was.
fn speculative<T>(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    f: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> Option<T> {
    let fork = input.fork();
    match f(&fork) {
        Ok(v) => {
            input.advance_to(&fork);
            Some(v)
        }
        Err(e) => {
            parser.push_diagnostic(e);
            None
        }
    }
}

fn braced_content<'a>(input: &ParseBuffer<'a>) -> syn::Result<(Brace, ParseBuffer<'a>)> {
    let content;
    let brace = braced!(content in input);
    Ok((brace, content))
}

/// Consumes whatever is left in a nested buffer: syn reports unconsumed tokens of a dropped
/// group buffer as an error of the whole parse, and rstml treats that as a bug.
fn drain(input: ParseStream<'_>) {
    let _ = input.parse::<TokenStream>();
}

/// How to write the body of `@if`, for errors.
const IF_HINT: &str = "the body of `@if` needs braces: `@if cond { <b>\"…\"</b> }`";
/// How to write the body of `else`, for errors.
const ELSE_HINT: &str = "the body of `else` needs braces: `else { <i>\"…\"</i> }`";
/// How to write the body of `@for`, for errors.
const FOR_HINT: &str = "the body of `@for` needs braces: `@for item in items { <li>{item}</li> }`";

/// Parses a control node's header with `f` (on a fork, as [`speculative`]). When it fails, or
/// parses only up to a tag, because the body lacks its braces (`@if x > 2 <b>…</b>` reads as
/// the chained comparison `x > 2 < b > …`), the error says that instead of rustc's.
fn header<T>(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    hint: &str,
    f: impl Fn(ParseStream<'_>) -> syn::Result<T>,
) -> Option<T> {
    let fork = input.fork();
    match f(&fork) {
        Ok(v) => {
            input.advance_to(&fork);
            Some(v)
        }
        Err(e) => {
            let error = unbraced_body(input, hint, &f).unwrap_or(e);
            parser.push_diagnostic(error);
            None
        }
    }
}

/// If the tokens from here are a header that `f` accepts followed by a tag (`<name`), the
/// error for a body written without braces, pointing at the tag.
fn unbraced_body<T>(
    input: ParseStream<'_>,
    hint: &str,
    f: &impl Fn(ParseStream<'_>) -> syn::Result<T>,
) -> Option<syn::Error> {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    use syn::parse::Parser as _;
    let tokens: Vec<TokenTree> = input
        .fork()
        .parse::<TokenStream>()
        .ok()?
        .into_iter()
        .collect();
    // Candidate tag starts: `<` followed by a name, before any braced group.
    let mut starts = Vec::new();
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
            TokenTree::Punct(p)
                if p.as_char() == '<'
                    && p.spacing() == Spacing::Alone
                    && matches!(tokens.get(i + 1), Some(TokenTree::Ident(_))) =>
            {
                starts.push(i);
            }
            _ => {}
        }
    }
    // The last start whose prefix is a whole header: `@if a < b <p>` breaks before `<p`.
    let start = starts.into_iter().rev().find(|&i| {
        let prefix: TokenStream = tokens[..i].iter().cloned().collect();
        (|input: ParseStream<'_>| {
            f(input)?;
            if input.is_empty() {
                Ok(())
            } else {
                Err(input.error("more tokens"))
            }
        })
        .parse2(prefix)
        .is_ok()
    })?;
    Some(syn::Error::new(
        tokens[start].span(),
        format!("expected a braced template body `{{ … }}` before this tag: {hint}"),
    ))
}

/// Parses `{ nodes… }`.
fn parse_body(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    what: &str,
    hint: &str,
) -> Option<Body> {
    if !input.peek(Brace) {
        parser.push_diagnostic(input.error(format!(
            "expected a braced template body `{{ … }}` {what}: {hint}"
        )));
        return None;
    }
    let (brace, content) = parser.save_diagnostics(braced_content(input))?;
    let mut nodes = Vec::new();
    while !content.is_empty() {
        let before = content.cursor();
        match Node::<Control>::parse_recoverable(parser, &content) {
            Some(node) => nodes.push(node),
            None => {
                drain(&content);
                return None;
            }
        }
        if content.cursor() == before {
            parser.push_diagnostic(content.error("unexpected tokens in template body"));
            drain(&content);
            return None;
        }
    }
    Some(Body { brace, nodes })
}

fn parse_if(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    at: Token![@],
) -> Option<IfNode> {
    let mut branches = Vec::new();
    let (if_token, cond) = header(parser, input, IF_HINT, |input| {
        let if_token: Token![if] = input.parse()?;
        let cond = Expr::parse_without_eager_brace(input)?;
        Ok((if_token, cond))
    })?;
    let body = parse_body(parser, input, "after the `@if` condition", IF_HINT)?;
    branches.push((if_token, cond, body));
    let mut else_body = None;
    loop {
        // `else` may optionally be written `@else`.
        if input.peek(Token![@]) && input.peek2(Token![else]) {
            let _: Token![@] = parser.parse_simple(input)?;
        }
        if !input.peek(Token![else]) {
            break;
        }
        let else_token: Token![else] = parser.parse_simple(input)?;
        if input.peek(Token![if]) {
            let (if_token, cond) = header(parser, input, IF_HINT, |input| {
                let if_token: Token![if] = input.parse()?;
                let cond = Expr::parse_without_eager_brace(input)?;
                Ok((if_token, cond))
            })?;
            let body = parse_body(parser, input, "after the `else if` condition", IF_HINT)?;
            branches.push((if_token, cond, body));
        } else {
            let body = parse_body(parser, input, "after `else`", ELSE_HINT)?;
            else_body = Some((else_token, body));
            break;
        }
    }
    Some(IfNode {
        at,
        branches,
        else_body,
    })
}

fn parse_match(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    at: Token![@],
) -> Option<MatchNode> {
    let (match_token, expr) = speculative(parser, input, |input| {
        let match_token: Token![match] = input.parse()?;
        let expr = Expr::parse_without_eager_brace(input)?;
        Ok((match_token, expr))
    })?;
    if !input.peek(Brace) {
        parser.push_diagnostic(input.error("expected `{` with the arms of `@match`"));
        return None;
    }
    let (brace, content) = parser.save_diagnostics(braced_content(input))?;
    let mut arms = Vec::new();
    while !content.is_empty() {
        let Some((pat, guard, arrow)) = speculative(parser, &content, |input| {
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            let guard = if input.peek(Token![if]) {
                let if_token: Token![if] = input.parse()?;
                let guard: Expr = input.parse()?;
                Some((if_token, guard))
            } else {
                None
            };
            let arrow: Token![=>] = input.parse()?;
            Ok((pat, guard, arrow))
        }) else {
            drain(&content);
            return None;
        };
        let Some(body) = parse_body(
            parser,
            &content,
            "after `=>` in a `@match` arm",
            "each arm's body needs braces: `Pattern => { <p>\"…\"</p> }`",
        ) else {
            drain(&content);
            return None;
        };
        if content.peek(Token![,]) {
            let _: Option<Token![,]> = parser.parse_simple(&content);
        }
        arms.push(Arm {
            pat,
            guard,
            arrow,
            body,
        });
    }
    Some(MatchNode {
        at,
        match_token,
        expr,
        brace,
        arms,
    })
}

fn parse_for(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    at: Token![@],
) -> Option<ForNode> {
    let (for_token, pat, in_token, expr, key) = header(parser, input, FOR_HINT, |input| {
        let for_token: Token![for] = input.parse()?;
        let pat = Pat::parse_multi_with_leading_vert(input)?;
        let in_token: Token![in] = input.parse()?;
        let expr = Expr::parse_without_eager_brace(input)?;
        let key = if input.peek(Token![;]) {
            let _: Token![;] = input.parse()?;
            let name: syn::Ident = input.parse()?;
            if name != "key" {
                return Err(syn::Error::new(
                    name.span(),
                    "expected `key = <expression>` after `;` in `@for` (a keyed loop)",
                ));
            }
            let _: Token![=] = input.parse()?;
            Some(Box::new(Expr::parse_without_eager_brace(input)?))
        } else {
            None
        };
        Ok((for_token, pat, in_token, expr, key))
    })?;
    let body = parse_body(parser, input, "after the `@for` header", FOR_HINT)?;
    Some(ForNode {
        at,
        for_token,
        pat,
        in_token,
        expr,
        key,
        body,
    })
}

fn parse_let(
    parser: &mut RecoverableContext,
    input: ParseStream<'_>,
    at: Token![@],
) -> Option<LetNode> {
    let stmt = speculative(parser, input, |input| {
        let stmt: Stmt = input.parse()?;
        match &stmt {
            Stmt::Local(_) => Ok(stmt),
            other => Err(syn::Error::new(
                other.span(),
                "expected `@let pattern = expression;`",
            )),
        }
    })?;
    Some(LetNode { at, stmt })
}
