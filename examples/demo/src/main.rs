//! `demo`: the livefire demo server. See `demo help`.

use std::process::ExitCode;

use demo::cli::{self, Command};
use demo::config::Config;
use demo::deploy::Settings;
use demo::secret;
use demo::users::Users;
use demo::web::{self, AppState, Options, Tickets};
use livefire::Limits;
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

    let settings = match Settings::from_env() {
        Ok(settings) => settings,
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
            match cli::create_user(&config, &settings, &email, &password).await {
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
        Command::SetDisabled { email, disabled } => {
            match cli::set_disabled(&config, &settings, &email, disabled).await {
                Ok(user) => {
                    let state = if disabled { "disabled" } else { "enabled" };
                    println!("{state} user {} <{}>", user.id, user.email);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve => serve(config, settings).await,
    }
}

/// Runs the web server until the process is stopped.
async fn serve(config: Config, settings: Settings) -> ExitCode {
    match try_serve(config, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn try_serve(config: Config, settings: Settings) -> Result<(), String> {
    let refuse = |e: &dyn std::fmt::Display| format!("refusing to start: {e}");
    // With secure cookies the WebSocket needs an explicit origin; check it before anything.
    let allowed_origins = config.allowed_origins().map_err(|e| refuse(&e))?;
    let secret = secret::load_secret(&config).map_err(|e| refuse(&e))?;
    // Old secrets kept for a rotation: they still open, the current one seals.
    let fallbacks = secret::load_fallbacks(&config).map_err(|e| refuse(&e))?;
    let fallback_count = fallbacks.len();
    let mut keyring = Keyring::new(&secret).map_err(|e| refuse(&e))?;
    for old in fallbacks {
        keyring = keyring.with_fallback(old).map_err(|e| refuse(&e))?;
    }
    if fallback_count > 0 {
        tracing::info!(
            fallbacks = fallback_count,
            "old secrets accepted as fallbacks: what they sealed still opens and cookies are \
             re-sealed with the current secret"
        );
    }
    // DATABASE_URL=postgres://… (several nodes) or the SQLite file at DATABASE_PATH.
    let store = settings.open_store(&config).await.map_err(|e| refuse(&e))?;
    let backend = store.backend();
    let pool = config.password_pool();
    tracing::info!(
        threads = pool.threads,
        queue = pool.queue,
        argon2_memory_mib = pool.max_argon2_memory() / (1024 * 1024),
        "password pool"
    );
    let users = Users::new(store)
        .with_pool(pool)
        .with_session_policy(settings.policy);
    users.warm_up().await.map_err(|e| refuse(&e))?;
    // With REDIS_URL (several nodes), logouts reach the live sockets on every node and login
    // tickets are shared; without it, pub/sub is local and tickets live in the database (the
    // SQLite file, or PostgreSQL, which several nodes share too).
    let (pubsub, tickets) = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let unusable = |e: &dyn std::fmt::Display| {
                format!("refusing to start: REDIS_URL is set but unusable: {e}")
            };
            let pubsub = PubSub::redis(&url).await.map_err(|e| unusable(&e))?;
            let tickets = Tickets::redis(&url).await.map_err(|e| unusable(&e))?;
            (pubsub, tickets)
        }
        _ => {
            let store = users.store().clone();
            let tickets = tokio::task::spawn_blocking(move || Tickets::for_store(&store))
                .await
                .map_err(|e| refuse(&e))?
                .map_err(|e| refuse(&e))?;
            (PubSub::local(), tickets)
        }
    };
    // Avatars and uploads in progress live under DATA_DIR; refuse to start if it is unusable.
    let data_dir = config.data_dir.clone();
    let prepared = data_dir.clone();
    tokio::task::spawn_blocking(move || web::prepare_data_dir(&prepared))
        .await
        .map_err(|e| refuse(&e))?
        .map_err(|e| {
            format!(
                "refusing to start: cannot prepare {}: {e}",
                data_dir.display()
            )
        })?;
    let limits = Limits::default();
    let app = web::app_with(
        AppState {
            users,
            keyring,
            secure_cookies: config.secure_cookies,
        },
        Options {
            pubsub: Some(pubsub),
            tickets: Some(tickets),
            allowed_origins,
            trusted_proxies: config.trusted_proxies.clone(),
            limits,
            data_dir: Some(data_dir),
            revalidate_every: settings.revalidate_every,
            purge_every: settings.purge_every,
        },
    );
    let listener = tokio::net::TcpListener::bind((config.bind, config.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.bind, config.port))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.bind, config.port))?;
    tracing::info!(
        environment = %config.environment,
        %backend,
        database = %if settings.database_url.is_some() {
            "DATABASE_URL".into()
        } else {
            config.database_path.display().to_string()
        },
        "demo listening on http://{local}"
    );
    // livefire::serve records each connection's address (for ClientAddr and the login
    // throttle) and holds the same limits as the live router: connection caps, header size
    // and header-read timeout. On SIGTERM or Ctrl-C it stops accepting, closes the live
    // sockets with 1012 (the browsers reconnect once the server is back) and drains.
    livefire::serve(listener, app)
        .limits(limits)
        // Behind a reverse proxy every connection comes from the proxy: no per-address cap
        // for it (its forwarded clients are throttled per address by the login limits).
        .trusted_proxies(config.trusted_proxies.clone())
        .with_graceful_shutdown(stop_requested())
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("demo stopped");
    Ok(())
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM, as sent by `docker stop` or systemd.
async fn stop_requested() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
