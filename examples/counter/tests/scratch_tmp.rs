mod common;
use common::*;
use counter::Counter;
use fantoccini::Locator;
use livefire::token::Keyring;
use livefire::{LiveView, Socket};
use livefire_e2e::{Browser, serve, sync_lv};

#[tokio::test]
async fn scratch() {
    let base = serve(counter::app(Keyring::random(), None)).await.unwrap();
    let browser = Browser::start().await.unwrap();
    let client = browser.client();
    record_js_errors(client).await.unwrap();
    client.goto(&format!("{base}/")).await.unwrap();
    sync_lv(client).await.unwrap();
    client.find(Locator::Css("#add")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#text")).await.unwrap().send_keys("ab").await.unwrap();
    sync_lv(client).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let raw = client.execute("return document.querySelector('[data-phx-main]').outerHTML", vec![]).await.unwrap();
    eprintln!("RAW {}", raw.as_str().unwrap());
    let (live, st) = live_snapshot(client, "return 1;").await;
    eprintln!("LIVE\n{live}\nSTATE {st}");
    let m = Counter { items: vec!["Item 1".into()], text: "ab".into(), ..Default::default() };
    let exp = canonical_html(client, &m.render(&Socket::disconnected()).to_html()).await;
    eprintln!("EQUAL {}", exp == live);
    let bad = Counter { items: vec!["Item 1".into()], text: "a".into(), ..Default::default() };
    let exp = canonical_html(client, &bad.render(&Socket::disconnected()).to_html()).await;
    eprintln!("EQUAL-bad {}", exp == live);
    client.execute("console.error('boom', {a:1}); setTimeout(function(){ throw new Error('late'); }, 0);", vec![]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    eprintln!("ERRORS {:?}", js_errors(client).await);
    client.execute("document.querySelector('#ticks').setAttribute('data-x','1')", vec![]).await.unwrap();
    let (live, _) = live_snapshot(client, "return 1;").await;
    assert_same_dom(&live, &exp, "demo");
}
