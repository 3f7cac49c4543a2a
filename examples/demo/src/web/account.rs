//! `/account`: only for signed-in users. Shows who is signed in and lets them upload an avatar.
//!
//! **The avatar upload** is a livefire upload (`livefire::upload`) named `avatar`: one PNG,
//! JPEG or WebP image (`.png .jpg .jpeg .webp`) of at most 1 MB
//! ([`MAX_AVATAR_BYTES`], announced on the page), sent as
//! soon as it is chosen (`auto_upload`), with a preview drawn by the browser from the file
//! itself (`live_img_preview`), a progress bar, a cancel button, and every error in words
//! (a file that is too large is refused as soon as it is chosen, before any byte is sent).
//! "Save avatar" consumes the finished file and hands it to the
//! [avatar store](crate::avatars), which checks its first bytes and moves it into the data
//! directory under the entry's server-made UUID. The image is served back by
//! [`super::avatar`] at `/account/avatar`, to its owner only.
//!
//! The page links to `/profile` with live navigation ([`livefire::link::navigate`]): both
//! views are in the same live session and both render the sticky
//! [session clock](super::clock), which keeps running across the move.

use livefire::components::flash_group;
use livefire::upload::{EntryError, UploadConfig, live_file_input, live_img_preview};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html, link};

use super::auth::CurrentUser;
use super::clock::sticky_clock;
use crate::avatars::{ACCEPT, Avatar, AvatarError, Avatars, MAX_AVATAR_BYTES, MAX_AVATAR_TEXT};
use crate::users::User;

/// The name of the avatar upload.
pub const AVATAR_UPLOAD: &str = "avatar";

/// What the account page says about an upload error.
pub fn upload_error_message(error: &EntryError) -> String {
    match error {
        EntryError::TooLarge => format!("The file is larger than {MAX_AVATAR_TEXT}."),
        EntryError::NotAccepted => "Only PNG, JPEG and WebP images are accepted.".to_owned(),
        EntryError::TooManyFiles => "Choose one image at a time.".to_owned(),
        EntryError::WriterFailure => {
            "The server could not store the file. Please try again.".to_owned()
        }
        _ => "The upload failed. Please try again.".to_owned(),
    }
}

/// The account live view. Its live session's `on_mount` hook
/// ([`require_user`](super::auth::require_user)) looks the login up on the dead render and on
/// every (re)join and assigns the [`CurrentUser`], or redirects to `/login`, so the view itself
/// never sees an anonymous visitor.
#[derive(Debug)]
pub struct Account {
    avatars: Avatars,
    user: Option<User>,
    avatar: Option<Avatar>,
    /// Why the last "Save avatar" stored nothing.
    save_error: Option<String>,
}

impl Account {
    /// An account view (the user comes from the `on_mount` hook) saving avatars in `avatars`.
    pub fn new(avatars: Avatars) -> Self {
        Self {
            avatars,
            user: None,
            avatar: None,
            save_error: None,
        }
    }

    async fn save(&mut self, socket: &mut Socket) -> Result {
        let Some(user) = self.user.clone() else {
            return Err(livefire::Error::app("no user"));
        };
        self.save_error = None;
        let Some(upload) = socket.upload(AVATAR_UPLOAD) else {
            return Err(livefire::Error::app("the avatar upload is not allowed"));
        };
        // The button is disabled then; a submit sent anyway stores nothing.
        if upload.has_errors() {
            self.save_error = Some("Remove the file in error first.".to_owned());
            return Ok(());
        }
        if upload.entries().is_empty() {
            self.save_error = Some("Choose an image first.".to_owned());
            return Ok(());
        }
        // Fails with an error reply (and changes nothing) while the file is still uploading.
        for file in socket.consume_uploaded_entries(AVATAR_UPLOAD)? {
            match self.avatars.save(user.id, file).await {
                Ok(avatar) => {
                    tracing::info!(user_id = user.id, size = avatar.size, "avatar saved");
                    self.avatar = Some(avatar);
                    socket.put_flash("info", "Your avatar was updated.");
                }
                Err(err @ (AvatarError::NotAnImage | AvatarError::TooLarge)) => {
                    self.save_error = Some(err.to_string());
                }
                Err(err) => {
                    tracing::error!(%err, user_id = user.id, "could not save an avatar");
                    self.save_error =
                        Some("Your avatar could not be saved. Please try again.".to_owned());
                }
            }
        }
        Ok(())
    }
}

impl LiveView for Account {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Account");
        self.user = cx
            .get::<CurrentUser>()
            .and_then(|current| current.0.clone());
        let Some(user) = &self.user else {
            // Only reachable if the route were moved out of the guarded live session.
            return Err(livefire::Error::app(
                "the account page needs the require_user on_mount hook",
            ));
        };
        self.avatar = self
            .avatars
            .get(user.id)
            .await
            .map_err(livefire::Error::app)?;
        socket.allow_upload(
            AVATAR_UPLOAD,
            UploadConfig::new(ACCEPT)?
                .max_entries(1)
                .max_file_size(MAX_AVATAR_BYTES)
                .auto_upload(true),
        )?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            // Selected files reach the upload before this runs; nothing else to validate.
            "validate" => self.save_error = None,
            "cancel" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload(AVATAR_UPLOAD, &entry_ref)?;
                self.save_error = None;
            }
            "save" => self.save(socket).await?,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="account">
                {flash_group(socket.flash())}
                <h1>"Your account"</h1>
                @if let Some(user) = &self.user {
                    <p id="signed-in">"Signed in as " {user.email.as_str()}</p>
                }
                // Live navigation: same live session, the session clock keeps running.
                <p>{link::navigate("/profile").id("profile-link").render("Your profile")}</p>
                <section id="avatar">
                    <h2>"Avatar"</h2>
                    {current_avatar(self.avatar.as_ref())}
                    {self.avatar_form(socket)}
                </section>
            </main>
            {sticky_clock()}
        }
    }
}

impl Account {
    fn avatar_form(&self, socket: &Socket) -> Rendered {
        let Some(upload) = socket.upload(AVATAR_UPLOAD) else {
            return html!();
        };
        // Saving takes finished files only (auto-upload sends them as soon as they are chosen).
        let ready = !upload.entries().is_empty()
            && upload.entries().iter().all(|entry| entry.is_done())
            && !upload.has_errors();
        let label = format!("Choose an image (PNG, JPEG or WebP, at most {MAX_AVATAR_TEXT})");
        let upload_errors: Vec<Rendered> = upload
            .errors()
            .into_iter()
            .map(|err| html!(<p class="error upload-error" role="alert">{upload_error_message(err)}</p>))
            .collect();
        html! {
            <form id="avatar-form" phx-change="validate" phx-submit="save">
                <div class="field">
                    <label for={upload.upload_ref()}>{label}</label>
                    {live_file_input(upload).attr("aria-describedby", "avatar-help")}
                    <p id="avatar-help" class="help">"It is shown to you only."</p>
                </div>
                @for entry in upload.entries() {
                    <figure class="upload-entry" id={format!("upload-entry-{}", entry.entry_ref())}>
                        {live_img_preview(entry).attr("alt", "Preview of the chosen image").attr("class", "preview").attr("width", "96")}
                        <figcaption>
                            <span class="upload-name">{entry.client_name()}</span>
                            <progress class="upload-progress" value={entry.progress()} max="100">{entry.progress()} "%"</progress>
                            <span class="upload-percent">{entry.progress()} "%"</span>
                            <button type="button" class="upload-cancel" phx-click="cancel" phx-value-ref={entry.entry_ref()} aria-label="Cancel this upload">"Cancel"</button>
                        </figcaption>
                        @for err in upload.entry_errors(entry) {
                            <p class="error upload-error" role="alert">{upload_error_message(err)}</p>
                        }
                    </figure>
                }
                {upload_errors}
                @if let Some(error) = &self.save_error {
                    <p id="avatar-save-error" class="error" role="alert">{error.as_str()}</p>
                }
                <button id="avatar-save" type="submit" disabled={!ready} phx-disable-with="Saving...">"Save avatar"</button>
            </form>
        }
    }
}

/// The stored avatar (its URL carries the file's id, so a new avatar is a new URL), or a line
/// saying there is none.
pub(super) fn current_avatar(avatar: Option<&Avatar>) -> Rendered {
    match avatar {
        Some(avatar) => {
            let src = format!("/account/avatar?v={}", avatar.id);
            html!(<img id="current-avatar" src={src} alt="Your avatar" width="96" height="96">)
        }
        None => html!(<p id="no-avatar">"No avatar yet."</p>),
    }
}
