//! The server's master secret (`SECRET_KEY_BASE`), from which per-purpose cookie keys are derived.
//!
//! * If `SECRET_KEY_BASE` is set it must be base64 (standard or URL-safe alphabet, padding
//!   optional) and decode to at least [`MIN_SECRET_LEN`] bytes (livefire's own minimum); anything
//!   else stops the process with a clear message (docs/threat-model.md case 8). Generate one with
//!   `openssl rand -base64 64`.
//! * In development, when it is unset, 64 random bytes are generated on first start and stored
//!   base64-encoded in `<data_dir>/secret_key_base` with mode 0600; later starts reuse the file.
//!   A file that does not decode to exactly [`SECRET_LEN`] bytes, or that other users can read,
//!   is refused.
//! * In production an unset `SECRET_KEY_BASE` is an error; the dev file is never used.
//!
//! **Rotation** ([`load_fallbacks`], docs/threat-model.md cases 7 and 76): old secrets listed
//! in `SECRET_KEY_BASE_FALLBACKS` (base64, separated by commas or whitespace) and in the file
//! `<data_dir>/secret_key_base.fallbacks` (one per line, `#` comments, mode 0600) still open
//! cookies, page tokens, flash tokens and tickets sealed with them, but nothing new is sealed
//! with them: a cookie opened with a fallback is re-sealed with the current secret in the same
//! response. Rotate by making the new secret current and the old one a fallback (nobody is
//! logged out); drop the fallback once the old cookies have been rewritten or have expired
//! (a browser that comes back later with a cookie sealed only by the dropped secret is simply
//! signed out). Each fallback obeys the rules of `SECRET_KEY_BASE` (base64, at least
//! [`MIN_SECRET_LEN`] bytes); anything else stops the process with the variable or file and
//! the entry's position.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use livefire::token::MIN_SECRET_LEN;

use crate::config::{Config, Environment};

/// Name of the environment variable holding the secret.
pub const SECRET_ENV_VAR: &str = "SECRET_KEY_BASE";
/// File name of the generated development secret inside the data directory.
pub const SECRET_FILE_NAME: &str = "secret_key_base";
/// Exact decoded length of a generated development secret, in bytes.
pub const SECRET_LEN: usize = 64;
/// Name of the environment variable listing fallback (old) secrets, comma- or
/// whitespace-separated.
pub const FALLBACKS_ENV_VAR: &str = "SECRET_KEY_BASE_FALLBACKS";
/// File name of the fallback secrets inside the data directory (one per line).
pub const FALLBACKS_FILE_NAME: &str = "secret_key_base.fallbacks";

/// Why the secret could not be loaded. The process should refuse to start on any of these.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `SECRET_KEY_BASE` is set but empty.
    #[error("SECRET_KEY_BASE is set but empty; generate one with `openssl rand -base64 64`")]
    Empty,
    /// `SECRET_KEY_BASE` is not valid UTF-8.
    #[error("SECRET_KEY_BASE is not valid UTF-8; it must be base64 text")]
    NotUnicode,
    /// `SECRET_KEY_BASE` is not base64.
    #[error(
        "SECRET_KEY_BASE is not valid base64 ({0}); generate one with `openssl rand -base64 64`"
    )]
    NotBase64(base64::DecodeError),
    /// `SECRET_KEY_BASE` decodes to fewer than [`MIN_SECRET_LEN`] bytes.
    #[error(
        "SECRET_KEY_BASE decodes to {len} bytes but at least {MIN_SECRET_LEN} are required; \
         generate one with `openssl rand -base64 64`"
    )]
    TooShort {
        /// Decoded length that was found.
        len: usize,
    },
    /// Production mode without `SECRET_KEY_BASE`.
    #[error(
        "SECRET_KEY_BASE must be set in production (APP_ENV=production); \
         generate one with `openssl rand -base64 64`"
    )]
    MissingInProduction,
    /// The stored development secret is corrupt.
    #[error("secret file {path} is invalid: {reason}; delete it to generate a new one")]
    BadFile {
        /// Path of the file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The stored development secret is readable or writable by other users.
    #[error(
        "secret file {path} has mode {mode:o}; it must not be accessible to group or others (chmod 600)"
    )]
    InsecurePermissions {
        /// Path of the file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Reading or writing the secret file (or creating the data directory) failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// Path being accessed.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("cannot generate a secret: {0}")]
    Random(getrandom::Error),
    /// An entry of `SECRET_KEY_BASE_FALLBACKS` or of the fallbacks file is unusable.
    #[error(
        "fallback secret {position} of {source_name} is invalid: {reason}; each must be base64 \
         of at least {MIN_SECRET_LEN} bytes, as SECRET_KEY_BASE"
    )]
    BadFallback {
        /// The variable's name or the file's path.
        source_name: String,
        /// 1-based position of the entry.
        position: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Loads the secret for the given configuration: `SECRET_KEY_BASE` if set, otherwise (only in
/// development) the generated file under `config.data_dir`.
pub fn load_secret(config: &Config) -> Result<Vec<u8>, SecretError> {
    resolve_secret(
        env_value()?.as_deref(),
        &config.data_dir,
        config.environment,
    )
}

/// Loads `SECRET_KEY_BASE` from the environment, or — when it is unset — loads or creates the
/// development secret file in `data_dir`. Use [`load_secret`] to also enforce production rules.
pub fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, SecretError> {
    resolve_secret(env_value()?.as_deref(), data_dir, Environment::Development)
}

/// The pure core of [`load_secret`]: `env_value` is the value of `SECRET_KEY_BASE`, if set.
///
/// ```
/// use demo::config::Environment;
/// use demo::secret::{resolve_secret, SecretError};
///
/// let dir = std::env::temp_dir();
/// let short = "c2hvcnQ="; // "short"
/// assert!(matches!(
///     resolve_secret(Some(short), &dir, Environment::Development),
///     Err(SecretError::TooShort { len: 5 })
/// ));
/// assert!(matches!(
///     resolve_secret(None, &dir, Environment::Production),
///     Err(SecretError::MissingInProduction)
/// ));
/// ```
pub fn resolve_secret(
    env_value: Option<&str>,
    data_dir: &Path,
    environment: Environment,
) -> Result<Vec<u8>, SecretError> {
    match (env_value, environment) {
        (Some(value), _) => decode_secret_key_base(value),
        (None, Environment::Production) => Err(SecretError::MissingInProduction),
        (None, Environment::Development) => load_or_create_file(data_dir),
    }
}

/// Decodes a `SECRET_KEY_BASE` value (surrounding whitespace ignored) and checks its length.
///
/// ```
/// use demo::secret::decode_secret_key_base;
///
/// let good = "A".repeat(88); // 66 bytes of zeros, base64
/// assert_eq!(decode_secret_key_base(&good).unwrap().len(), 66);
/// assert!(decode_secret_key_base("too-short").is_err());
/// ```
pub fn decode_secret_key_base(value: &str) -> Result<Vec<u8>, SecretError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(SecretError::Empty);
    }
    let bytes = decode_base64(value).map_err(SecretError::NotBase64)?;
    if bytes.len() < MIN_SECRET_LEN {
        return Err(SecretError::TooShort { len: bytes.len() });
    }
    Ok(bytes)
}

/// Loads the fallback secrets: `SECRET_KEY_BASE_FALLBACKS`, then the lines of
/// `<data_dir>/secret_key_base.fallbacks` if that file exists (it must be private to its
/// owner, like the development secret). Empty when neither is set; both may be used at once.
///
/// ```
/// use demo::config::Config;
/// use demo::secret::{load_fallbacks, FALLBACKS_FILE_NAME};
///
/// let dir = std::env::temp_dir().join(format!("demo-fallbacks-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let config = Config { data_dir: dir.clone(), ..Config::default() };
/// # if std::env::var_os("SECRET_KEY_BASE_FALLBACKS").is_none() {
/// assert!(load_fallbacks(&config).unwrap().is_empty()); // neither the variable nor the file
/// # }
/// std::fs::write(dir.join(FALLBACKS_FILE_NAME), "not base64!\n").unwrap();
/// # #[cfg(unix)] {
/// # use std::os::unix::fs::PermissionsExt as _;
/// # std::fs::set_permissions(dir.join(FALLBACKS_FILE_NAME), std::fs::Permissions::from_mode(0o600)).unwrap();
/// # }
/// assert!(load_fallbacks(&config).is_err()); // a bad entry stops the start
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn load_fallbacks(config: &Config) -> Result<Vec<Vec<u8>>, SecretError> {
    let env = match std::env::var(FALLBACKS_ENV_VAR) {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(SecretError::BadFallback {
                source_name: FALLBACKS_ENV_VAR.to_owned(),
                position: 1,
                reason: "not valid UTF-8".to_owned(),
            });
        }
    };
    let mut fallbacks = match env {
        Some(value) => parse_fallbacks(&value, FALLBACKS_ENV_VAR)?,
        None => Vec::new(),
    };
    let path = config.data_dir.join(FALLBACKS_FILE_NAME);
    match read_private(&path) {
        Ok(text) => fallbacks.extend(parse_fallbacks(&text, &path.display().to_string())?),
        Err(SecretError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(other) => return Err(other),
    }
    Ok(fallbacks)
}

/// Parses a list of fallback secrets: base64 entries separated by commas, spaces or line
/// breaks; a `#` starts a comment that runs to the end of its line. `source_name` names the
/// variable or file in errors.
///
/// ```
/// use demo::secret::{parse_fallbacks, SecretError};
///
/// let old = "A".repeat(88); // 66 bytes, base64
/// let older = "B".repeat(88);
/// let text = format!("# rotated 2026-11\n{old}\n{older}, # the one before\n");
/// assert_eq!(parse_fallbacks(&text, "file").unwrap().len(), 2);
/// assert!(parse_fallbacks("", "SECRET_KEY_BASE_FALLBACKS").unwrap().is_empty());
/// assert!(matches!(
///     parse_fallbacks(&format!("{old},c2hvcnQ="), "SECRET_KEY_BASE_FALLBACKS"),
///     Err(SecretError::BadFallback { position: 2, .. })
/// ));
/// ```
pub fn parse_fallbacks(text: &str, source_name: &str) -> Result<Vec<Vec<u8>>, SecretError> {
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(before, _)| before))
        .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|entry| !entry.is_empty())
        .enumerate()
        .map(|(index, entry)| {
            decode_secret_key_base(entry).map_err(|err| SecretError::BadFallback {
                source_name: source_name.to_owned(),
                position: index + 1,
                reason: match err {
                    SecretError::NotBase64(e) => format!("not base64 ({e})"),
                    SecretError::TooShort { len } => format!("decodes to only {len} bytes"),
                    other => other.to_string(),
                },
            })
        })
        .collect()
}

fn env_value() -> Result<Option<String>, SecretError> {
    match std::env::var(SECRET_ENV_VAR) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode),
    }
}

/// Base64 in either alphabet, padded or not.
fn decode_base64(value: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let alphabet = if value.contains(['-', '_']) {
        &alphabet::URL_SAFE
    } else {
        &alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config).decode(value)
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.to_owned(),
        source,
    }
}

fn load_or_create_file(data_dir: &Path) -> Result<Vec<u8>, SecretError> {
    let path = data_dir.join(SECRET_FILE_NAME);
    match read_file(&path) {
        Ok(secret) => {
            tracing::debug!(path = %path.display(), "reusing development secret");
            return Ok(secret);
        }
        Err(SecretError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(other) => return Err(other),
    }
    create_data_dir(data_dir)?;
    let mut secret = vec![0u8; SECRET_LEN];
    getrandom::fill(&mut secret).map_err(SecretError::Random)?;
    if write_new_file(data_dir, &path, &secret)? {
        tracing::info!(path = %path.display(), "generated a development SECRET_KEY_BASE");
        Ok(secret)
    } else {
        // Another process created it first: use theirs so that both agree.
        read_file(&path)
    }
}

/// Reads a file holding secrets, refusing it if group or others may access it.
fn read_private(path: &Path) -> Result<String, SecretError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path)
            .map_err(io_err(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::InsecurePermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    Ok(text)
}

fn read_file(path: &Path) -> Result<Vec<u8>, SecretError> {
    let text = read_private(path)?;
    let bad = |reason: String| SecretError::BadFile {
        path: path.to_owned(),
        reason,
    };
    let bytes = decode_base64(text.trim()).map_err(|e| bad(format!("not base64 ({e})")))?;
    if bytes.len() != SECRET_LEN {
        return Err(bad(format!(
            "decodes to {} bytes, expected {SECRET_LEN}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn create_data_dir(data_dir: &Path) -> Result<(), SecretError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(data_dir).map_err(io_err(data_dir))
}

fn open_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes the secret without ever exposing a partially written file under `path`: write a
/// private temporary file, then hard-link it into place (which fails if `path` exists).
/// Returns `false` when another process won the race.
fn write_new_file(data_dir: &Path, path: &Path, secret: &[u8]) -> Result<bool, SecretError> {
    let mut contents = STANDARD.encode(secret);
    contents.push('\n');
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(SecretError::Random)?;
    let tmp = data_dir.join(format!(
        ".{SECRET_FILE_NAME}.{}.{:016x}.tmp",
        std::process::id(),
        u64::from_le_bytes(suffix)
    ));
    let write = |target: &Path| -> io::Result<()> {
        let mut file = open_private(target)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    };
    write(&tmp).map_err(io_err(&tmp))?;
    let linked = fs::hard_link(&tmp, path);
    // Best effort: a leftover temp file holds a secret nobody uses and is 0600.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // Filesystems without hard links: fall back to an exclusive create.
        Err(_) => match write(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(path)(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(len: usize) -> String {
        STANDARD.encode(vec![7u8; len])
    }

    #[test]
    fn case_8_short_secret_key_base_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for env in [Environment::Development, Environment::Production] {
            let err = resolve_secret(Some(&b64(63)), dir.path(), env).unwrap_err();
            assert!(matches!(err, SecretError::TooShort { len: 63 }), "{err:?}");
            assert!(err.to_string().contains("at least 64"), "{err}");
        }
        // A Phoenix-style 64-character string decodes to only 48 bytes.
        let phx = "A".repeat(64);
        assert!(matches!(
            resolve_secret(Some(&phx), dir.path(), Environment::Production),
            Err(SecretError::TooShort { len: 48 })
        ));
        // Nothing was written to the data directory.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn case_8_missing_empty_or_garbled_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve_secret(None, dir.path(), Environment::Production),
            Err(SecretError::MissingInProduction)
        ));
        assert!(matches!(
            resolve_secret(Some("  "), dir.path(), Environment::Development),
            Err(SecretError::Empty)
        ));
        assert!(matches!(
            resolve_secret(Some(&"!".repeat(100)), dir.path(), Environment::Development),
            Err(SecretError::NotBase64(_))
        ));
        assert!(!dir.path().join(SECRET_FILE_NAME).exists());
    }

    #[test]
    fn env_secret_accepts_both_alphabets_and_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().skip(200).take(70).collect();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert!(
            url.contains(['-', '_']),
            "test data must exercise the URL alphabet"
        );
        let std = format!("{}\n", STANDARD.encode(&bytes));
        for value in [url, std] {
            let got = resolve_secret(Some(&value), dir.path(), Environment::Production).unwrap();
            assert_eq!(got, bytes);
        }
    }

    #[cfg(unix)]
    #[test]
    fn dev_secret_file_created_0600_and_reused() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("nested").join("data");
        let first = resolve_secret(None, &data_dir, Environment::Development).unwrap();
        assert_eq!(first.len(), SECRET_LEN);
        let path = data_dir.join(SECRET_FILE_NAME);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode & 0o077, 0, "data dir is private: {dir_mode:o}");
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(&data_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(SECRET_FILE_NAME)]);

        let second = resolve_secret(None, &data_dir, Environment::Development).unwrap();
        assert_eq!(first, second, "restart reuses the stored secret");
        // Production never falls back to the development file.
        assert!(matches!(
            resolve_secret(None, &data_dir, Environment::Production),
            Err(SecretError::MissingInProduction)
        ));
        // An explicit variable wins over the file.
        let env = resolve_secret(Some(&b64(64)), &data_dir, Environment::Development).unwrap();
        assert_eq!(env, vec![7u8; 64]);
    }

    #[cfg(unix)]
    #[test]
    fn dev_secret_file_with_wrong_length_or_mode_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRET_FILE_NAME);
        for contents in [
            b64(32),
            b64(65),
            "not base64 at all!".to_owned(),
            String::new(),
        ] {
            let _ = fs::remove_file(&path);
            let mut f = open_private(&path).unwrap();
            f.write_all(contents.as_bytes()).unwrap();
            let err = resolve_secret(None, dir.path(), Environment::Development).unwrap_err();
            assert!(
                matches!(err, SecretError::BadFile { .. }),
                "{contents:?}: {err:?}"
            );
            assert_eq!(
                fs::read_to_string(&path).unwrap(),
                contents,
                "file left untouched"
            );
        }
        fs::write(&path, b64(64)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = resolve_secret(None, dir.path(), Environment::Development).unwrap_err();
        assert!(
            matches!(err, SecretError::InsecurePermissions { mode: 0o644, .. }),
            "{err:?}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            resolve_secret(None, dir.path(), Environment::Development).unwrap(),
            vec![7u8; 64]
        );
    }

    #[test]
    fn case_7_fallbacks_parse_in_order_and_bad_entries_are_named() {
        let (a, b) = (b64(64), b64(70));
        let got = parse_fallbacks(&format!(" {a} ,\n\t{b}\n"), FALLBACKS_ENV_VAR).unwrap();
        assert_eq!(got, vec![vec![7u8; 64], vec![7u8; 70]]);
        let err = parse_fallbacks(&format!("{a},{}", b64(63)), FALLBACKS_ENV_VAR).unwrap_err();
        assert!(
            matches!(&err, SecretError::BadFallback { position: 2, source_name, .. } if source_name == FALLBACKS_ENV_VAR),
            "{err:?}"
        );
        assert!(err.to_string().contains("63 bytes"), "{err}");
        let err = parse_fallbacks("!!!!", "f").unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn case_7_fallbacks_file_is_read_only_when_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        // SECRET_KEY_BASE_FALLBACKS is not set in unit tests (nothing here sets it).
        assert!(std::env::var_os(FALLBACKS_ENV_VAR).is_none());
        assert!(load_fallbacks(&config).unwrap().is_empty(), "no file");
        let path = dir.path().join(FALLBACKS_FILE_NAME);
        let mut file = open_private(&path).unwrap();
        file.write_all(format!("# old\n{}\n", b64(64)).as_bytes())
            .unwrap();
        assert_eq!(load_fallbacks(&config).unwrap(), vec![vec![7u8; 64]]);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            load_fallbacks(&config),
            Err(SecretError::InsecurePermissions { mode: 0o640, .. })
        ));
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| resolve_secret(None, dir.path(), Environment::Development)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    }
}
