//! Property test: streams over a real socket, against the client model and a DOM model.
//!
//! A view holds two streams, rendered into two `phx-update="stream"` containers. Each case
//! mounts some items, then sends random batches of stream operations (inserts at a position,
//! with a limit or `update_only`, deletes, resets, and unrelated changes) as events. Every
//! join reply and diff is merged into the client model (`livefire::test::model`); the HTML it
//! renders must equal a fresh render of the same template with the same operations, and the
//! containers' children, after the model of `dom_patch.ts` applied the render's stream
//! operations, must be exactly the test's own reference list of items.

use livefire::test::model as client_model;
mod support;

use std::collections::HashSet;

use axum::Router;
use client_model::{Child, Client, Rules, StreamDom};
use livefire::session::CookieSessionLayer;
use livefire::stream::{InsertAt, Stream};
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use support::*;

// ---------------------------------------------------------------------------------------------
// The view

struct Item {
    id: u32,
    text: String,
}

/// One operation of a batch, as the test sends it in an event's value.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Op {
    Insert {
        list: usize,
        id: u32,
        text: String,
        at: i64,
        limit: Option<i64>,
        update_only: bool,
    },
    Delete {
        list: usize,
        id: u32,
    },
    Reset {
        list: usize,
    },
    Title(String),
}

#[derive(Deserialize)]
struct Batch {
    ops: Vec<Op>,
}

const LISTS: [&str; 2] = ["a", "b"];

fn dom_id(list: usize, id: u32) -> String {
    format!("{}-{id}", LISTS[list])
}

fn new_streams() -> [Stream<Item>; 2] {
    [
        Stream::new("a", |i: &Item| dom_id(0, i.id)),
        Stream::new("b", |i: &Item| dom_id(1, i.id)),
    ]
}

/// Applies operations to the streams (and the title), as the view does.
fn apply(ops: &[Op], streams: &mut [Stream<Item>; 2], title: &mut String) {
    for op in ops {
        match op {
            Op::Insert {
                list,
                id,
                text,
                at,
                limit,
                update_only,
            } => {
                streams[*list].insert_with(
                    Item {
                        id: *id,
                        text: text.clone(),
                    },
                    InsertAt {
                        at: *at,
                        limit: *limit,
                        update_only: *update_only,
                    },
                );
            }
            Op::Delete { list, id } => {
                streams[*list].delete_by_dom_id(dom_id(*list, *id));
            }
            Op::Reset { list } => {
                streams[*list].reset();
            }
            Op::Title(t) => t.clone_into(title),
        }
    }
}

/// The template, shared by the view and the test's fresh render.
fn page(streams: &[Stream<Item>; 2], title: &str) -> Rendered {
    let [a, b] = streams;
    html!(
        <h1>{title}</h1>
        <ul id="a" phx-update="stream">@for (dom_id, item) in a { <li id={dom_id}>{item.text.as_str()}</li> }</ul>
        <p>"between"</p>
        <ol id="b" phx-update="stream">@for (dom_id, item) in b { <li id={dom_id}>"#" {item.id} " " {item.text.as_str()}</li> }</ol>
    )
}

struct Lists {
    streams: [Stream<Item>; 2],
    title: String,
    mount: Vec<Op>,
}

impl LiveView for Lists {
    type Message = ();

    async fn mount(&mut self, _cx: &livefire::Mount, _socket: &mut Socket) -> Result {
        apply(&self.mount, &mut self.streams, &mut self.title);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        let batch: Batch = event.params()?;
        apply(&batch.ops, &mut self.streams, &mut self.title);
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        page(&self.streams, &self.title)
    }
}

fn app(mount: Vec<Op>) -> Router {
    let keyring = Keyring::new([45u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .live("/", move || Lists {
            streams: new_streams(),
            title: String::new(),
            mount: mount.clone(),
        })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

// ---------------------------------------------------------------------------------------------
// The reference: what each list shows, by the documented semantics

/// One render's operations on one stream, as `Stream` keeps them: a reset drops what came
/// before it, a delete drops an earlier insert of the same item, and a later insert of an
/// item replaces an earlier one.
#[derive(Debug, Default)]
struct Effective {
    reset: bool,
    deletes: Vec<String>,
    inserts: Vec<(String, String, i64, Option<i64>, bool)>,
}

fn effective(ops: &[Op], list: usize) -> Effective {
    let mut e = Effective::default();
    for op in ops {
        match op {
            Op::Insert {
                list: l,
                id,
                text,
                at,
                limit,
                update_only,
            } if *l == list => {
                let id = dom_id(list, *id);
                e.inserts.retain(|i| i.0 != id);
                e.inserts
                    .push((id, text.clone(), *at, *limit, *update_only));
            }
            Op::Delete { list: l, id } if *l == list => {
                let id = dom_id(list, *id);
                e.inserts.retain(|i| i.0 != id);
                e.deletes.push(id);
            }
            Op::Reset { list: l } if *l == list => {
                e = Effective {
                    reset: true,
                    ..Effective::default()
                }
            }
            _ => {}
        }
    }
    e
}

/// The items a list shows (DOM id, text), after each render's operations as the client
/// applies them: resets and deletes first, then each insert in order. An item on the page is
/// updated where it is (its position and limit ignored); a new one goes to its position
/// (-1 appends, 0 prepends, n goes before the n-th) and then the limit prunes the list (a
/// positive one keeps the first items, a negative one the last). `update_only` only updates
/// an item that was on the page before this render (one removed by this render's reset or
/// delete comes back). An item on the page that the limit of an earlier insert of the same
/// render pruned stays away (the client found it by id before the patch).
#[derive(Debug, Default)]
struct Reference {
    items: Vec<(String, String)>,
}

impl Reference {
    fn apply(&mut self, e: &Effective, join: bool) {
        let before: HashSet<String> = self.items.iter().map(|i| i.0.clone()).collect();
        if e.reset || join {
            self.items.clear();
        }
        self.items.retain(|i| !e.deletes.contains(&i.0));
        let at_start: HashSet<String> = self.items.iter().map(|i| i.0.clone()).collect();
        for (id, text, at, limit, update_only) in &e.inserts {
            if let Some(item) = self.items.iter_mut().find(|i| i.0 == *id) {
                item.1.clone_from(text);
                continue;
            }
            if at_start.contains(id) || (*update_only && !before.contains(id)) {
                continue;
            }
            let item = (id.clone(), text.clone());
            match *at {
                -1 => self.items.push(item),
                at => {
                    let at = usize::try_from(at).expect("at is -1 or more");
                    self.items.insert(at.min(self.items.len()), item);
                }
            }
            let len = self.items.len() as i64;
            match *limit {
                Some(l) if l < 0 && len > -l => {
                    self.items.drain(..(len + l) as usize);
                }
                Some(l) if l >= 0 && len > l => self.items.truncate(l as usize),
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the containers out of the HTML

/// The children (DOM id, inner HTML) of each stream container, in document order.
fn containers(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    [("a", "ul"), ("b", "ol")]
        .iter()
        .map(|(id, tag)| {
            let open = format!("<{tag} id=\"{id}\" phx-update=\"stream\">");
            let start = html
                .find(&open)
                .unwrap_or_else(|| panic!("no container {id} in {html}"))
                + open.len();
            let end = html[start..].find(&format!("</{tag}>")).expect("closed") + start;
            let mut rest = &html[start..end];
            let mut children = Vec::new();
            while !rest.is_empty() {
                let after = rest.strip_prefix("<li id=\"").expect("a child");
                let q = after.find('"').expect("id");
                let id = after[..q].to_owned();
                let inner = after[q..].strip_prefix("\">").expect("tag end");
                let close = inner.find("</li>").expect("closed child");
                children.push((id, inner[..close].to_owned()));
                rest = &inner[close + "</li>".len()..];
            }
            ((*id).to_owned(), children)
        })
        .collect()
}

/// What a list's text renders as in its container.
fn shown(list: usize, id: &str, text: &str) -> String {
    let text = livefire::escape::escape_html(text);
    match list {
        0 => text,
        _ => format!("#{} {text}", id.trim_start_matches("b-")),
    }
}

fn check_dom(dom: &StreamDom, reference: &[Reference; 2], when: &str) {
    for (list, name) in LISTS.iter().enumerate() {
        let got: Vec<(String, String)> = dom
            .containers
            .get(*name)
            .map(|c| {
                c.iter()
                    .map(|Child { id, html, .. }| (id.clone(), html.clone()))
            })
            .into_iter()
            .flatten()
            .collect();
        let want: Vec<(String, String)> = reference[list]
            .items
            .iter()
            .map(|(id, text)| (id.clone(), shown(list, id, text)))
            .collect();
        assert_eq!(got, want, "list {name} {when}");
    }
}

// ---------------------------------------------------------------------------------------------
// The property

fn fresh_html(ops: &[Op], title: &mut String) -> String {
    let mut streams = new_streams();
    apply(ops, &mut streams, title);
    page(&streams, title).to_html()
}

async fn run(mount: Vec<Op>, batches: Vec<Vec<Op>>) {
    let app = app(mount.clone());
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;

    // The dead render shows the mounted items; the join replaces them.
    let mut dom = StreamDom::default();
    let mut title = String::new();
    let dead = page.container_inner();
    assert_eq!(dead, fresh_html(&mount, &mut title));
    for (name, children) in containers(&dead) {
        let children = children
            .into_iter()
            .map(|(id, html)| Child {
                id,
                html,
                stream_ref: None,
            })
            .collect();
        dom.containers.insert(name, children);
    }

    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload("/")]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let mut client = Client::new(Rules::default());
    client.merge_value(reply[4]["response"]["rendered"].clone());
    let out = client.render();
    let mut title = String::new();
    assert_eq!(out.html, fresh_html(&mount, &mut title), "after join");
    dom.patch(&containers(&out.html), &out.streams, true);
    let mut reference: [Reference; 2] = Default::default();
    for (list, r) in reference.iter_mut().enumerate() {
        r.items = dom_ids_texts(&dead, list);
        r.apply(&effective(&mount, list), true);
    }
    check_dom(&dom, &reference, "after join");

    for (n, ops) in batches.iter().enumerate() {
        let msg_ref = (n + 2).to_string();
        send(
            &mut ws,
            json!(["1", msg_ref, page.topic(), "event", {"type": "click", "event": "ops", "value": {"ops": ops}}]),
        )
        .await;
        let reply = recv(&mut ws).await;
        assert_eq!(reply[1], msg_ref.as_str(), "{reply}");
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        let when = format!("after batch {n} {ops:?}, reply {reply}");
        let expected = fresh_html(ops, &mut title);
        match reply[4]["response"].get("diff") {
            Some(diff) => {
                client.merge_value(diff.clone());
                let out = client.render();
                assert_eq!(out.html, expected, "{when}");
                dom.patch(&containers(&out.html), &out.streams, false);
            }
            // Nothing changed: nothing new in the containers, and no operations.
            None => {
                for list in 0..2 {
                    let e = effective(ops, list);
                    assert!(
                        e.inserts.is_empty() && e.deletes.is_empty() && !e.reset,
                        "{when}"
                    );
                }
            }
        }
        for (list, r) in reference.iter_mut().enumerate() {
            r.apply(&effective(ops, list), false);
        }
        check_dom(&dom, &reference, &when);
    }
}

/// The (DOM id, text) of a list's items in an HTML page (the dead render).
fn dom_ids_texts(html: &str, list: usize) -> Vec<(String, String)> {
    containers(html)
        .into_iter()
        .nth(list)
        .map(|(_, children)| children)
        .unwrap_or_default()
        .into_iter()
        .map(|(id, _)| (id, String::new()))
        .collect()
}

const TEXTS: &[&str] = &["x", "y", "<b>&", "\"q\"", "é"];

fn arb_insert(plain: bool) -> impl Strategy<Value = Op> {
    (
        0..2usize,
        0..8u32,
        prop::sample::select(TEXTS),
        prop_oneof![3 => Just(-1i64), 2 => Just(0i64), 2 => 1..5i64],
        prop_oneof![3 => Just(None), 1 => (-4..=4i64).prop_map(Some)],
        prop::bool::weighted(0.2),
    )
        .prop_map(move |(list, id, text, at, limit, update_only)| Op::Insert {
            list,
            id,
            text: text.to_owned(),
            at,
            limit,
            update_only: update_only && !plain,
        })
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => arb_insert(false),
        3 => (0..2usize, 0..8u32).prop_map(|(list, id)| Op::Delete { list, id }),
        1 => (0..2usize).prop_map(|list| Op::Reset { list }),
        1 => prop::sample::select(TEXTS).prop_map(|t| Op::Title(t.to_owned())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streams_over_the_socket_match_the_reference(
        mount in prop::collection::vec(arb_insert(true), 0..5),
        batches in prop::collection::vec(prop::collection::vec(arb_op(), 0..5), 1..12),
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(run(mount, batches));
    }
}

/// The reference and the DOM model agree on a few fixed cases (and so can disagree).
#[test]
fn the_reference_follows_the_client() {
    let ins = |id: u32, at: i64, limit: Option<i64>, update_only: bool| Op::Insert {
        list: 0,
        id,
        text: "t".into(),
        at,
        limit,
        update_only,
    };
    let mut r = Reference::default();
    r.apply(
        &effective(&[ins(1, -1, None, false), ins(2, 0, None, false)], 0),
        false,
    );
    assert_eq!(ids(&r), ["a-2", "a-1"]);
    // Delete + insert: a move; a limit prunes the others.
    r.apply(
        &effective(
            &[Op::Delete { list: 0, id: 1 }, ins(1, 0, Some(1), false)],
            0,
        ),
        false,
    );
    assert_eq!(ids(&r), ["a-1"]);
    // update_only: never adds.
    r.apply(&effective(&[ins(3, 0, None, true)], 0), false);
    assert_eq!(ids(&r), ["a-1"]);
}

fn ids(r: &Reference) -> Vec<&str> {
    r.items.iter().map(|i| i.0.as_str()).collect()
}
