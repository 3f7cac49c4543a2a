//! The uploads of one view: configs, entries and their server-side state, driven by the
//! client's change events, preflights, progress events and upload channels.
//!
//! Per entry: `Unregistered` after a valid preflight entry, `Invalid` after a failed check,
//! `Registered` while its `lvu:` channel uploads (holding the channel's cancel switch),
//! `Completed` once every announced byte is in its temporary file (or its writer closed),
//! `Failed` if writing failed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::writer::ErasedWriter;
use super::{
    EntryError, MaxEntriesMode, Upload, UploadConfig, UploadEntry, UploadError, UploadedFile,
};

/// Entries kept per upload beyond `max_entries` (they only report `too_many_files`): a client
/// cannot grow a view's memory by announcing files without end.
const MAX_EXTRA_ENTRIES: usize = 32;

/// The upload channel of an entry asks its view to accept it (sent through the view's inbox).
#[derive(Debug)]
pub(crate) struct UploadJoin {
    pub(crate) upload_ref: String,
    pub(crate) entry_ref: String,
    /// Dropped or fired: the channel stops (cancel, or the entry went away).
    pub(crate) cancel: oneshot::Sender<()>,
    pub(crate) reply: oneshot::Sender<Result<Registration, &'static str>>,
}

/// What an upload channel may receive for its entry, and where it goes.
pub(crate) struct Registration {
    /// Exactly this many bytes (the size the client announced).
    pub(crate) size: u64,
    pub(crate) chunk_timeout: Duration,
    /// The config's writer for this entry; `None`: a temporary file.
    pub(crate) writer: Option<Box<dyn ErasedWriter>>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("size", &self.size)
            .field("chunk_timeout", &self.chunk_timeout)
            .field("writer", &self.writer.is_some())
            .finish()
    }
}

/// How an upload channel ended.
#[derive(Debug)]
pub(crate) enum Finished {
    /// Every byte is in this file.
    Written(tempfile::TempPath),
    /// Every byte went to the entry's writer, which closed with this metadata.
    Closed(Map<String, Value>),
    /// The file could not be created or written (`None`), or the writer failed with this
    /// reason.
    WriterFailed(Option<Value>),
    /// Stopped before the end (cancelled, timed out, oversized, the client left).
    Stopped,
}

#[derive(Debug)]
enum Status {
    Unregistered,
    Invalid,
    Registered(oneshot::Sender<()>),
    /// Cancelled while uploading: removed once its channel has stopped.
    Cancelling,
    /// Done: its temporary file, or `None` when a writer took the bytes (its metadata is in
    /// `metas`).
    Completed(Option<tempfile::TempPath>),
    Failed,
}

#[derive(Debug)]
struct Slot {
    upload: Upload,
    /// Server-side state per entry ref.
    status: Vec<(String, Status)>,
    /// External uploads: the presigner's metadata per entry ref; uploads with a writer: the
    /// writer's, once closed.
    metas: Vec<(String, Map<String, Value>)>,
    /// Entries consumed so far (they count against `max_entries` in `MaxEntriesMode::Total`).
    consumed: usize,
}

impl Slot {
    fn status(&self, entry_ref: &str) -> Option<&Status> {
        self.status
            .iter()
            .find(|(r, _)| r == entry_ref)
            .map(|(_, s)| s)
    }

    fn set_status(&mut self, entry_ref: &str, status: Status) {
        match self.status.iter_mut().find(|(r, _)| r == entry_ref) {
            Some(slot) => slot.1 = status,
            None => self.status.push((entry_ref.to_owned(), status)),
        }
    }

    fn put_error(&mut self, entry_ref: &str, error: EntryError) {
        let errors = &mut self.upload.errors;
        errors.retain(|(r, e)| !(r == entry_ref && *e == error));
        errors.push((entry_ref.to_owned(), error));
    }

    /// Removes an entry, its errors, its state (its temporary file is deleted, its channel
    /// stopped) and metadata.
    fn drop_entry(&mut self, entry_ref: &str) {
        self.upload.entries.retain(|e| e.entry_ref != entry_ref);
        self.upload.errors.retain(|(r, _)| r != entry_ref);
        self.status.retain(|(r, _)| r != entry_ref);
        self.metas.retain(|(r, _)| r != entry_ref);
        self.recalculate_errors();
    }

    /// Entries consumed that still count against `max_entries`.
    fn counted_consumed(&self) -> usize {
        match self.upload.config.max_entries_mode {
            MaxEntriesMode::Total => self.consumed,
            MaxEntriesMode::Selected => 0,
        }
    }

    fn too_many(&self) -> bool {
        self.counted_consumed() + self.upload.entries.len() > self.upload.config.max_entries
    }

    /// Whether an entry can be consumed: done, and for a channel upload its file complete.
    fn consumable(&self, entry: &UploadEntry) -> bool {
        entry.done
            && (self.upload.config.external.is_some()
                || matches!(self.status(&entry.entry_ref), Some(Status::Completed(_))))
    }

    /// Removes a consumable entry and hands it over (Phoenix `consume_entry`).
    fn take(&mut self, entry_ref: &str) -> Option<UploadedFile> {
        let at = self
            .upload
            .entries
            .iter()
            .position(|e| e.entry_ref == entry_ref)?;
        let entry = self.upload.entries.remove(at);
        let file = match self.status.iter().position(|(r, _)| r == entry_ref) {
            Some(at) => match self.status.swap_remove(at).1 {
                Status::Completed(file) => file,
                _ => None,
            },
            None => None,
        };
        let meta = self
            .metas
            .iter()
            .position(|(r, _)| r == entry_ref)
            .map(|at| self.metas.swap_remove(at).1);
        self.upload.errors.retain(|(r, _)| r != entry_ref);
        self.consumed = self.consumed.saturating_add(1);
        self.recalculate_errors();
        Some(UploadedFile { entry, file, meta })
    }

    fn recalculate_errors(&mut self) {
        if !self.too_many() {
            let upload_ref = self.upload.upload_ref.clone();
            self.upload
                .errors
                .retain(|(r, e)| !(*r == upload_ref && *e == EntryError::TooManyFiles));
        }
    }

    /// Cancels an entry: a running channel is told to stop (the entry goes when it has),
    /// anything else goes at once.
    fn cancel_entry(&mut self, entry_ref: &str) {
        let running = self
            .status
            .iter_mut()
            .find(|(r, s)| r == entry_ref && matches!(s, Status::Registered(_)));
        match running {
            Some((_, status)) => {
                if let Status::Registered(cancel) = std::mem::replace(status, Status::Cancelling) {
                    let _ = cancel.send(());
                }
                if let Some(entry) = self.upload.entry_mut(entry_ref) {
                    entry.cancelled = true;
                }
            }
            None => self.drop_entry(entry_ref),
        }
    }

    /// Adds the client's entries (Phoenix `put_entries`): validation errors are recorded on
    /// the entries; `Err` when the upload cannot go on as submitted (too many files, or
    /// invalid files of a manual upload).
    fn put_entries(&mut self, entries: &[Value]) -> Result<(), ()> {
        // A single-file upload replaces its entry when another file is chosen.
        if self.upload.config.max_entries == 1
            && let [only] = entries
            && let Some(new_ref) = only.get("ref").and_then(Value::as_str)
            && self.upload.entry(new_ref).is_none()
        {
            let old: Vec<String> = self
                .upload
                .entries
                .iter()
                .map(|e| e.entry_ref.clone())
                .collect();
            for entry_ref in old {
                self.cancel_entry(&entry_ref);
            }
        }
        let cap = self.upload.config.max_entries + MAX_EXTRA_ENTRIES;
        for client in entries {
            let Some(entry_ref) = client.get("ref").and_then(Value::as_str) else {
                continue;
            };
            if self.upload.entry(entry_ref).is_some() || self.status(entry_ref).is_some() {
                continue;
            }
            if self.upload.entries.len() >= cap {
                // Counted as too many without being kept.
                let upload_ref = self.upload.upload_ref.clone();
                self.put_error(&upload_ref, EntryError::TooManyFiles);
                continue;
            }
            let Some(entry) = self.cast(client, entry_ref) else {
                continue;
            };
            self.put_entry(entry);
        }
        let too_many = self.too_many();
        if too_many {
            let upload_ref = self.upload.upload_ref.clone();
            self.put_error(&upload_ref, EntryError::TooManyFiles);
        }
        let auto = self.upload.config.auto_upload;
        if !auto && (too_many || !self.upload.errors.is_empty()) {
            return Err(());
        }
        Ok(())
    }

    /// An entry from the client's description; `None` if it lacks a name, type or size.
    fn cast(&self, client: &Value, entry_ref: &str) -> Option<UploadEntry> {
        let str_of = |key: &str| client.get(key).and_then(Value::as_str).map(str::to_owned);
        let size = client.get("size")?;
        Some(UploadEntry {
            entry_ref: entry_ref.to_owned(),
            upload_ref: self.upload.upload_ref.clone(),
            upload_name: self.upload.name.clone(),
            uuid: String::new(),
            client_name: str_of("name")?,
            client_relative_path: str_of("relative_path").filter(|p| !p.is_empty()),
            // A size that is not a whole number fails as too large.
            client_size: size.as_u64().unwrap_or(u64::MAX),
            client_type: str_of("type")?,
            client_last_modified: client.get("last_modified").and_then(Value::as_u64),
            client_meta: client.get("meta").filter(|m| !m.is_null()).cloned(),
            progress: 0,
            preflighted: false,
            valid: false,
            done: false,
            cancelled: false,
        })
    }

    fn put_entry(&mut self, mut entry: UploadEntry) {
        let config = &self.upload.config;
        let error = if entry.client_size > config.max_file_size {
            Some(EntryError::TooLarge)
        } else if !config.accepts(&entry.client_type, &entry.client_name) {
            Some(EntryError::NotAccepted)
        } else {
            None
        };
        let entry_ref = entry.entry_ref.clone();
        match error {
            None => {
                entry.valid = true;
                entry.uuid = uuid_v4();
                self.upload.entries.push(entry);
                self.set_status(&entry_ref, Status::Unregistered);
            }
            Some(error) => {
                self.upload.entries.push(entry);
                self.set_status(&entry_ref, Status::Invalid);
                self.put_error(&entry_ref, error);
            }
        }
    }

    fn error_reply(&self) -> Value {
        let errors: Vec<Value> = self
            .upload
            .errors
            .iter()
            .map(|(r, e)| json!([r, e.to_wire()]))
            .collect();
        json!({"ref": self.upload.upload_ref, "error": errors})
    }
}

/// The uploads of one view (kept on its socket).
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    slots: Vec<Slot>,
    /// Bumped by every operation that may change what the view renders of its uploads: a
    /// live component showing an upload its view passed it needs the view rendered again
    /// after its own event changed the upload.
    version: u64,
}

impl Uploads {
    /// The change counter (the `version` field).
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    fn touch(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    pub(crate) fn allow(&mut self, name: &str, config: UploadConfig) -> Result<(), UploadError> {
        self.touch();
        config.validate()?;
        let upload = Upload {
            name: Arc::from(name),
            upload_ref: new_ref(),
            config,
            entries: Vec::new(),
            errors: Vec::new(),
        };
        let slot = Slot {
            upload,
            status: Vec::new(),
            metas: Vec::new(),
            consumed: 0,
        };
        match self.slots.iter_mut().find(|s| *s.upload.name == *name) {
            Some(old) if !old.upload.entries.is_empty() => {
                Err(UploadError::ActiveEntries(name.to_owned()))
            }
            Some(old) => {
                *old = slot;
                Ok(())
            }
            None => {
                self.slots.push(slot);
                Ok(())
            }
        }
    }

    pub(crate) fn disallow(&mut self, name: &str) -> Result<(), UploadError> {
        self.touch();
        let i = self.position(name)?;
        if !self.slots[i].upload.entries.is_empty() {
            return Err(UploadError::ActiveEntries(name.to_owned()));
        }
        self.slots.remove(i);
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Upload> {
        self.slots
            .iter()
            .find(|s| *s.upload.name == *name)
            .map(|s| &s.upload)
    }

    fn position(&self, name: &str) -> Result<usize, UploadError> {
        self.slots
            .iter()
            .position(|s| *s.upload.name == *name)
            .ok_or_else(|| UploadError::NotAllowed(name.to_owned()))
    }

    fn by_ref(&mut self, upload_ref: &str) -> Option<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| s.upload.upload_ref == upload_ref)
    }

    /// The `uploads` of a form event: `{upload ref: [entries]}`. Stale refs are ignored (an
    /// input rendered after its upload was disallowed).
    pub(crate) fn put_event_entries(&mut self, uploads: &Value) {
        self.touch();
        let Some(uploads) = uploads.as_object() else {
            return;
        };
        for (upload_ref, entries) in uploads {
            if let (Some(slot), Some(entries)) = (self.by_ref(upload_ref), entries.as_array()) {
                let _ = slot.put_entries(entries);
            }
        }
    }

    /// Answers an `allow_upload` preflight: validates the entries, then for up to
    /// `max_entries` of them a sealed token each (or, for an external upload, the presigner's
    /// metadata). `seal(entry_ref)` makes an entry's token.
    pub(crate) fn preflight(
        &mut self,
        payload: &Value,
        seal: &dyn Fn(&str, &str) -> String,
    ) -> Value {
        self.touch();
        let upload_ref = payload.get("ref").and_then(Value::as_str).unwrap_or("");
        let entries: &[Value] = payload
            .get("entries")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let Some(slot) = self.by_ref(upload_ref) else {
            return json!({"ref": upload_ref, "error": [[upload_ref, "disallowed"]]});
        };
        if slot.put_entries(entries).is_err() {
            return slot.error_reply();
        }
        let requested: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.get("ref").and_then(Value::as_str))
            .collect();
        // Not more tokens than the entries still allowed.
        let max = slot
            .upload
            .config
            .max_entries
            .saturating_sub(slot.counted_consumed());
        let refs: Vec<String> = slot
            .upload
            .entries
            .iter()
            .enumerate()
            .filter(|(i, e)| *i < max && !e.preflighted && requested.contains(&&*e.entry_ref))
            .map(|(_, e)| e.entry_ref.clone())
            .collect();
        for entry in &mut slot.upload.entries {
            if refs.contains(&entry.entry_ref) {
                entry.preflighted = true;
            }
        }
        let config = &slot.upload.config;
        let client_config = json!({
            "max_file_size": config.max_file_size,
            "max_entries": config.max_entries,
            "chunk_size": config.chunk_size,
            "chunk_timeout": u64::try_from(config.chunk_timeout.as_millis()).unwrap_or(u64::MAX),
        });
        let upload_ref = slot.upload.upload_ref.clone();
        let mut reply_entries = Map::new();
        let mut reply_errors = Map::new();
        match config.external.clone() {
            None => {
                for entry_ref in &refs {
                    let entry = slot
                        .upload
                        .entry(entry_ref)
                        .expect("preflighted entries exist");
                    if entry.valid {
                        reply_entries
                            .insert(entry_ref.clone(), seal(&upload_ref, entry_ref).into());
                    } else {
                        let errors = slot
                            .upload
                            .entry_errors(entry)
                            .iter()
                            .map(|e| e.to_wire())
                            .collect();
                        reply_errors.insert(entry_ref.clone(), Value::Array(errors));
                    }
                }
            }
            Some(presign) => {
                let auto = config.auto_upload;
                for entry_ref in &refs {
                    let entry = slot
                        .upload
                        .entry(entry_ref)
                        .expect("preflighted entries exist")
                        .clone();
                    if auto && !entry.valid {
                        let errors = slot
                            .upload
                            .entry_errors(&entry)
                            .iter()
                            .map(|e| json!({"reason": e.to_wire()}))
                            .collect();
                        reply_errors.insert(entry_ref.clone(), Value::Array(errors));
                        continue;
                    }
                    match presign(&entry) {
                        Ok(meta) => {
                            if !meta.contains_key("uploader") {
                                tracing::error!(upload = %slot.upload.name, "external upload metadata needs an \"uploader\" key");
                            }
                            reply_entries.insert(entry_ref.clone(), Value::Object(meta.clone()));
                            slot.metas.push((entry_ref.clone(), meta));
                            slot.set_status(entry_ref, Status::Unregistered);
                        }
                        Err(error) if auto => {
                            slot.put_error(entry_ref, EntryError::External(error.clone()));
                            reply_errors.insert(entry_ref.clone(), json!([error]));
                        }
                        Err(error) => {
                            slot.put_error(entry_ref, EntryError::External(error.clone()));
                            return json!({"ref": upload_ref, "error": [[entry_ref, error]]});
                        }
                    }
                }
            }
        }
        json!({
            "ref": upload_ref,
            "config": client_config,
            "entries": reply_entries,
            "errors": reply_errors,
        })
    }

    /// A `progress` event: a percentage (100 marks the entry done), or `{"error": reason}`
    /// from the client (recorded for external uploads). Returns the upload's name and the
    /// entry, for the view's progress callback.
    pub(crate) fn progress(&mut self, payload: &Value) -> Option<(String, UploadEntry)> {
        self.touch();
        let upload_ref = payload.get("ref").and_then(Value::as_str)?;
        let entry_ref = payload.get("entry_ref").and_then(Value::as_str)?;
        let slot = self.by_ref(upload_ref)?;
        let external = slot.upload.config.external.is_some();
        match payload.get("progress")? {
            Value::Number(n) => {
                let progress = u8::try_from(n.as_u64()?).ok().filter(|p| *p <= 100)?;
                let entry = slot.upload.entry_mut(entry_ref)?;
                entry.progress = progress;
                if progress == 100 {
                    entry.done = true;
                }
            }
            Value::Object(error) if error.get("error").is_some_and(Value::is_string) => {
                slot.upload.entry(entry_ref)?;
                if external {
                    slot.put_error(entry_ref, EntryError::ExternalClientFailure);
                }
            }
            _ => return None,
        }
        let entry = slot.upload.entry(entry_ref)?.clone();
        Some((slot.upload.name.to_string(), entry))
    }

    /// An entry's upload channel asks to start: allowed once per valid, preflighted entry.
    pub(crate) fn register(&mut self, join: UploadJoin) {
        let UploadJoin {
            upload_ref,
            entry_ref,
            cancel,
            reply,
        } = join;
        let result = match self.by_ref(&upload_ref) {
            None => Err("disallowed"),
            Some(slot) if slot.upload.config.external.is_some() => Err("disallowed"),
            Some(slot) => match (slot.status(&entry_ref), slot.upload.entry(&entry_ref)) {
                (Some(Status::Unregistered), Some(entry)) if entry.preflighted => {
                    let registration = Registration {
                        size: entry.client_size,
                        chunk_timeout: slot.upload.config.chunk_timeout,
                        writer: slot.upload.config.writer.as_ref().map(|make| make(entry)),
                    };
                    slot.set_status(&entry_ref, Status::Registered(cancel));
                    Ok(registration)
                }
                (Some(Status::Registered(_)), _) => Err("already_registered"),
                _ => Err("disallowed"),
            },
        };
        let _ = reply.send(result);
    }

    /// An entry's upload channel ended.
    pub(crate) fn finished(&mut self, upload_ref: &str, entry_ref: &str, how: Finished) {
        self.touch();
        let Some(slot) = self.by_ref(upload_ref) else {
            return;
        };
        let cancelling = match slot.status(entry_ref) {
            Some(Status::Registered(_)) => false,
            Some(Status::Cancelling) => true,
            _ => return,
        };
        match how {
            Finished::Written(file) if !cancelling => {
                slot.set_status(entry_ref, Status::Completed(Some(file)));
            }
            Finished::Closed(meta) if !cancelling => {
                slot.metas.retain(|(r, _)| r != entry_ref);
                slot.metas.push((entry_ref.to_owned(), meta));
                slot.set_status(entry_ref, Status::Completed(None));
            }
            Finished::WriterFailed(reason) if !cancelling => {
                slot.set_status(entry_ref, Status::Failed);
                let error = reason.map_or(EntryError::WriterFailure, EntryError::Writer);
                slot.put_error(entry_ref, error);
            }
            Finished::Written(_)
            | Finished::Closed(_)
            | Finished::WriterFailed(_)
            | Finished::Stopped => {
                slot.drop_entry(entry_ref);
            }
        }
    }

    pub(crate) fn cancel(&mut self, name: &str, entry_ref: &str) -> Result<(), UploadError> {
        self.touch();
        let i = self.position(name)?;
        let slot = &mut self.slots[i];
        if slot.upload.entry(entry_ref).is_none() {
            return Err(UploadError::UnknownEntry(entry_ref.to_owned()));
        }
        slot.cancel_entry(entry_ref);
        Ok(())
    }

    /// `(done, in progress)` entries of an upload.
    pub(crate) fn uploaded_entries(&self, name: &str) -> (Vec<&UploadEntry>, Vec<&UploadEntry>) {
        match self.get(name) {
            Some(upload) => upload.entries.iter().partition(|e| e.done),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Takes every entry of a finished upload (none if it has none); `InProgress` while any
    /// entry is not done (or, for channel uploads, its file is not complete).
    pub(crate) fn consume(&mut self, name: &str) -> Result<Vec<UploadedFile>, UploadError> {
        self.touch();
        let i = self.position(name)?;
        let slot = &mut self.slots[i];
        if !slot.upload.entries.iter().all(|e| slot.consumable(e)) {
            return Err(UploadError::InProgress);
        }
        let refs: Vec<String> = slot
            .upload
            .entries
            .iter()
            .map(|e| e.entry_ref.clone())
            .collect();
        Ok(refs.iter().filter_map(|r| slot.take(r)).collect())
    }

    /// Takes one finished entry; `UnknownEntry` if the upload has no such entry, `InProgress`
    /// while it is not done (or, for a channel upload, its file is not complete).
    pub(crate) fn consume_entry(
        &mut self,
        name: &str,
        entry_ref: &str,
    ) -> Result<UploadedFile, UploadError> {
        self.touch();
        let i = self.position(name)?;
        let slot = &mut self.slots[i];
        let Some(entry) = slot.upload.entry(entry_ref) else {
            return Err(UploadError::UnknownEntry(entry_ref.to_owned()));
        };
        if !slot.consumable(entry) {
            return Err(UploadError::InProgress);
        }
        slot.take(entry_ref)
            .ok_or_else(|| UploadError::UnknownEntry(entry_ref.to_owned()))
    }
}

/// A fresh upload ref: `phx-` and 96 random bits, like container ids.
fn new_ref() -> String {
    use base64::Engine as _;
    let bytes: [u8; 12] = crate::token::random_bytes();
    format!(
        "phx-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A random (version 4) UUID.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = crate::token::random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
