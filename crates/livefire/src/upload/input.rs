//! The markup of uploads: [`live_file_input`] (the file input the client's
//! `Phoenix.LiveFileUpload` hook drives) and [`live_img_preview`] (a client-side preview of a
//! selected image).

use std::borrow::Cow;

use crate::dynamic::{IntoDynamic, ToDynamic, attr, push_attr};
use crate::rendered::{Dynamic, Rendered, Statics};

use super::{Upload, UploadEntry};

const INPUT_PARTS: &[&str] = &[
    "<input type=\"file\" data-phx-hook=\"Phoenix.LiveFileUpload\"",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    ">",
];
static INPUT: Statics = Statics::new(INPUT_PARTS, Statics::fingerprint_of(INPUT_PARTS));

const PREVIEW_PARTS: &[&str] = &[
    "<img data-phx-hook=\"Phoenix.LiveImgPreview\" data-phx-update=\"ignore\"",
    "",
    "",
    "",
    ">",
];
static PREVIEW: Statics = Statics::new(PREVIEW_PARTS, Statics::fingerprint_of(PREVIEW_PARTS));

/// The file input of an upload, with the data attributes the official client reads (entry
/// refs that are active, done, preflighted and in error), `accept` from the config, and
/// `multiple` when more than one file is allowed. Render it inside a form with `phx-change`.
///
/// Add attributes with [`LiveFileInput::attr`]; the id is the upload's ref (use it as
/// `phx-drop-target` to accept dropped files, as [`Upload::upload_ref`]).
///
/// ```
/// use livefire::upload::{live_file_input, UploadConfig};
/// use livefire::{html, Socket};
///
/// let mut socket: Socket = Socket::disconnected();
/// socket.allow_upload("docs", UploadConfig::new([".pdf"]).unwrap()).unwrap();
/// let docs = socket.upload("docs").unwrap();
/// let html = html!(<form phx-change="validate">{live_file_input(docs).attr("class", "file")}</form>).to_html();
/// assert!(html.starts_with(r#"<form phx-change="validate"><input type="file" data-phx-hook="Phoenix.LiveFileUpload""#));
/// assert!(html.contains(&format!(r#" id="{}" name="docs" accept=".pdf""#, docs.upload_ref())));
/// assert!(html.contains(r#" data-phx-active-refs="" data-phx-done-refs="" data-phx-preflighted-refs="""#));
/// assert!(html.ends_with(r#" class="file"></form>"#));
/// assert!(!html.contains("multiple") && !html.contains("data-phx-auto-upload"));
/// ```
pub fn live_file_input(upload: &Upload) -> LiveFileInput<'_> {
    LiveFileInput {
        upload,
        extra: Vec::new(),
    }
}

/// A [`live_file_input`] being built: extra attributes, then render it in a `{…}` hole.
#[derive(Debug, Clone)]
pub struct LiveFileInput<'a> {
    upload: &'a Upload,
    extra: Vec<(Cow<'static, str>, String)>,
}

impl LiveFileInput<'_> {
    /// Adds an attribute (its value is escaped). Names that are not plain attribute names
    /// (letters, digits, `-`, `_`, `:`, `.`) are ignored.
    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Renders the input.
    pub fn render(&self) -> Rendered {
        let upload = self.upload;
        let refs = |keep: &dyn Fn(&UploadEntry) -> bool| {
            upload
                .entries
                .iter()
                .filter(|e| keep(e))
                .map(|e| e.entry_ref.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut error_refs: Vec<&str> = Vec::new();
        for (r, _) in &upload.errors {
            if !error_refs.contains(&r.as_str()) {
                error_refs.push(r);
            }
        }
        let error_refs = (!error_refs.is_empty()).then(|| error_refs.join(","));
        Rendered::new(
            &INPUT,
            vec![
                attr("id", upload.upload_ref.as_str()),
                attr("name", &*upload.name),
                attr("accept", upload.config.accept_attr()),
                attr("data-phx-upload-ref", upload.upload_ref.as_str()),
                attr("data-phx-active-refs", refs(&|_| true)),
                attr("data-phx-done-refs", refs(&|e| e.done)),
                attr("data-phx-preflighted-refs", refs(&|e| e.preflighted)),
                attr("data-phx-error-refs", error_refs),
                attr("data-phx-auto-upload", upload.config.auto_upload),
                attr("multiple", upload.config.max_entries > 1),
                extra_attrs(&self.extra),
            ],
        )
    }
}

impl ToDynamic for LiveFileInput<'_> {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::Nested(self.render())
    }
}

impl IntoDynamic for LiveFileInput<'_> {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

/// A preview of a selected image, drawn by the client from the file itself (nothing is
/// uploaded for it): an `<img>` the client's `Phoenix.LiveImgPreview` hook fills. Its id is
/// `phx-preview-<entry ref>` unless given with [`LiveImgPreview::attr`].
///
/// The hook sets the image's `src` to a `blob:` URL of the file, so the page's
/// Content-Security-Policy must allow `blob:` images, as [`DEFAULT_CSP`](crate::DEFAULT_CSP)
/// does (`img-src 'self' data: blob:`).
///
/// ```
/// use livefire::upload::{live_img_preview, UploadEntry};
/// # fn show(entry: &UploadEntry) -> livefire::Rendered {
/// livefire::html!(<figure>{live_img_preview(entry).attr("width", "75")}</figure>)
/// # }
/// ```
pub fn live_img_preview(entry: &UploadEntry) -> LiveImgPreview<'_> {
    LiveImgPreview {
        entry,
        extra: Vec::new(),
    }
}

/// A [`live_img_preview`] being built.
#[derive(Debug, Clone)]
pub struct LiveImgPreview<'a> {
    entry: &'a UploadEntry,
    extra: Vec<(Cow<'static, str>, String)>,
}

impl LiveImgPreview<'_> {
    /// Adds an attribute (`alt`, `width`, `style`, or `id` to replace the default id).
    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Renders the image.
    pub fn render(&self) -> Rendered {
        let id = match self.extra.iter().find(|(n, _)| n == "id") {
            Some((_, id)) => id.clone(),
            None => format!("phx-preview-{}", self.entry.entry_ref),
        };
        let extra: Vec<(Cow<'static, str>, String)> = self
            .extra
            .iter()
            .filter(|(n, _)| n != "id")
            .cloned()
            .collect();
        Rendered::new(
            &PREVIEW,
            vec![
                attr("id", id.as_str()),
                attr("data-phx-upload-ref", self.entry.upload_ref.as_str()),
                attr("data-phx-entry-ref", self.entry.entry_ref.as_str()),
                extra_attrs(&extra),
            ],
        )
    }
}

impl ToDynamic for LiveImgPreview<'_> {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::Nested(self.render())
    }
}

impl IntoDynamic for LiveImgPreview<'_> {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

fn extra_attrs(extra: &[(Cow<'static, str>, String)]) -> Dynamic {
    let mut out = String::new();
    for (name, value) in extra {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
        if plain {
            push_attr(name, value, &mut out);
        } else {
            tracing::warn!(name = %name, "attribute name refused");
        }
    }
    Dynamic::Html(Cow::Owned(out))
}
