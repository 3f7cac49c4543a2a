//! Settings of the store and of the login lifecycle, read from the environment beside
//! [`crate::config::Config`]:
//!
//! | variable | what | default |
//! |---|---|---|
//! | `DATABASE_URL` | `postgres://user:password@host:port/db`: run on PostgreSQL instead of the SQLite file | unset: SQLite at `DATABASE_PATH` |
//! | `SESSION_IDLE_TIMEOUT` | seconds without a request or a mount after which a login ends (`0`: never) | 2592000 (30 days) |
//! | `SESSION_REISSUE_AFTER` | age in seconds after which a session token is replaced on the next request | 604800 (7 days) |
//! | `TOKEN_PURGE_EVERY` | seconds between two purges of expired session tokens | 3600 |
//! | `REVALIDATE_EVERY` | seconds between two revalidations of the live sockets' logins | 20 |

use std::time::Duration;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::store::AnyStore;
use crate::users::SessionPolicy;

/// A variable of [`Settings`] with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?} is not valid: {reason}")]
pub struct SettingsError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// Why it is refused.
    pub reason: &'static str,
}

/// The store and login lifecycle settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// `DATABASE_URL`, when set (PostgreSQL).
    pub database_url: Option<String>,
    /// Idle timeout and reissue age.
    pub policy: SessionPolicy,
    /// `TOKEN_PURGE_EVERY`.
    pub purge_every: Option<Duration>,
    /// `REVALIDATE_EVERY`.
    pub revalidate_every: Option<Duration>,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (tests).
    ///
    /// ```
    /// use std::time::Duration;
    /// use demo::deploy::Settings;
    /// let s = Settings::from_lookup(|name| match name {
    ///     "SESSION_IDLE_TIMEOUT" => Some("600".to_owned()),
    ///     "DATABASE_URL" => Some("postgres://demo@127.0.0.1/demo".to_owned()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(s.policy.idle_timeout, Some(Duration::from_secs(600)));
    /// assert!(s.database_url.is_some());
    /// assert!(Settings::from_lookup(|_| Some("soon".to_owned())).is_err());
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let secs = |var: &'static str, zero_ok: bool| -> Result<Option<Duration>, SettingsError> {
            let Some(value) = lookup(var) else {
                return Ok(None);
            };
            let bad = |reason| SettingsError {
                var,
                value: value.clone(),
                reason,
            };
            let n: u64 = value
                .trim()
                .parse()
                .map_err(|_| bad("expected a whole number of seconds"))?;
            if n == 0 && !zero_ok {
                return Err(bad("must be at least 1"));
            }
            Ok(Some(Duration::from_secs(n)))
        };
        let database_url = match lookup("DATABASE_URL") {
            Some(url) if url.trim().is_empty() => None,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Some(url)
            }
            Some(_) => {
                return Err(SettingsError {
                    var: "DATABASE_URL",
                    // Never echo the URL: it may hold a password.
                    value: "…".to_owned(),
                    reason: "must start with postgres:// or postgresql://",
                });
            }
            None => None,
        };
        let mut policy = SessionPolicy::default();
        if let Some(idle) = secs("SESSION_IDLE_TIMEOUT", true)? {
            policy.idle_timeout = (!idle.is_zero()).then_some(idle);
        }
        if let Some(age) = secs("SESSION_REISSUE_AFTER", false)? {
            policy.reissue_after = age;
        }
        Ok(Self {
            database_url,
            policy,
            purge_every: secs("TOKEN_PURGE_EVERY", false)?,
            revalidate_every: secs("REVALIDATE_EVERY", false)?,
        })
    }

    /// Opens the store: PostgreSQL at [`database_url`](Self::database_url), else the SQLite
    /// file of `config`. Migrations are applied either way.
    pub async fn open_store(&self, config: &Config) -> Result<AnyStore, DbError> {
        match &self.database_url {
            Some(url) => crate::store::open_url(url).await,
            None => {
                let path = config.database_path.clone();
                let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
                Ok(AnyStore::from(db))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_and_values() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults, Settings::default());
        assert_eq!(defaults.database_url, None);
        let s = settings(&[
            ("DATABASE_URL", "postgresql://u:p@db/demo"),
            ("SESSION_IDLE_TIMEOUT", "0"),
            ("SESSION_REISSUE_AFTER", "60"),
            ("TOKEN_PURGE_EVERY", "5"),
            ("REVALIDATE_EVERY", "2"),
        ])
        .unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgresql://u:p@db/demo"));
        assert_eq!(s.policy.idle_timeout, None, "0 turns the idle timeout off");
        assert_eq!(s.policy.reissue_after, Duration::from_secs(60));
        assert_eq!(s.purge_every, Some(Duration::from_secs(5)));
        assert_eq!(s.revalidate_every, Some(Duration::from_secs(2)));
        assert_eq!(
            settings(&[("DATABASE_URL", " ")]).unwrap().database_url,
            None
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_never_echo_the_url() {
        for (var, value) in [
            ("DATABASE_URL", "mysql://root:hunter2@db/demo"),
            ("SESSION_IDLE_TIMEOUT", "-1"),
            ("SESSION_REISSUE_AFTER", "0"),
            ("TOKEN_PURGE_EVERY", "soon"),
            ("REVALIDATE_EVERY", "0"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            let message = err.to_string();
            assert!(message.contains(var), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
