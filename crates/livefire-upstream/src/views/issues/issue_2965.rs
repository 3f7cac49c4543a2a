//! `Issue2965Live` (`support/issues/issue_2965.ex`, at `/issues/2965` outside any live
//! session, in its own layout with the `QueuedUploaderHook` hook): a hook feeds an
//! auto-upload three files at a time (`this.upload("files", …)`), and one more each time the
//! progress callback reports a finished file (`push_event("upload_send_next_file")`); all 20
//! files must finish.
//!
//! The entries go to [`NoOpWriter`], which drops the bytes after sleeping up to 200 ms per
//! chunk (they are never consumed). Upstream's 5 MB `chunk_size` is lowered by livefire to
//! fit a socket frame (64 kB by default), so each 100 kB file is sent in two chunks.

use std::time::Duration;

use livefire::upload::{
    CloseReason, EntryError, UploadConfig, UploadEntry, UploadWriter, live_file_input,
};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Map, Value, json};

/// `Issue2965Live.NoOpWriter` (its `noop_writer/3` options, provider and name, are unused).
#[derive(Debug)]
pub struct NoOpWriter;

impl UploadWriter for NoOpWriter {
    async fn write_chunk(&mut self, _chunk: &[u8]) -> std::result::Result<(), Value> {
        // `Process.sleep((:rand.uniform() * 200) |> ceil())`
        let ms = (crate::rand::uniform() * 200.0).ceil() as u64;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }

    async fn close(
        &mut self,
        _reason: CloseReason,
    ) -> std::result::Result<Map<String, Value>, Value> {
        Ok(Map::new())
    }
}

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      const QueuedUploaderHook = {
        async mounted() {
          const maxConcurrency = this.el.dataset.maxConcurrency || 3;
          let filesRemaining = [];

          this.el.addEventListener("input", async (event) => {
            event.preventDefault();

            if (event.target instanceof HTMLInputElement) {
              const files_html = event.target.files;
              if (files_html) {
                const rawFiles = Array.from(files_html);
                const fileNames = rawFiles.map((f) => {
                  return f.name;
                });

                this.pushEvent(
                  "upload_scrub_list",
                  { file_names: fileNames },
                  ({ deduped_filenames }, ref) => {
                    const files = rawFiles.filter((f) => {
                      return deduped_filenames.includes(f.name);
                    });
                    filesRemaining = files;
                    const firstFiles = files.slice(0, maxConcurrency);
                    this.upload("files", firstFiles);

                    filesRemaining.splice(0, maxConcurrency);
                  },
                );
              }
            }
          });

          this.handleEvent("upload_send_next_file", () => {
            if (filesRemaining.length > 0) {
              const nextFile = filesRemaining.shift();
              if (nextFile != undefined) {
                this.upload("files", [nextFile]);
              }
            } else {
              console.log("Done uploading, noop!");
            }
          });
        },
      };
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: { QueuedUploaderHook },
      });
      liveSocket.connect();
"#;

/// `render("live.html", assigns)`.
fn own_layout<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    let script = livefire::Raw::new_unchecked(SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        {inner}
    )
}

/// `error_to_string/1`.
fn error_to_string(error: &EntryError) -> &'static str {
    match error {
        EntryError::TooLarge => "Too large",
        EntryError::NotAccepted => "You have selected an unacceptable file type",
        _ => "unknown error",
    }
}

/// `Issue2965Live`.
#[derive(Debug, Default)]
pub struct Issue2965Live;

impl LiveView for Issue2965Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let files = UploadConfig::any()
            .max_entries(1500)
            // "minimum 5 mb for multipart"
            .chunk_size(5 * 1024 * 1024)
            .max_file_size(10_000_000_000)
            .auto_upload(true)
            .writer(|_entry| NoOpWriter);
        socket.allow_upload("files", files)?;
        Ok(())
    }

    async fn handle_progress(
        &mut self,
        _name: &str,
        entry: &UploadEntry,
        socket: &mut Socket,
    ) -> Result {
        if entry.is_done() {
            socket.push_event("upload_send_next_file", json!({}));
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            // "This dedupes against s3, just doing a no-op here".
            "upload_scrub_list" => {
                let file_names = event.value()["file_names"].clone();
                socket.reply(json!({ "deduped_filenames": file_names }));
            }
            "validate" | "save" => {}
            "cancel-upload" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("files", &entry_ref)?;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(files) = socket.upload("files") else {
            return own_layout(socket, html!());
        };
        // `file_picker_disabled?/1`.
        let picker_disabled = files.entries().iter().any(|e| !e.is_done());
        own_layout(
            socket,
            html!(
                <main>
                    <h1>"Uploader reproduction"</h1>
                    <form phx-submit="save" phx-change="validate">
                        <section>
                            {live_file_input(files).attr("style", "display: none;")}
                            <input id="fileinput" type="file" multiple phx-hook="QueuedUploaderHook" disabled={picker_disabled}>
                            @if !files.entries().is_empty() {
                                <h2>"Currently uploading files"</h2>
                            }
                            <div>
                                <table>
                                    <thead>
                                        <tr>
                                            <th>"File Name"</th>
                                            <th>"Progress"</th>
                                            <th>"Cancel"</th>
                                            <th>"Errors"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        @for entry in files.entries() {
                                            <tr>
                                                <td>{entry.client_name()}</td>
                                                <td>
                                                    <progress value={entry.progress()} max="100">{entry.progress()} "%"</progress>
                                                </td>
                                                <td>
                                                    <button type="button" phx-click="cancel-upload" phx-value-ref={entry.entry_ref()} aria-label="cancel">
                                                        <span>"×"</span>
                                                    </button>
                                                </td>
                                                <td>
                                                    @for err in files.entry_errors(entry) {
                                                        <p style="color: red;">{error_to_string(err)}</p>
                                                    }
                                                </td>
                                            </tr>
                                        }
                                    </tbody>
                                </table>
                            </div>
                            @for err in files.errors() {
                                <p style="text-red">{error_to_string(err)}</p>
                            }
                        </section>
                    </form>
                </main>
            ),
        )
    }
}
