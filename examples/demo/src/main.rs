//! `demo`: the livefire demo server. See `demo help`.

use std::process::ExitCode;

use demo::cli::{self, Command};
use demo::config::Config;
use demo::db::Db;
use demo::secret;
use demo::users::Users;
use demo::web::{self, AppState};
use livefire::pubsub::PubSub;
use livefire::token::Keyring;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };

    match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Command::CreateUser { email, password } => {
            let password = match password {
                Some(password) => password,
                None => match cli::read_password(&mut std::io::stdin().lock()) {
                    Ok(password) => password,
                    Err(e) => {
                        eprintln!("error: {}", cli::CreateUserError::ReadPassword(e));
                        return ExitCode::FAILURE;
                    }
                },
            };
            match cli::create_user(&config, &email, &password).await {
                Ok(user) => {
                    println!("created user {} <{}>", user.id, user.email);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve => serve(config).await,
    }
}

/// Runs the web server until the process is stopped.
async fn serve(config: Config) -> ExitCode {
    let secret = match secret::load_secret(&config) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::error!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keyring = match Keyring::new(&secret) {
        Ok(keyring) => keyring,
        Err(e) => {
            tracing::error!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = config.database_path.clone();
    let db = match tokio::task::spawn_blocking(move || Db::open(&path)).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            tracing::error!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            tracing::error!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let users = Users::new(db);
    if let Err(e) = users.warm_up().await {
        tracing::error!("refusing to start: {e}");
        return ExitCode::FAILURE;
    }
    // With REDIS_URL, logouts reach the live sockets on every node; without it, this one's.
    let pubsub = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => match PubSub::redis(&url).await {
            Ok(pubsub) => pubsub,
            Err(e) => {
                tracing::error!("refusing to start: REDIS_URL is set but unusable: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => PubSub::local(),
    };
    let app = web::app_with_pubsub(
        AppState {
            users,
            keyring,
            secure_cookies: config.secure_cookies,
        },
        pubsub,
    );
    let listener = match tokio::net::TcpListener::bind((config.bind, config.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {}:{}: {e}", config.bind, config.port);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        environment = %config.environment,
        database = %config.database_path.display(),
        "demo listening on http://{}:{}",
        config.bind,
        config.port
    );
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
