//! The chat driven in process with `livefire::test` (no browser): bad input gets an error or a
//! validation message and changes nothing; the nickname travels through the session.

use std::time::Duration;

use livefire::pubsub::PubSub;
use livefire::test::{Browser, LiveTest};
use livefire::token::Keyring;
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn app() -> axum::Router {
    chat::app(Keyring::random(), PubSub::local(), Duration::from_secs(5))
}

/// The lobby after choosing the nickname `nick`.
async fn joined(browser: &Browser, nick: &str) -> Result<LiveTest, Box<dyn std::error::Error>> {
    let mut view = browser.live("/rooms/lobby").await?;
    let redirect = view.submit_form("#nickname", &[("nick", nick)]).await?;
    Ok(view.follow_redirect(redirect.navigation()).await?)
}

#[tokio::test]
async fn an_unknown_room_redirects_to_the_lobby_with_a_flash() -> TestResult {
    let browser = Browser::start(&app()).await?;
    let redirect = browser
        .live("/rooms/nope")
        .await
        .unwrap_err()
        .into_navigation();
    let view = browser.follow(redirect.ok_or("a redirect")?).await?;
    assert_eq!(view.path(), "/rooms/lobby");
    assert!(view.has_element("#flash-error", Some("There is no room #nope.")));
    Ok(())
}

#[tokio::test]
async fn a_bad_nickname_is_refused_and_a_good_one_is_kept_in_the_session() -> TestResult {
    let browser = Browser::start(&app()).await?;
    let mut view = browser.live("/rooms/lobby").await?;
    for bad in ["", "   ", "a-nickname-far-too-long"] {
        view.submit_form("#nickname", &[("nick", bad)]).await?;
        assert!(
            view.has_element(".error", Some("use 1 to 20 characters")),
            "{bad:?}"
        );
        assert!(!view.has_element("form[phx-submit=send]", None));
    }
    let redirect = view.submit_form("#nickname", &[("nick", " ann ")]).await?;
    let view = view.follow_redirect(redirect.navigation()).await?;
    assert!(view.has_element("#flash-info", Some("Welcome, ann!")));
    assert!(view.has_element("form[phx-submit=send] label", Some("ann")));
    // A new page of the same browser still knows the nickname.
    let again = browser.live("/rooms/lobby").await?;
    assert!(again.has_element("form[phx-submit=send] label", Some("ann")));
    Ok(())
}

#[tokio::test]
async fn an_invalid_room_name_is_shown_as_typed_and_creates_nothing() -> TestResult {
    let browser = Browser::start(&app()).await?;
    let mut view = joined(&browser, "ann").await?;
    let rooms = view.elements("#rooms li")?.len();
    for (name, error) in [
        ("Rust", "lowercase letters"),
        ("a b", "lowercase letters"),
        ("", "lowercase letters"),
        ("lobby", "is taken"),
        (&"x".repeat(25), "lowercase letters"),
    ] {
        view.change_form("#new-room", &[("name", name)]).await?;
        assert!(
            view.has_element("#new-room .error", Some(error)),
            "{name:?}"
        );
        view.submit_form("#new-room", &[("name", name)]).await?;
        assert!(
            view.has_element("#new-room .error", Some(error)),
            "{name:?}"
        );
        assert_eq!(view.elements("#rooms li")?.len(), rooms, "{name:?}");
        assert_eq!(view.path(), "/rooms/lobby");
    }
    view.submit_form("#new-room", &[("name", "rust")]).await?;
    assert_eq!(view.path(), "/rooms/rust");
    assert_eq!(view.elements("#rooms li")?.len(), rooms + 1);
    assert!(view.has_element("#flash-info", Some("Room #rust created.")));
    // The form was reset: a new id, an empty input, no error.
    assert!(view.has_element("#new-room-1 input[name=name][value='']", None));
    assert!(!view.has_element(".error", None));
    Ok(())
}

#[tokio::test]
async fn unknown_events_and_messages_without_a_nickname_are_errors() -> TestResult {
    let browser = Browser::start(&app()).await?;
    let mut anonymous = browser.live("/rooms/lobby").await?;
    let err = anonymous
        .hook_event("send", json!({"body": "hi"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no nickname yet"), "{err}");

    let other = Browser::start(&app()).await?;
    let mut view = joined(&other, "ann").await?;
    let err = view.hook_event("delete-room", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("delete-room"), "{err}");
    // A blank message sends nothing and keeps the form.
    view.submit_form("#message", &[("body", "   ")]).await?;
    assert!(view.elements("#messages li")?.is_empty());
    assert!(view.has_element("form#message", None));
    view.submit_form("#message", &[("body", "hello")]).await?;
    // The message comes back through pub/sub, after the reply.
    view.wait_for("#messages li", Some("ann: hello")).await?;
    assert!(view.has_element("form#message-1 input[name=body][value='']", None));
    Ok(())
}
