//! Command-line interface of the `demo` binary.
//!
//! ```text
//! demo                                 run the web server
//! demo create-user EMAIL [PASSWORD]    create an account (password read from stdin if omitted)
//! demo disable EMAIL                   disable an account (its logins end)
//! demo enable EMAIL                    enable it again
//! demo help                            show usage
//! ```

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead};

use crate::config::Config;
use crate::db::DbError;
use crate::deploy::Settings;
use crate::users::{RegisterError, User, Users};

/// Usage text printed by `demo help` and on argument errors.
pub const USAGE: &str = "\
usage:
  demo                               run the web server
  demo create-user EMAIL [PASSWORD]  create an account; without PASSWORD it is read from the
                                     first line of stdin (keeps it out of shell history and ps)
  demo disable EMAIL                 disable an account: it cannot log in, its logins end at
                                     their next request and their live pages close within
                                     REVALIDATE_EVERY (20 s)
  demo enable EMAIL                  enable a disabled account again
  demo help                          show this message

configuration (environment): APP_ENV, PORT, BIND, DATA_DIR, DATABASE_PATH, SECURE_COOKIES,
SECRET_KEY_BASE, PUBLIC_URL (the site's https origin; required with secure cookies),
TRUSTED_PROXIES (proxies whose X-Forwarded-For is believed), PASSWORD_THREADS and
PASSWORD_QUEUE (the password pool), REDIS_URL (optional, several nodes: login tickets and
logouts are shared through Redis), DATABASE_URL (optional, postgres://…: users and logins in
PostgreSQL instead of the SQLite file), SESSION_IDLE_TIMEOUT, SESSION_REISSUE_AFTER,
TOKEN_PURGE_EVERY, REVALIDATE_EVERY (seconds)

rotating the secret without logging anybody out: make the new secret SECRET_KEY_BASE and list
the old one in SECRET_KEY_BASE_FALLBACKS (base64, comma-separated) or on a line of
DATA_DIR/secret_key_base.fallbacks (mode 0600, # comments); fallbacks only open what they
sealed, and cookies are re-sealed with the new secret. Remove a fallback once the cookies it
sealed have been rewritten or have expired: browsers still holding one are then signed out";

/// What the binary was asked to do.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the web server (no arguments).
    Serve,
    /// Create an account.
    CreateUser {
        /// Email address.
        email: String,
        /// Password, or `None` to read it from stdin.
        password: Option<String>,
    },
    /// Disable (`true`) or enable an account.
    SetDisabled {
        /// Email address.
        email: String,
        /// Disable or enable.
        disabled: bool,
    },
    /// Print usage.
    Help,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serve => f.write_str("Serve"),
            Self::Help => f.write_str("Help"),
            Self::SetDisabled { email, disabled } => f
                .debug_struct("SetDisabled")
                .field("email", email)
                .field("disabled", disabled)
                .finish(),
            Self::CreateUser { email, password } => f
                .debug_struct("CreateUser")
                .field("email", email)
                .field("password", &password.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

/// Invalid command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The first argument is not a known command.
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// A required argument is missing.
    #[error("missing argument {0}")]
    MissingArgument(&'static str),
    /// More arguments than the command takes.
    #[error("unexpected argument {0:?}")]
    UnexpectedArgument(String),
    /// An argument is not valid UTF-8.
    #[error("arguments must be valid UTF-8")]
    NotUnicode,
}

/// Failure of `create-user`.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The database open task failed.
    #[error("database open task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Registration was refused.
    #[error("{}", describe_register_error(.0))]
    Register(#[from] RegisterError),
    /// The password could not be read from stdin.
    #[error("cannot read the password from stdin: {0}")]
    ReadPassword(#[source] io::Error),
}

fn describe_register_error(e: &RegisterError) -> String {
    match e.field() {
        Some(field) => format!("{field} {e}"),
        None => e.to_string(),
    }
}

/// Parses the arguments after the program name.
///
/// ```
/// use demo::cli::{parse, Command};
///
/// assert_eq!(parse(Vec::<String>::new()).unwrap(), Command::Serve);
/// assert_eq!(
///     parse(["create-user", "a@example.com", "correct horse battery"]).unwrap(),
///     Command::CreateUser {
///         email: "a@example.com".into(),
///         password: Some("correct horse battery".into()),
///     }
/// );
/// assert!(parse(["frobnicate"]).is_err());
/// ```
pub fn parse<I, S>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut args = args
        .into_iter()
        .map(|a| a.into().into_string().map_err(|_| CliError::NotUnicode));
    let Some(command) = args.next().transpose()? else {
        return Ok(Command::Serve);
    };
    let parsed = match command.as_str() {
        "serve" => Command::Serve,
        "help" | "-h" | "--help" => Command::Help,
        "create-user" => {
            let email = args
                .next()
                .transpose()?
                .ok_or(CliError::MissingArgument("EMAIL"))?;
            let password = args.next().transpose()?;
            Command::CreateUser { email, password }
        }
        "disable" | "enable" => Command::SetDisabled {
            email: args
                .next()
                .transpose()?
                .ok_or(CliError::MissingArgument("EMAIL"))?,
            disabled: command == "disable",
        },
        _ => return Err(CliError::UnknownCommand(command)),
    };
    match args.next().transpose()? {
        Some(extra) => Err(CliError::UnexpectedArgument(extra)),
        None => Ok(parsed),
    }
}

/// Reads a password from the first line of `reader`, without its line ending.
///
/// ```
/// let mut input = std::io::Cursor::new("hunter2 hunter2\r\nnext line");
/// assert_eq!(demo::cli::read_password(&mut input).unwrap(), "hunter2 hunter2");
/// ```
pub fn read_password(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(trimmed.to_owned())
}

/// Failure of `disable` / `enable`.
#[derive(Debug, thiserror::Error)]
pub enum SetDisabledError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The database open task failed.
    #[error("database open task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The update failed.
    #[error(transparent)]
    Store(#[from] crate::users::StoreError),
    /// No account has that email.
    #[error("no account with that email")]
    NoSuchUser,
}

/// Opens the configured database (`settings`: PostgreSQL with `DATABASE_URL`, else the SQLite
/// file of `config`) and disables or enables the account `email`.
pub async fn set_disabled(
    config: &Config,
    settings: &Settings,
    email: &str,
    disabled: bool,
) -> Result<User, SetDisabledError> {
    let store = settings.open_store(config).await?;
    Users::new(store)
        .set_disabled(email, disabled)
        .await?
        .ok_or(SetDisabledError::NoSuchUser)
}

/// Opens the configured database (creating and migrating it if needed; `settings`:
/// PostgreSQL with `DATABASE_URL`, else the SQLite file of `config`) and registers a user.
pub async fn create_user(
    config: &Config,
    settings: &Settings,
    email: &str,
    password: &str,
) -> Result<User, CreateUserError> {
    let store = settings.open_store(config).await?;
    Ok(Users::new(store).register(email, password).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_rejects_bad_input() {
        assert_eq!(parse(["serve"]).unwrap(), Command::Serve);
        assert_eq!(parse(["--help"]).unwrap(), Command::Help);
        assert_eq!(
            parse(["create-user", "a@example.com"]).unwrap(),
            Command::CreateUser {
                email: "a@example.com".into(),
                password: None
            }
        );
        assert!(matches!(
            parse(["create-user"]),
            Err(CliError::MissingArgument("EMAIL"))
        ));
        assert!(matches!(
            parse(["create-user", "a@example.com", "pw", "extra"]),
            Err(CliError::UnexpectedArgument(e)) if e == "extra"
        ));
        assert!(matches!(
            parse(["serve", "now"]),
            Err(CliError::UnexpectedArgument(_))
        ));
        assert!(matches!(parse(["nope"]), Err(CliError::UnknownCommand(_))));
        assert_eq!(
            parse(["disable", "a@example.com"]).unwrap(),
            Command::SetDisabled {
                email: "a@example.com".into(),
                disabled: true
            }
        );
        assert_eq!(
            parse(["enable", "a@example.com"]).unwrap(),
            Command::SetDisabled {
                email: "a@example.com".into(),
                disabled: false
            }
        );
        assert!(matches!(
            parse(["disable"]),
            Err(CliError::MissingArgument("EMAIL"))
        ));
    }

    #[test]
    fn debug_output_redacts_the_password() {
        let cmd = parse(["create-user", "a@example.com", "super secret pw"]).unwrap();
        let shown = format!("{cmd:?}");
        assert!(!shown.contains("super secret"), "{shown}");
        assert!(shown.contains("a@example.com"));
    }

    #[test]
    fn read_password_strips_only_the_line_ending() {
        let mut input = io::Cursor::new("  spaced password  \n");
        assert_eq!(read_password(&mut input).unwrap(), "  spaced password  ");
        let mut empty = io::Cursor::new("");
        assert_eq!(read_password(&mut empty).unwrap(), "");
    }

    #[tokio::test]
    async fn create_user_creates_the_database_and_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            database_path: dir.path().join("db").join("demo.sqlite3"),
            ..Config::default()
        };
        let user = create_user(
            &config,
            &Settings::default(),
            "cli@example.com",
            "correct horse battery",
        )
        .await
        .unwrap();
        assert_eq!(user.email, "cli@example.com");
        assert!(config.database_path.exists());
        let err = create_user(
            &config,
            &Settings::default(),
            "cli@example.com",
            "correct horse battery",
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "email has already been taken");
        let err = create_user(&config, &Settings::default(), "x@example.com", "short")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "password should be at least 12 characters");
    }
}
