//! Proves the harness works on this machine: a real headless Chromium clicks a button on a
//! page served by axum on loopback.

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use fantoccini::Locator;
use livefire_e2e::{
    Browser, E2eError, browser_log, check_clean_console, check_no_js_errors, click, js_errors,
    record_js_errors, serve, sync_lv, sync_lv_within, wait_until_js,
};

const PAGE: &str = r#"<!doctype html>
<html><head><title>smoke</title><link rel="icon" href="data:,"></head>
<body>
  <p id="text">idle</p>
  <button id="go" onclick="document.getElementById('text').textContent = 'clicked'">go</button>
  <div id="lv">not live</div>
  <button id="connect" onclick="
    var lv = document.getElementById('lv');
    lv.setAttribute('data-phx-main', '');
    lv.classList.add('phx-connected', 'phx-click-loading');
    setTimeout(function () { lv.classList.remove('phx-click-loading'); }, 300);
  ">connect</button>
</body></html>"#;

#[tokio::test]
async fn chromium_clicks_a_button_on_an_axum_page() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new().route("/", get(|| async { Html(PAGE) }));
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();

    client.goto(&format!("{base}/")).await?;
    check_clean_console(client).await?;
    assert_eq!(client.title().await?, "smoke");
    let text = client.find(Locator::Css("#text")).await?;
    assert_eq!(text.text().await?, "idle");

    client.find(Locator::Css("#go")).await?.click().await?;
    assert_eq!(text.text().await?, "clicked");

    // No LiveView on the page yet: sync_lv must time out, and say why.
    let err = sync_lv_within(client, Duration::from_millis(300))
        .await
        .expect_err("no data-phx-main element");
    assert!(matches!(err, E2eError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("main view absent"), "{err}");

    // A fake "connected" main view that stays loading for 300 ms: sync_lv waits it out.
    client.find(Locator::Css("#connect")).await?.click().await?;
    sync_lv(client).await?;
    let classes = client
        .find(Locator::Css("#lv"))
        .await?
        .attr("class")
        .await?
        .unwrap_or_default();
    assert!(classes.contains("phx-connected"), "{classes}");
    assert!(!classes.contains("phx-click-loading"), "{classes}");

    wait_until_js(
        client,
        "document.getElementById('text').textContent === 'clicked'",
        Duration::from_secs(1),
    )
    .await?;

    check_clean_console(client).await?;
    browser.close().await?;
    Ok(())
}

const NOISY_PAGE: &str = r#"<!doctype html>
<html><head><title>noisy</title><link rel="icon" href="data:,">
<script>console.warn('careful', {a: 1});</script>
</head>
<body>
  <button id="throw" onclick="throw new Error('boom')">throw</button>
</body></html>"#;

#[tokio::test]
async fn js_errors_records_warnings_and_uncaught_errors() -> Result<(), Box<dyn std::error::Error>>
{
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/noisy", get(|| async { Html(NOISY_PAGE) }));
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();

    // A page loaded before the hook is installed cannot report its errors.
    client.goto(&format!("{base}/")).await?;
    let err = js_errors(client).await.expect_err("no hook yet");
    assert!(matches!(err, E2eError::NoErrorHook(_)), "{err}");

    record_js_errors(client).await?;
    client.goto(&format!("{base}/")).await?;
    assert_eq!(js_errors(client).await?, Vec::<String>::new());
    check_no_js_errors(client).await?;

    // A warning logged by the page's own head script (the hook runs before it), then an
    // uncaught error thrown by a click handler.
    client.goto(&format!("{base}/noisy")).await?;
    assert_eq!(
        js_errors(client).await?,
        [r#"console.warn: careful {"a":1}"#]
    );
    click(client, "#throw").await?;
    wait_until_js(
        client,
        "window.__lfErrors.length === 2",
        Duration::from_secs(5),
    )
    .await?;
    let errors = js_errors(client).await?;
    assert!(
        errors[1].starts_with("uncaught: ") && errors[1].contains("boom"),
        "{errors:?}"
    );
    let err = check_no_js_errors(client).await.expect_err("errors logged");
    assert!(
        matches!(&err, E2eError::JsErrors(e) if *e == errors),
        "{err}"
    );
    assert!(err.to_string().contains("careful"), "{err}");

    // The browser log has both too; reading it empties it.
    let logged: Vec<String> = browser_log(client)
        .await?
        .iter()
        .filter(|e| e.is_problem())
        .map(ToString::to_string)
        .collect();
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("WARNING (console-api)") && l.contains("careful")),
        "{logged:?}"
    );
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("SEVERE (javascript)") && l.contains("boom")),
        "{logged:?}"
    );

    // Every new document starts with an empty list.
    client.goto(&format!("{base}/")).await?;
    check_no_js_errors(client).await?;
    check_clean_console(client).await?;

    browser.close().await?;
    Ok(())
}
