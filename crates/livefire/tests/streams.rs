//! Streams and keyed comprehensions over a real socket (docs/protocol.md §3.3, §3.5).

mod support;

use axum::Router;
use livefire::session::CookieSessionLayer;
use livefire::stream::{InsertAt, Stream};
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;

struct Song {
    id: u32,
    title: String,
}

struct Playlist {
    songs: Stream<Song>,
    next: u32,
}

impl Default for Playlist {
    fn default() -> Self {
        Self {
            songs: Stream::new("songs", |s: &Song| format!("songs-{}", s.id)),
            next: 1,
        }
    }
}

impl Playlist {
    fn song(&mut self) -> Song {
        let id = self.next;
        self.next += 1;
        Song {
            id,
            title: format!("song {id}"),
        }
    }
}

impl LiveView for Playlist {
    type Message = ();

    async fn mount(&mut self, _cx: &livefire::Mount, _socket: &mut Socket) -> Result {
        let (a, b) = (self.song(), self.song());
        self.songs.extend([a, b]);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "append" => {
                let song = self.song();
                self.songs.insert(song);
            }
            "prepend-limited" => {
                let song = self.song();
                self.songs.insert_with(
                    song,
                    InsertAt {
                        at: 0,
                        limit: Some(3),
                        update_only: false,
                    },
                );
            }
            "delete-1" => {
                self.songs.delete_by_dom_id("songs-1");
            }
            "reset" => {
                self.songs.reset();
                let song = self.song();
                self.songs.insert(song);
            }
            "noop" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<ul id="songs" phx-update="stream">
            @for (dom_id, song) in &self.songs { <li id={dom_id}>{song.title.as_str()}</li> }
        </ul>)
    }
}

#[derive(Default)]
struct Ranking {
    names: Vec<(u32, &'static str)>,
}

impl LiveView for Ranking {
    type Message = ();

    async fn mount(&mut self, _cx: &livefire::Mount, _socket: &mut Socket) -> Result {
        self.names = vec![(1, "ann"), (2, "bob"), (3, "cyd")];
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "reverse" => self.names.reverse(),
            "rename-bob" => {
                if let Some(entry) = self.names.iter_mut().find(|(id, _)| *id == 2) {
                    entry.1 = "rob";
                }
            }
            "drop-ann" => self.names.retain(|(id, _)| *id != 1),
            "noop" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<ol>@for (id, name) in &self.names; key = id { <li id={format!("r-{id}")}>{*name}</li> }</ol>)
    }
}

fn app() -> Router {
    let keyring = Keyring::new([44u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .live("/songs", Playlist::default)
        .live("/ranking", Ranking::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn joined(path: &str) -> (Ws, Page, Value) {
    let app = app();
    let addr = serve(app.clone()).await;
    let page = get(&app, path, None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload(path)]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    (ws, page, reply[4]["response"]["rendered"].clone())
}

async fn click(ws: &mut Ws, page: &Page, msg_ref: &str, name: &str) -> Value {
    send(
        ws,
        json!(["1", msg_ref, page.topic(), "event", {"type": "click", "event": name, "value": {}}]),
    )
    .await;
    let reply = recv(ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    reply[4]["response"].clone()
}

#[tokio::test]
async fn a_stream_sends_its_items_once_with_their_operations() {
    let app = app();
    let page = get(&app, "/songs", None).await;
    assert!(page.container_inner().contains(
        r#"<ul id="songs" phx-update="stream"><li id="songs-1">song 1</li><li id="songs-2">song 2</li></ul>"#
    ));

    let (mut ws, page, rendered) = joined("/songs").await;
    let comp = &rendered["0"];
    assert_eq!(comp["k"]["kc"], 2);
    assert_eq!(comp["k"]["0"]["1"], "song 1");
    let stream = comp["stream"].as_array().unwrap();
    let reference = stream[0].clone();
    assert!(reference.as_str().unwrap().starts_with("songs-"));
    assert_eq!(
        stream[1],
        json!([["songs-1", -1, null, false], ["songs-2", -1, null, false]])
    );
    assert_eq!(stream[2], json!([]));
    assert_eq!(stream.len(), 3, "no reset");

    // Nothing new: nothing sent (the server forgot the items).
    assert_eq!(click(&mut ws, &page, "2", "noop").await, json!({}));

    // One new item: only it, in full, with its insert.
    let diff = click(&mut ws, &page, "3", "append").await;
    assert_eq!(
        diff,
        json!({"diff": {"0": {
            "k": {"0": {"0": " id=\"songs-3\"", "1": "song 3"}, "kc": 1},
            "stream": [reference, [["songs-3", -1, null, false]], []]
        }}})
    );
    assert_eq!(click(&mut ws, &page, "4", "noop").await, json!({}));

    let diff = click(&mut ws, &page, "5", "prepend-limited").await;
    assert_eq!(
        diff["diff"]["0"]["stream"][1],
        json!([["songs-4", 0, 3, false]])
    );

    let diff = click(&mut ws, &page, "6", "delete-1").await;
    assert_eq!(
        diff,
        json!({"diff": {"0": {"k": {"kc": 0}, "stream": [reference, [], ["songs-1"]]}}})
    );

    let diff = click(&mut ws, &page, "7", "reset").await;
    assert_eq!(diff["diff"]["0"]["stream"][3], json!(true));
    assert_eq!(
        diff["diff"]["0"]["stream"][1],
        json!([["songs-5", -1, null, false]])
    );
    assert_eq!(diff["diff"]["0"]["k"]["kc"], 1);
}

#[tokio::test]
async fn a_keyed_comprehension_sends_moves() {
    let (mut ws, page, rendered) = joined("/ranking").await;
    assert_eq!(rendered["0"]["k"]["kc"], 3);
    // Reversed: every entry is a move of an unchanged one.
    assert_eq!(
        click(&mut ws, &page, "2", "reverse").await,
        json!({"diff": {"0": {"k": {"0": 2, "2": 0, "kc": 3, "km": true}}}})
    );
    // Same place, changed: only the change.
    assert_eq!(
        click(&mut ws, &page, "3", "rename-bob").await,
        json!({"diff": {"0": {"k": {"1": {"1": "rob"}, "kc": 3}}}})
    );
    // The last entry goes: the count shrinks, nothing moves.
    assert_eq!(
        click(&mut ws, &page, "4", "drop-ann").await,
        json!({"diff": {"0": {"k": {"kc": 2}}}})
    );
    assert_eq!(click(&mut ws, &page, "5", "noop").await, json!({}));
    // Reversed again: the two swap.
    assert_eq!(
        click(&mut ws, &page, "6", "reverse").await,
        json!({"diff": {"0": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}})
    );
}
