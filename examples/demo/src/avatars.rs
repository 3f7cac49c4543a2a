//! Avatars: at most one image per user, stored as a file in the data directory and recorded in
//! the `avatars` table (migration 2).
//!
//! * **Names.** A stored file is named `<uuid>.<ext>`: the UUID is the one livefire made on the
//!   server for the upload entry ([`UploadEntry::uuid`](livefire::upload::UploadEntry::uuid)),
//!   the extension follows the image type found in the file. The name the browser reported is
//!   never used for anything but display.
//! * **Types.** Only PNG, JPEG and WebP images are kept, recognised by their first bytes
//!   ([`ImageType::sniff`]); the type the browser reported and the file name's extension are
//!   only a first filter (the upload's accept list). The content type served back is the
//!   stored one, checked again against the file's first bytes on every read.
//! * **Size.** At most [`MAX_AVATAR_BYTES`]: livefire refuses larger files before any byte is
//!   sent and cuts off an upload that sends more than it announced; [`Avatars::save`] checks
//!   the file on disk once more.
//! * **Replacing** an avatar moves the new file into place, records it, then deletes the old
//!   file; a failed database write deletes the new file again.
//! * **Permissions.** The directory is created with mode 0700; files keep the 0600 mode of
//!   livefire's temporary upload files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use livefire::upload::UploadedFile;

use crate::db::DbError;
use crate::store::{AnyStore, AvatarRow};

/// The largest avatar accepted, in bytes (1 MB: small enough for the browser test to pick a
/// larger file quickly).
pub const MAX_AVATAR_BYTES: u64 = 1_000_000;

/// [`MAX_AVATAR_BYTES`] in words, as the pages announce it.
pub const MAX_AVATAR_TEXT: &str = "1 MB";

/// The upload's accept list: file extensions whose MIME types are the three image types kept.
pub const ACCEPT: [&str; 4] = [".png", ".jpg", ".jpeg", ".webp"];

/// An image type that avatars may have, recognised by the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `image/webp`
    Webp,
}

impl ImageType {
    /// Bytes needed by [`ImageType::sniff`].
    pub const SNIFF_LEN: usize = 12;

    /// The type whose signature `head` (the file's first bytes) starts with: PNG's 8-byte
    /// signature, JPEG's `FF D8 FF`, or WebP's `RIFF????WEBP`.
    ///
    /// ```
    /// use demo::avatars::ImageType;
    /// assert_eq!(ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageType::Png));
    /// assert_eq!(ImageType::sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some(ImageType::Jpeg));
    /// assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageType::Webp));
    /// assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
    /// assert_eq!(ImageType::sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\">"), None);
    /// ```
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// Its MIME type (the `Content-Type` it is served with).
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// The extension of its stored files.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }

    fn from_mime(mime: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Webp]
            .into_iter()
            .find(|t| t.mime() == mime)
    }
}

/// A user's stored avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// The server-made UUID naming the file (also a version for the image's URL).
    pub id: String,
    /// Its type, as found in the file when it was saved.
    pub image_type: ImageType,
    /// Its size in bytes.
    pub size: u64,
    /// When it was saved (Unix seconds).
    pub updated_at: i64,
}

impl Avatar {
    /// The stored file's name: `<uuid>.<ext>`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.id, self.image_type.extension())
    }
}

/// Why an avatar could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    /// The file does not start like a PNG, JPEG or WebP image (whatever its name says).
    #[error("The file is not a PNG, JPEG or WebP image.")]
    NotAnImage,
    /// The file is larger than [`MAX_AVATAR_BYTES`].
    #[error("The image is larger than 1 MB.")]
    TooLarge,
    /// The upload has no local file (an external upload), or its id is not a UUID.
    #[error("the upload cannot be stored as an avatar")]
    Unusable,
    /// A stored file no longer matches its record (changed or truncated on disk).
    #[error("the stored avatar {0} does not match its record")]
    Corrupt(String),
    /// Reading or writing the file failed.
    #[error("avatar storage failed: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The avatar store: a directory of image files and the `avatars` table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Avatars {
    db: AnyStore,
    dir: Arc<Path>,
}

impl Avatars {
    /// The store over `db`, keeping files in `dir` (created with mode 0700 if missing). This
    /// blocks briefly; call it at start-up.
    pub fn open(db: impl Into<AnyStore>, dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        Ok(Self {
            db: db.into(),
            dir: Arc::from(dir),
        })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The avatar of `user_id`, if any.
    pub async fn get(&self, user_id: i64) -> Result<Option<Avatar>, AvatarError> {
        let Some(AvatarRow {
            file_id: id,
            content_type,
            size,
            updated_at,
        }) = self.db.avatar(user_id).await?
        else {
            return Ok(None);
        };
        let (Some(image_type), true, Ok(size)) = (
            ImageType::from_mime(&content_type),
            is_uuid(&id),
            u64::try_from(size),
        ) else {
            return Err(AvatarError::Corrupt(id));
        };
        Ok(Some(Avatar {
            id,
            image_type,
            size,
            updated_at,
        }))
    }

    /// The avatar of `user_id` and its bytes, if it has one. The file must still start like
    /// its recorded type and have its recorded size ([`AvatarError::Corrupt`] otherwise).
    pub async fn read(&self, user_id: i64) -> Result<Option<(Avatar, Vec<u8>)>, AvatarError> {
        let Some(avatar) = self.get(user_id).await? else {
            return Ok(None);
        };
        let bytes = tokio::fs::read(self.dir.join(avatar.file_name())).await?;
        if ImageType::sniff(&bytes) != Some(avatar.image_type)
            || u64::try_from(bytes.len()).ok() != Some(avatar.size)
        {
            return Err(AvatarError::Corrupt(avatar.id));
        }
        Ok(Some((avatar, bytes)))
    }

    /// Makes the uploaded `file` the avatar of `user_id`, replacing (and deleting) the old
    /// one. The file is moved into the store under its entry's UUID and the type found in its
    /// first bytes; a file that is not a PNG, JPEG or WebP image, or is too large, is refused
    /// (and deleted with the upload).
    pub async fn save(&self, user_id: i64, file: UploadedFile) -> Result<Avatar, AvatarError> {
        let id = file.entry().uuid().to_owned();
        let Some(path) = file.path().map(Path::to_owned).filter(|_| is_uuid(&id)) else {
            return Err(AvatarError::Unusable);
        };
        let (image_type, size) = tokio::task::spawn_blocking(move || inspect(&path))
            .await
            .map_err(std::io::Error::other)??;
        let avatar = Avatar {
            id,
            image_type,
            size,
            updated_at: now(),
        };
        let dest = self.dir.join(avatar.file_name());
        file.persist(&dest).await?;
        let old = self
            .db
            .put_avatar(
                user_id,
                AvatarRow {
                    file_id: avatar.id.clone(),
                    content_type: avatar.image_type.mime().to_owned(),
                    size: i64::try_from(avatar.size).unwrap_or(i64::MAX),
                    updated_at: avatar.updated_at,
                },
            )
            .await;
        let old = match old {
            Ok(old) => old,
            Err(err) => {
                remove_file(&dest).await;
                return Err(err.into());
            }
        };
        if let Some((old_id, old_type)) = old
            && let Some(old_type) = ImageType::from_mime(&old_type)
            && is_uuid(&old_id)
            && old_id != avatar.id
        {
            remove_file(&self.dir.join(format!("{old_id}.{}", old_type.extension()))).await;
        }
        Ok(avatar)
    }
}

/// The type and size of a finished upload, or why it cannot be an avatar.
fn inspect(path: &Path) -> Result<(ImageType, u64), AvatarError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_AVATAR_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let mut head = [0u8; ImageType::SNIFF_LEN];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let image_type = ImageType::sniff(&head[..filled]).ok_or(AvatarError::NotAnImage)?;
    Ok((image_type, size))
}

async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, path = %path.display(), "could not delete an avatar file"),
    }
}

/// A lowercase hyphenated UUID, as livefire makes them: safe as a file name.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Creates `dir` (and its parents) with mode 0700 on Unix.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked_before_they_name_a_file() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        for bad in [
            "",
            "../../etc/passwd",
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "0f8fad5b-d9cb-469f-a165-70867728950e.png",
            "0f8fad5b/d9cb-469f-a165-70867728950e",
            "0f8fad5bxd9cb-469f-a165-70867728950e",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_limit_in_words_matches_the_limit() {
        assert_eq!(MAX_AVATAR_BYTES, 1_000_000);
        assert_eq!(MAX_AVATAR_TEXT, "1 MB");
        assert!(AvatarError::TooLarge.to_string().contains(MAX_AVATAR_TEXT));
    }

    #[test]
    fn short_and_foreign_files_are_not_images() {
        assert_eq!(ImageType::sniff(b""), None);
        assert_eq!(ImageType::sniff(b"\x89PNG"), None);
        assert_eq!(ImageType::sniff(b"\xff\xd8"), None);
        assert_eq!(ImageType::sniff(b"RIFF\0\0\0\0WEB"), None);
        assert_eq!(ImageType::sniff(b"GIF89a\x01\0\x01\0\0\0"), None);
        assert_eq!(ImageType::sniff(b"<html><script>"), None);
        // Markup named like an image is still markup.
        assert_eq!(ImageType::sniff(b"<?xml version=\"1.0\"?><svg>"), None);
        assert_eq!(ImageType::sniff(b" \x89PNG\r\n\x1a\n\0\0\0\r"), None);
        for t in [ImageType::Png, ImageType::Jpeg, ImageType::Webp] {
            assert_eq!(ImageType::from_mime(t.mime()), Some(t));
        }
        assert_eq!(ImageType::from_mime("image/svg+xml"), None);
    }

    #[test]
    fn inspect_refuses_large_and_non_image_files() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        assert_eq!(inspect(&png).unwrap(), (ImageType::Png, 16));
        let text = dir.path().join("b");
        std::fs::write(&text, b"hello").unwrap();
        assert!(matches!(inspect(&text), Err(AvatarError::NotAnImage)));
        for (name, bytes) in [
            (
                "svg.png",
                &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            ),
            ("page.png", &b"<!DOCTYPE html><script>alert(1)</script>"[..]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert!(
                matches!(inspect(&path), Err(AvatarError::NotAnImage)),
                "{name}"
            );
        }
        let big = dir.path().join("c");
        let mut bytes = b"\xff\xd8\xff".to_vec();
        bytes.resize(usize::try_from(MAX_AVATAR_BYTES).unwrap() + 1, 0);
        std::fs::write(&big, bytes).unwrap();
        assert!(matches!(inspect(&big), Err(AvatarError::TooLarge)));
    }
}
