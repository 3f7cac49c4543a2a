//! Browser test harness for livefire: headless Debian Chromium driven through chromedriver.
//!
//! Used as a dev-dependency by the example crates. [`Browser::start`] spawns
//! `/usr/bin/chromedriver` on a free loopback port and opens a headless `/usr/bin/chromium`
//! session with a fresh profile directory; dropping the [`Browser`] (or [`Browser::close`]) kills
//! both and removes the profile. [`serve`] runs an axum router on `127.0.0.1:0` in the
//! background, and [`sync_lv`] waits until a LiveView page is connected and idle (a port of
//! LiveView's own end-to-end helper `syncLV`). [`record_js_errors`] makes every page record
//! its JavaScript errors and warnings, read back with [`js_errors`] or checked with
//! [`check_no_js_errors`].
//!
//! [`check_clean_console`] is the broader check every browser test ends with: it reads the
//! browser's own log (every session is started with Chrome's `goog:loggingPrefs`, so the log
//! also holds what the page cannot see, such as "Failed to load resource: … 404" and failed
//! WebSocket connections, for every page loaded since the last read) and the current page's
//! failed requests ([`failed_requests`], from the Resource Timing API), and fails with
//! [`E2eError::Console`] listing each one.
//!
//! The binaries are required, not optional: when they are missing, [`Browser::start`] fails with
//! [`E2eError::MissingBinary`] saying how to install them (`scripts/test.sh` does). The paths can
//! be overridden with `LIVEFIRE_CHROMIUM` and `LIVEFIRE_CHROMEDRIVER`.
//!
//! ```no_run
//! use fantoccini::Locator;
//! use livefire_e2e::{Browser, serve, sync_lv};
//!
//! # async fn demo(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! let base = serve(app).await?;
//! let browser = Browser::start().await?;
//! let client = browser.client();
//! client.goto(&format!("{base}/")).await?;
//! sync_lv(client).await?;
//! client.find(Locator::Css("button")).await?.click().await?;
//! sync_lv(client).await?;
//! browser.close().await?;
//! # Ok(())
//! # }
//! ```

use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::Method;
use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Default Chromium binary (Debian package `chromium`); override with `LIVEFIRE_CHROMIUM`.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Default chromedriver binary (Debian package `chromium-driver`); override with
/// `LIVEFIRE_CHROMEDRIVER`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long [`sync_lv`] waits before failing.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Browser::start`] waits for chromedriver to listen.
pub const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// The Chromium flags used for every session (the profile directory is added per session).
///
/// Without the background-networking flags Chromium keeps trying to reach Google's hosts,
/// which a closed test network refuses.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,900",
];

const POLL: Duration = Duration::from_millis(25);

/// Why the harness failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum E2eError {
    /// Chromium or chromedriver is not installed.
    #[error(
        "{what} not found at {}: install it with `apt-get install -y chromium chromium-driver` \
         (scripts/test.sh does this), or set {env}",
        path.display()
    )]
    MissingBinary {
        /// `"chromium"` or `"chromedriver"`.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// The environment variable that overrides the path.
        env: &'static str,
    },
    /// chromedriver could not be spawned.
    #[error("could not spawn chromedriver: {0}")]
    Spawn(#[source] std::io::Error),
    /// chromedriver exited before it answered.
    #[error("chromedriver exited early ({status}); its log: {log}")]
    DriverExited {
        /// Its exit status.
        status: ExitStatus,
        /// The end of its log file.
        log: String,
    },
    /// chromedriver did not report a listening port in time.
    #[error("chromedriver did not start listening within {timeout:?}; its log: {log}")]
    DriverTimeout {
        /// How long we waited.
        timeout: Duration,
        /// The end of its log file.
        log: String,
    },
    /// chromedriver refused to open a Chromium session.
    #[error("could not open a Chromium session: {0}")]
    Session(#[from] NewSessionError),
    /// A WebDriver command failed.
    #[error("WebDriver command failed: {0}")]
    Command(#[from] CmdError),
    /// A wait ran out of time.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited, with the last observed state.
        what: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// A local I/O operation failed (temporary directory, listener).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The current page does not record its JavaScript errors: it was loaded before
    /// [`record_js_errors`].
    #[error(
        "the JavaScript error hook is not installed on this page (was it loaded before \
         record_js_errors?); window.__lfErrors is {0}"
    )]
    NoErrorHook(String),
    /// The current page logged JavaScript errors or warnings ([`check_no_js_errors`]).
    #[error("the page logged errors:\n{}", .0.join("\n"))]
    JsErrors(Vec<String>),
    /// The browser logged errors or warnings, or a request of the current page failed
    /// ([`check_clean_console`]).
    #[error("{}", console_report(.log, .failed_requests))]
    Console {
        /// The `SEVERE` and `WARNING` entries of the browser log, one line each
        /// (see [`BrowserLogEntry`]'s `Display`).
        log: Vec<String>,
        /// The current page's failed requests ([`failed_requests`]).
        failed_requests: Vec<String>,
    },
}

/// The message of [`E2eError::Console`].
fn console_report(log: &[String], failed_requests: &[String]) -> String {
    let mut out = String::from("the browser reported problems:");
    for entry in log {
        out.push_str("\n  browser log: ");
        out.push_str(entry);
    }
    for request in failed_requests {
        out.push_str("\n  failed request: ");
        out.push_str(request);
    }
    out
}

/// A headless Chromium session driven by a chromedriver process that this value owns.
///
/// Dropping it kills chromedriver and the browser (their whole process group) and deletes the
/// temporary profile; [`Browser::close`] first ends the WebDriver session cleanly.
#[derive(Debug)]
pub struct Browser {
    client: Option<Client>,
    driver: Option<Child>,
    /// Holds the profile (`profile/`) and chromedriver's log.
    root: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session.
    ///
    /// Fails with [`E2eError::MissingBinary`] if Chromium or chromedriver is not installed.
    pub async fn start() -> Result<Browser, E2eError> {
        let chromium = binary("chromium", "LIVEFIRE_CHROMIUM", CHROMIUM)?;
        let chromedriver = binary("chromedriver", "LIVEFIRE_CHROMEDRIVER", CHROMEDRIVER)?;

        // chromedriver binds a port of its own choosing (`--port=0`) and prints it, so no other
        // process can take the port between a probe and its bind. A driver that still dies
        // while the session is being opened (seen once in CI as "connection refused") is
        // started again.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Browser::start_once(&chromium, &chromedriver).await {
                Err(E2eError::DriverExited { .. } | E2eError::Session(_)) if attempt < 3 => {
                    tracing::warn!(attempt, "chromedriver session failed to start; retrying");
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn start_once(chromium: &Path, chromedriver: &Path) -> Result<Browser, E2eError> {
        let root = unique_temp_dir()?;
        let mut browser = Browser {
            client: None,
            driver: None,
            root,
        };
        let profile = browser.root.join("profile");
        std::fs::create_dir_all(&profile)?;
        let log_path = browser.root.join("chromedriver.log");

        let out_path = browser.root.join("chromedriver.out");
        let child = Command::new(chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            // Where it prints "… started successfully on port N."
            .stdout(std::fs::File::create(&out_path)?)
            .stderr(Stdio::null())
            // Its own process group, so that drop can kill the browser it launches as well.
            .process_group(0)
            .spawn()
            .map_err(E2eError::Spawn)?;
        browser.driver = Some(child);

        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&out_path)
                .ok()
                .as_deref()
                .and_then(driver_port)
            {
                break port;
            }
            if let Some(driver) = browser.driver.as_mut()
                && let Some(status) = driver.try_wait()?
            {
                return Err(E2eError::DriverExited {
                    status,
                    log: log_tail(&log_path),
                });
            }
            if Instant::now() >= deadline {
                return Err(E2eError::DriverTimeout {
                    timeout: DRIVER_START_TIMEOUT,
                    log: log_tail(&log_path),
                });
            }
            tokio::time::sleep(POLL).await;
        };

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            // Keeps the browser's console (page messages, network errors, exceptions) for
            // `browser_log`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": args,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("json! object literal");
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        browser.client = Some(client);
        Ok(browser)
    }

    /// The WebDriver client of this session.
    pub fn client(&self) -> &Client {
        match &self.client {
            Some(client) => client,
            // `start` only returns a Browser with a client, and `close` consumes it.
            None => unreachable!("Browser without a session"),
        }
    }

    /// Ends the WebDriver session (which closes Chromium), then stops chromedriver and removes
    /// the profile directory.
    pub async fn close(mut self) -> Result<(), E2eError> {
        if let Some(client) = self.client.take() {
            client.close().await?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.client = None;
        if let Some(mut driver) = self.driver.take() {
            // chromedriver started Chromium in its process group (`process_group(0)` above), so
            // the group id is chromedriver's pid.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", driver.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = driver.kill();
            let _ = driver.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Serves `router` on `127.0.0.1:0` in a background task and returns its base URL, e.g.
/// `http://127.0.0.1:43117` (no trailing slash).
///
/// The server runs until the Tokio runtime shuts down (the end of a `#[tokio::test]`). Handlers
/// can extract `ConnectInfo<SocketAddr>`.
pub async fn serve(router: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(err) = axum::serve(listener, service).await {
            tracing::error!(%err, "e2e test server stopped");
        }
    });
    Ok(format!("http://{addr}"))
}

/// The condition of [`sync_lv`], as a JavaScript expression.
const SYNC_LV_CONDITION: &str = "document.querySelector('[data-phx-main].phx-connected') !== null \
    && document.querySelector('.phx-click-loading, .phx-change-loading, .phx-submit-loading') === null";

/// What the page looks like when [`sync_lv`] gives up, for the error message.
const SYNC_LV_STATE: &str = "var m = document.querySelector('[data-phx-main]'); \
    return 'main view ' + (m ? 'class=\"' + m.className + '\"' : 'absent') + ', ' \
    + document.querySelectorAll('.phx-click-loading, .phx-change-loading, .phx-submit-loading').length \
    + ' element(s) still loading';";

/// Waits (up to [`SYNC_TIMEOUT`]) until the page's main LiveView is connected and no element
/// has `phx-click-loading`, `phx-change-loading` or `phx-submit-loading`: the page has joined
/// and every pushed event has been answered. Call it after loading a page and after each action.
///
/// Port of `syncLV` from LiveView's `test/e2e/utils.js`.
pub async fn sync_lv(client: &Client) -> Result<(), E2eError> {
    sync_lv_within(client, SYNC_TIMEOUT).await
}

/// [`sync_lv`] with an explicit timeout.
pub async fn sync_lv_within(client: &Client, timeout: Duration) -> Result<(), E2eError> {
    match wait_until_js(client, SYNC_LV_CONDITION, timeout).await {
        Err(E2eError::Timeout { timeout, .. }) => {
            let state = client
                .execute(SYNC_LV_STATE, Vec::new())
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "page state unknown".to_owned());
            Err(E2eError::Timeout {
                what: format!("a connected, idle LiveView ({state})"),
                timeout,
            })
        }
        other => other,
    }
}

/// Polls the JavaScript expression `condition` in the page until it is `true`, for at most
/// `timeout`. A page navigation in between is tolerated (the expression is retried).
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) -> Result<(), livefire_e2e::E2eError> {
/// livefire_e2e::wait_until_js(
///     client,
///     "document.querySelector('#count').textContent === '1'",
///     std::time::Duration::from_secs(5),
/// ).await?;
/// # Ok(())
/// # }
/// ```
pub async fn wait_until_js(
    client: &Client,
    condition: &str,
    timeout: Duration,
) -> Result<(), E2eError> {
    let script = format!("return !!({condition});");
    let deadline = Instant::now() + timeout;
    loop {
        let last_error = match client.execute(&script, Vec::new()).await {
            Ok(Value::Bool(true)) => return Ok(()),
            Ok(_) => None,
            // A navigation can destroy the execution context mid-poll; keep polling.
            Err(err) => Some(err),
        };
        if Instant::now() >= deadline {
            let what = match last_error {
                Some(err) => format!("`{condition}` (last error: {err})"),
                None => format!("`{condition}`"),
            };
            return Err(E2eError::Timeout { what, timeout });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs `script` in the page and returns its value; panics (naming the script) if it fails.
/// For tests, where a failing script is a failed test.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) {
/// let title = livefire_e2e::run_js(client, "return document.title;").await;
/// assert_eq!(title, "Counter");
/// # }
/// ```
pub async fn run_js(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|err| panic!("script `{script}` failed: {err}"))
}

/// [`wait_until_js`] for tests: on timeout it panics with `context`, the error and the page's
/// URL and text, which is usually what explains the failure.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) {
/// livefire_e2e::expect_js(
///     client,
///     "location.pathname === '/login'",
///     std::time::Duration::from_secs(5),
///     "a signed-out page goes to /login",
/// ).await;
/// # }
/// ```
pub async fn expect_js(client: &Client, condition: &str, timeout: Duration, context: &str) {
    if let Err(err) = wait_until_js(client, condition, timeout).await {
        let state = run_js(
            client,
            "return location.href + '\\n' + (document.body ? document.body.innerText : '');",
        )
        .await;
        panic!(
            "{context}: {err}\npage: {}",
            state.as_str().unwrap_or_default()
        );
    }
}

/// [`sync_lv`] for tests: panics with `context` and the page's state if the page does not
/// settle.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) {
/// livefire_e2e::expect_synced(client, "after the first click").await;
/// # }
/// ```
pub async fn expect_synced(client: &Client, context: &str) {
    if let Err(err) = sync_lv(client).await {
        panic!("{context}: {err}");
    }
}

/// Clicks the first element matching the CSS `selector`.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) -> Result<(), livefire_e2e::E2eError> {
/// livefire_e2e::click(client, "#inc").await?;
/// # Ok(())
/// # }
/// ```
pub async fn click(client: &Client, selector: &str) -> Result<(), E2eError> {
    client.find(Locator::Css(selector)).await?.click().await?;
    Ok(())
}

/// Installed on every new document before its own scripts run: records uncaught errors,
/// unhandled promise rejections and `console.error`/`console.warn` calls in
/// `window.__lfErrors`.
const ERROR_HOOK_JS: &str = r#"
(function () {
  var errors = [];
  window.__lfErrors = errors;
  function text(args) {
    return Array.prototype.map.call(args, function (a) {
      if (a instanceof Error) { return a.stack || String(a); }
      if (typeof a === 'object') { try { return JSON.stringify(a); } catch (e) { return String(a); } }
      return String(a);
    }).join(' ');
  }
  window.addEventListener('error', function (e) {
    errors.push('uncaught: ' + e.message + ' at ' + e.filename + ':' + e.lineno);
  });
  window.addEventListener('unhandledrejection', function (e) {
    errors.push('unhandled rejection: ' + text([e.reason]));
  });
  ['error', 'warn'].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      errors.push('console.' + level + ': ' + text(arguments));
      return original.apply(console, arguments);
    };
  });
})();
"#;

/// chromedriver's `goog/cdp/execute` extension: runs one Chrome DevTools Protocol command.
#[derive(Debug)]
struct CdpCommand {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session_id = session_id.ok_or(url::ParseError::EmptyHost)?;
        base_url.join(&format!("session/{session_id}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (Method::POST, Some(body.to_string()))
    }
}

/// Makes every page loaded from now on record its uncaught JavaScript errors, unhandled promise
/// rejections and `console.error`/`console.warn` calls, for [`js_errors`] and
/// [`check_no_js_errors`]. Call it once per session, before the first `goto`.
///
/// Uses chromedriver's `goog/cdp/execute` extension (`Page.addScriptToEvaluateOnNewDocument`),
/// so the hook runs before the page's own scripts.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) -> Result<(), livefire_e2e::E2eError> {
/// livefire_e2e::record_js_errors(client).await?;
/// client.goto("http://127.0.0.1:4000/").await?;
/// livefire_e2e::sync_lv(client).await?;
/// livefire_e2e::check_no_js_errors(client).await?;
/// # Ok(())
/// # }
/// ```
pub async fn record_js_errors(client: &Client) -> Result<(), E2eError> {
    client
        .issue_cmd(CdpCommand {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({"source": ERROR_HOOK_JS}),
        })
        .await?;
    Ok(())
}

/// The JavaScript errors and warnings the current page recorded since it loaded, one line each
/// (e.g. `console.warn: …`, `uncaught: … at <url>:<line>`).
///
/// Fails with [`E2eError::NoErrorHook`] if the page was loaded before [`record_js_errors`].
pub async fn js_errors(client: &Client) -> Result<Vec<String>, E2eError> {
    match client
        .execute("return window.__lfErrors || null;", Vec::new())
        .await?
    {
        Value::Array(errors) => Ok(errors
            .into_iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect()),
        other => Err(E2eError::NoErrorHook(other.to_string())),
    }
}

/// Fails with [`E2eError::JsErrors`] if the current page recorded any JavaScript error or
/// warning since it loaded (see [`js_errors`]).
pub async fn check_no_js_errors(client: &Client) -> Result<(), E2eError> {
    let errors = js_errors(client).await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(E2eError::JsErrors(errors))
    }
}

/// chromedriver's log extension (`POST /session/{id}/se/log`): returns the entries of one log
/// and empties it.
#[derive(Debug)]
struct GetLog {
    kind: &'static str,
}

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session_id = session_id.ok_or(url::ParseError::EmptyHost)?;
        base_url.join(&format!("session/{session_id}/se/log"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({"type": self.kind}).to_string()))
    }
}

/// One entry of the browser log ([`browser_log`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserLogEntry {
    /// `SEVERE`, `WARNING`, `INFO` or `DEBUG` (`console.error` is `SEVERE`, `console.warn`
    /// `WARNING`, `console.log` `INFO`; a failed resource load and an uncaught exception are
    /// `SEVERE`).
    pub level: String,
    /// Where it came from: `console-api`, `javascript` (uncaught exceptions), `network`,
    /// `security`, `deprecation`, ...
    pub source: String,
    /// The text, usually starting with the URL (and line:column) it is about.
    pub message: String,
}

impl BrowserLogEntry {
    /// Whether [`check_clean_console`] reports it: a `SEVERE` or `WARNING` entry.
    pub fn is_problem(&self) -> bool {
        matches!(self.level.as_str(), "SEVERE" | "WARNING")
    }
}

impl std::fmt::Display for BrowserLogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.level, self.source, self.message)
    }
}

/// Reads, and so empties, the browser log: everything logged by every page of the session
/// since the previous read, pages navigated away from included.
///
/// It holds what the page's own scripts cannot observe: "Failed to load resource: the server
/// responded with a status of 404", a WebSocket that failed to connect, CSP violations, as well
/// as console calls and uncaught exceptions.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) -> Result<(), livefire_e2e::E2eError> {
/// client.goto("http://127.0.0.1:4000/").await?;
/// for entry in livefire_e2e::browser_log(client).await? {
///     println!("{entry}");
/// }
/// # Ok(())
/// # }
/// ```
pub async fn browser_log(client: &Client) -> Result<Vec<BrowserLogEntry>, E2eError> {
    let entries = client.issue_cmd(GetLog { kind: "browser" }).await?;
    let Value::Array(entries) = entries else {
        return Ok(Vec::new());
    };
    let field = |entry: &Value, key: &str| entry[key].as_str().unwrap_or_default().to_owned();
    Ok(entries
        .iter()
        .map(|entry| BrowserLogEntry {
            level: field(entry, "level"),
            source: field(entry, "source"),
            message: field(entry, "message"),
        })
        .collect())
}

/// The requests of the current document that failed, one line each: the document itself and
/// every resource it loaded (scripts, stylesheets, images, icons, `fetch`, ...) whose HTTP
/// status is 400 or more, and same-origin ones that got no response at all (status 0: network
/// error, refused or blocked). WebSockets are not resources; a failed one shows in
/// [`browser_log`].
///
/// Uses the Resource Timing API (`responseStatus`, Chromium 109+).
pub async fn failed_requests(client: &Client) -> Result<Vec<String>, E2eError> {
    let found = client.execute(FAILED_REQUESTS_JS, Vec::new()).await?;
    Ok(match found {
        Value::Array(lines) => lines
            .into_iter()
            .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

/// The script of [`failed_requests`].
const FAILED_REQUESTS_JS: &str = r#"
var origin = location.origin;
var entries = performance.getEntriesByType('navigation')
  .concat(performance.getEntriesByType('resource'));
var failed = [];
entries.forEach(function (e) {
  var status = e.responseStatus;
  if (typeof status !== 'number') { return; }
  var sameOrigin = e.name === origin || e.name.indexOf(origin + '/') === 0;
  if (status >= 400 || (status === 0 && sameOrigin)) {
    failed.push(e.name + ' (' + (e.initiatorType || 'navigation') + '): '
      + (status === 0 ? 'no response' : 'status ' + status));
  }
});
return failed;
"#;

/// Fails with [`E2eError::Console`] if the browser logged any error or warning since the last
/// read of its log ([`browser_log`], which this reads and empties), or if a request of the
/// current page failed ([`failed_requests`]). Call it after each page load and at the end of
/// every browser test.
///
/// Unlike [`check_no_js_errors`], it needs no hook installed before the page loads, and it
/// sees the browser's own messages (a 404 for a script, an image or `/favicon.ico`, a refused
/// WebSocket), on every page the session visited.
///
/// ```no_run
/// # async fn demo(client: &fantoccini::Client) -> Result<(), livefire_e2e::E2eError> {
/// client.goto("http://127.0.0.1:4000/").await?;
/// livefire_e2e::sync_lv(client).await?;
/// livefire_e2e::check_clean_console(client).await?;
/// # Ok(())
/// # }
/// ```
pub async fn check_clean_console(client: &Client) -> Result<(), E2eError> {
    let log: Vec<String> = browser_log(client)
        .await?
        .iter()
        .filter(|entry| entry.is_problem())
        .map(ToString::to_string)
        .collect();
    let failed_requests = failed_requests(client).await?;
    if log.is_empty() && failed_requests.is_empty() {
        Ok(())
    } else {
        Err(E2eError::Console {
            log,
            failed_requests,
        })
    }
}

fn binary(what: &'static str, env: &'static str, default: &str) -> Result<PathBuf, E2eError> {
    let path = std::env::var_os(env)
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.is_file() {
        Ok(path)
    } else {
        Err(E2eError::MissingBinary { what, path, env })
    }
}

/// The port in chromedriver's start-up line, "ChromeDriver was started successfully on port N."
fn driver_port(stdout: &str) -> Option<u16> {
    let rest = stdout.split("started successfully on port ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|port| *port != 0)
}

fn unique_temp_dir() -> std::io::Result<PathBuf> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut name = OsString::from("livefire-e2e-");
    name.push(format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The last 2000 bytes of chromedriver's log, for error messages.
fn log_tail(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let start = bytes.len().saturating_sub(2000);
            String::from_utf8_lossy(&bytes[start..]).into_owned()
        }
        Err(err) => format!("(no log: {err})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_error_says_how_to_install() {
        let err = binary(
            "chromium",
            "LIVEFIRE_TEST_UNSET_VAR",
            "/nonexistent/chromium",
        )
        .expect_err("missing");
        let text = err.to_string();
        assert!(
            text.contains("apt-get install -y chromium chromium-driver"),
            "{text}"
        );
        assert!(text.contains("/nonexistent/chromium"), "{text}");
    }

    #[test]
    fn the_driver_port_is_read_from_its_start_up_line() {
        let out = "Starting ChromeDriver 156.0 (abc) on port 0\nOnly local connections are \
                   allowed.\nChromeDriver was started successfully on port 42641.\n";
        assert_eq!(driver_port(out), Some(42641));
        assert_eq!(
            driver_port("Starting ChromeDriver 156.0 (abc) on port 0\n"),
            None
        );
        assert_eq!(
            driver_port("ChromeDriver was started successfully on port "),
            None
        );
        assert_eq!(driver_port("was started successfully on port 0."), None);
    }

    /// Pids of live processes whose command line mentions `needle`.
    fn processes_mentioning(needle: &str) -> Vec<u32> {
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("procfs").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let zombie = state
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'));
            if !zombie && String::from_utf8_lossy(&cmdline).contains(needle) {
                pids.push(pid);
            }
        }
        pids
    }

    #[tokio::test]
    async fn drop_without_close_kills_browser_and_removes_profile() {
        let browser = Browser::start()
            .await
            .expect("chromium and chromedriver are installed");
        browser
            .client()
            .goto("about:blank")
            .await
            .expect("navigate");
        let root = browser.root.clone();
        let needle = root.join("profile").display().to_string();
        assert!(root.is_dir());
        assert!(
            !processes_mentioning(&needle).is_empty(),
            "chromium runs with the profile {needle}"
        );

        drop(browser);

        let deadline = Instant::now() + Duration::from_secs(5);
        while !processes_mentioning(&needle).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(processes_mentioning(&needle), Vec::<u32>::new());
        assert!(!root.exists(), "profile directory removed");
    }

    #[test]
    fn temp_dirs_are_unique() {
        let a = unique_temp_dir().expect("dir");
        let b = unique_temp_dir().expect("dir");
        assert_ne!(a, b);
        std::fs::remove_dir_all(a).expect("rm");
        std::fs::remove_dir_all(b).expect("rm");
    }
}
