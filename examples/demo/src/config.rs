//! Runtime configuration read from environment variables.
//!
//! | Variable         | Default                    | Meaning                                        |
//! |------------------|----------------------------|------------------------------------------------|
//! | `APP_ENV`        | `development`              | `development`/`dev` or `production`/`prod`     |
//! | `PORT`           | `4000`                     | TCP port to listen on (`0` = any free port)    |
//! | `BIND`           | `127.0.0.1`                | IP address to listen on                        |
//! | `DATA_DIR`       | `./data`                   | Directory for the database, the dev secret, avatars (`avatars/`) and uploads in progress (`uploads/`) |
//! | `DATABASE_PATH`  | `<DATA_DIR>/demo.sqlite3`  | SQLite database file                           |
//! | `SECURE_COOKIES` | `false` (`true` in prod)   | Mark cookies `Secure` and use `__Host-` names  |
//! | `PUBLIC_URL`     | unset                      | The site's origin (`https://example.com`); required with secure cookies |
//! | `TRUSTED_PROXIES`| unset                      | Comma-separated proxy addresses or networks whose `X-Forwarded-For` is believed |
//! | `PASSWORD_THREADS` | number of cores          | Threads hashing passwords (Argon2 memory: 19 MiB each) |
//! | `PASSWORD_QUEUE` | 8 × `PASSWORD_THREADS`     | Logins and registrations that may wait for a thread; more are refused at once |
//!
//! `SECRET_KEY_BASE` and `SECRET_KEY_BASE_FALLBACKS` are read by [`crate::secret`], not here,
//! so that secrets never sit in a struct that might be logged with `{:?}`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use ipnet::IpNet;

use crate::users::pool::PoolConfig;

/// Default TCP port.
pub const DEFAULT_PORT: u16 = 4000;
/// Default bind address (loopback only).
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// File name of the database inside the data directory when `DATABASE_PATH` is unset.
pub const DEFAULT_DATABASE_FILE: &str = "demo.sqlite3";

/// Errors from [`Config::from_env`] and [`Config::from_lookup`]. Each names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set but its value cannot be used.
    #[error("invalid value {value:?} for {var}: {reason}")]
    Invalid {
        /// Name of the environment variable.
        var: &'static str,
        /// The offending value (lossily converted to UTF-8).
        value: String,
        /// What was expected.
        reason: &'static str,
    },
}

/// The configuration is valid but cannot serve a secure deployment (see
/// [`Config::allowed_origins`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeployError {
    /// Secure cookies without `PUBLIC_URL`.
    #[error(
        "PUBLIC_URL must be set when cookies are secure (production): the live WebSocket accepts \
         only that origin, e.g. PUBLIC_URL=https://example.com"
    )]
    MissingPublicUrl,
    /// Secure cookies with a `PUBLIC_URL` that is not https.
    #[error("PUBLIC_URL {0:?} must start with https:// when cookies are secure")]
    InsecurePublicUrl(String),
}

/// Whether the process runs in development or production mode.
///
/// Production mode refuses to start without an explicit `SECRET_KEY_BASE`
/// (see [`crate::secret::load_secret`]) and defaults `SECURE_COOKIES` to `true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// Local development: a secret is generated and stored under the data directory.
    #[default]
    Development,
    /// Production: every secret must come from the environment.
    Production,
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Production => "production",
        })
    }
}

/// Demo server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `APP_ENV`: development (default) or production.
    pub environment: Environment,
    /// `PORT`: TCP port, default 4000.
    pub port: u16,
    /// `BIND`: listen address, default 127.0.0.1.
    pub bind: IpAddr,
    /// `DATA_DIR`: directory for the database and the development secret, default `./data`.
    pub data_dir: PathBuf,
    /// `DATABASE_PATH`: SQLite file, default `<data_dir>/demo.sqlite3`.
    pub database_path: PathBuf,
    /// `SECURE_COOKIES`: set the `Secure` flag (and `__Host-` prefix) on cookies. Default `false`
    /// in development and `true` in production; must be `true` whenever the site is served over
    /// HTTPS, including behind a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// `PUBLIC_URL`: the origin browsers load the site from (`https://example.com`, no path),
    /// the only one allowed to open the live WebSocket. Required with secure cookies.
    pub public_url: Option<String>,
    /// `TRUSTED_PROXIES`: reverse proxies (addresses or networks, comma-separated) whose
    /// `X-Forwarded-For` names the client; empty: the connection's address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// `PASSWORD_THREADS`: threads of the password pool; default one per core.
    pub password_threads: Option<usize>,
    /// `PASSWORD_QUEUE`: places in the password pool's queue; default 8 per thread.
    pub password_queue: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        let data_dir = PathBuf::from(DEFAULT_DATA_DIR);
        Self {
            environment: Environment::Development,
            port: DEFAULT_PORT,
            bind: DEFAULT_BIND,
            database_path: data_dir.join(DEFAULT_DATABASE_FILE),
            data_dir,
            secure_cookies: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            password_threads: None,
            password_queue: None,
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// Unset variables take their defaults; set but unusable values (including empty strings and
    /// non-UTF-8 values where text is needed) are errors that name the variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Builds the configuration from an arbitrary variable lookup (used by tests and by
    /// [`Config::from_env`]).
    ///
    /// ```
    /// use demo::config::{Config, Environment};
    /// use std::ffi::OsString;
    ///
    /// let config = Config::from_lookup(|name| match name {
    ///     "PORT" => Some(OsString::from("8080")),
    ///     "DATA_DIR" => Some(OsString::from("/var/lib/demo")),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(config.port, 8080);
    /// assert_eq!(config.environment, Environment::Development);
    /// assert_eq!(config.database_path, std::path::Path::new("/var/lib/demo/demo.sqlite3"));
    ///
    /// let err = Config::from_lookup(|name| (name == "PORT").then(|| OsString::from("http"))).unwrap_err();
    /// assert!(err.to_string().contains("PORT"));
    /// ```
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<OsString>,
    {
        let environment = match text(&lookup, "APP_ENV")? {
            None => Environment::Development,
            Some(value) => parse_environment(&value).ok_or(ConfigError::Invalid {
                var: "APP_ENV",
                value,
                reason: "expected `development`, `dev`, `production` or `prod`",
            })?,
        };
        let port = match text(&lookup, "PORT")? {
            None => DEFAULT_PORT,
            Some(value) => value.parse::<u16>().map_err(|_| ConfigError::Invalid {
                var: "PORT",
                value,
                reason: "expected an integer from 0 to 65535",
            })?,
        };
        let bind = match text(&lookup, "BIND")? {
            None => DEFAULT_BIND,
            Some(value) => value.parse::<IpAddr>().map_err(|_| ConfigError::Invalid {
                var: "BIND",
                value,
                reason: "expected an IPv4 or IPv6 address such as 127.0.0.1 or ::1",
            })?,
        };
        let data_dir =
            path(&lookup, "DATA_DIR")?.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_path =
            path(&lookup, "DATABASE_PATH")?.unwrap_or_else(|| data_dir.join(DEFAULT_DATABASE_FILE));
        let secure_cookies = match text(&lookup, "SECURE_COOKIES")? {
            None => environment == Environment::Production,
            Some(value) => parse_bool(&value).ok_or(ConfigError::Invalid {
                var: "SECURE_COOKIES",
                value,
                reason: "expected true/false, 1/0, yes/no or on/off",
            })?,
        };
        let public_url = match text(&lookup, "PUBLIC_URL")? {
            None => None,
            Some(value) => Some(parse_origin(&value).ok_or(ConfigError::Invalid {
                var: "PUBLIC_URL",
                value,
                reason: "expected an origin such as https://example.com (scheme, host, optional \
                         port; no path)",
            })?),
        };
        let trusted_proxies = match text(&lookup, "TRUSTED_PROXIES")? {
            None => Vec::new(),
            Some(value) => parse_networks(&value).ok_or(ConfigError::Invalid {
                var: "TRUSTED_PROXIES",
                value,
                reason: "expected comma-separated addresses or networks such as \
                         127.0.0.1, 10.0.0.0/8, ::1",
            })?,
        };
        let count = |var: &'static str, min: usize| -> Result<Option<usize>, ConfigError> {
            match text(&lookup, var)? {
                None => Ok(None),
                Some(value) => match value.parse::<usize>() {
                    Ok(n) if n >= min && n <= 4096 => Ok(Some(n)),
                    _ => Err(ConfigError::Invalid {
                        var,
                        value,
                        reason: if min == 0 {
                            "expected an integer from 0 to 4096"
                        } else {
                            "expected an integer from 1 to 4096"
                        },
                    }),
                },
            }
        };
        let password_threads = count("PASSWORD_THREADS", 1)?;
        let password_queue = count("PASSWORD_QUEUE", 0)?;
        Ok(Self {
            environment,
            port,
            bind,
            data_dir,
            database_path,
            secure_cookies,
            public_url,
            trusted_proxies,
            password_threads,
            password_queue,
        })
    }

    /// The origins allowed to open the live WebSocket: `PUBLIC_URL` when set. With secure
    /// cookies it is required (livefire refuses every upgrade of a secure deployment without
    /// an allowlist) and must be https.
    ///
    /// ```
    /// use demo::config::{Config, DeployError};
    /// let dev = Config::default();
    /// assert_eq!(dev.allowed_origins(), Ok(None));
    /// let prod = Config { secure_cookies: true, ..Config::default() };
    /// assert_eq!(prod.allowed_origins(), Err(DeployError::MissingPublicUrl));
    /// let prod = Config { public_url: Some("https://example.com".into()), ..prod };
    /// assert_eq!(prod.allowed_origins(), Ok(Some(vec!["https://example.com".to_owned()])));
    /// ```
    pub fn allowed_origins(&self) -> Result<Option<Vec<String>>, DeployError> {
        match &self.public_url {
            None if self.secure_cookies => Err(DeployError::MissingPublicUrl),
            None => Ok(None),
            Some(url) if self.secure_cookies && !url.starts_with("https://") => {
                Err(DeployError::InsecurePublicUrl(url.clone()))
            }
            Some(url) => Ok(Some(vec![url.clone()])),
        }
    }

    /// The password pool's size: `PASSWORD_THREADS` and `PASSWORD_QUEUE`, else the defaults.
    pub fn password_pool(&self) -> PoolConfig {
        let mut pool = match self.password_threads {
            Some(threads) => PoolConfig::with_threads(threads),
            None => PoolConfig::default(),
        };
        if let Some(queue) = self.password_queue {
            pool.queue = queue;
        }
        pool
    }
}

/// `scheme://host[:port]` with scheme http or https, an optional trailing `/` removed.
fn parse_origin(value: &str) -> Option<String> {
    let value = value.strip_suffix('/').unwrap_or(value);
    let (scheme, authority) = value.split_once("://")?;
    let ok = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@', ' ', '\\']);
    ok.then(|| value.to_owned())
}

/// Comma-separated networks; a bare address is a single-address network.
fn parse_networks(value: &str) -> Option<Vec<IpNet>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .ok()
                .or_else(|| part.parse::<IpAddr>().ok().map(IpNet::from))
        })
        .collect()
}

/// Looks a variable up as UTF-8 text; empty values are rejected rather than silently defaulted.
fn text<F>(lookup: &F, var: &'static str) -> Result<Option<String>, ConfigError>
where
    F: Fn(&str) -> Option<OsString>,
{
    let Some(raw) = lookup(var) else {
        return Ok(None);
    };
    let value = raw.into_string().map_err(|raw| ConfigError::Invalid {
        var,
        value: raw.to_string_lossy().into_owned(),
        reason: "not valid UTF-8",
    })?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::Invalid {
            var,
            value,
            reason: "empty value; unset the variable to use the default",
        });
    }
    Ok(Some(trimmed.to_owned()))
}

/// Looks a path variable up; paths may be non-UTF-8, but not empty.
fn path<F>(lookup: &F, var: &'static str) -> Result<Option<PathBuf>, ConfigError>
where
    F: Fn(&str) -> Option<OsString>,
{
    match lookup(var) {
        None => Ok(None),
        Some(raw) if raw.is_empty() || raw.to_str().is_some_and(|s| s.trim().is_empty()) => {
            Err(ConfigError::Invalid {
                var,
                value: OsStr::to_string_lossy(&raw).into_owned(),
                reason: "empty path; unset the variable to use the default",
            })
        }
        Some(raw) => Ok(Some(PathBuf::from(raw))),
    }
}

fn parse_environment(value: &str) -> Option<Environment> {
    match value.to_ascii_lowercase().as_str() {
        "development" | "dev" => Some(Environment::Development),
        "production" | "prod" => Some(Environment::Production),
        _ => None,
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.port, 4000);
        assert_eq!(c.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.data_dir, Path::new("./data"));
        assert_eq!(c.database_path, Path::new("./data/demo.sqlite3"));
        assert!(!c.secure_cookies);
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn all_values_parsed() {
        let c = config(&[
            ("APP_ENV", "prod"),
            ("PORT", "8443"),
            ("BIND", "::1"),
            ("DATA_DIR", "/srv/demo"),
            ("DATABASE_PATH", "/db/x.sqlite3"),
            ("SECURE_COOKIES", "Off"),
        ])
        .unwrap();
        assert_eq!(c.environment, Environment::Production);
        assert_eq!(c.port, 8443);
        assert_eq!(c.bind, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(c.data_dir, Path::new("/srv/demo"));
        assert_eq!(c.database_path, Path::new("/db/x.sqlite3"));
        assert!(
            !c.secure_cookies,
            "explicit SECURE_COOKIES wins over the prod default"
        );
    }

    #[test]
    fn database_path_follows_data_dir() {
        let c = config(&[("DATA_DIR", "/tmp/x")]).unwrap();
        assert_eq!(c.database_path, Path::new("/tmp/x/demo.sqlite3"));
    }

    #[test]
    fn production_defaults_to_secure_cookies() {
        assert!(config(&[("APP_ENV", "production")]).unwrap().secure_cookies);
        assert!(config(&[("SECURE_COOKIES", "1")]).unwrap().secure_cookies);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("PORT", "65536"),
            ("PORT", "-1"),
            ("PORT", "abc"),
            ("PORT", ""),
            ("BIND", "localhost"),
            ("BIND", "300.1.1.1"),
            ("SECURE_COOKIES", "maybe"),
            ("APP_ENV", "staging"),
            ("DATA_DIR", ""),
            ("DATABASE_PATH", "  "),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(var), "{msg}");
            let ConfigError::Invalid { var: v, .. } = err;
            assert_eq!(v, var);
        }
    }

    #[test]
    fn deployment_settings_are_parsed_and_checked() {
        let c = config(&[
            ("PUBLIC_URL", "https://example.com/"),
            ("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1"),
            ("PASSWORD_THREADS", "3"),
            ("PASSWORD_QUEUE", "0"),
        ])
        .unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://example.com"));
        assert_eq!(
            c.trusted_proxies,
            ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
                .map(|n| n.parse::<IpNet>().unwrap())
                .to_vec()
        );
        let pool = c.password_pool();
        assert_eq!((pool.threads, pool.queue), (3, 0));
        assert_eq!(
            config(&[("PASSWORD_THREADS", "2")])
                .unwrap()
                .password_pool()
                .queue,
            16
        );
        for (var, value) in [
            ("PUBLIC_URL", "example.com"),
            ("PUBLIC_URL", "https://example.com/app"),
            ("PUBLIC_URL", "ftp://example.com"),
            ("PUBLIC_URL", "https://user@example.com"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.local"),
            ("PASSWORD_THREADS", "0"),
            ("PASSWORD_QUEUE", "-1"),
            ("PASSWORD_QUEUE", "100000"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert!(err.to_string().contains(var), "{var}={value}: {err}");
        }
    }

    /// Production (secure cookies) refuses to serve without PUBLIC_URL, or with an http one;
    /// development needs nothing.
    #[test]
    fn secure_cookies_require_an_https_public_url() {
        assert_eq!(config(&[]).unwrap().allowed_origins(), Ok(None));
        let prod = config(&[("APP_ENV", "production")]).unwrap();
        let err = prod.allowed_origins().unwrap_err();
        assert_eq!(err, DeployError::MissingPublicUrl);
        assert!(err.to_string().contains("PUBLIC_URL must be set"), "{err}");
        let plain = config(&[("APP_ENV", "prod"), ("PUBLIC_URL", "http://example.com")]).unwrap();
        assert!(matches!(
            plain.allowed_origins(),
            Err(DeployError::InsecurePublicUrl(_))
        ));
        let good = config(&[
            ("APP_ENV", "prod"),
            ("PUBLIC_URL", "https://example.com:8443"),
        ])
        .unwrap();
        assert_eq!(
            good.allowed_origins(),
            Ok(Some(vec!["https://example.com:8443".to_owned()]))
        );
        // Development may name its origin too.
        let dev = config(&[("PUBLIC_URL", "http://127.0.0.1:4000")]).unwrap();
        assert_eq!(
            dev.allowed_origins(),
            Ok(Some(vec!["http://127.0.0.1:4000".to_owned()]))
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_port_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let err = Config::from_lookup(|name| {
            (name == "PORT").then(|| OsString::from_vec(vec![0xff, 0x34]))
        })
        .unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
