//! The demo in a real headless Chromium running the official LiveView client: register (signed
//! in through livefire's `phx-trigger-action` session form), log out, a failed and a
//! successful live login (through a redirect), staying logged in across reloads and a server
//! restart, logging out and being sent to the login page by the account page's `on_mount`
//! hook, on a page load and on live navigation. The avatar upload (preview, progress, the size
//! error, cancel, the image served back) and the sticky session clock kept across live
//! navigation between `/account` and `/profile`. "Remember me" across a browser restart (a
//! new browser holding only the persistent cookies). A password change in one browser logging
//! the other out. Rotating the secret with the old one as a fallback, and disabling an account
//! with the `demo` CLI while its live view is open (both on the real binary).
//!
//! Every step asserts the DOM. Along the way: the session cookie is never readable from
//! JavaScript (HttpOnly, security.md case 24), the `__phoenix_flash__` cookie the client writes
//! for a redirect is gone after the next page load, and a flash is shown exactly once (case 29).
//! The page must not log any JavaScript error or warning, and the browser must report no error,
//! no warning and no failed request (`check_clean_console`), after every page load and step.

use std::time::{Duration, Instant};

use demo::db::Db;
use demo::users::Users;
use demo::web::{self, AppState};
use fantoccini::{Client, Locator};
use livefire::token::Keyring;
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, click, expect_js, expect_synced as sync,
    record_js_errors, run_js as js, serve,
};
use serde_json::{Value, json};

mod support;
use support::{demo_command, start_demo};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Bounded wait for one action's effect (a password hash takes a few tens of milliseconds).
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A JavaScript string literal.
fn lit(s: &str) -> String {
    json!(s).to_string()
}

/// Waits for the JavaScript condition, panicking with `context` and the page's state.
async fn wait(client: &Client, condition: &str, context: &str) {
    expect_js(client, condition, WAIT, context).await;
}

/// `textContent` of the first element matching `selector`, or `None`.
async fn text(client: &Client, selector: &str) -> Option<String> {
    let script = format!(
        "var e = document.querySelector({}); return e ? e.textContent : null;",
        lit(selector)
    );
    js(client, &script).await.as_str().map(str::to_owned)
}

/// A JavaScript condition: the element exists and its text is `expected`.
fn text_is(selector: &str, expected: &str) -> String {
    format!(
        "(function () {{ var e = document.querySelector({}); return !!e && e.textContent === {}; }})()",
        lit(selector),
        lit(expected)
    )
}

fn absent(selector: &str) -> String {
    format!("document.querySelector({}) === null", lit(selector))
}

async fn path(client: &Client) -> String {
    js(client, "return location.pathname;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn type_into(client: &Client, selector: &str, keys: &str) -> TestResult {
    client
        .find(Locator::Css(selector))
        .await?
        .send_keys(keys)
        .await?;
    Ok(())
}

/// The flash messages rendered in `#flash-group`, as `kind: text` lines (the group's
/// connection notices are there too, `hidden` while the socket is up).
async fn flashes(client: &Client) -> Vec<String> {
    let value = js(
        client,
        "return Array.from(document.querySelectorAll('#flash-group > .flash:not([hidden])'), \
         function (e) { return e.id + ': ' + e.textContent; });",
    )
    .await;
    serde_json::from_value(value).expect("a list of strings")
}

/// Signed in as `email` on the current page: the page's own line and the navigation.
async fn assert_signed_in(client: &Client, email: &str, context: &str) {
    assert_eq!(
        text(client, "#signed-in").await.as_deref(),
        Some(format!("Signed in as {email}").as_str()),
        "{context}"
    );
    assert_eq!(
        text(client, "nav .who").await.as_deref().map(str::trim),
        Some(email),
        "{context}: the navigation shows the user"
    );
    assert!(
        text(client, "#logout").await.is_some(),
        "{context}: a logout button"
    );
    assert_eq!(text(client, "#login-link").await, None, "{context}");
}

/// The signed-out home page.
async fn assert_signed_out_home(client: &Client, context: &str) {
    assert_eq!(path(client).await, "/", "{context}");
    assert!(
        text(client, "#signed-out").await.is_some(),
        "{context}: signed-out text"
    );
    assert_eq!(text(client, "#signed-in").await, None, "{context}");
    assert_eq!(text(client, "#logout").await, None, "{context}");
    assert!(
        text(client, "#login-link").await.is_some(),
        "{context}: login link"
    );
}

/// Case 24/29: nothing auth-bearing is readable from JavaScript; the session cookie exists,
/// is HttpOnly, and the `__phoenix_flash__` cookie is gone.
async fn assert_cookies(client: &Client, context: &str) -> TestResult {
    let from_js = js(client, "return document.cookie;").await;
    let from_js = from_js.as_str().unwrap_or_default();
    assert!(
        !from_js.contains("livefire_session"),
        "{context}: document.cookie shows the session: {from_js:?}"
    );
    assert!(
        !from_js.contains("__phoenix_flash__"),
        "{context}: the flash cookie is still there: {from_js:?}"
    );
    let cookies = client.get_all_cookies().await?;
    let names: Vec<&str> = cookies.iter().map(|c| c.name()).collect();
    let session = cookies
        .iter()
        .find(|c| c.name() == "livefire_session")
        .unwrap_or_else(|| panic!("{context}: no session cookie among {names:?}"));
    assert_eq!(session.http_only(), Some(true), "{context}: {session}");
    assert!(
        !names.contains(&"__phoenix_flash__"),
        "{context}: flash cookie left in the browser: {names:?}"
    );
    Ok(())
}

/// Panics unless the current document logged no JavaScript error or warning, and the browser
/// reported no error, warning or failed request since the last check.
async fn assert_no_js_errors(client: &Client, context: &str) {
    if let Err(err) = check_no_js_errors(client).await {
        panic!("{context}: {err}");
    }
    assert_clean_console(client, context).await;
}

/// Panics unless the browser reported no error, warning or failed request since the last
/// check (every page loaded since then included).
async fn assert_clean_console(client: &Client, context: &str) {
    if let Err(err) = check_clean_console(client).await {
        panic!("{context}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn register_logout_login_and_protected_page_in_chromium() -> TestResult {
    let started = Instant::now();
    let app = web::app(AppState {
        users: Users::new(Db::open_in_memory()?),
        keyring: Keyring::random(),
        secure_cookies: false,
    });
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    let mut step = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut lap = |name: &'static str| {
        timings.push((name, step.elapsed()));
        step = Instant::now();
    };

    // 1. Register, validated live while typing.
    client.goto(&format!("{base}/register")).await?;
    sync(client, "register page").await;
    assert_clean_console(client, "register page").await;
    js(client, "window.__marker = 1; return null;").await;
    assert_eq!(
        text(client, "#email-error").await,
        None,
        "no error before typing"
    );

    type_into(client, "#email", "bob").await?;
    wait(
        client,
        &text_is("#email-error", "Email must have the @ sign and no spaces"),
        "bad email",
    )
    .await;
    sync(client, "bad email").await;
    assert_eq!(
        text(client, "#password-error").await,
        None,
        "an untouched field shows no error"
    );
    type_into(client, "#password", "short").await?;
    wait(
        client,
        &text_is(
            "#password-error",
            "Password should be at least 12 characters",
        ),
        "short password",
    )
    .await;
    sync(client, "short password").await;
    assert!(
        text(client, "#email-error").await.is_some(),
        "both errors at once"
    );

    type_into(client, "#email", "@example.com").await?;
    type_into(client, "#password", " is now long enough").await?;
    wait(
        client,
        &format!(
            "{} && {}",
            absent("#email-error"),
            absent("#password-error")
        ),
        "valid input clears the errors",
    )
    .await;
    sync(client, "valid input").await;
    assert_eq!(
        js(client, "return document.getElementById('password').value;").await,
        json!("short is now long enough"),
        "diffs for the email field leave the typed password alone"
    );
    assert_eq!(
        js(client, "return window.__marker === 1 && location.pathname;").await,
        json!("/register"),
        "validation happened live, without navigation"
    );
    let bob = "bob@example.com";
    let bob_password = "short is now long enough";
    // The view signs the new user in through livefire's `phx-trigger-action` session form: the
    // client posts it to /live/session, which applies the session write and redirects.
    click(client, "#register-submit").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "registration lands on /account through the session form",
    )
    .await;
    sync(client, "/account after registration").await;
    assert_eq!(
        flashes(client).await,
        [format!("flash-info: Account createdWelcome, {bob}!")],
        "the view's flash travelled with the session form's ticket; never the ticket itself"
    );
    assert_signed_in(client, bob, "after registration").await;
    assert_cookies(client, "after registration").await?;
    assert_no_js_errors(client, "after registration").await;
    client.goto(&format!("{base}/")).await?;
    wait(client, "document.getElementById('home') !== null", "/").await;
    assert_signed_in(client, bob, "on / after registration").await;
    client.refresh().await?;
    wait(
        client,
        "document.getElementById('home') !== null",
        "reload /",
    )
    .await;
    assert_eq!(
        flashes(client).await,
        Vec::<String>::new(),
        "the flash is shown once"
    );
    assert_signed_in(client, bob, "after reloading /").await;
    assert_clean_console(client, "after reloading /").await;
    lap("1. register");

    // 2. Log out with the button.
    click(client, "#logout").await?;
    wait(
        client,
        "document.getElementById('signed-out') !== null",
        "logout",
    )
    .await;
    assert_signed_out_home(client, "after logout").await;
    assert_eq!(
        flashes(client).await,
        ["flash-info: Logged out successfully."]
    );
    assert_no_js_errors(client, "after logout").await;
    lap("2. logout");

    // 3. A wrong password: the error appears live, the page does not navigate.
    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page").await;
    assert_clean_console(client, "login page").await;
    js(client, "window.__marker = 1; return null;").await;
    type_into(client, "#email", bob).await?;
    type_into(client, "#password", "not the password").await?;
    sync(client, "typed credentials").await;
    click(client, "#login-submit").await?;
    wait(
        client,
        &text_is("#login-error", "Unable to validate your account."),
        "wrong password",
    )
    .await;
    sync(client, "wrong password").await;
    assert_eq!(
        js(client, "return window.__marker;").await,
        json!(1),
        "no page load happened"
    );
    assert_eq!(path(client).await, "/login");
    assert_eq!(flashes(client).await, Vec::<String>::new());
    assert_eq!(
        js(client, "return document.getElementById('email').value;").await,
        json!(bob),
        "the email is kept"
    );
    assert_no_js_errors(client, "after the failed login").await;
    lap("3. wrong password");

    // 4. The right password: /account, welcomed once.
    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page again").await;
    assert_clean_console(client, "login page again").await;
    // Password first: the diffs answering the email's keystrokes must leave it alone.
    type_into(client, "#password", bob_password).await?;
    type_into(client, "#email", bob).await?;
    sync(client, "typed credentials").await;
    assert_eq!(
        js(client, "return document.getElementById('password').value;").await,
        json!(bob_password),
        "the login form keeps the typed password"
    );
    click(client, "#login-submit").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "login lands on /account",
    )
    .await;
    sync(client, "/account after login").await;
    assert_eq!(flashes(client).await, ["flash-info: Welcome back!"]);
    assert_signed_in(client, bob, "/account after login").await;
    assert_cookies(client, "after login").await?;
    assert_no_js_errors(client, "after login").await;
    client.refresh().await?;
    sync(client, "/account reloaded").await;
    assert_eq!(
        flashes(client).await,
        Vec::<String>::new(),
        "the welcome is shown once"
    );
    assert_signed_in(client, bob, "/account reloaded").await;
    assert_clean_console(client, "/account reloaded").await;
    lap("4. login");

    // 5. Still logged in everywhere, across reloads.
    client.goto(&format!("{base}/")).await?;
    wait(client, "document.getElementById('home') !== null", "/").await;
    assert_signed_in(client, bob, "/").await;
    client.refresh().await?;
    wait(
        client,
        "document.getElementById('home') !== null",
        "/ reloaded",
    )
    .await;
    assert_signed_in(client, bob, "/ reloaded").await;
    assert_clean_console(client, "/ reloaded").await;
    client.goto(&format!("{base}/account")).await?;
    sync(client, "/account").await;
    assert_eq!(path(client).await, "/account");
    assert_signed_in(client, bob, "/account").await;
    client.refresh().await?;
    sync(client, "/account reloaded").await;
    assert_signed_in(client, bob, "/account reloaded again").await;
    assert_clean_console(client, "/account reloaded again").await;
    // The login page sends a signed-in user on to the account page.
    client.goto(&format!("{base}/login")).await?;
    wait(
        client,
        "location.pathname === '/account'",
        "/login while signed in",
    )
    .await;
    sync(client, "/login while signed in").await;
    assert_signed_in(client, bob, "redirected from /login").await;
    assert_cookies(client, "while logged in").await?;
    assert_no_js_errors(client, "while logged in").await;
    lap("5. still logged in");

    // 6. Log out from the account page; the account page then asks to log in.
    click(client, "#logout").await?;
    wait(
        client,
        "location.pathname === '/' && document.getElementById('signed-out') !== null",
        "logout from /account",
    )
    .await;
    assert_signed_out_home(client, "after the second logout").await;
    assert_eq!(
        flashes(client).await,
        ["flash-info: Logged out successfully."]
    );
    client.goto(&format!("{base}/account")).await?;
    wait(
        client,
        "location.pathname === '/login'",
        "/account when logged out",
    )
    .await;
    sync(client, "/login after /account").await;
    assert_clean_console(client, "/login after /account").await;
    assert_eq!(
        flashes(client).await,
        ["flash-error: You must log in to access this page."]
    );
    assert!(text(client, "#login-form").await.is_some());
    assert_eq!(text(client, "#signed-in").await, None);
    assert!(text(client, "#login-link").await.is_some());
    client.refresh().await?;
    sync(client, "/login reloaded").await;
    assert_eq!(flashes(client).await, Vec::<String>::new());
    assert_no_js_errors(client, "at the end").await;
    lap("6. logout and protected page");

    browser.close().await?;
    eprintln!("demo browser flow: {:?} {timings:?}", started.elapsed());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The demo binary, stopped and started again
// ---------------------------------------------------------------------------------------------

/// A `demo` server process on a data directory (database and development secret), with no
/// other configuration (as `cargo run -p demo`).
struct Server {
    child: tokio::process::Child,
    base: String,
}

impl Server {
    /// Starts the server on `port` (0: any) and waits until it listens.
    async fn start(
        data_dir: &std::path::Path,
        port: u16,
    ) -> Result<Server, Box<dyn std::error::Error>> {
        Self::start_with(data_dir, port, &[]).await
    }

    /// [`Server::start`] with more environment variables.
    async fn start_with(
        data_dir: &std::path::Path,
        port: u16,
        env: &[(&str, &str)],
    ) -> Result<Server, Box<dyn std::error::Error>> {
        let mut command = demo_command(data_dir);
        for (name, value) in env {
            command.env(name, value);
        }
        command.env("PORT", port.to_string());
        let (child, base) = start_demo(command, WAIT).await?;
        Ok(Server { child, base })
    }

    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    /// Stops the process (SIGKILL) and waits for it.
    async fn stop(mut self) -> Result<(), Box<dyn std::error::Error>> {
        self.child.kill().await?;
        Ok(())
    }
}

/// docs/threat-model.md case 73 in the browser, on the real binary: a login through the live
/// form stays across pages and across a restart of the server (stopped, then started again on
/// the same database file and secret), because the cookie holds only the opaque token and the
/// token lives in the database.
#[tokio::test]
async fn live_login_survives_pages_and_a_server_restart_in_chromium() -> TestResult {
    let data = tempfile::tempdir()?;
    let email = "restart@example.com";
    let password = "restart password 1";
    demo_cli(data.path(), &["create-user", email, password]).await?;
    let server = Server::start(data.path(), 0).await?;
    let base = server.base.clone();
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;

    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page").await;
    type_into(client, "#email", email).await?;
    type_into(client, "#password", password).await?;
    sync(client, "typed credentials").await;
    click(client, "#login-submit").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "login lands on /account",
    )
    .await;
    sync(client, "/account").await;
    assert_eq!(flashes(client).await, ["flash-info: Welcome back!"]);
    assert_signed_in(client, email, "after login").await;
    assert_cookies(client, "after login").await?;
    client.goto(&format!("{base}/")).await?;
    wait(client, "document.getElementById('home') !== null", "/").await;
    assert_signed_in(client, email, "on /").await;
    client.goto(&format!("{base}/register")).await?;
    sync(client, "/register").await;
    assert_eq!(
        text(client, "nav .who").await.as_deref().map(str::trim),
        Some(email)
    );
    client.goto(&format!("{base}/account")).await?;
    sync(client, "/account again").await;
    assert_signed_in(client, email, "/account again").await;
    assert_no_js_errors(client, "before the restart").await;

    // Stop the server and start another process on the same port, database and secret.
    let port = server.port();
    server.stop().await?;
    wait(
        client,
        "document.querySelector('[data-phx-main].phx-connected') === null",
        "the open page notices the server is gone",
    )
    .await;
    let server = Server::start(data.path(), port).await?;
    assert_eq!(server.base, base);

    // The open page reconnects by itself and mounts signed in (its page token and the session
    // cookie are valid for the new process)...
    sync(client, "/account reconnected").await;
    assert_signed_in(client, email, "/account reconnected").await;
    // While the server was down the client's reconnection attempts (WebSocket, then its
    // long-poll fallback) were refused: Chromium logs each, and the page records the failed
    // long-poll requests. Those, and only those, are expected.
    assert_only_restart_errors(client, port, "during the restart").await;
    // ...and a reload is signed in too.
    client.refresh().await?;
    sync(client, "/account after the restart").await;
    assert_eq!(path(client).await, "/account");
    assert_signed_in(client, email, "/account after the restart").await;
    client.goto(&format!("{base}/")).await?;
    wait(
        client,
        "document.getElementById('home') !== null",
        "/ after the restart",
    )
    .await;
    assert_signed_in(client, email, "/ after the restart").await;
    assert_cookies(client, "after the restart").await?;
    assert_no_js_errors(client, "after the restart").await;

    browser.close().await?;
    server.stop().await?;
    Ok(())
}

/// Panics unless everything the browser logged since the last check is a refused connection
/// to `port`'s live transports (the client's reconnection attempts while the server was down),
/// which is what a restart is expected to log.
async fn assert_only_restart_errors(client: &Client, port: u16, context: &str) {
    match check_clean_console(client).await {
        Ok(()) => {}
        Err(livefire_e2e::E2eError::Console {
            log,
            failed_requests,
        }) => {
            for request in &failed_requests {
                assert!(
                    request.contains(&format!("127.0.0.1:{port}/live/")),
                    "{context}: unexpected failed request: {request}"
                );
            }
            for entry in &log {
                assert!(
                    entry.contains("ERR_CONNECTION_REFUSED")
                        && entry.contains(&format!("127.0.0.1:{port}/live/")),
                    "{context}: unexpected browser log entry: {entry}"
                );
            }
        }
        Err(err) => panic!("{context}: reading the browser log: {err}"),
    }
}

/// The `livefire_session` cookie's value in `client`.
async fn session_cookie(client: &Client) -> Result<String, Box<dyn std::error::Error>> {
    Ok(client
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == "livefire_session")
        .ok_or("no session cookie")?
        .value()
        .to_owned())
}

/// Stops `server` and waits until `clients`' open live pages notice.
async fn stop_server(server: Server, clients: &[&Client]) -> TestResult {
    server.stop().await?;
    for client in clients {
        wait(
            client,
            "document.querySelector('[data-phx-main].phx-connected') === null",
            "the open page notices the server is gone",
        )
        .await;
    }
    Ok(())
}

/// docs/threat-model.md cases 7 and 76 on the real binary: the secret is rotated with the old
/// one as a fallback (`SECRET_KEY_BASE_FALLBACKS`) and nobody is logged out: browser A, signed
/// in under the old secret with the live `/account` page open, stays signed in (the view
/// reconnects and mounts signed in), and its next request re-seals its cookie with the new
/// secret, so A stays signed in when the fallback is dropped. Browser B, signed in under the
/// old secret but away from the site during the rollover, still holds a cookie sealed with the
/// old secret only: once the fallback is gone its next visit of `/account` lands on `/login`,
/// signed out, with no error page. Finally a secret that sealed nothing A holds (no fallback):
/// A's open live view ends on `/login` as well (its page token no longer opens), no error page.
#[tokio::test]
async fn case_7_76_secret_rotation_with_a_fallback_logs_nobody_out_in_chromium() -> TestResult {
    use base64::Engine as _;
    let secret = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 64]);
    let (old, new, other) = (secret(0x0a), secret(0x0b), secret(0x0c));
    let data = tempfile::tempdir()?;
    let email = "rotate@example.com";
    let password = "rotate password 1";
    demo_cli(data.path(), &["create-user", email, password]).await?;
    let server = Server::start_with(data.path(), 0, &[("SECRET_KEY_BASE", &old)]).await?;
    let (base, port) = (server.base.clone(), server.port());
    let first = Browser::start().await?;
    let second = Browser::start().await?;
    let (a, b) = (first.client(), second.client());
    for client in [a, b] {
        record_js_errors(client).await?;
        log_in_at(client, &base, email, password, false).await?;
        assert_signed_in(client, email, "signed in under the old secret").await;
        assert_no_js_errors(client, "before the rotation").await;
    }
    let (a_old_cookie, b_old_cookie) = (session_cookie(a).await?, session_cookie(b).await?);
    // B leaves the site: it sends nothing until the fallback is gone.
    b.goto("about:blank").await?;

    // Rotation: the new secret seals, the old one is a fallback.
    stop_server(server, &[a]).await?;
    let server = Server::start_with(
        data.path(),
        port,
        &[
            ("SECRET_KEY_BASE", &new),
            ("SECRET_KEY_BASE_FALLBACKS", &old),
        ],
    )
    .await?;
    // A's open live view reconnects and mounts signed in (page token and cookie open with the
    // fallback)...
    sync(a, "/account reconnected after the rotation").await;
    assert_eq!(path(a).await, "/account");
    assert_signed_in(a, email, "/account reconnected after the rotation").await;
    assert_only_restart_errors(a, port, "the rotation restart").await;
    // ...and its next request is signed in too, its cookie re-sealed with the new secret.
    a.refresh().await?;
    sync(a, "/account reloaded after the rotation").await;
    assert_signed_in(a, email, "/account reloaded after the rotation").await;
    assert_ne!(
        session_cookie(a).await?,
        a_old_cookie,
        "the cookie is re-sealed"
    );
    assert_no_js_errors(a, "after the rotation").await;

    // The fallback is dropped: A (re-sealed) stays signed in...
    stop_server(server, &[a]).await?;
    let server = Server::start_with(data.path(), port, &[("SECRET_KEY_BASE", &new)]).await?;
    sync(a, "A's /account reconnected with the new secret only").await;
    assert_signed_in(a, email, "A with the new secret only").await;
    a.refresh().await?;
    sync(a, "A's /account reloaded with the new secret only").await;
    assert_eq!(path(a).await, "/account");
    assert_signed_in(a, email, "A reloaded with the new secret only").await;
    assert_only_restart_errors(a, port, "A, the restart without the fallback").await;
    assert_no_js_errors(a, "A after the fallback is dropped").await;
    // ...B, back with its old cookie, is signed out: the guard's redirect, no error page.
    b.goto(&format!("{base}/account")).await?;
    assert_eq!(path(b).await, "/login");
    sync(b, "B on /login").await;
    assert_eq!(text(b, "#logout").await, None, "B is signed out");
    assert_eq!(
        flashes(b).await,
        ["flash-error: You must log in to access this page."]
    );
    assert_ne!(
        session_cookie(b).await?,
        b_old_cookie,
        "B got a fresh session"
    );
    b.goto(&format!("{base}/")).await?;
    assert_signed_out_home(b, "B's next request").await;
    assert_no_js_errors(b, "B signed out").await;

    // A secret that sealed nothing A holds, without a fallback: A's open live view cannot
    // rejoin (its page token does not open) and reloads into /login, signed out.
    stop_server(server, &[a]).await?;
    let server = Server::start_with(data.path(), port, &[("SECRET_KEY_BASE", &other)]).await?;
    wait(
        a,
        "location.pathname === '/login' && document.getElementById('login') !== null",
        "A's open page ends on /login",
    )
    .await;
    sync(a, "A on /login").await;
    assert_eq!(text(a, "#logout").await, None, "A is signed out");
    assert_eq!(
        flashes(a).await,
        ["flash-error: You must log in to access this page."]
    );
    assert_only_restart_errors(a, port, "A, a secret without its key").await;
    assert_no_js_errors(a, "A signed out").await;

    first.close().await?;
    second.close().await?;
    server.stop().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The guarded live session
// ---------------------------------------------------------------------------------------------

/// How many HTTP redirects led to the current document.
const REDIRECTS: &str = "return performance.getEntriesByType('navigation')[0].redirectCount;";

/// The account page's `on_mount` hook: logged out, a page load of /account is redirected to
/// /login with the hook's flash (the dead render's halt). Logged in, the navigation's Account
/// link (`data-phx-link="redirect"`, same live session as /register) navigates live, without
/// a page load, the hook passing on the join; once the login is revoked server-side, the same
/// live navigation is halted on the join and the client loads /login, which shows the flash.
#[tokio::test]
async fn guarded_account_redirects_with_its_flash_on_page_load_and_live_navigation() -> TestResult {
    let users = Users::new(Db::open_in_memory()?);
    let email = "guard@example.com";
    let password = "guarded password";
    let user = users.register(email, password).await?;
    let app = web::app(AppState {
        users: users.clone(),
        keyring: Keyring::random(),
        secure_cookies: false,
    });
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    let must_log_in = "flash-error: You must log in to access this page.";

    // 1. Logged out, a page load of /account: the dead render halts with a 302 and the flash.
    client.goto(&format!("{base}/account")).await?;
    wait(
        client,
        "location.pathname === '/login'",
        "/account logged out",
    )
    .await;
    sync(client, "/login").await;
    assert_eq!(flashes(client).await, [must_log_in]);
    assert!(text(client, "#login-link").await.is_some());
    assert_eq!(
        js(client, REDIRECTS).await,
        json!(1),
        "the dead render of /account answered with a redirect"
    );
    assert_no_js_errors(client, "dead-render halt").await;

    // 2. Log in; then from /register (a public page of the same live session) the Account
    //    link navigates live: no page load, the hook assigns the user on the join.
    type_into(client, "#email", email).await?;
    type_into(client, "#password", password).await?;
    sync(client, "typed credentials").await;
    click(client, "#login-submit").await?;
    wait(client, "location.pathname === '/account'", "login").await;
    sync(client, "/account after login").await;
    client.goto(&format!("{base}/register")).await?;
    sync(client, "/register").await;
    js(client, "window.__marker = 1; return null;").await;
    click(client, "#account-link").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "live navigation to /account",
    )
    .await;
    sync(client, "/account by live navigation").await;
    assert_eq!(
        js(client, "return window.__marker;").await,
        json!(1),
        "live navigation, no page load"
    );
    assert_eq!(
        text(client, "#signed-in").await.as_deref(),
        Some(format!("Signed in as {email}").as_str())
    );
    client.back().await?;
    wait(
        client,
        "location.pathname === '/register' && document.getElementById('register') !== null",
        "back to /register",
    )
    .await;
    sync(client, "/register again").await;
    assert_eq!(js(client, "return window.__marker;").await, json!(1));

    // 3. The login is revoked server-side (say a password change on another node) without
    //    this tab's socket being told. The next live navigation into the guarded view is
    //    halted on the join: the client loads /login, which shows the hook's flash.
    assert!(users.delete_all_tokens(user.id).await? > 0);
    click(client, "#account-link").await?;
    wait(
        client,
        "location.pathname === '/login' && document.getElementById('login-form') !== null \
         && window.__marker === undefined",
        "halted live navigation",
    )
    .await;
    sync(client, "/login after the halt").await;
    assert_eq!(flashes(client).await, [must_log_in]);
    assert_eq!(
        js(client, REDIRECTS).await,
        json!(0),
        "the join was halted: the client went to /login itself, /account was never loaded"
    );
    assert!(text(client, "#login-link").await.is_some(), "signed out");
    assert_eq!(text(client, "#signed-in").await, None);
    assert_no_js_errors(client, "join halt").await;
    client.refresh().await?;
    sync(client, "/login reloaded").await;
    assert_eq!(flashes(client).await, Vec::<String>::new(), "shown once");

    browser.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The avatar upload and the sticky session clock
// ---------------------------------------------------------------------------------------------

/// CRC-32 (IEEE) of `bytes`, as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real `width`×`height` RGB PNG (a red-to-blue gradient), zlib data in one stored block.
fn png(width: u8, height: u8) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[x.wrapping_mul(30), 0x40, y.wrapping_mul(30)]);
        }
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let len = u16::try_from(raw.len()).expect("one stored block");
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&u32::from(width).to_be_bytes());
    ihdr.extend_from_slice(&u32::from(height).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The demo with a private data directory (avatars and uploads) and a user `email`, signed
/// in through the live login form; the browser is on `/account`.
async fn signed_in_demo(
    email: &str,
    password: &str,
) -> Result<(Browser, String, tempfile::TempDir), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let users = Users::new(Db::open_in_memory()?);
    users.register(email, password).await?;
    let app = web::app_with(
        AppState {
            users,
            keyring: Keyring::random(),
            secure_cookies: false,
        },
        web::Options {
            data_dir: Some(data.path().to_owned()),
            ..web::Options::default()
        },
    );
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page").await;
    type_into(client, "#email", email).await?;
    type_into(client, "#password", password).await?;
    sync(client, "typed credentials").await;
    click(client, "#login-submit").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "login lands on /account",
    )
    .await;
    sync(client, "/account after login").await;
    Ok((browser, base, data))
}

/// Picks `path` in the account page's file input, as a user choosing a file does.
async fn choose_file(client: &Client, path: &std::path::Path) -> TestResult {
    client
        .find(Locator::Css("#avatar-form input[type=file]"))
        .await?
        .send_keys(path.to_str().expect("a UTF-8 path"))
        .await?;
    Ok(())
}

/// Fetches `url` from the page: `[status, content type, nosniff header, byte length]`.
async fn fetch_in_page(client: &Client, url: &str) -> Value {
    let script = format!(
        "var done = arguments[arguments.length - 1]; \
         fetch({}).then(function (r) {{ return r.arrayBuffer().then(function (b) {{ \
           done([r.status, r.headers.get('content-type'), r.headers.get('x-content-type-options'), b.byteLength]); \
         }}); }}, function (e) {{ done(String(e)); }});",
        lit(url)
    );
    client
        .execute_async(&script, Vec::new())
        .await
        .unwrap_or_else(|err| panic!("fetch {url}: {err}"))
}

/// The avatar upload in Chromium: a real PNG chosen in the file input is previewed by the
/// client from the file itself, uploaded with progress, saved, and served back from
/// `/account/avatar?v=<id>` as an image of the right type and size (on /account and, after live
/// navigation, on /profile); a file over the announced 1 MB limit shows the size error at once
/// and cannot be saved; a chosen file can be cancelled.
#[tokio::test]
async fn avatar_upload_preview_progress_errors_and_cancel_in_chromium() -> TestResult {
    let email = "avatar@example.com";
    let (browser, _base, data) = signed_in_demo(email, "avatar password 1").await?;
    let client = browser.client();
    let files = tempfile::tempdir()?;
    assert!(text(client, "#no-avatar").await.is_some(), "no avatar yet");
    assert!(
        text(client, "#avatar-form label")
            .await
            .unwrap_or_default()
            .contains("at most 1 MB"),
        "the limit is announced"
    );
    assert_eq!(
        js(
            client,
            "return document.getElementById('avatar-save').disabled;"
        )
        .await,
        json!(true),
        "nothing to save yet"
    );
    assert_clean_console(client, "/account").await;

    // 1. A real 8×8 PNG: preview (a blob: URL of the file, decoded by the browser), progress
    //    to 100 %, then "Save avatar" stores it.
    let image = png(8, 8);
    let png_path = files.path().join("me.png");
    std::fs::write(&png_path, &image)?;
    choose_file(client, &png_path).await?;
    wait(
        client,
        "(function () { var p = document.querySelector('.upload-entry img.preview'); \
         return !!p && p.src.indexOf('blob:') === 0 && p.complete && p.naturalWidth === 8; })()",
        "the preview shows the chosen image",
    )
    .await;
    wait(
        client,
        &text_is(".upload-entry .upload-percent", "100%"),
        "upload progress reaches 100 %",
    )
    .await;
    sync(client, "uploaded").await;
    assert_eq!(
        js(
            client,
            "return [document.querySelector('.upload-entry progress').value, \
             document.querySelector('.upload-entry .upload-name').textContent, \
             document.getElementById('avatar-save').disabled];"
        )
        .await,
        json!([100, "me.png", false]),
        "progress bar full, file named, save enabled"
    );
    click(client, "#avatar-save").await?;
    wait(
        client,
        "document.getElementById('current-avatar') !== null \
         && document.querySelector('.upload-entry') === null",
        "the saved avatar replaces the entry",
    )
    .await;
    sync(client, "saved").await;
    assert_eq!(
        flashes(client).await,
        ["flash-info: Your avatar was updated."]
    );
    let stored: Vec<String> = std::fs::read_dir(data.path().join("avatars"))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let id = stored[0].strip_suffix(".png").expect("stored as .png");
    let src = js(
        client,
        "return document.getElementById('current-avatar').getAttribute('src');",
    )
    .await;
    assert_eq!(src, json!(format!("/account/avatar?v={id}")));
    wait(
        client,
        "(function () { var i = document.getElementById('current-avatar'); \
         return i.complete && i.naturalWidth === 8 && i.naturalHeight === 8; })()",
        "the served avatar is decoded by the browser",
    )
    .await;
    assert_eq!(
        fetch_in_page(client, &format!("/account/avatar?v={id}")).await,
        json!([200, "image/png", "nosniff", image.len()]),
        "served back with its type"
    );
    assert_no_js_errors(client, "after saving").await;

    // The profile page (live navigation) shows the same image.
    js(client, "window.__page = 1; return null;").await;
    click(client, "#profile-link").await?;
    wait(
        client,
        "location.pathname === '/profile' && document.getElementById('profile') !== null",
        "live navigation to /profile",
    )
    .await;
    sync(client, "/profile").await;
    assert_eq!(js(client, "return window.__page;").await, json!(1));
    assert_eq!(
        js(
            client,
            "return document.getElementById('current-avatar').getAttribute('src');"
        )
        .await,
        src
    );
    wait(
        client,
        "document.getElementById('current-avatar').naturalWidth === 8",
        "the avatar on /profile",
    )
    .await;
    click(client, "#edit-account-link").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('avatar-form') !== null",
        "live navigation back to /account",
    )
    .await;
    sync(client, "/account again").await;
    assert_no_js_errors(client, "/profile and back").await;

    // 2. Too large: the size error appears as soon as the file is chosen; nothing is sent.
    let mut big = image.clone();
    big.resize(1_100_000, 0);
    let big_path = files.path().join("big.png");
    std::fs::write(&big_path, &big)?;
    choose_file(client, &big_path).await?;
    wait(
        client,
        &text_is(
            ".upload-entry .upload-error",
            "The file is larger than 1 MB.",
        ),
        "the size error",
    )
    .await;
    sync(client, "too large").await;
    assert_eq!(
        text(client, ".upload-entry .upload-name").await.as_deref(),
        Some("big.png")
    );
    assert_eq!(
        js(
            client,
            "return document.getElementById('avatar-save').disabled;"
        )
        .await,
        json!(true),
        "a file in error cannot be saved"
    );
    assert_eq!(
        std::fs::read_dir(data.path().join("uploads"))?.count(),
        0,
        "no byte of the large file was stored"
    );
    assert_eq!(
        js(
            client,
            "return document.getElementById('current-avatar').getAttribute('src');"
        )
        .await,
        src,
        "the saved avatar stays"
    );
    assert_no_js_errors(client, "too large").await;

    // 3. Cancel: choose the PNG again (it replaces the file in error), then cancel it.
    choose_file(client, &png_path).await?;
    wait(
        client,
        "document.querySelector('.upload-error') === null \
         && document.querySelector('.upload-entry .upload-name') !== null \
         && document.querySelector('.upload-entry .upload-name').textContent === 'me.png'",
        "the new choice replaces the file in error",
    )
    .await;
    sync(client, "chosen again").await;
    click(client, ".upload-entry .upload-cancel").await?;
    wait(
        client,
        &absent(".upload-entry"),
        "the cancelled entry is gone",
    )
    .await;
    sync(client, "cancelled").await;
    assert_eq!(
        js(
            client,
            "return document.getElementById('avatar-save').disabled;"
        )
        .await,
        json!(true),
        "nothing left to save"
    );
    assert_eq!(
        std::fs::read_dir(data.path().join("uploads"))?.count(),
        0,
        "the cancelled upload's file is deleted"
    );
    assert_eq!(
        std::fs::read_dir(data.path().join("avatars"))?.count(),
        1,
        "the saved avatar is untouched"
    );
    assert_no_js_errors(client, "at the end").await;

    browser.close().await?;
    Ok(())
}

/// The session clock's state: `[seconds, paused]`.
const CLOCK_STATE: &str = "var t = document.getElementById('clock-elapsed'); \
    return [Number(t.getAttribute('data-seconds')), document.getElementById('clock-paused') !== null];";

/// The sticky session clock in Chromium: paused on /account, it keeps its DOM element (a
/// property set from JavaScript stays) and its state (paused, same seconds) across live
/// navigation to /profile and back, and keeps running when resumed; a full page load mounts a
/// new one.
#[tokio::test]
async fn sticky_session_clock_survives_live_navigation_in_chromium() -> TestResult {
    let (browser, _base, _data) = signed_in_demo("clock@example.com", "clock password 1").await?;
    let client = browser.client();
    // A sticky view is a root of its own (no parent id), even inside the main container.
    let clock_is_sticky = "(function () { var c = document.getElementById('session-clock'); \
        return !!c && c.hasAttribute('data-phx-sticky') && !c.hasAttribute('data-phx-parent-id') \
        && document.querySelectorAll('#session-clock').length === 1; })()";
    assert_eq!(
        js(client, &format!("return {clock_is_sticky};")).await,
        json!(true),
        "the clock is a sticky view"
    );

    // 1. Let it count, then pause it: a fresh clock would be running from 0.
    wait(
        client,
        "Number(document.getElementById('clock-elapsed').getAttribute('data-seconds')) >= 3",
        "the clock counts",
    )
    .await;
    click(client, "#clock-toggle").await?;
    wait(
        client,
        "document.getElementById('clock-paused') !== null",
        "paused",
    )
    .await;
    sync(client, "paused").await;
    let paused = js(client, CLOCK_STATE).await;
    let seconds = paused[0].as_u64().expect("seconds");
    assert!(seconds >= 3, "{paused}");
    assert_eq!(paused[1], json!(true));
    assert_eq!(
        text(client, "#clock-toggle")
            .await
            .as_deref()
            .map(str::trim),
        Some("Resume")
    );
    js(
        client,
        "document.getElementById('session-clock').__kept = 'same element'; window.__page = 1; return null;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        js(client, CLOCK_STATE).await,
        json!([seconds, true]),
        "paused means paused"
    );

    // 2. Live navigation to /profile and back: same page, same clock element, same state.
    for (link, path, main) in [
        ("#profile-link", "/profile", "profile"),
        ("#edit-account-link", "/account", "account"),
        ("#nav-profile-link", "/profile", "profile"),
        ("#account-link", "/account", "account"),
    ] {
        click(client, link).await?;
        wait(
            client,
            &format!(
                "location.pathname === {} && document.getElementById({}) !== null",
                lit(path),
                lit(main)
            ),
            path,
        )
        .await;
        sync(client, path).await;
        assert_eq!(
            js(
                client,
                "return [window.__page, document.getElementById('session-clock').__kept];"
            )
            .await,
            json!([1, "same element"]),
            "{link}: no page load, the clock's element is the same"
        );
        assert_eq!(
            js(client, CLOCK_STATE).await,
            json!([seconds, true]),
            "{link}: the clock's state survived"
        );
        assert_eq!(
            js(client, &format!("return {clock_is_sticky};")).await,
            json!(true)
        );
        assert_no_js_errors(client, path).await;
    }

    // 3. Still alive after the navigation: resume, and it counts on from where it was.
    click(client, "#clock-toggle").await?;
    wait(
        client,
        &format!(
            "document.getElementById('clock-paused') === null && \
             Number(document.getElementById('clock-elapsed').getAttribute('data-seconds')) > {seconds}"
        ),
        "resumed",
    )
    .await;
    sync(client, "resumed").await;
    assert_eq!(
        js(
            client,
            "return document.getElementById('session-clock').__kept;"
        )
        .await,
        json!("same element")
    );

    // 4. A full page load mounts a new clock: new element, running, from 0.
    client.refresh().await?;
    sync(client, "reloaded").await;
    wait(
        client,
        "document.getElementById('clock-elapsed') !== null",
        "a clock after the reload",
    )
    .await;
    assert_eq!(
        js(
            client,
            "return [window.__page === undefined, document.getElementById('session-clock').__kept === undefined];"
        )
        .await,
        json!([true, true]),
        "a new page and a new clock element"
    );
    let fresh = js(client, CLOCK_STATE).await;
    assert_eq!(fresh[1], json!(false), "a new clock runs: {fresh}");
    assert!(
        fresh[0].as_u64().expect("seconds") < seconds,
        "a new clock starts from 0: {fresh} (before: {seconds})"
    );
    assert_eq!(
        text(client, "#clock-toggle")
            .await
            .as_deref()
            .map(str::trim),
        Some("Pause")
    );
    assert_no_js_errors(client, "after the reload").await;

    browser.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Remember me
// ---------------------------------------------------------------------------------------------

/// Logs `email` in through `base`'s live login form, ticking "remember me" if `remember`.
async fn log_in_at(
    client: &Client,
    base: &str,
    email: &str,
    password: &str,
    remember: bool,
) -> TestResult {
    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page").await;
    type_into(client, "#email", email).await?;
    type_into(client, "#password", password).await?;
    if remember {
        click(client, "#remember-me").await?;
    }
    sync(client, "typed credentials").await;
    click(client, "#login-submit").await?;
    wait(
        client,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "login lands on /account",
    )
    .await;
    sync(client, "/account after login").await;
    Ok(())
}

/// A browser restart in a new browser: the cookies of `from` that have an expiry (persistent
/// cookies survive a restart, browser-session cookies do not), put into `to` (whose own
/// cookies are deleted first); `to` then loads `/account`.
async fn restart_into(from: &Client, to: &Client, base: &str) -> TestResult {
    let kept: Vec<_> = from
        .get_all_cookies()
        .await?
        .into_iter()
        .filter(|c| c.expires().is_some())
        .collect();
    to.goto(&format!("{base}/")).await?;
    to.delete_all_cookies().await?;
    for cookie in kept {
        to.add_cookie(cookie).await?;
    }
    to.goto(&format!("{base}/account")).await?;
    Ok(())
}

/// docs/threat-model.md case 70: "remember me" survives a browser restart (a new browser
/// holding only the persistent cookies is still signed in), a login without it does not.
#[tokio::test]
async fn case_70_remember_me_survives_a_browser_restart_and_a_session_cookie_does_not() -> TestResult
{
    let users = Users::new(Db::open_in_memory()?);
    let email = "remember@example.com";
    let password = "remember me please";
    users.register(email, password).await?;
    let app = web::app(AppState {
        users,
        keyring: Keyring::random(),
        secure_cookies: false,
    });
    let base = serve(app).await?;
    let first = Browser::start().await?;
    let second = Browser::start().await?;
    let (a, b) = (first.client(), second.client());
    record_js_errors(a).await?;

    // Remembered: the session cookie has an expiry about 60 days away and is HttpOnly.
    log_in_at(a, &base, email, password, true).await?;
    let session = a
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == "livefire_session")
        .expect("a session cookie");
    let expires = session
        .expires_datetime()
        .unwrap_or_else(|| panic!("persistent: {session}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let days = (expires.unix_timestamp() - i64::try_from(now)?) / 86_400;
    assert!((59..=60).contains(&days), "{session}");
    assert_eq!(session.http_only(), Some(true));
    restart_into(a, b, &base).await?;
    wait(
        b,
        "location.pathname === '/account' && document.getElementById('account') !== null",
        "the restarted browser is still signed in",
    )
    .await;
    sync(b, "/account in the restarted browser").await;
    assert_signed_in(b, email, "after a restart with remember me").await;

    // Not remembered: a browser-session cookie, gone with the restart.
    click(a, "#logout").await?;
    wait(a, "location.pathname === '/'", "logout").await;
    log_in_at(a, &base, email, password, false).await?;
    let session = a
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == "livefire_session")
        .expect("a session cookie");
    assert_eq!(session.expires(), None, "{session}");
    restart_into(a, b, &base).await?;
    wait(
        b,
        "location.pathname === '/login'",
        "the restarted browser is signed out",
    )
    .await;
    sync(b, "/login in the restarted browser").await;
    assert_eq!(text(b, "#signed-in").await, None);
    assert_no_js_errors(a, "remember me").await;
    first.close().await?;
    second.close().await?;
    Ok(())
}

/// docs/threat-model.md case 69: a password change in one browser sends the other browser's
/// live view to `/login` within a few seconds and logs its next request out, while the
/// changing browser stays signed in; a wrong current password is answered live first.
#[tokio::test]
async fn case_69_password_change_in_one_browser_logs_the_other_out() -> TestResult {
    let users = Users::new(Db::open_in_memory()?);
    let email = "change@example.com";
    let password = "the old password";
    let new_password = "the new password";
    users.register(email, password).await?;
    let app = web::app(AppState {
        users: users.clone(),
        keyring: Keyring::random(),
        secure_cookies: false,
    });
    let base = serve(app).await?;
    let first = Browser::start().await?;
    let second = Browser::start().await?;
    let (a, b) = (first.client(), second.client());
    record_js_errors(a).await?;
    log_in_at(a, &base, email, password, false).await?;
    log_in_at(b, &base, email, password, false).await?;

    // A goes to /settings by live navigation; a wrong current password is answered live.
    click(a, "#nav-settings-link").await?;
    wait(
        a,
        "location.pathname === '/settings' && document.getElementById('settings') !== null",
        "live navigation to /settings",
    )
    .await;
    sync(a, "/settings").await;
    type_into(a, "#current-password", "not the password").await?;
    type_into(a, "#new-password", new_password).await?;
    sync(a, "typed passwords").await;
    click(a, "#change-password").await?;
    wait(
        a,
        "document.body.innerText.indexOf('is not your current password') >= 0",
        "the wrong current password is answered live",
    )
    .await;
    assert_eq!(path(a).await, "/settings");
    assert_eq!(path(b).await, "/account", "nothing changed for B");

    // The right one: A stays signed in (with a flash), B's live view goes to /login.
    js(
        a,
        "document.getElementById('current-password').value = ''; return null;",
    )
    .await;
    type_into(a, "#current-password", password).await?;
    sync(a, "typed the right password").await;
    click(a, "#change-password").await?;
    wait(
        a,
        "location.pathname === '/settings' && document.body.innerText.indexOf('Password updated successfully.') >= 0",
        "A is back on /settings, signed in",
    )
    .await;
    sync(a, "/settings after the change").await;
    let started = Instant::now();
    wait(
        b,
        "location.pathname === '/login'",
        "B's live view is sent to /login",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    b.goto(&format!("{base}/")).await?;
    assert_signed_out_home(b, "B's next request").await;
    a.goto(&format!("{base}/")).await?;
    assert_signed_in(a, email, "A after the change").await;
    assert!(users.authenticate(email, password).await.is_err());
    assert!(users.authenticate(email, new_password).await.is_ok());
    assert_no_js_errors(a, "password change").await;
    first.close().await?;
    second.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Disabled accounts
// ---------------------------------------------------------------------------------------------

/// Runs the `demo` CLI on `data_dir` with `args` and asserts it succeeded.
async fn demo_cli(data_dir: &std::path::Path, args: &[&str]) -> TestResult {
    let out = demo_command(data_dir).args(args).output().await?;
    assert!(
        out.status.success(),
        "demo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// docs/threat-model.md cases 72 and 78 on the real binary: `demo disable EMAIL`, run as a
/// separate process on the same database while the user's browser shows the live `/account`
/// page, sends that page to `/login` within a few seconds (the server's periodic revalidation,
/// `REVALIDATE_EVERY=1` here, finds the login gone; no pub/sub reaches the CLI) and signs
/// the browser's next request out; the password no longer logs in (the generic message);
/// after `demo enable EMAIL` it does again.
#[tokio::test]
async fn case_72_disabling_an_account_closes_its_live_view_in_chromium() -> TestResult {
    let data = tempfile::tempdir()?;
    let email = "disable@example.com";
    let password = "disable password 1";
    demo_cli(data.path(), &["create-user", email, password]).await?;
    let server = Server::start_with(data.path(), 0, &[("REVALIDATE_EVERY", "1")]).await?;
    let base = server.base.clone();
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    log_in_at(client, &base, email, password, false).await?;
    assert_signed_in(client, email, "before disable").await;
    assert_no_js_errors(client, "before disable").await;

    let started = Instant::now();
    demo_cli(data.path(), &["disable", email]).await?;
    wait(
        client,
        "location.pathname === '/login' && document.getElementById('login') !== null",
        "the live view is sent to /login",
    )
    .await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    sync(client, "/login after disable").await;
    assert_eq!(text(client, "#logout").await, None, "signed out");
    assert_eq!(
        flashes(client).await,
        ["flash-error: You must log in to access this page."]
    );
    client.goto(&format!("{base}/account")).await?;
    wait(
        client,
        "location.pathname === '/login' && document.getElementById('login') !== null",
        "the next request of /account is sent to /login",
    )
    .await;
    client.goto(&format!("{base}/")).await?;
    assert_signed_out_home(client, "the next request after disable").await;
    assert_no_js_errors(client, "after disable").await;

    // Disabled: the right password is refused with the generic message.
    client.goto(&format!("{base}/login")).await?;
    sync(client, "login page while disabled").await;
    type_into(client, "#email", email).await?;
    type_into(client, "#password", password).await?;
    sync(client, "typed credentials while disabled").await;
    click(client, "#login-submit").await?;
    wait(
        client,
        "document.body.innerText.indexOf('Unable to validate your account.') >= 0",
        "a disabled account cannot log in",
    )
    .await;
    assert_eq!(path(client).await, "/login");

    // Enabled again: the same password logs in.
    demo_cli(data.path(), &["enable", email]).await?;
    log_in_at(client, &base, email, password, false).await?;
    assert_signed_in(client, email, "after enable").await;
    assert_no_js_errors(client, "after enable").await;

    browser.close().await?;
    server.stop().await?;
    Ok(())
}
