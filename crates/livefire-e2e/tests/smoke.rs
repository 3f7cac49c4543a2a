//! Proves the harness works on this machine: a real headless Chromium clicks a button on a
//! page served by axum on loopback.

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use fantoccini::Locator;
use livefire_e2e::{Browser, E2eError, serve, sync_lv, sync_lv_within, wait_until_js};

const PAGE: &str = r#"<!doctype html>
<html><head><title>smoke</title></head>
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

    browser.close().await?;
    Ok(())
}
