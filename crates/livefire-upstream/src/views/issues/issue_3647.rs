//! `Issue3647Live` (`support/issues/issue_3647.ex`, at `/issues/3647` outside any live
//! session, in its own layout with the `JsUpload` hook): a hook uploads a file with
//! `uploadTo` into an auto-upload whose input belongs to another form (`form="auto-form"`),
//! then changes an input of the locked `user-form`; the upload must still start. The progress
//! callback consumes each finished entry and lists its UUID.
//!
//! Upstream's `User` Ecto changeset only casts `name`; here the form keeps that one value.

use livefire::upload::{UploadConfig, UploadEntry, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";

      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: {
          JsUpload: {
            mounted() {
              this.el.addEventListener("click", () => {
                const fillBefore = "before" in this.el.dataset;
                if (fillBefore) this.fill_input();
                this.js_upload();
                if (!fillBefore) this.fill_input();
              });
            },

            js_upload() {
              const content = "x".repeat(1024).repeat(1024);
              const file = new File([content], "1mb_of_x.txt", {
                type: "text/plain",
              });
              const input = document.querySelector("input[type=file]");
              this.uploadTo(input.form, input.name, [file]);
            },

            fill_input() {
              const input = document.querySelector("input[type=text]");
              input.value = input.value + input.value.length;
              const event = new Event("input", { bubbles: true });
              input.dispatchEvent(event);
            },
          },
        },
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

/// `render("live.html", assigns)`.
fn own_layout<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    let script = livefire::Raw::new_unchecked(SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        <style>"* { font-size: 1.1em; }"</style>
        <main>{inner}</main>
    )
}

/// `Issue3647Live`.
#[derive(Debug, Default)]
pub struct Issue3647Live {
    /// `@form[:name].value`.
    name: String,
    uploaded_files: Vec<String>,
}

impl LiveView for Issue3647Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let avatar = UploadConfig::new([".txt", ".md"])?
            .max_entries(2)
            .auto_upload(true);
        socket.allow_upload("avatar", avatar)?;
        Ok(())
    }

    async fn handle_progress(
        &mut self,
        _name: &str,
        entry: &UploadEntry,
        socket: &mut Socket,
    ) -> Result {
        if entry.is_done() {
            let file = socket.consume_uploaded_entry(entry)?;
            self.uploaded_files
                .insert(0, file.entry().uuid().to_owned());
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate-user" => {
                let form = event.form_data()?.into_value();
                self.name = form["user"]["name"].as_str().unwrap_or_default().to_owned();
            }
            "validate" => {}
            "cancel-upload" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("avatar", &entry_ref)?;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(avatar) = socket.upload("avatar") else {
            return own_layout(socket, html!());
        };
        own_layout(
            socket,
            html!(
                <form phx-change="validate-user" id="user-form">
                    <input id="user_name" name="user[name]" value={self.name.as_str()} type="text">
                    <button id="x" type="button" phx-hook="JsUpload">"Upload then Input"</button>
                    <button id="y" type="button" phx-hook="JsUpload" data-before>"Input then Upload"</button>
                    {live_file_input(avatar).attr("form", "auto-form")}
                </form>
                <form id="auto-form" phx-change="validate"></form>
                <section class="pending-uploads" phx-drop-target={avatar.upload_ref()} style="min-height: 100%;">
                    <h3>"Pending Uploads (" {avatar.entries().len()} ")"</h3>
                    @for entry in avatar.entries() {
                        <div>
                            <progress value={entry.progress()} max="100">{entry.progress()} "%"</progress>
                            <div>
                                {entry.uuid()} <br>
                                <a href="#" phx-click="cancel-upload" phx-value-ref={entry.entry_ref()} class="upload-entry__cancel">"Cancel Upload"</a>
                            </div>
                        </div>
                    }
                </section>
                <ul>
                    @for file in &self.uploaded_files {
                        <li><a href={file.as_str()}>{file.as_str()}</a></li>
                    }
                </ul>
            ),
        )
    }
}
