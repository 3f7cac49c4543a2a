//! File uploads over a real socket (docs/protocol.md §7.6): change events announce files,
//! `allow_upload` preflights them, `lvu:` channels carry binary chunks into temporary files,
//! `progress` marks them done, the view consumes them. Cases 90-97 of docs/threat-model.md.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use futures_util::SinkExt as _;
use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::upload::{
    CloseReason, MaxEntriesMode, Upload, UploadConfig, UploadEntry, UploadWriter, live_file_input,
};
use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Map, Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

struct Uploader {
    chunk_timeout: Duration,
    saved: Vec<(String, String)>,
}

impl Uploader {
    fn new(chunk_timeout: Duration) -> Self {
        Self {
            chunk_timeout,
            saved: Vec::new(),
        }
    }
}

impl LiveView for Uploader {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.allow_upload(
            "doc",
            UploadConfig::new([".txt", ".md"])?
                .max_entries(2)
                .max_file_size(100)
                .chunk_size(8)
                .chunk_timeout(self.chunk_timeout),
        )?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "save" => {
                for file in socket.consume_uploaded_entries("doc")? {
                    let body = file.read().await.map_err(livefire::Error::app)?;
                    let name = file.entry().client_name().to_owned();
                    self.saved
                        .push((name, String::from_utf8_lossy(&body).into_owned()));
                }
            }
            "cancel" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("doc", &entry_ref)?;
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(doc) = socket.upload("doc") else {
            return html!(<p>"no upload"</p>);
        };
        html!(
            <form id="f" phx-change="validate" phx-submit="save">
                {live_file_input(doc)}
                @for entry in doc.entries() {
                    <p class="entry">{entry.client_name()} ":" {entry.progress()}
                        @for err in doc.entry_errors(entry) { <i>{err.code()}</i> }
                    </p>
                }
                @for err in doc.errors() { <b>{err.code()}</b> }
            </form>
            <ul>@for (name, body) in &self.saved { <li>{name.as_str()} "=" {body.as_str()}</li> }</ul>
        )
    }
}

/// A view whose upload is shown and consumed by a live component (the form targets it).
struct ComponentHost;

impl LiveView for ComponentHost {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.allow_upload("doc", UploadConfig::new([".txt"])?.max_entries(2))?;
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let doc = socket.upload("doc").expect("allowed in mount").clone();
        html!(<main>{live_component::<DocForm>("doc-form", doc)}</main>)
    }
}

/// Renders the upload its view passes; consumes it on "save".
struct DocForm {
    doc: Upload,
    saved: Vec<String>,
}

impl LiveComponent for DocForm {
    type Assigns = Upload;

    fn new(doc: &Upload) -> Self {
        Self {
            doc: doc.clone(),
            saved: Vec::new(),
        }
    }

    async fn update(&mut self, doc: Upload, _: &mut ComponentSocket<'_>) -> Result {
        self.doc = doc;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "validate" => {}
            "save" => {
                for file in socket.consume_uploaded_entries("doc")? {
                    self.saved.push(file.entry().client_name().to_owned());
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <form id="cf" phx-change="validate" phx-submit="save" phx-target={myself}>
                {live_file_input(&self.doc)}
                @for entry in self.doc.entries() { <p class="entry">{entry.client_name()}</p> }
                <b>"saved:" {self.saved.join(",")}</b>
            </form>
        )
    }
}

/// An auto-upload of two files in total whose progress callback consumes each finished
/// entry on its own.
struct TotalUploader {
    consumed: Vec<String>,
}

impl LiveView for TotalUploader {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        let config = UploadConfig::any()
            .max_entries(2)
            .max_entries_mode(MaxEntriesMode::Total)
            .auto_upload(true)
            .chunk_size(8);
        socket.allow_upload("doc", config)?;
        Ok(())
    }

    async fn handle_progress(
        &mut self,
        _: &str,
        entry: &UploadEntry,
        socket: &mut Socket,
    ) -> Result {
        if entry.is_done() {
            let file = socket.consume_uploaded_entry(entry)?;
            let body = file.read().await.map_err(livefire::Error::app)?;
            let body = String::from_utf8_lossy(&body);
            self.consumed
                .push(format!("{}={body}", file.entry().client_name()));
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            // Consumes one entry by ref, done or not.
            "take" => {
                let entry_ref = event.get("ref").unwrap_or_default();
                let entry = socket
                    .upload("doc")
                    .and_then(|doc| doc.entries().iter().find(|e| e.entry_ref() == entry_ref))
                    .cloned()
                    .ok_or_else(|| livefire::Error::UnknownEvent("take".into()))?;
                socket.consume_uploaded_entry(&entry)?;
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let doc = socket.upload("doc").expect("allowed in mount");
        html!(
            <form id="f" phx-change="validate">
                {live_file_input(doc)}
                @for entry in doc.entries() { <p class="entry">{entry.client_name()}</p> }
                @for err in doc.errors() { <b>{err.code()}</b> }
            </form>
            <ul>@for c in &self.consumed { <li>{c.as_str()}</li> }</ul>
        )
    }
}

/// How the writers of the writer tests were closed: (client name, reason).
static CLOSES: std::sync::Mutex<Vec<(String, CloseReason)>> = std::sync::Mutex::new(Vec::new());

/// Keeps the bytes in memory, refuses a chunk `bad!`, records how it was closed.
struct MemoryWriter {
    name: String,
    body: Vec<u8>,
}

impl UploadWriter for MemoryWriter {
    async fn write_chunk(&mut self, chunk: &[u8]) -> std::result::Result<(), Value> {
        if chunk == b"bad!" {
            return Err(json!("refused"));
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    async fn close(
        &mut self,
        reason: CloseReason,
    ) -> std::result::Result<Map<String, Value>, Value> {
        CLOSES.lock().unwrap().push((self.name.clone(), reason));
        let body = String::from_utf8_lossy(&self.body).into_owned();
        Ok(json!({ "body": body }).as_object().unwrap().clone())
    }
}

/// An upload whose chunks go to a [`MemoryWriter`].
struct WriterUploader {
    saved: Vec<String>,
}

impl LiveView for WriterUploader {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        let config = UploadConfig::any()
            .chunk_size(4)
            .writer(|entry| MemoryWriter {
                name: entry.client_name().to_owned(),
                body: Vec::new(),
            });
        socket.allow_upload("doc", config)?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "save" => {
                for file in socket.consume_uploaded_entries("doc")? {
                    assert!(file.path().is_none(), "a writer's entry has no file");
                    let body = &file.meta().expect("the writer's metadata")["body"];
                    let name = file.entry().client_name();
                    self.saved
                        .push(format!("{name}={}", body.as_str().unwrap()));
                }
            }
            "cancel" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("doc", &entry_ref)?;
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let doc = socket.upload("doc").expect("allowed in mount");
        html!(
            <form id="f" phx-change="validate" phx-submit="save">
                {live_file_input(doc)}
                @for entry in doc.entries() {
                    <p class="entry">{entry.client_name()}
                        @for err in doc.entry_errors(entry) { <i>{err.code()} " " {format!("{err:?}")}</i> }
                    </p>
                }
            </form>
            <ul>@for s in &self.saved { <li>{s.as_str()}</li> }</ul>
        )
    }
}

fn app(dir: &Path) -> Router {
    let keyring = Keyring::new([45u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .upload_dir(dir)
        .live("/upload", || Uploader::new(Duration::from_secs(10)))
        .live("/upload-fast", || Uploader::new(Duration::from_millis(300)))
        .live("/upload-component", || ComponentHost)
        .live("/upload-writer", || WriterUploader { saved: Vec::new() })
        .live("/upload-total", || TotalUploader {
            consumed: Vec::new(),
        })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

struct Client {
    ws: Ws,
    page: Page,
    /// Frames read while waiting for another.
    seen: Vec<Value>,
    upload_ref: String,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

fn html_of(rendered: &Value) -> String {
    rendered.to_string()
}

async fn joined(path: &str) -> Client {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let addr = serve(app.clone()).await;
    let page = get(&app, path, None).await;
    // The dead render already has the input, with the upload's ref as its id.
    assert!(
        page.html
            .contains(r#"data-phx-hook="Phoenix.LiveFileUpload""#)
    );
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload(path)]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let rendered = html_of(&reply[4]["response"]["rendered"]);
    let start = rendered.find("data-phx-upload-ref=\\\"").unwrap() + 22;
    let end = rendered[start..].find('\\').unwrap() + start;
    Client {
        ws,
        page,
        seen: Vec::new(),
        upload_ref: rendered[start..end].to_owned(),
        dir: tmp.path().to_owned(),
        _tmp: tmp,
    }
}

fn file(entry_ref: &str, name: &str, size: u64, mime: &str) -> Value {
    json!({"ref": entry_ref, "name": name, "size": size, "type": mime, "last_modified": 1_700_000_000_000u64, "relative_path": ""})
}

impl Client {
    /// The reply to `msg_ref` on `topic` (frames met on the way are kept in `seen`).
    async fn reply(&mut self, topic: &str, msg_ref: &str) -> Value {
        loop {
            let frame = recv(&mut self.ws).await;
            if frame[2] == topic && frame[1] == msg_ref && frame[3] == "phx_reply" {
                return frame[4].clone();
            }
            self.seen.push(frame);
        }
    }

    async fn push(&mut self, msg_ref: &str, event: &str, payload: Value) -> Value {
        let topic = self.page.topic();
        send(&mut self.ws, json!(["1", msg_ref, topic, event, payload])).await;
        self.reply(&topic, msg_ref).await
    }

    async fn change(&mut self, msg_ref: &str, files: Vec<Value>) -> Value {
        let uploads = json!({ self.upload_ref.clone(): files });
        self.push(
            msg_ref,
            "event",
            json!({"type": "form", "event": "validate", "value": "", "meta": {"_target": "doc"}, "uploads": uploads}),
        )
        .await
    }

    async fn preflight(&mut self, msg_ref: &str, files: Vec<Value>) -> Value {
        let upload_ref = self.upload_ref.clone();
        self.push(
            msg_ref,
            "allow_upload",
            json!({"ref": upload_ref, "entries": files}),
        )
        .await
    }

    async fn join_entry(&mut self, join_ref: &str, entry_ref: &str, token: &str) -> Value {
        let topic = format!("lvu:{entry_ref}");
        send(
            &mut self.ws,
            json!([join_ref, join_ref, topic, "phx_join", {"token": token}]),
        )
        .await;
        self.reply(&topic, join_ref).await
    }

    async fn chunk(
        &mut self,
        join_ref: &str,
        msg_ref: &str,
        entry_ref: &str,
        data: &[u8],
    ) -> Value {
        let topic = format!("lvu:{entry_ref}");
        self.ws
            .send(Message::Binary(
                binary_push(join_ref, msg_ref, &topic, "chunk", data).into(),
            ))
            .await
            .unwrap();
        self.reply(&topic, msg_ref).await
    }

    async fn progress(&mut self, msg_ref: &str, entry_ref: &str, progress: Value) -> Value {
        let upload_ref = self.upload_ref.clone();
        self.push(
            msg_ref,
            "progress",
            json!({"event": null, "ref": upload_ref, "entry_ref": entry_ref, "progress": progress}),
        )
        .await
    }

    /// Files in the upload directory.
    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    /// Waits until the upload directory holds `n` files.
    async fn wait_files(&self, n: usize) {
        for _ in 0..100 {
            if self.files().len() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {n} upload files, found {:?}", self.files());
    }
}

/// A Phoenix V2 binary push, as the client's serializer encodes it.
fn binary_push(join_ref: &str, msg_ref: &str, topic: &str, event: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0,
        join_ref.len() as u8,
        msg_ref.len() as u8,
        topic.len() as u8,
        event.len() as u8,
    ];
    for part in [join_ref, msg_ref, topic, event] {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn a_file_goes_from_selection_to_consume_in_chunks() {
    let mut c = joined("/upload").await;
    // The change event announces the file: the entry renders, not yet preflighted.
    let reply = c
        .change("2", vec![file("0", "notes.txt", 20, "text/plain")])
        .await;
    assert_eq!(reply["status"], "ok");
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("data-phx-active-refs=\\\"0\\\""), "{diff}");
    assert!(diff.contains("notes.txt"), "{diff}");

    // Preflight: a token for the entry, the client config, no errors; the entry is preflighted.
    let reply = c
        .preflight("3", vec![file("0", "notes.txt", 20, "text/plain")])
        .await;
    let resp = &reply["response"];
    assert_eq!(resp["ref"], c.upload_ref.as_str());
    assert_eq!(
        resp["config"],
        json!({"max_file_size": 100, "max_entries": 2, "chunk_size": 8, "chunk_timeout": 10000})
    );
    assert_eq!(resp["errors"], json!({}));
    let token = resp["entries"]["0"]
        .as_str()
        .expect("an entry token")
        .to_owned();
    assert!(
        resp["diff"]
            .to_string()
            .contains("data-phx-preflighted-refs=\\\"0\\\"")
    );

    // The entry's channel: joined, then 8 + 8 + 4 bytes, each acknowledged.
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    let body = b"hello, uploaded file";
    for (i, part) in body.chunks(8).enumerate() {
        let reply = c.chunk("10", &format!("c{i}"), "0", part).await;
        assert_eq!(reply["status"], "ok", "{reply}");
    }
    // The finished channel closes.
    loop {
        let frame = recv(&mut c.ws).await;
        if frame[2] == "lvu:0" && frame[3] == "phx_close" {
            break;
        }
    }
    assert_eq!(c.files().len(), 1, "one temporary file");

    let reply = c.progress("4", "0", json!(50)).await;
    assert!(
        reply["response"]["diff"]
            .to_string()
            .contains("notes.txt:50")
            || reply["response"].to_string().contains("50")
    );
    let reply = c.progress("5", "0", json!(100)).await;
    assert!(
        reply["response"]["diff"]
            .to_string()
            .contains("data-phx-done-refs=\\\"0\\\"")
    );

    // Submit: the view reads the file; the entry is gone and its file deleted.
    let reply = c
        .push(
            "6",
            "event",
            json!({"type": "form", "event": "save", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = reply["response"]["diff"].to_string();
    assert!(
        diff.contains("notes.txt") && diff.contains("hello, uploaded file"),
        "{diff}"
    );
    assert!(diff.contains("data-phx-active-refs=\\\"\\\""), "{diff}");
    c.wait_files(0).await;
}

#[tokio::test]
async fn case_90_files_are_checked_against_the_config_before_any_byte_is_sent() {
    let mut c = joined("/upload").await;
    // Too large and not accepted: a manual upload's preflight answers with the errors, no tokens.
    let reply = c
        .preflight(
            "2",
            vec![
                file("0", "big.txt", 101, "text/plain"),
                file("1", "evil.exe", 10, "application/x-msdownload"),
            ],
        )
        .await;
    let resp = &reply["response"];
    assert_eq!(resp["ref"], c.upload_ref.as_str());
    assert_eq!(
        resp["error"],
        json!([["0", "too_large"], ["1", "not_accepted"]])
    );
    assert!(resp.get("entries").is_none());
    let diff = resp["diff"].to_string();
    assert!(
        diff.contains("\"too_large\"") && diff.contains("\"not_accepted\""),
        "{diff}"
    );
    assert!(diff.contains("data-phx-error-refs=\\\"0,1\\\""), "{diff}");

    // Three files where two are allowed: too_many_files for the upload.
    let mut c = joined("/upload").await;
    let files = vec![
        file("0", "a.txt", 1, "text/plain"),
        file("1", "b.md", 1, ""),
        file("2", "c.txt", 1, "text/plain"),
    ];
    let reply = c.preflight("2", files).await;
    let upload_ref = c.upload_ref.clone();
    assert_eq!(
        reply["response"]["error"],
        json!([[upload_ref, "too_many_files"]])
    );
    assert!(
        reply["response"]["diff"]
            .to_string()
            .contains("too_many_files")
    );

    // A size that is not a whole number counts as too large; entries without a name are ignored.
    let mut c = joined("/upload").await;
    let reply = c
        .preflight(
            "2",
            vec![
                json!({"ref": "0", "name": "x.txt", "size": "lots", "type": "text/plain"}),
                json!({"ref": "1", "size": 3, "type": "text/plain"}),
            ],
        )
        .await;
    assert_eq!(reply["response"]["error"], json!([["0", "too_large"]]));
    // A preflight for an unknown upload ref changes nothing.
    let reply = c
        .push(
            "3",
            "allow_upload",
            json!({"ref": "phx-forged", "entries": [file("5", "a.txt", 1, "text/plain")]}),
        )
        .await;
    assert_eq!(
        reply["response"]["error"],
        json!([["phx-forged", "disallowed"]])
    );
}

/// Announces and preflights one 20-byte file as entry "0"; returns its token.
async fn preflighted(c: &mut Client) -> String {
    let reply = c
        .preflight("2", vec![file("0", "notes.txt", 20, "text/plain")])
        .await;
    reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn case_91_entry_tokens_are_sealed_single_use_and_bound_to_their_entry() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;

    // Tampered: refused.
    let mut bad = token.clone().into_bytes();
    let i = bad.len() / 2;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    let reply = c
        .join_entry("10", "0", &String::from_utf8(bad).unwrap())
        .await;
    assert_eq!(
        reply,
        json!({"status": "error", "response": {"reason": "invalid_token"}})
    );
    // Another entry's topic: refused.
    let reply = c.join_entry("11", "7", &token).await;
    assert_eq!(reply["response"]["reason"], "invalid_token");
    // The right one: joined, once.
    assert_eq!(c.join_entry("12", "0", &token).await["status"], "ok");
    let reply = c.join_entry("13", "0", &token).await;
    assert_eq!(reply["response"]["reason"], "already_registered");
    // No file was written for the refused joins: one temporary file only.
    assert_eq!(c.files().len(), 1);
    // Finished, the channel closes; the token cannot open another one.
    for (i, part) in b"01234567890123456789".chunks(8).enumerate() {
        assert_eq!(
            c.chunk("12", &format!("c{i}"), "0", part).await["status"],
            "ok"
        );
    }
    loop {
        let frame = recv(&mut c.ws).await;
        if frame[2] == "lvu:0" && frame[3] == "phx_close" {
            break;
        }
    }
    let reply = c.join_entry("14", "0", &token).await;
    assert_eq!(reply["response"]["reason"], "disallowed");
    assert_eq!(c.files().len(), 1);
}

#[tokio::test]
async fn case_92_a_channel_that_sends_more_than_announced_is_stopped_and_its_file_deleted() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"12345678").await["status"], "ok");
    assert_eq!(c.chunk("10", "c2", "0", b"12345678").await["status"], "ok");
    let reply = c.chunk("10", "c3", "0", b"123456789").await;
    assert_eq!(
        reply,
        json!({"status": "error", "response": {"reason": "file_size_limit_exceeded", "limit": 20}})
    );
    c.wait_files(0).await;
    // The entry is gone from the view: nothing to consume, nothing in progress.
    let reply = c
        .push(
            "3",
            "event",
            json!({"type": "form", "event": "save", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert!(
        c.seen
            .iter()
            .chain([&reply])
            .any(|f| f.to_string().contains("data-phx-active-refs=\\\"\\\""))
    );
}

#[tokio::test]
async fn case_93_a_stalled_upload_times_out_and_its_file_is_deleted() {
    let mut c = joined("/upload-fast").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"1234").await["status"], "ok");
    assert_eq!(c.files().len(), 1);
    // No chunk for longer than the 300 ms chunk timeout: the channel closes.
    loop {
        let frame = recv(&mut c.ws).await;
        if frame[2] == "lvu:0" && frame[3] == "phx_close" {
            break;
        }
    }
    c.wait_files(0).await;
    // Chunks after that are answered as for any unknown topic.
    let reply = c.chunk("10", "c2", "0", b"5678").await;
    assert_eq!(reply["response"]["reason"], "unmatched topic");
}

#[tokio::test]
async fn case_94_cancel_stops_a_running_upload_and_deletes_its_file() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"1234").await["status"], "ok");
    let reply = c
        .push(
            "3",
            "event",
            json!({"type": "click", "event": "cancel", "value": {"ref": "0"}}),
        )
        .await;
    assert_eq!(reply["status"], "ok");
    c.wait_files(0).await;
    // A cancel of an entry that does not exist is bad input: an error reply, the view lives.
    let reply = c
        .push(
            "4",
            "event",
            json!({"type": "click", "event": "cancel", "value": {"ref": "0"}}),
        )
        .await;
    assert_eq!(reply["status"], "error", "{reply}");
    let reply = c
        .push(
            "5",
            "event",
            json!({"type": "form", "event": "validate", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "ok");
}

#[tokio::test]
async fn case_95_submitting_before_the_file_arrived_is_refused_and_changes_nothing() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"1234").await["status"], "ok");
    // The client lies: 100 % after 4 of 20 bytes. The entry renders done, but consuming it is
    // refused (in progress) and the partial file stays until the upload finishes.
    c.progress("3", "0", json!(100)).await;
    let reply = c
        .push(
            "4",
            "event",
            json!({"type": "form", "event": "save", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("in progress")
    );
    assert_eq!(c.files().len(), 1);
    // Bad progress values are ignored.
    for bad in [json!(101), json!(-1), json!("50"), json!({"error": 5})] {
        assert_eq!(c.progress("5", "0", bad).await["status"], "ok");
    }
}

#[tokio::test]
async fn case_96_upload_channels_end_with_their_view() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"1234").await["status"], "ok");
    assert_eq!(c.files().len(), 1);
    let topic = c.page.topic();
    send(&mut c.ws, json!(["1", "9", topic, "phx_leave", {}])).await;
    c.wait_files(0).await;
    let reply = c.chunk("10", "c2", "0", b"5678").await;
    assert_eq!(reply["response"]["reason"], "unmatched topic");
}

#[tokio::test]
async fn case_97_binary_frames_are_only_chunks_for_joined_upload_channels() {
    let mut c = joined("/upload").await;
    // A chunk for a view topic, or an event other than chunk: refused, the socket lives.
    let topic = c.page.topic();
    c.ws.send(Message::Binary(
        binary_push("1", "7", &topic, "chunk", b"x").into(),
    ))
    .await
    .unwrap();
    assert_eq!(
        c.reply(&topic, "7").await["response"]["reason"],
        "unmatched topic"
    );
    // Text events on an upload channel are refused (it only takes binary chunks).
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    for (i, event) in ["event", "progress", "allow_upload", "live_patch"]
        .iter()
        .enumerate()
    {
        let msg_ref = format!("t{i}");
        send(&mut c.ws, json!(["10", msg_ref, "lvu:0", event, {}])).await;
        let reply = c.reply("lvu:0", &msg_ref).await;
        assert_eq!(reply["response"]["reason"], "unsupported event", "{reply}");
    }
    // Malformed binary frames are counted like malformed text frames: too many close 1003.
    for _ in 0..9 {
        c.ws.send(Message::Binary(vec![9, 1, 2].into()))
            .await
            .unwrap();
    }
    assert_eq!(
        close_code(&mut c.ws, Duration::from_secs(5)).await,
        Some(1003)
    );
}

#[tokio::test]
async fn case_97_a_client_flooding_an_upload_channel_is_closed() {
    let mut c = joined("/upload").await;
    let token = preflighted(&mut c).await;
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    // Chunks without waiting for acknowledgements, far more than the channel queues.
    for i in 0..200 {
        let frame = binary_push("10", &format!("f{i}"), "lvu:0", "chunk", b"");
        if c.ws.send(Message::Binary(frame.into())).await.is_err() {
            break;
        }
    }
    assert_eq!(
        close_code(&mut c.ws, Duration::from_secs(5)).await,
        Some(1008)
    );
}

#[tokio::test]
async fn an_upload_shown_by_a_live_component_follows_the_components_own_events() {
    // The component's form sends its change event with its cid: the files it announces
    // change the view's upload, so the view renders again and passes the component the new
    // upload (before, only the component was considered, unchanged, and the reply was empty).
    let mut c = joined("/upload-component").await;
    let files = vec![file("0", "notes.txt", 4, "text/plain")];
    let uploads = json!({ c.upload_ref.clone(): files.clone() });
    let reply = c
        .push(
            "2",
            "event",
            json!({"type": "form", "event": "validate", "value": "", "cid": 1, "uploads": uploads}),
        )
        .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("notes.txt"), "{diff}");
    assert!(diff.contains("data-phx-active-refs=\\\"0\\\""), "{diff}");

    let upload_ref = c.upload_ref.clone();
    let reply = c
        .push(
            "3",
            "allow_upload",
            json!({"ref": upload_ref, "entries": files, "cid": 1}),
        )
        .await;
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(c.join_entry("10", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("10", "c1", "0", b"1234").await["status"], "ok");
    c.progress("4", "0", json!(100)).await;

    // The component consumes the view's upload: its list and the emptied input both render.
    let reply = c
        .push(
            "5",
            "event",
            json!({"type": "form", "event": "save", "value": "", "cid": 1}),
        )
        .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("notes.txt"), "{diff}");
    assert!(diff.contains("data-phx-active-refs=\\\"\\\""), "{diff}");
    c.wait_files(0).await;
}

/// Uploads one file as entry `entry_ref` ("10" + ref as join ref) and reports 100 %; returns
/// the progress reply.
async fn upload_one(c: &mut Client, token: &str, entry_ref: &str, body: &[u8]) -> Value {
    let join_ref = format!("j{entry_ref}");
    assert_eq!(
        c.join_entry(&join_ref, entry_ref, token).await["status"],
        "ok"
    );
    for (i, part) in body.chunks(8).enumerate() {
        let reply = c
            .chunk(&join_ref, &format!("c{entry_ref}-{i}"), entry_ref, part)
            .await;
        assert_eq!(reply["status"], "ok", "{reply}");
    }
    c.progress(&format!("p{entry_ref}"), entry_ref, json!(100))
        .await
}

#[tokio::test]
async fn entries_consumed_one_by_one_count_against_a_total_max_entries() {
    let mut c = joined("/upload-total").await;
    let three = vec![
        file("0", "a.txt", 5, "text/plain"),
        file("1", "b.txt", 5, "text/plain"),
        file("2", "c.txt", 5, "text/plain"),
    ];
    let reply = c.change("2", three.clone()).await;
    assert!(
        reply["response"]["diff"]
            .to_string()
            .contains("too_many_files")
    );
    // An auto-upload preflight with too many files: tokens for the first two only.
    let reply = c.preflight("3", three).await;
    let entries = reply["response"]["entries"].as_object().unwrap().clone();
    assert_eq!(entries.keys().collect::<Vec<_>>(), ["0", "1"]);

    // An entry that is not done cannot be consumed on its own: an error reply, nothing taken.
    let reply = c
        .push(
            "4",
            "event",
            json!({"type": "click", "event": "take", "value": {"ref": "0"}}),
        )
        .await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("in progress")
    );

    // Each finished entry is consumed by the progress callback while the others wait.
    let reply = upload_one(&mut c, entries["0"].as_str().unwrap(), "0", b"first").await;
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("a.txt=first"), "{diff}");
    c.wait_files(0).await;
    let reply = upload_one(&mut c, entries["1"].as_str().unwrap(), "1", b"secnd").await;
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("b.txt=secnd"), "{diff}");
    // Two consumed count against the two allowed in total: a new file and the pending one
    // are announced, but the preflight hands out no token (in the default mode both would get
    // one, the consumed entries having made room).
    let reply = c
        .change(
            "5",
            vec![
                file("2", "c.txt", 5, "text/plain"),
                file("3", "d.txt", 5, "text/plain"),
            ],
        )
        .await;
    assert!(
        reply["response"]["diff"].to_string().contains("d.txt"),
        "{reply}"
    );
    let reply = c
        .preflight(
            "6",
            vec![
                file("2", "c.txt", 5, "text/plain"),
                file("3", "d.txt", 5, "text/plain"),
            ],
        )
        .await;
    assert_eq!(reply["response"]["entries"], json!({}), "{reply}");
    assert_eq!(reply["response"]["errors"], json!({}), "{reply}");
    c.wait_files(0).await;
}

fn closes_of(name: &str) -> Vec<CloseReason> {
    CLOSES
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, r)| r.clone())
        .collect()
}

#[tokio::test]
async fn an_upload_writer_takes_the_chunks_instead_of_a_temporary_file() {
    let mut c = joined("/upload-writer").await;
    let files = vec![file("0", "w-ok.txt", 10, "text/plain")];
    c.change("2", files.clone()).await;
    let reply = c.preflight("3", files).await;
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = upload_one(&mut c, &token, "0", b"0123456789").await;
    assert_eq!(reply["status"], "ok");
    // Nothing was written to the upload directory; the writer was closed once, done.
    assert!(c.files().is_empty(), "{:?}", c.files());
    assert_eq!(closes_of("w-ok.txt"), [CloseReason::Done]);
    // Consuming hands out the writer's metadata.
    let reply = c
        .push(
            "4",
            "event",
            json!({"type": "form", "event": "save", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("w-ok.txt=0123456789"), "{diff}");
}

#[tokio::test]
async fn a_failing_upload_writer_fails_its_entry_until_it_is_cancelled() {
    let mut c = joined("/upload-writer").await;
    let files = vec![file("0", "w-bad.txt", 8, "text/plain")];
    c.change("2", files.clone()).await;
    let reply = c.preflight("3", files).await;
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(c.join_entry("j0", "0", &token).await["status"], "ok");
    assert_eq!(c.chunk("j0", "c1", "0", b"good").await["status"], "ok");
    // The refused chunk is answered with writer_error (the client then waits for the error
    // to render instead of reporting a failure of its own); the writer is closed with the
    // reason; the entry stays, failed, with the writer's reason.
    let reply = c.chunk("j0", "c2", "0", b"bad!").await;
    assert_eq!(
        reply,
        json!({"status": "error", "response": {"reason": "writer_error"}})
    );
    let diff = loop {
        let frame = recv(&mut c.ws).await;
        if frame[3] == "diff" && frame[4].to_string().contains("writer_failure") {
            break frame[4].to_string();
        }
    };
    assert!(
        diff.contains("Writer(String(&quot;refused&quot;))"),
        "{diff}"
    );
    assert_eq!(
        closes_of("w-bad.txt"),
        [CloseReason::Error(json!("refused"))]
    );
    assert!(diff.contains("data-phx-error-refs=\\\"0\\\""), "{diff}");
    // It cannot be uploaded again, nor consumed; a cancel removes it.
    assert_eq!(
        c.join_entry("j1", "0", &token).await["response"]["reason"],
        "disallowed"
    );
    let reply = c
        .push(
            "4",
            "event",
            json!({"type": "form", "event": "save", "value": ""}),
        )
        .await;
    assert_eq!(reply["status"], "error", "{reply}");
    let reply = c
        .push(
            "5",
            "event",
            json!({"type": "click", "event": "cancel", "value": {"ref": "0"}}),
        )
        .await;
    let diff = reply["response"]["diff"].to_string();
    assert!(diff.contains("data-phx-active-refs=\\\"\\\""), "{diff}");
    assert!(!diff.contains("data-phx-error-refs"), "{diff}");
    assert!(c.files().is_empty());
}
