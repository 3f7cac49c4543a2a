//! Reusable browser-test helpers: the dead render over plain HTTP and a canonical form of a DOM
//! subtree (to compare the live DOM with a fresh server render). The page's JavaScript errors
//! are collected by `livefire_e2e::record_js_errors`.
//!
//! Nothing here is specific to the counter; it could move into `livefire-e2e`.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use fantoccini::Client;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Bounded wait for one action's effect to show up in the page.
pub const WAIT: Duration = Duration::from_secs(5);

/// The dead render of `path`: one plain `GET` through the router, no JavaScript, no browser.
/// Returns the status, the `Content-Type` and the body.
pub async fn dead_get(app: Router, path: &str) -> (StatusCode, String, String) {
    let request = Request::get(path)
        .body(Body::empty())
        .expect("valid request");
    let response = app.oneshot(request).await.expect("infallible router");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = String::from_utf8(body.to_vec()).expect("UTF-8 page");
    (status, content_type, body)
}

/// The inner HTML of the `data-phx-main` container of a dead-rendered page, and its opening tag.
///
/// Relies on the container being the last element of `<body>` (the default layout).
pub fn main_container(page: &str) -> (&str, &str) {
    let marker = page
        .find(" data-phx-main")
        .unwrap_or_else(|| panic!("no data-phx-main container in {page}"));
    let open_start = page[..marker].rfind('<').expect("container tag start");
    let open_end = marker + page[marker..].find('>').expect("container tag end") + 1;
    let close = page
        .rfind("</div></body>")
        .unwrap_or_else(|| panic!("container is not the last element of <body> in {page}"));
    assert!(close >= open_end, "container closes before it opens");
    (&page[open_start..open_end], &page[open_end..close])
}

/// JavaScript defining `lfCanon(node)`: a canonical, indented, one-node-per-line serialisation
/// of `node`'s children.
///
/// Canonical means: attributes sorted by name, text nodes as JSON strings (whitespace
/// visible), `<template>` contents included. Only what the LiveView client adds on its own is
/// dropped: the `data-phx-id` magic ids of rendered roots, and the transient
/// `phx-<event>-loading` classes (and a `class` attribute left empty by that). Attributes are
/// compared, not live properties: an input is compared through its `value` *attribute*, which
/// the client keeps in sync with the server render.
const CANON_JS: &str = r#"
function lfCanon(root) {
  var VOID = {area:1, base:1, br:1, col:1, embed:1, hr:1, img:1, input:1, link:1, meta:1,
              source:1, track:1, wbr:1};
  var out = [];
  function walk(parent, depth) {
    var pad = new Array(depth + 1).join('  ');
    for (var n = parent.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1) {
        var tag = n.tagName.toLowerCase();
        var attrs = [];
        for (var i = 0; i < n.attributes.length; i++) {
          var a = n.attributes[i];
          var v = a.value;
          if (a.name === 'data-phx-id') continue;
          if (a.name === 'class') {
            v = v.split(/\s+/).filter(function (c) {
              return c !== '' && !/^phx-[a-z]+-loading$/.test(c);
            }).join(' ');
            if (v === '') continue;
          }
          attrs.push(a.name + '=' + JSON.stringify(v));
        }
        attrs.sort();
        out.push(pad + '<' + tag + (attrs.length ? ' ' + attrs.join(' ') : '') + '>');
        if (!VOID[tag]) {
          walk(tag === 'template' ? n.content : n, depth + 1);
          out.push(pad + '</' + tag + '>');
        }
      } else if (n.nodeType === 3) {
        out.push(pad + JSON.stringify(n.data));
      } else if (n.nodeType === 8) {
        out.push(pad + '<!--' + n.data + '-->');
      }
    }
  }
  walk(root, 0);
  return out.join('\n');
}
"#;

/// The live DOM inside the page's `data-phx-main` container in canonical form, read in the same
/// script (so from the same DOM state) as `state_js`, a function body whose return value comes
/// back as the second element.
pub async fn live_snapshot(client: &Client, state_js: &str) -> (String, Value) {
    let script = format!(
        "{CANON_JS}
        var main = document.querySelector('[data-phx-main]');
        if (!main) {{ return null; }}
        var state = (function () {{ {state_js} }})();
        return {{html: lfCanon(main), state: state}};"
    );
    let snapshot = client
        .execute(&script, Vec::new())
        .await
        .expect("snapshot script");
    let Value::Object(mut snapshot) = snapshot else {
        panic!("no data-phx-main container on the page: {snapshot}");
    };
    let html = match snapshot.remove("html") {
        Some(Value::String(html)) => html,
        other => panic!("snapshot without html: {other:?}"),
    };
    (html, snapshot.remove("state").unwrap_or(Value::Null))
}

/// `html` (the server's render of a container's content) parsed by the browser in a
/// `<template>` and put in the same canonical form as [`live_snapshot`].
pub async fn canonical_html(client: &Client, html: &str) -> String {
    let script = format!(
        "{CANON_JS}
        var t = document.createElement('template');
        t.innerHTML = arguments[0];
        return lfCanon(t.content);"
    );
    match client.execute(&script, vec![json!(html)]).await {
        Ok(Value::String(canon)) => canon,
        other => panic!("canonicalising the expected HTML failed: {other:?}"),
    }
}

/// Panics with a readable line diff unless the canonical forms are equal.
pub fn assert_same_dom(live: &str, expected: &str, context: &str) {
    if live == expected {
        return;
    }
    let live_lines: Vec<&str> = live.lines().collect();
    let expected_lines: Vec<&str> = expected.lines().collect();
    let first = live_lines
        .iter()
        .zip(&expected_lines)
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| live_lines.len().min(expected_lines.len()));
    panic!(
        "{context}: the live DOM differs from the server's fresh render at line {}\n  live:     {:?}\n  expected: {:?}\n\
         --- live DOM ---\n{live}\n--- fresh render ---\n{expected}\n",
        first + 1,
        live_lines.get(first),
        expected_lines.get(first),
    );
}
