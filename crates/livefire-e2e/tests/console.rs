//! Proves that [`check_clean_console`] can fail: a page that references a missing image and a
//! missing script, a page without an icon (the browser then asks for `/favicon.ico`), console
//! errors and a refused WebSocket are all reported, with readable lines; a clean page passes.

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use livefire_e2e::{Browser, E2eError, browser_log, check_clean_console, failed_requests, serve};

/// No request fails and nothing is logged above `INFO` (the empty `data:` icon keeps the
/// browser from asking for `/favicon.ico`).
const CLEAN: &str = r#"<!doctype html>
<html><head><title>clean</title><link rel="icon" href="data:,"></head>
<body><p>clean</p><script>console.log('just information');</script></body></html>"#;

/// Two resources that are not there.
const BROKEN: &str = r#"<!doctype html>
<html><head><title>broken</title><link rel="icon" href="data:,"></head>
<body><img id="img" src="/missing.png" alt="">
<script src="/missing.js"></script></body></html>"#;

/// No icon link at all.
const NO_ICON: &str = r#"<!doctype html>
<html><head><title>no icon</title></head><body><p>no icon</p></body></html>"#;

/// Console calls, an uncaught exception and a WebSocket nobody answers.
const NOISY: &str = r#"<!doctype html>
<html><head><title>noisy</title><link rel="icon" href="data:,"></head>
<body><script>
console.warn('a warning');
console.error('an error');
new WebSocket('ws://' + location.host + '/no-socket-here');
setTimeout(function () { throw new Error('thrown later'); }, 0);
</script></body></html>"#;

fn app() -> Router {
    Router::new()
        .route("/clean", get(|| async { Html(CLEAN) }))
        .route("/broken", get(|| async { Html(BROKEN) }))
        .route("/no-icon", get(|| async { Html(NO_ICON) }))
        .route("/noisy", get(|| async { Html(NOISY) }))
}

/// Reads the browser log until a problem entry mentions every one of `needles` (or 10 s pass);
/// returns every problem line read.
async fn wait_for_log(client: &fantoccini::Client, needles: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = Vec::new();
    loop {
        let entries = browser_log(client).await.expect("browser log");
        lines.extend(
            entries
                .iter()
                .filter(|e| e.is_problem())
                .map(ToString::to_string),
        );
        let all_seen = needles
            .iter()
            .all(|needle| lines.iter().any(|line| line.contains(needle)));
        if all_seen || Instant::now() >= deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn check_clean_console_reports_404s_console_errors_and_failed_sockets()
-> Result<(), Box<dyn std::error::Error>> {
    let base = serve(app()).await?;
    let browser = Browser::start().await?;
    let client = browser.client();

    // A clean page passes (console.log is INFO, not a problem).
    client.goto(&format!("{base}/clean")).await?;
    check_clean_console(client).await?;

    // Two 404s: both in the browser log and in the page's failed requests.
    client.goto(&format!("{base}/broken")).await?;
    let failed = failed_requests(client).await?;
    assert!(
        failed.contains(&format!("{base}/missing.png (img): status 404")),
        "{failed:?}"
    );
    assert!(
        failed.contains(&format!("{base}/missing.js (script): status 404")),
        "{failed:?}"
    );
    let err = check_clean_console(client)
        .await
        .expect_err("two resources are missing");
    let text = err.to_string();
    let E2eError::Console {
        log,
        failed_requests,
    } = err
    else {
        panic!("not a console error: {text}");
    };
    assert_eq!(failed_requests, failed);
    for missing in ["missing.png", "missing.js"] {
        assert!(
            log.iter().any(|line| line.starts_with("SEVERE (network): ")
                && line.contains(missing)
                && line.contains("status of 404")),
            "{missing} not in {log:?}"
        );
        assert!(text.contains(missing), "{text}");
    }
    assert!(
        text.starts_with("the browser reported problems:\n  browser log: SEVERE (network): "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\n  failed request: {base}/missing.png (img): status 404"
        )),
        "{text}"
    );

    // The log was emptied by that read, but the page's failed requests are still there.
    let err = check_clean_console(client).await.expect_err("still broken");
    assert!(
        matches!(&err, E2eError::Console { log, failed_requests }
            if log.is_empty() && failed_requests.len() == 2),
        "{err}"
    );

    // The log outlives the page: a 404 on a page left at once is reported on the next one.
    client.goto(&format!("{base}/broken")).await?;
    client.goto(&format!("{base}/clean")).await?;
    let err = check_clean_console(client)
        .await
        .expect_err("the broken page's 404s are in the log");
    assert!(
        matches!(&err, E2eError::Console { log, failed_requests }
            if log.len() == 2 && failed_requests.is_empty()),
        "{err}"
    );
    check_clean_console(client).await?;

    // Without an icon link the browser asks for /favicon.ico, and gets a 404.
    client.goto(&format!("{base}/no-icon")).await?;
    let lines = wait_for_log(client, &["/favicon.ico"]).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/favicon.ico") && l.contains("404")),
        "{lines:?}"
    );

    // Console errors and warnings, an uncaught exception and a refused WebSocket.
    client.goto(&format!("{base}/noisy")).await?;
    let lines = wait_for_log(
        client,
        &["a warning", "an error", "thrown later", "no-socket-here"],
    )
    .await;
    for (level, needle) in [
        ("WARNING (console-api)", "a warning"),
        ("SEVERE (console-api)", "an error"),
        ("SEVERE (javascript)", "thrown later"),
        ("SEVERE", "/no-socket-here"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(level) && l.contains(needle)),
            "{level} {needle} not in {lines:?}"
        );
    }

    client.goto(&format!("{base}/clean")).await?;
    check_clean_console(client).await?;
    browser.close().await?;
    Ok(())
}
