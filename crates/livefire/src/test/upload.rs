//! File uploads as the client's `LiveUploader` and `EntryUploader` send them.

use serde_json::{Value, json};

use super::live::LiveTest;
use super::{Error, Outcome};

impl LiveTest {
    /// Selects `files` in the file input matching `selector` (a `live_file_input`); call
    /// [`FileInput::upload`] to send them as the client does, or [`FileInput::select`] for the
    /// change event alone.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # use livefire::upload::{UploadConfig, live_file_input};
    /// # #[derive(Default)]
    /// # struct Docs;
    /// # impl LiveView for Docs {
    /// #     type Message = ();
    /// #     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    /// #         socket.allow_upload("docs", UploadConfig::new([".txt"])?.max_entries(2))?;
    /// #         Ok(())
    /// #     }
    /// #     async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result { Ok(()) }
    /// #     fn render(&self, socket: &Socket) -> Rendered {
    /// #         let upload = socket.upload("docs").expect("allowed in mount");
    /// #         html!(<form id="f" phx-change="validate">{live_file_input(upload)}
    /// #               @for entry in upload.entries() { <p class="entry">{entry.client_name()} " " {entry.progress()} "%"</p> }
    /// #               </form>)
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).upload_dir(dir.path()).live("/", Docs::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// use livefire::test::UploadFile;
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// let files = vec![
    ///     UploadFile::new("a.txt", "text/plain", b"one".to_vec()),
    ///     UploadFile::new("b.txt", "text/plain", b"two".to_vec()),
    /// ];
    /// view.file_input("#f input[type=file]", files).upload().await?;
    /// assert_eq!(view.elements(".entry")?.len(), 2);
    /// assert!(view.has_element(".entry", Some("b.txt 100%")));
    /// # Ok(()) }
    /// ```
    pub fn file_input(&mut self, selector: &str, files: Vec<UploadFile>) -> FileInput<'_> {
        FileInput::new(self, selector.to_owned(), files)
    }
}

/// A file a user picks in a file input.
///
/// ```
/// let file = livefire::test::UploadFile::new("notes.txt", "text/plain", b"hello".to_vec());
/// assert_eq!(file.size(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct UploadFile {
    name: String,
    mime: String,
    content: Vec<u8>,
    last_modified: u64,
}

impl UploadFile {
    /// A file named `name` of type `mime` (`"text/plain"`) holding `content`.
    ///
    /// ```
    /// let file = livefire::test::UploadFile::new("a.md", "text/markdown", Vec::new());
    /// assert_eq!(file.size(), 0);
    /// ```
    pub fn new(name: impl Into<String>, mime: impl Into<String>, content: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            mime: mime.into(),
            content,
            last_modified: 1_700_000_000_000,
        }
    }

    /// The size in bytes.
    ///
    /// ```
    /// assert_eq!(livefire::test::UploadFile::new("a", "b", vec![0; 3]).size(), 3);
    /// ```
    pub fn size(&self) -> u64 {
        self.content.len() as u64
    }
}

/// Files selected in a `live_file_input`, about to be sent as the client sends them
/// ([`LiveTest::file_input`]).
///
/// ```
/// # use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
/// # use livefire::session::CookieSessionLayer;
/// use livefire::upload::{UploadConfig, live_file_input};
/// use livefire::test::UploadFile;
///
/// #[derive(Default)]
/// struct Avatar { saved: Vec<String> }
/// impl LiveView for Avatar {
///     type Message = ();
///     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
///         socket.allow_upload("avatar", UploadConfig::new([".txt"])?.chunk_size(4))?;
///         Ok(())
///     }
///     async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
///         if event.name() == "save" {
///             for file in socket.consume_uploaded_entries("avatar")? {
///                 let body = file.read().await.map_err(livefire::Error::app)?;
///                 self.saved.push(String::from_utf8_lossy(&body).into_owned());
///             }
///         }
///         Ok(())
///     }
///     fn render(&self, socket: &Socket) -> Rendered {
///         let upload = socket.upload("avatar").expect("allowed in mount");
///         html!(<form id="f" phx-change="validate" phx-submit="save">{live_file_input(upload)}
///               @for entry in upload.entries() { <p class="entry">{entry.client_name()} " " {entry.progress()} "%"</p> }
///               </form><ul>@for s in &self.saved { <li>{s.as_str()}</li> }</ul>)
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
/// # let keyring = Keyring::new([1u8; 64]).unwrap();
/// # let dir = tempfile::tempdir().unwrap();
/// # let router = LiveRouter::new(keyring.clone()).upload_dir(dir.path()).live("/", Avatar::default).build().unwrap()
/// #     .layer(CookieSessionLayer::new(keyring));
/// let mut view = livefire::test::live(&router, "/").await?;
/// let file = UploadFile::new("me.txt", "text/plain", b"hello world".to_vec());
/// view.file_input("#f input[type=file]", vec![file]).upload().await?;
/// assert!(view.has_element(".entry", Some("me.txt 100%")));
/// view.submit_form("#f", &[]).await?;
/// assert_eq!(view.elements("li")?, ["<li>hello world</li>"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileInput<'a> {
    view: &'a mut LiveTest,
    selector: String,
    files: Vec<UploadFile>,
}

impl<'a> FileInput<'a> {
    pub(crate) fn new(view: &'a mut LiveTest, selector: String, files: Vec<UploadFile>) -> Self {
        Self {
            view,
            selector,
            files,
        }
    }

    /// Only the selection: the form's change event (`_target` the input's name, `uploads`
    /// listing the files). The entries show up in the view, not yet uploaded.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # use livefire::upload::{UploadConfig, live_file_input};
    /// # #[derive(Default)]
    /// # struct Docs;
    /// # impl LiveView for Docs {
    /// #     type Message = ();
    /// #     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    /// #         socket.allow_upload("docs", UploadConfig::new([".txt"])?.max_entries(2))?;
    /// #         Ok(())
    /// #     }
    /// #     async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result { Ok(()) }
    /// #     fn render(&self, socket: &Socket) -> Rendered {
    /// #         let upload = socket.upload("docs").expect("allowed in mount");
    /// #         html!(<form id="f" phx-change="validate">{live_file_input(upload)}
    /// #               @for entry in upload.entries() { <p class="entry">{entry.client_name()} " " {entry.progress()} "%"</p> }
    /// #               </form>)
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).upload_dir(dir.path()).live("/", Docs::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// use livefire::test::UploadFile;
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// let file = UploadFile::new("a.txt", "text/plain", b"one".to_vec());
    /// view.file_input("#f input[type=file]", vec![file]).select().await?;
    /// // Listed, nothing sent yet.
    /// assert!(view.has_element(".entry", Some("a.txt 0%")));
    /// # Ok(()) }
    /// ```
    pub async fn select(self) -> Result<Outcome, Error> {
        let (outcome, _) = self.select_inner().await?;
        Ok(outcome)
    }

    async fn select_inner(self) -> Result<(Outcome, Selected<'a>), Error> {
        let (upload_ref, name, cid, view_id, progress_event) =
            self.view.file_input_info(&self.selector)?;
        let mut entries = Vec::new();
        for file in &self.files {
            let entry_ref = self.view.file_ref();
            entries.push((entry_ref, file.clone()));
        }
        let uploads = json!({
            upload_ref.clone(): entries.iter().map(|(r, f)| json!({
                "path": name,
                "ref": r,
                "last_modified": f.last_modified,
                "name": f.name,
                "relative_path": "",
                "type": f.mime,
                "size": f.size(),
            })).collect::<Vec<_>>()
        });
        // The input event of the file input: the form's phx-change, if it has one.
        let outcome = match self.view.form_of(&self.selector)? {
            Some(form) if !name.is_empty() => {
                match self.view.form_event(&form, &[], false) {
                    Ok(mut event) => {
                        // `_target` is the file input's name.
                        event.meta["_target"] = Value::from(name.clone());
                        self.view.send_form_event_with(event, uploads).await?
                    }
                    Err(Error::NoBinding { .. }) => Outcome::Html(self.view.current_html()),
                    Err(other) => return Err(other),
                }
            }
            _ => Outcome::Html(self.view.current_html()),
        };
        Ok((
            outcome,
            Selected {
                view: self.view,
                upload_ref,
                cid,
                view_id,
                progress_event,
                entries,
            },
        ))
    }

    /// Selects the files and uploads them as the client does: the change event, the
    /// `allow_upload` preflight, then for each entry the token's `lvu:` channel join, binary
    /// `chunk` frames of the configured chunk size (each acknowledged) and `progress` events
    /// up to 100. Entries the preflight refuses are not sent; the page then shows the
    /// server's errors. The page after the last reply.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # use livefire::upload::{UploadConfig, live_file_input};
    /// # #[derive(Default)]
    /// # struct Docs;
    /// # impl LiveView for Docs {
    /// #     type Message = ();
    /// #     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    /// #         socket.allow_upload("docs", UploadConfig::new([".txt"])?.max_entries(2))?;
    /// #         Ok(())
    /// #     }
    /// #     async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result { Ok(()) }
    /// #     fn render(&self, socket: &Socket) -> Rendered {
    /// #         let upload = socket.upload("docs").expect("allowed in mount");
    /// #         html!(<form id="f" phx-change="validate">{live_file_input(upload)}
    /// #               @for entry in upload.entries() { <p class="entry">{entry.client_name()} " " {entry.progress()} "%"</p> }
    /// #               </form>)
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).upload_dir(dir.path()).live("/", Docs::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// use livefire::test::UploadFile;
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// let file = UploadFile::new("a.txt", "text/plain", b"one".to_vec());
    /// view.file_input("#f input[type=file]", vec![file]).upload().await?;
    /// assert!(view.has_element(".entry", Some("a.txt 100%")));
    /// // A file type the upload does not accept: the preflight refuses it, the page says so.
    /// let exe = UploadFile::new("run.exe", "application/octet-stream", vec![0; 4]);
    /// view.file_input("#f input[type=file]", vec![exe]).upload().await?;
    /// assert!(!view.has_element(".entry", Some("run.exe 100%")));
    /// # Ok(()) }
    /// ```
    pub async fn upload(self) -> Result<Outcome, Error> {
        let (outcome, selected) = self.select_inner().await?;
        if let Outcome::Navigated(_) = outcome {
            return Ok(outcome);
        }
        selected.upload().await
    }
}

/// Files announced by a change event, ready for the preflight.
#[derive(Debug)]
struct Selected<'a> {
    view: &'a mut LiveTest,
    upload_ref: String,
    cid: Option<u64>,
    view_id: String,
    progress_event: Option<String>,
    entries: Vec<(String, UploadFile)>,
}

impl Selected<'_> {
    async fn upload(self) -> Result<Outcome, Error> {
        let Selected {
            view,
            upload_ref,
            cid,
            view_id,
            progress_event,
            entries,
        } = self;
        let preflight = json!({
            "ref": upload_ref,
            "entries": entries.iter().map(|(r, f)| json!({
                "last_modified": f.last_modified,
                "name": f.name,
                "relative_path": "",
                "size": f.size(),
                "type": f.mime,
                "ref": r,
            })).collect::<Vec<_>>(),
            "cid": cid,
        });
        let response = view.push_raw(&view_id, "allow_upload", preflight).await?;
        let mut outcome = view.settle(&view_id, response.clone()).await?;
        if let Outcome::Navigated(_) = outcome {
            return Ok(outcome);
        }
        let tokens = response
            .get("entries")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let chunk_size = response
            .pointer("/config/chunk_size")
            .and_then(Value::as_u64)
            .unwrap_or(64_000)
            .max(1);
        let chunk_size = usize::try_from(chunk_size).unwrap_or(64_000);
        for (entry_ref, file) in &entries {
            let Some(token) = tokens.get(entry_ref).and_then(Value::as_str) else {
                continue; // refused by the preflight
            };
            let topic = format!("lvu:{entry_ref}");
            let join_ref = view.next_ref();
            view.set_last_event(format!("phx_join {topic}"));
            view.send_frame(json!([join_ref, join_ref, topic, "phx_join", {"token": token}]))
                .await?;
            let reply = view.await_reply(&topic, &join_ref).await?;
            if reply["status"] != "ok" {
                return Err(Error::Upload(format!(
                    "the channel of {} refused the join: {}",
                    file.name, reply["response"]
                )));
            }
            let size = file.content.len();
            let mut offset = 0;
            let mut last_sent: i64 = -1;
            loop {
                let end = (offset + chunk_size).min(size);
                let chunk = &file.content[offset..end];
                offset = end;
                let msg_ref = view.next_ref();
                view.set_last_event(format!("chunk of {} ({offset}/{size})", file.name));
                view.send_binary(binary_push(&join_ref, &msg_ref, &topic, "chunk", chunk))
                    .await?;
                let reply = view.await_reply(&topic, &msg_ref).await?;
                if reply["status"] != "ok" {
                    return Err(Error::Upload(format!(
                        "a chunk of {} was refused: {}",
                        file.name, reply["response"]
                    )));
                }
                // `entry.progress(offset / size * 100)`: floored, sent when it grows.
                let progress = (offset * 100)
                    .checked_div(size)
                    .map_or(100, |p| i64::try_from(p).unwrap_or(100));
                if progress > last_sent {
                    last_sent = progress;
                    let payload = json!({
                        "event": progress_event,
                        "ref": upload_ref,
                        "entry_ref": entry_ref,
                        "progress": progress.min(100),
                        "cid": cid,
                    });
                    let response = view.push_raw(&view_id, "progress", payload).await?;
                    outcome = view.settle(&view_id, response).await?;
                    if let Outcome::Navigated(_) = outcome {
                        return Ok(outcome);
                    }
                }
                if offset >= size {
                    break;
                }
            }
        }
        Ok(outcome)
    }
}

/// A Phoenix V2 binary push (`kind 0`), as the client's serializer encodes it.
fn binary_push(join_ref: &str, msg_ref: &str, topic: &str, event: &str, payload: &[u8]) -> Vec<u8> {
    let len = |s: &str| u8::try_from(s.len()).unwrap_or(u8::MAX);
    let mut out = vec![0, len(join_ref), len(msg_ref), len(topic), len(event)];
    for part in [join_ref, msg_ref, topic, event] {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(payload);
    out
}
