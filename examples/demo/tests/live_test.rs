//! The demo's flows with `livefire::test` (no browser, the real protocol): registration
//! through the `phx-trigger-action` session form, login through the redirect's session
//! handoff, the guarded `/account` page, logout, validation as the user types. The same flows
//! as `tests/http.rs` (hand-written frames) and `tests/browser.rs` (Chromium).

use std::time::Instant;

use demo::db::Db;
use demo::users::Users;
use demo::web::auth::MUST_LOG_IN;
use demo::web::{self, AppState, LOGIN_FAILED};
use livefire::flash::FLASH_COOKIE;
use livefire::test::{Browser, Navigation, Outcome};
use livefire::token::Keyring;

/// The session cookie's name (plain http: no `__Host-` prefix).
const SESSION_COOKIE: &str = "livefire_session";

const PASSWORD: &str = "correct horse battery";

/// The demo's app on a private database file.
async fn app() -> (axum::Router, Users, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let db = tokio::task::spawn_blocking(move || Db::open(&path))
        .await
        .expect("task")
        .expect("db");
    let users = Users::new(db);
    let app = web::app(AppState {
        users: users.clone(),
        keyring: Keyring::random(),
        secure_cookies: false,
    });
    (app, users, dir)
}

#[tokio::test]
async fn register_logout_guarded_login_and_logout_again() {
    let (app, _users, _dir) = app().await;
    let started = Instant::now();
    let browser = Browser::start(&app).await.unwrap();

    // Guarded: /account redirects a visitor to /login, with a flash.
    let nav = browser
        .live("/account")
        .await
        .unwrap_err()
        .into_navigation()
        .expect("a redirect");
    assert_eq!(nav.to(), "/login");
    let login = browser.follow(nav).await.unwrap();
    assert!(login.has_element("#login-form", None));
    assert!(
        login.has_element(".flash-error", Some(MUST_LOG_IN)),
        "{}",
        login.html()
    );

    // Register: validation as the user types, then the session form.
    let mut register = login.navigate("/register").await.unwrap();
    assert_eq!(register.path(), "/register");
    register
        .change_form("#register-form", &[("email", "not-an-email")])
        .await
        .unwrap();
    assert!(
        register.has_element("#register-form .error", None),
        "{}",
        register.html()
    );
    let outcome = register
        .submit_form(
            "#register-form",
            &[
                ("email", "ann@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await
        .unwrap();
    let Outcome::Navigated(post @ Navigation::FormPost { .. }) = outcome else {
        panic!("registration renders the phx-trigger-action form: {outcome:?}")
    };
    assert_eq!(post.to(), "/live/session");
    let account = register.follow_redirect(post).await.unwrap();
    assert_eq!(account.path(), "/account");
    assert!(account.has_element("#signed-in", Some("Signed in as ann@example.com")));

    // Logout: the layout's form posts to /logout and lands on the home page, signed out.
    let page = browser.get("/account").await.unwrap();
    let home = browser
        .submit_form(&page, "#logout-form", &[])
        .await
        .unwrap();
    assert_eq!(home.path, "/");
    assert!(home.has_element("#signed-out", None), "{}", home.body);
    assert!(home.has_element(".flash-info", Some("Logged out successfully.")));
    assert!(browser.live("/account").await.is_err(), "guarded again");

    // Login: a wrong password answers live; the right one redirects with the session handoff.
    let mut login = browser.live("/login").await.unwrap();
    let html = login
        .submit_form(
            "#login-form",
            &[("email", "ann@example.com"), ("password", "wrong")],
        )
        .await
        .unwrap()
        .html();
    assert!(html.contains(LOGIN_FAILED), "{html}");
    let redirect = login
        .submit_form(
            "#login-form",
            &[
                ("email", "ann@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await
        .unwrap()
        .navigation();
    assert_eq!(redirect.to(), "/account");
    let ticket = redirect
        .flash()
        .expect("the ticket travels in the flash")
        .to_owned();
    // The WebSocket could not set the cookie: the session is still the signed-out one until
    // the next HTTP request redeems the ticket.
    let session_before = browser.cookie(SESSION_COOKIE).expect("a session cookie");
    let account = login.follow_redirect(redirect).await.unwrap();
    assert!(account.has_element("#signed-in", Some("Signed in as ann@example.com")));
    assert!(account.has_element(".flash-info", Some("Welcome back!")));
    let session_after = browser.cookie(SESSION_COOKIE).expect("a session cookie");
    assert_ne!(session_before, session_after, "redeemed: a renewed session");
    // The ticket is bound to this browser's session: in another browser it logs no one in.
    let thief = Browser::start(&app).await.unwrap();
    thief.get("/").await.unwrap();
    thief.set_cookie(FLASH_COOKIE, &ticket);
    let nav = thief
        .live("/account")
        .await
        .unwrap_err()
        .into_navigation()
        .expect("still guarded");
    assert_eq!(nav.to(), "/login");
    // The flash shows once; the login stays for later page loads.
    let again = browser.live("/account").await.unwrap();
    assert!(again.has_element("#signed-in", None));
    assert!(!again.has_element(".flash-info", None));

    // Logout again, from the account page.
    let page = browser.get("/account").await.unwrap();
    let home = browser
        .submit_form(&page, "#logout-form", &[])
        .await
        .unwrap();
    assert!(home.has_element("#signed-out", None));
    let elapsed = started.elapsed();
    // A measurement, not an assertion: `cargo bench -p demo --bench flow` times the flow
    // properly (BENCHMARKS.md).
    eprintln!("demo flow (register, logout, login, logout) took {elapsed:?}");
}

#[tokio::test]
async fn an_existing_user_logs_in_and_the_guard_holds_for_a_stranger() {
    let (app, users, _dir) = app().await;
    users
        .register("bob@example.com", PASSWORD)
        .await
        .expect("register");
    let stranger = Browser::start(&app).await.unwrap();
    let browser = Browser::start(&app).await.unwrap();
    let mut login = browser.live("/login").await.unwrap();
    // Validation: the password field is not "used" until typed into.
    login
        .change_form("#login-form", &[("email", "bob@example.com")])
        .await
        .unwrap();
    assert!(
        !login.has_element("#login-form .error", None),
        "{}",
        login.html()
    );
    login
        .change_form("#login-form", &[("password", "")])
        .await
        .unwrap();
    assert!(login.has_element("#login-form .error", Some("Please enter your password.")));
    let redirect = login
        .submit_form(
            "#login-form",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await
        .unwrap()
        .navigation();
    let account = login.follow_redirect(redirect).await.unwrap();
    assert!(account.has_element("#signed-in", Some("bob@example.com")));
    // Another browser (another cookie jar) is still a stranger.
    let nav = stranger
        .live("/account")
        .await
        .unwrap_err()
        .into_navigation()
        .unwrap();
    assert_eq!(nav.to(), "/login");
}

/// Logs `email` in through the live login form and its session handoff; returns the account
/// page.
async fn log_in(browser: &Browser, email: &str, password: &str) -> livefire::test::LiveTest {
    let mut login = browser.live("/login").await.unwrap();
    let redirect = login
        .submit_form("#login-form", &[("email", email), ("password", password)])
        .await
        .unwrap()
        .navigation();
    assert_eq!(redirect.to(), "/account");
    let account = login.follow_redirect(redirect).await.unwrap();
    assert!(
        account.has_element("#signed-in", Some(email)),
        "{}",
        account.html()
    );
    account
}

/// docs/threat-model.md case 69 with `livefire::test`: `/settings` refuses a wrong current
/// password live and changes nothing; the right one changes the password, keeps this browser
/// signed in (a new token through the session handoff) and signs every other browser out.
#[tokio::test]
async fn case_69_settings_changes_the_password_and_signs_other_browsers_out() {
    let (app, users, _dir) = app().await;
    users
        .register("cy@example.com", PASSWORD)
        .await
        .expect("register");
    let other = Browser::start(&app).await.unwrap();
    log_in(&other, "cy@example.com", PASSWORD).await;
    let browser = Browser::start(&app).await.unwrap();
    let account = log_in(&browser, "cy@example.com", PASSWORD).await;

    // Live navigation from the account page into the guarded settings page.
    let mut settings = account.navigate("/settings").await.unwrap();
    assert!(settings.has_element("#settings-email", Some("cy@example.com")));

    // A wrong current password: an error on that field, nothing changed.
    let html = settings
        .submit_form(
            "#password-form",
            &[
                ("current_password", "not my password"),
                ("password", "a newer password 2"),
            ],
        )
        .await
        .unwrap()
        .html();
    assert!(html.contains("is not your current password"), "{html}");
    assert!(other.live("/account").await.is_ok(), "nothing was revoked");

    // The right one: a redirect carrying the new token's ticket, back to /settings.
    let redirect = settings
        .submit_form(
            "#password-form",
            &[
                ("current_password", PASSWORD),
                ("password", "a newer password 2"),
            ],
        )
        .await
        .unwrap()
        .navigation();
    assert_eq!(redirect.to(), "/settings");
    let settings = settings.follow_redirect(redirect).await.unwrap();
    assert!(
        settings.has_element(".flash-info", Some(web::PASSWORD_UPDATED)),
        "{}",
        settings.html()
    );
    // This browser stays signed in, on later page loads too.
    let account = browser.live("/account").await.unwrap();
    assert!(account.has_element("#signed-in", Some("cy@example.com")));
    // The other browser's login was revoked: its next page load is guarded.
    let nav = other
        .live("/account")
        .await
        .unwrap_err()
        .into_navigation()
        .expect("signed out");
    assert_eq!(nav.to(), "/login");

    // The old password is refused, the new one accepted.
    let third = Browser::start(&app).await.unwrap();
    let mut login = third.live("/login").await.unwrap();
    let html = login
        .submit_form(
            "#login-form",
            &[("email", "cy@example.com"), ("password", PASSWORD)],
        )
        .await
        .unwrap()
        .html();
    assert!(html.contains(LOGIN_FAILED), "{html}");
    log_in(&third, "cy@example.com", "a newer password 2").await;
}
