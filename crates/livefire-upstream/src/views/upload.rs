//! `UploadLive` (`support/upload_live.ex`, at `/upload` in the `:default` live session): an
//! upload of up to two `.txt`/`.md` files, with a drop target, image previews, progress,
//! cancel buttons and the upload's errors; `?auto_upload=1` allows it again with
//! `auto_upload`, `?external_upload=1` with an external uploader (`TestExternal` of the live
//! layout, which never finishes).
//!
//! "save" copies each consumed file to `<temp dir>/lvupload/<temporary file name>` and lists
//! it as a link to `/tmp/lvupload/<name>`, which [`crate::plain`] serves for download (upstream
//! serves `System.tmp_dir!()` at `/tmp` with `Plug.Static`).

use std::path::PathBuf;

use livefire::upload::{EntryError, UploadConfig, live_file_input, live_img_preview};
use livefire::{Event, LiveView, Params, Rendered, Result, Socket, html};
use serde_json::{Map, Value};

use crate::eval;
use crate::layout;

/// The folder "save" copies files to (served at `/tmp/lvupload/`).
pub fn download_dir() -> PathBuf {
    std::env::temp_dir().join("lvupload")
}

const STYLE: &str = r"
      #drop-target {
        box-sizing: border-box;
        min-height: 260px;
        margin: 1rem 0;
        padding: 2rem;
        border: 4px dashed #475569;
        background: #e2e8f0;
        transition: background 150ms ease, border-color 150ms ease;
      }

      #drop-target.phx-drop-target-active {
        border-color: #15803d;
        background: #bbf7d0;
      }

      #drop-target-inner {
        min-height: 140px;
        display: flex;
        flex-direction: column;
        align-items: center;
        justify-content: center;
        gap: 0.5rem;
        border: 2px solid #94a3b8;
        background: white;
      }

      #drop-target.phx-drop-target-active #drop-target-inner {
        border-color: #16a34a;
        background: #f0fdf4;
      }
    ";

fn avatar() -> std::result::Result<UploadConfig, livefire::upload::UploadConfigError> {
    Ok(UploadConfig::new([".txt", ".md"])?.max_entries(2))
}

/// `error_to_string/1`.
fn error_to_string(error: &EntryError) -> &'static str {
    match error {
        EntryError::TooLarge => "Too large",
        EntryError::TooManyFiles => "You have selected too many files",
        EntryError::NotAccepted => "You have selected an unacceptable file type",
        // Upstream has no clause for the others (it would crash); none happens here.
        _ => "Upload failed",
    }
}

/// `UploadLive`.
#[derive(Debug, Default)]
pub struct UploadLive {
    uploaded_files: Vec<String>,
}

impl LiveView for UploadLive {
    type Message = ();

    async fn mount(&mut self, _cx: &livefire::Mount, socket: &mut Socket) -> Result {
        socket.allow_upload("avatar", avatar()?)?;
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
        if params.query("auto_upload").is_some() {
            socket.allow_upload("avatar", avatar()?.auto_upload(true))?;
        } else if params.query("external_upload").is_some() {
            let external = avatar()?.auto_upload(true).external(|_entry| {
                let mut meta = Map::new();
                meta.insert("uploader".into(), Value::from("TestExternal"));
                Ok(meta)
            });
            socket.allow_upload("avatar", external)?;
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "cancel-upload" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("avatar", &entry_ref)?;
            }
            "save" => {
                let dir = download_dir();
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(livefire::Error::app)?;
                for file in socket.consume_uploaded_entries("avatar")? {
                    let name = file
                        .path()
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| file.entry().uuid().to_owned());
                    file.persist(dir.join(&name))
                        .await
                        .map_err(livefire::Error::app)?;
                    self.uploaded_files.push(format!("/tmp/lvupload/{name}"));
                }
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(avatar) = socket.upload("avatar") else {
            return layout::live(socket, html!());
        };
        let style = livefire::Raw::new_unchecked(STYLE);
        layout::live(
            socket,
            html!(
                <style>{style}</style>
                <a href="/upload?replaced=1" data-phx-link="redirect" data-phx-link-state="push">"Replace view"</a>
                <form id="upload-form" phx-submit="save" phx-change="validate">
                    {live_file_input(avatar)}
                    <button type="submit">"Upload"</button>
                    <section id="drop-target" phx-drop-target={avatar.upload_ref()}>
                        <div id="drop-target-inner">
                            <strong>"Inner drop target child"</strong>
                            <span>"Drag a file across the outer padding and this inner element."</span>
                        </div>
                        @for entry in avatar.entries() {
                            <article class="upload-entry">
                                <figure>
                                    {live_img_preview(entry).attr("style", "width: 500px")}
                                    <figcaption>{entry.client_name()}</figcaption>
                                </figure>
                                <progress value={entry.progress()} max="100">{entry.progress()} "%"</progress>
                                <button type="button" phx-click="cancel-upload" phx-value-ref={entry.entry_ref()} aria-label="cancel">"×"</button>
                                @for err in avatar.entry_errors(entry) {
                                    <p class="alert alert-danger">{error_to_string(err)}</p>
                                }
                            </article>
                        }
                        @for err in avatar.errors() {
                            <p class="alert alert-danger">{error_to_string(err)}</p>
                        }
                    </section>
                    <ul>
                        @for file in &self.uploaded_files {
                            <li><a href={file.as_str()}>{file.rsplit('/').next().unwrap_or_default()}</a></li>
                        }
                    </ul>
                </form>
            ),
        )
    }
}
