//! Comparing the live DOM with a fresh server render.
//!
//! The fresh render is a plain `GET /` through the app's router (a new mount, which inserts
//! every todo of the shared store into a new stream). Both it and the live page's
//! `data-phx-main` container are put in one canonical form by the same script in the browser
//! (`lfCanon`), which drops only what the LiveView client adds on its own:
//!
//! - every `data-phx-*` attribute (`data-phx-id`, `data-phx-component`, `data-phx-stream`,
//!   `data-phx-ref-*`);
//! - the transient `phx-<event>-loading` classes (and a `class` left empty by that);
//! - component ids in `phx-target`: a live page's cids depend on its history (they are never
//!   reused), so a numeric target is replaced by its rank among the distinct cids in document
//!   order (`cid#1`, `cid#2`, …). That each live target is the cid of its own component root is
//!   checked separately ([`LiveSnapshot::foreign_targets`]).
//!
//! `style` is compared through the browser's serialisation (`display: none` and
//! `display: none;` are the same), attributes are sorted, text nodes are compared exactly.
//! Inputs are compared through their `value` *attribute*; tests check live values separately.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use fantoccini::Client;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Bounded wait for one action's effect to show up in the page.
pub const WAIT: Duration = Duration::from_secs(5);

/// A full page from a plain `GET` through the router (no browser): status and body.
pub async fn dead_get(app: Router, path: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .body(Body::empty())
        .expect("valid request");
    let response = app.oneshot(request).await.expect("infallible router");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        String::from_utf8(body.to_vec()).expect("UTF-8 page"),
    )
}

/// A fresh server render of `/`: the page's `<title>` text and the inner HTML of its live
/// container.
pub async fn fresh_render(app: &Router) -> (String, String) {
    let (status, page) = dead_get(app.clone(), "/").await;
    assert_eq!(status, 200, "{page}");
    let title = between(&page, "<title>", "</title>").to_owned();
    (title, main_inner(&page).to_owned())
}

fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {page}"))
        + open.len();
    let end = start + page[start..].find(close).expect("closing tag");
    &page[start..end]
}

/// The inner HTML of the `data-phx-main` container (the last element of `<body>`).
pub fn main_inner(page: &str) -> &str {
    let marker = page
        .find(" data-phx-main")
        .unwrap_or_else(|| panic!("no data-phx-main container in {page}"));
    let open_end = marker + page[marker..].find('>').expect("container tag end") + 1;
    let close = page
        .rfind("</div></body>")
        .unwrap_or_else(|| panic!("container is not the last element of <body> in {page}"));
    &page[open_end..close]
}

/// Client-side state a fresh render cannot have, and parts of the page left out of a
/// comparison.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    /// The confirmation dialog was opened with its JS command (`display: flex`).
    pub dialog_open: bool,
    /// Ids of elements replaced by a placeholder on both sides (transient server state of
    /// one view, such as an open edit form, checked by the test on its own).
    pub masked: Vec<String>,
}

/// `lfCanon(root, masked)`: the canonical, indented, one-node-per-line form of `root`'s
/// children (see the module docs).
const CANON_JS: &str = r#"
function lfCanon(root, masked) {
  var VOID = {area:1, base:1, br:1, col:1, embed:1, hr:1, img:1, input:1, link:1, meta:1,
              source:1, track:1, wbr:1};
  var cids = {}, ncids = 0, out = [];
  function walk(parent, depth) {
    var pad = new Array(depth + 1).join('  ');
    for (var n = parent.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1) {
        var tag = n.tagName.toLowerCase();
        if (n.id && masked.indexOf(n.id) >= 0) {
          out.push(pad + '<' + tag + ' id=' + JSON.stringify(n.id) + '> (masked)');
          continue;
        }
        var attrs = [];
        for (var i = 0; i < n.attributes.length; i++) {
          var a = n.attributes[i];
          var v = a.value;
          if (a.name.indexOf('data-phx-') === 0) continue;
          if (a.name === 'class') {
            v = v.split(/\s+/).filter(function (c) {
              return c !== '' && !/^phx-[a-z]+-loading$/.test(c);
            }).join(' ');
            if (v === '') continue;
          }
          if (a.name === 'style') {
            v = n.style.cssText;
            if (v === '') continue;
          }
          if (a.name === 'phx-target' && /^[0-9]+$/.test(v)) {
            if (!(v in cids)) { cids[v] = 'cid#' + (++ncids); }
            v = cids[v];
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

/// What [`live_snapshot`] read from the page, all from the same DOM state.
#[derive(Debug)]
pub struct LiveSnapshot {
    /// The live container in canonical form.
    pub html: String,
    /// `document.title`.
    pub title: String,
    /// Elements whose numeric `phx-target` is not the cid of their own component root
    /// (`data-phx-component` of the closest one), as `tag#id: target vs root`.
    pub foreign_targets: Vec<String>,
}

/// The live page's container in canonical form, its title, and a check of its `phx-target`s.
pub async fn live_snapshot(client: &Client, ui: &Ui) -> LiveSnapshot {
    let script = format!(
        "{CANON_JS}
        var main = document.querySelector('[data-phx-main]');
        if (!main) {{ return null; }}
        var foreign = [];
        main.querySelectorAll('[phx-target]').forEach(function (el) {{
          var target = el.getAttribute('phx-target');
          if (!/^[0-9]+$/.test(target)) {{ return; }}
          var root = el.closest('[data-phx-component]');
          var cid = root ? root.getAttribute('data-phx-component') : null;
          if (cid !== target) {{ foreign.push(el.tagName + '#' + el.id + ': ' + target + ' vs ' + cid); }}
        }});
        return {{html: lfCanon(main, arguments[0]), title: document.title, foreign: foreign}};"
    );
    let snapshot = client
        .execute(&script, vec![json!(ui.masked)])
        .await
        .expect("snapshot script");
    let text = |key: &str| match &snapshot[key] {
        Value::String(s) => s.clone(),
        other => panic!("snapshot without {key}: {other}"),
    };
    let foreign_targets = snapshot["foreign"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    LiveSnapshot {
        html: text("html"),
        title: text("title"),
        foreign_targets,
    }
}

/// `html` (a server render of the container's content) parsed by the browser, with the
/// client-side state of `ui` applied, in the canonical form of [`live_snapshot`].
pub async fn expected_canon(client: &Client, html: &str, ui: &Ui) -> String {
    let script = format!(
        "{CANON_JS}
        var t = document.createElement('template');
        t.innerHTML = arguments[0];
        if (arguments[1]) {{ t.content.getElementById('confirm-clear').style.display = 'flex'; }}
        return lfCanon(t.content, arguments[2]);"
    );
    let args = vec![json!(html), json!(ui.dialog_open), json!(ui.masked)];
    match client.execute(&script, args).await {
        Ok(Value::String(canon)) => canon,
        other => panic!("canonicalising the fresh render failed: {other:?}"),
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
