//! Security tests for the token, session, CSRF and flash layers, named after the cases in
//! docs/threat-model.md §6.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use livefire::csrf::VerifyCsrfLayer;
use livefire::flash::{
    FLASH_COOKIE, Flash, FlashHandle, IncomingFlash, LiveFlashLayer, seal_flash,
};
use livefire::session::{CookieSessionLayer, Session, SessionError};
use livefire::token::{Clock, Keyring, ManualClock};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const SECRET: [u8; 64] = [0x11; 64];
const OLD_SECRET: [u8; 64] = [0x22; 64];
const PROD_SECRET: [u8; 64] = [0x33; 64];
const HOST_NAME: &str = "__Host-livefire_session";
const PLAIN_NAME: &str = "livefire_session";

fn clock() -> (Clock, ManualClock) {
    Clock::manual(UNIX_EPOCH + Duration::from_secs(1_750_000_000))
}

fn keyring(secret: [u8; 64], clock: &Clock) -> Keyring {
    Keyring::new(secret)
        .expect("64-byte secret")
        .with_clock(clock.clone())
}

// ---------------------------------------------------------------------------------------------
// A small app and a cookie jar
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn app(keyring: &Keyring, secure: bool, calls: &Calls) -> Router {
    let form_calls = calls.clone();
    Router::new()
        .route(
            "/set",
            get(
                |session: Session, Query(q): Query<BTreeMap<String, String>>| async move {
                    for (k, v) in q {
                        session.insert(&k, v).expect("small");
                    }
                    "ok"
                },
            ),
        )
        .route(
            "/get",
            get(|session: Session| async move { Json(Value::Object(session.data())) }),
        )
        .route("/id", get(|session: Session| async move { session.id() }))
        .route(
            "/csrf",
            get(|session: Session| async move { session.csrf_token() }),
        )
        .route(
            "/renew",
            post(|session: Session| async move {
                session.renew();
                "renewed"
            }),
        )
        .route(
            "/renew-keep-locale",
            post(|session: Session| async move {
                session.renew_keeping(&["locale"]);
                "renewed"
            }),
        )
        .route(
            "/destroy",
            post(|session: Session| async move {
                session.destroy();
                "bye"
            }),
        )
        .route(
            "/destroy-then-write",
            post(|session: Session| async move {
                session.destroy();
                session.insert("note", "goodbye").expect("small");
                "bye"
            }),
        )
        .route(
            "/big",
            get(
                |session: Session, Query(q): Query<BTreeMap<String, usize>>| async move {
                    let n = q.get("n").copied().unwrap_or(0);
                    match session.insert("blob", "x".repeat(n)) {
                        Ok(()) => (StatusCode::OK, "stored".to_owned()),
                        Err(SessionError::TooLarge { size }) => (
                            StatusCode::INSUFFICIENT_STORAGE,
                            format!("too large: {size}"),
                        ),
                        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                    }
                },
            ),
        )
        .route(
            "/form",
            post(move |body: String| {
                let calls = form_calls.clone();
                async move {
                    calls.0.fetch_add(1, Ordering::SeqCst);
                    format!("body={body}")
                }
            }),
        )
        .route(
            "/flash",
            get(|IncomingFlash(flash): IncomingFlash| async move { Json(flash) }),
        )
        .route(
            "/logout",
            get(|session: Session, flash: FlashHandle| async move {
                session.renew();
                flash.put("info", "Logged out successfully.");
                Redirect::to("/")
            }),
        )
        .route("/redirect", get(|| async { Redirect::to("/flash") }))
        .route(
            "/put-and-render",
            get(|flash: FlashHandle| async move {
                flash.put("info", json!({"title": "Saved", "subtitle": "next page"}));
                Json(flash.incoming())
            }),
        )
        .layer(VerifyCsrfLayer::new())
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring.clone()).secure(secure))
}

/// A minimal browser cookie jar.
#[derive(Clone, Debug, Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(value.to_str().expect("ascii").to_owned())
                .expect("valid Set-Cookie");
            if c.max_age() == Some(cookie::time::Duration::ZERO) {
                self.0.remove(c.name());
            } else {
                self.0.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("json body")
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect()
    }
}

async fn send(app: &Router, jar: &mut Jar, req: Request<Body>) -> Reply {
    let mut req = req;
    if let Some(cookies) = jar.header() {
        req.headers_mut()
            .insert(header::COOKIE, cookies.parse().expect("header"));
    }
    let res: Response = app.clone().oneshot(req).await.expect("infallible");
    jar.absorb(res.headers());
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf8"),
    }
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn form_req(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

fn flip_byte(token: &str, index: usize) -> String {
    let mut raw = URL_SAFE_NO_PAD.decode(token).expect("b64");
    raw[index] ^= 0x80;
    URL_SAFE_NO_PAD.encode(raw)
}

/// Logs a browser in: `user_token=abc` in a fresh session.
async fn logged_in(app: &Router) -> Jar {
    let mut jar = Jar::default();
    let r = send(app, &mut jar, get_req("/set?user_token=abc")).await;
    assert_eq!(r.status, StatusCode::OK);
    jar
}

// ---------------------------------------------------------------------------------------------
// A. Cookies and session
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn case_9_session_cookie_flags_exact() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = Jar::default();
    let r = send(&app, &mut jar, get_req("/set?k=v")).await;
    let cookies = r.set_cookies();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let raw = &cookies[0];
    let c = cookie::Cookie::parse(raw.clone()).expect("parses");
    assert_eq!(c.name(), HOST_NAME);
    assert_eq!(c.secure(), Some(true), "{raw}");
    assert_eq!(c.http_only(), Some(true), "{raw}");
    assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{raw}");
    assert_eq!(c.path(), Some("/"), "{raw}");
    assert_eq!(c.domain(), None, "{raw}");
    assert_eq!(c.max_age(), None, "{raw}");
    assert!(c.expires().is_none(), "{raw}");
    let lower = raw.to_ascii_lowercase();
    assert!(!lower.contains("domain") && !lower.contains("max-age") && !lower.contains("expires"));
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );

    // A response that does not change the session sets no cookie; it still depends on the
    // session the request carried, so it is not cached either.
    let r = send(&app, &mut jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({"k": "v"}));
    assert!(r.set_cookies().is_empty());
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
}

#[tokio::test]
async fn case_9_insecure_mode_for_localhost_has_no_prefix_and_no_secure() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), false, &Calls::default());
    let mut jar = Jar::default();
    let r = send(&app, &mut jar, get_req("/set?k=v")).await;
    let c = cookie::Cookie::parse(r.set_cookies()[0].clone()).expect("parses");
    assert_eq!(c.name(), PLAIN_NAME);
    assert_eq!(c.secure(), None);
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(cookie::SameSite::Lax));
}

#[tokio::test]
async fn case_1_flipped_byte_session_cookie_reads_as_empty() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let jar = logged_in(&app).await;
    let value = jar.get(HOST_NAME).expect("cookie").to_owned();
    let len = URL_SAFE_NO_PAD.decode(&value).expect("b64").len();
    // version, key id, nonce, ciphertext start and end, tag.
    for index in [
        0,
        1,
        4,
        5,
        17,
        28,
        29,
        40,
        len - 17,
        len - 16,
        len - 8,
        len - 1,
    ] {
        let mut jar = Jar::default();
        jar.set(HOST_NAME, &flip_byte(&value, index));
        let r = send(&app, &mut jar, get_req("/get")).await;
        assert_eq!(r.status, StatusCode::OK, "byte {index}");
        assert_eq!(r.json(), json!({}), "byte {index}");
        assert!(
            r.set_cookies().is_empty(),
            "byte {index}: no Set-Cookie with old data"
        );
    }
}

#[tokio::test]
async fn case_2_garbage_or_truncated_session_cookie_reads_as_empty() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let jar = logged_in(&app).await;
    let value = jar.get(HOST_NAME).expect("cookie").to_owned();
    let mut bad: Vec<String> = ["", "XCP.", "SFMyNTY.", "%%%", "null", "A", "AQ"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    bad.extend([10, 40, value.len() / 2, value.len() - 1].map(|n| value[..n].to_owned()));
    bad.push("A".repeat(9000));
    for v in bad {
        let mut jar = Jar::default();
        jar.set(HOST_NAME, &v);
        let r = send(&app, &mut jar, get_req("/get")).await;
        assert_eq!(r.status, StatusCode::OK, "{v:?}");
        assert_eq!(r.json(), json!({}), "{v:?}");
    }
}

#[tokio::test]
async fn case_4_cookie_from_other_secret_reads_as_empty() {
    let (clock, _) = clock();
    let prod = app(&keyring(PROD_SECRET, &clock), true, &Calls::default());
    let staging = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&prod).await;
    let r = send(&prod, &mut jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({"user_token": "abc"}));
    let r = send(&staging, &mut jar, get_req("/get")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({}));
}

#[tokio::test]
async fn case_5_flash_or_other_token_pasted_as_session_cookie_rejected() {
    let (clock, _) = clock();
    let k = keyring(SECRET, &clock);
    let app = app(&k, true, &Calls::default());
    let mut flash = Flash::new();
    flash.put("user_token", "abc");
    let payload = json!({"id": "x", "created": 0, "data": {"user_token": "abc"}});
    let forged = [
        seal_flash(&k, "sid", &flash),
        k.seal("flash", &payload, Duration::from_secs(60)),
        k.seal("lv-page", &payload, Duration::from_secs(60)),
        k.seal("remember-me", &payload, Duration::from_secs(60)),
        k.seal(
            "session:livefire_session",
            &payload,
            Duration::from_secs(60),
        ),
        k.seal("session:__Host-other", &payload, Duration::from_secs(60)),
    ];
    for value in forged {
        let mut jar = Jar::default();
        jar.set(HOST_NAME, &value);
        let r = send(&app, &mut jar, get_req("/get")).await;
        assert_eq!(r.json(), json!({}), "{value}");
    }
    // Control: the same payload sealed for the right purpose opens.
    let mut jar = Jar::default();
    jar.set(
        HOST_NAME,
        &k.seal(
            "session:__Host-livefire_session",
            &payload,
            Duration::from_secs(60),
        ),
    );
    let r = send(&app, &mut jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({"user_token": "abc"}));
}

#[tokio::test]
async fn case_7_rotation_accepts_old_key_and_rewrites_in_same_response() {
    let (clock, _) = clock();
    let old_app = app(&keyring(OLD_SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&old_app).await;
    let old_value = jar.get(HOST_NAME).expect("cookie").to_owned();

    let rotated = keyring(SECRET, &clock)
        .with_fallback(OLD_SECRET)
        .expect("fallback");
    let rotated_app = app(&rotated, true, &Calls::default());
    let r = send(&rotated_app, &mut jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({"user_token": "abc"}));
    assert_eq!(r.set_cookies().len(), 1, "rewritten in the same response");
    let new_value = jar.get(HOST_NAME).expect("cookie").to_owned();
    assert_ne!(new_value, old_value);

    // The rewritten cookie opens with the new key alone; the old cookie no longer does.
    let new_only = app(&keyring(SECRET, &clock), true, &Calls::default());
    let r = send(&new_only, &mut jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({"user_token": "abc"}));
    assert!(
        r.set_cookies().is_empty(),
        "current-key cookie is not rewritten"
    );
    let mut old_jar = Jar::default();
    old_jar.set(HOST_NAME, &old_value);
    let r = send(&new_only, &mut old_jar, get_req("/get")).await;
    assert_eq!(r.json(), json!({}), "fallback removed: anon");
}

#[tokio::test]
async fn case_10_session_too_large_refused_at_write_time_and_login_kept() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&app).await;
    let normal = jar.get(HOST_NAME).expect("cookie").len() + HOST_NAME.len() + 1;
    assert!(
        normal < 512,
        "a login-only session cookie is small: {normal} bytes"
    );

    // About 3.9 KB works.
    let r = send(&app, &mut jar, get_req("/big?n=2650")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let size = HOST_NAME.len() + 1 + jar.get(HOST_NAME).expect("cookie").len();
    assert!(
        (3800..=4096).contains(&size),
        "cookie name+value is {size} bytes"
    );
    let kept_value = jar.get(HOST_NAME).expect("cookie").to_owned();

    // Past 4096 bytes: refused at insert, with an explicit error; nothing written.
    let r = send(&app, &mut jar, get_req("/big?n=2900")).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    assert!(r.body.starts_with("too large: "), "{}", r.body);
    let reported: usize = r.body["too large: ".len()..].parse().expect("size");
    assert!(reported > 4096, "{reported}");
    assert!(r.set_cookies().is_empty(), "{:?}", r.set_cookies());
    assert_eq!(jar.get(HOST_NAME), Some(kept_value.as_str()));

    let r = send(&app, &mut jar, get_req("/get")).await;
    let data = r.json();
    assert_eq!(data["user_token"], json!("abc"), "the login is not lost");
    assert_eq!(data["blob"].as_str().map(str::len), Some(2650));
}

#[tokio::test]
async fn case_10_every_emitted_session_cookie_fits_4096() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), false, &Calls::default());
    let mut jar = Jar::default();
    for n in (2000..3200).step_by(37) {
        let r = send(&app, &mut jar, get_req(&format!("/big?n={n}"))).await;
        for c in r.set_cookies() {
            let pair = c.split(';').next().expect("pair");
            assert!(pair.len() <= 4096, "n={n}: {}", pair.len());
        }
        if r.status == StatusCode::OK {
            let size = PLAIN_NAME.len() + 1 + jar.get(PLAIN_NAME).expect("cookie").len();
            assert!(size <= 4096);
        }
    }
}

#[tokio::test]
async fn case_13_session_past_absolute_lifetime_reads_as_empty() {
    let (clock, handle) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&app).await;
    handle.advance(Duration::from_secs(10 * 24 * 3600));
    // A write on day 10 does not extend the lifetime past 14 days from creation.
    let r = send(&app, &mut jar, get_req("/set?k=v")).await;
    assert_eq!(r.set_cookies().len(), 1);
    handle.advance(Duration::from_secs(4 * 24 * 3600 - 1));
    let r = send(&app, &mut jar, get_req("/get")).await;
    assert_eq!(
        r.json(),
        json!({"user_token": "abc", "k": "v"}),
        "day 14 minus 1 s"
    );
    handle.advance(Duration::from_secs(2));
    let r = send(&app, &mut jar, get_req("/get")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({}),
        "past 14 days: anon although it decrypts"
    );
}

#[tokio::test]
async fn case_11_renew_changes_id_and_csrf_and_clears_data() {
    let (clock, _) = clock();
    let calls = Calls::default();
    let app = app(&keyring(SECRET, &clock), true, &calls);
    // The attacker's pre-login session with k=v and a known CSRF token.
    let mut jar = Jar::default();
    send(&app, &mut jar, get_req("/set?k=v&locale=de")).await;
    let old_id = send(&app, &mut jar, get_req("/id")).await.body;
    let old_csrf = send(&app, &mut jar, get_req("/csrf")).await.body;
    let old_cookie = jar.get(HOST_NAME).expect("cookie").to_owned();

    let r = send(
        &app,
        &mut jar,
        form_req("/renew", &format!("_csrf_token={old_csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.set_cookies().len(), 1);
    assert_ne!(jar.get(HOST_NAME), Some(old_cookie.as_str()));

    let new_id = send(&app, &mut jar, get_req("/id")).await.body;
    assert_ne!(new_id, old_id, "id changed after the response was written");
    assert_eq!(
        send(&app, &mut jar, get_req("/get")).await.json(),
        json!({})
    );

    // The old CSRF token no longer works; a new one does.
    let r = send(
        &app,
        &mut jar,
        form_req("/form", &format!("_csrf_token={old_csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let new_csrf = send(&app, &mut jar, get_req("/csrf")).await.body;
    let r = send(
        &app,
        &mut jar,
        form_req("/form", &format!("_csrf_token={new_csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // An allowlisted key survives renew_keeping.
    send(&app, &mut jar, get_req("/set?k=v&locale=de")).await;
    let r = send(
        &app,
        &mut jar,
        form_req("/renew-keep-locale", &format!("_csrf_token={new_csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        send(&app, &mut jar, get_req("/get")).await.json(),
        json!({"locale": "de"})
    );
}

#[tokio::test]
async fn destroy_expires_the_cookie() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&app).await;
    let csrf = send(&app, &mut jar, get_req("/csrf")).await.body;
    let r = send(
        &app,
        &mut jar,
        form_req("/destroy", &format!("_csrf_token={csrf}")),
    )
    .await;
    let cookies = r.set_cookies();
    assert_eq!(cookies.len(), 1);
    let c = cookie::Cookie::parse(cookies[0].clone()).expect("parses");
    assert_eq!(c.name(), HOST_NAME);
    assert_eq!(c.value(), "");
    assert_eq!(c.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.path(), Some("/"));
    assert!(jar.get(HOST_NAME).is_none());
}

/// docs/threat-model.md case 67 (the library's part): a session destroyed and then written in
/// the same request (a logout that leaves a flash for the next page) expires the old cookie,
/// with the same attributes, before the fresh session's cookie, which is a browser-session
/// cookie with a new id even if the old one was persistent.
#[tokio::test]
async fn case_67_destroy_then_write_expires_the_old_cookie_before_the_fresh_one() {
    let (clock, _) = clock();
    let keyring = keyring(SECRET, &clock);
    for secure in [true, false] {
        let name = if secure { HOST_NAME } else { PLAIN_NAME };
        let app = app(&keyring, secure, &Calls::default());
        let mut jar = logged_in(&app).await;
        let old_id = send(&app, &mut jar, get_req("/id")).await.body;
        let csrf = send(&app, &mut jar, get_req("/csrf")).await.body;
        let old_value = jar.get(name).expect("a session cookie").to_owned();
        let r = send(
            &app,
            &mut jar,
            form_req("/destroy-then-write", &format!("_csrf_token={csrf}")),
        )
        .await;
        let cookies: Vec<cookie::Cookie<'static>> = r
            .set_cookies()
            .into_iter()
            .map(|c| cookie::Cookie::parse(c).expect("parses"))
            .collect();
        assert_eq!(cookies.len(), 2, "{cookies:?}");
        let (removal, fresh) = (&cookies[0], &cookies[1]);
        for c in [removal, fresh] {
            assert_eq!(c.name(), name);
            assert_eq!(c.path(), Some("/"));
            assert_eq!(c.http_only(), Some(true));
            assert_eq!(c.same_site(), Some(cookie::SameSite::Lax));
            assert_eq!(c.secure(), secure.then_some(true));
            assert_eq!(c.domain(), None);
        }
        assert_eq!(removal.value(), "");
        assert_eq!(removal.max_age(), Some(cookie::time::Duration::ZERO));
        assert_eq!(fresh.max_age(), None, "a browser-session cookie");
        assert_ne!(fresh.value(), old_value);
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
        // The jar applied both in order: the fresh session, without the old data.
        assert_eq!(
            send(&app, &mut jar, get_req("/get")).await.json(),
            json!({"note": "goodbye"})
        );
        assert_ne!(send(&app, &mut jar, get_req("/id")).await.body, old_id);
    }
}

#[tokio::test]
async fn session_extractor_without_layer_is_a_clear_500() {
    let app: Router = Router::new().route("/", get(|_s: Session| async { "unreachable" }));
    let res = app.oneshot(get_req("/")).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(res.into_body(), 1024)
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&body).contains("CookieSessionLayer"));
}

// ---------------------------------------------------------------------------------------------
// F. CSRF on form posts (case 62)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn case_62_post_without_csrf_token_is_403_and_handler_not_called() {
    let (clock, _) = clock();
    let calls = Calls::default();
    let app = app(&keyring(SECRET, &clock), true, &calls);
    let mut jar = logged_in(&app).await;
    let _ = send(&app, &mut jar, get_req("/csrf")).await;
    let before = jar.clone();

    let r = send(&app, &mut jar, form_req("/form", "user=a&password=b")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &app,
        &mut jar,
        Request::post("/form")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for method in ["PUT", "DELETE", "PATCH"] {
        let r = send(
            &app,
            &mut jar,
            Request::builder()
                .method(method)
                .uri("/form")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        // 403 (no token) — never reaches routing.
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method}");
    }
    assert_eq!(calls.get(), 0);
    assert_eq!(jar.0, before.0, "no session change");
}

#[tokio::test]
async fn case_62_wrong_or_foreign_csrf_token_is_403() {
    let (clock, _) = clock();
    let calls = Calls::default();
    let app = app(&keyring(SECRET, &clock), true, &calls);
    let mut victim = logged_in(&app).await;
    let _ = send(&app, &mut victim, get_req("/csrf")).await;
    let mut attacker = Jar::default();
    let attacker_token = send(&app, &mut attacker, get_req("/csrf")).await.body;

    let forged = [
        attacker_token.clone(),
        "A".repeat(86),
        "garbage".to_owned(),
        String::new(),
    ];
    for token in &forged {
        let r = send(
            &app,
            &mut victim,
            form_req("/form", &format!("_csrf_token={token}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token}");
        let r = send(
            &app,
            &mut victim,
            Request::post("/form")
                .header("x-csrf-token", token.as_str())
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "header {token}");
    }
    // A session without a CSRF secret accepts nothing.
    let mut fresh = logged_in(&app).await;
    let r = send(
        &app,
        &mut fresh,
        form_req("/form", &format!("_csrf_token={attacker_token}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(calls.get(), 0);
}

#[tokio::test]
async fn case_62_valid_csrf_token_passes_and_handler_sees_body() {
    let (clock, _) = clock();
    let calls = Calls::default();
    let app = app(&keyring(SECRET, &clock), true, &calls);
    let mut jar = Jar::default();
    let token = send(&app, &mut jar, get_req("/csrf")).await.body;
    let body = format!("user%5Bemail%5D=a%40b.c&_csrf_token={token}&user%5Bpassword%5D=secret");
    let r = send(&app, &mut jar, form_req("/form", &body)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, format!("body={body}"));

    // Header variant (fetch/XHR), any content type.
    let other_token = send(&app, &mut jar, get_req("/csrf")).await.body;
    assert_ne!(other_token, token, "masked differently per call");
    let r = send(
        &app,
        &mut jar,
        Request::post("/form")
            .header("x-csrf-token", other_token.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"a":1}"#))
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, r#"body={"a":1}"#);

    // Content type with parameters.
    let r = send(
        &app,
        &mut jar,
        Request::post("/form")
            .header(
                header::CONTENT_TYPE,
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
            )
            .body(Body::from(format!("_csrf_token={token}")))
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(calls.get(), 3);
}

#[tokio::test]
async fn csrf_safe_methods_pass_and_oversize_form_is_413() {
    let (clock, _) = clock();
    let calls = Calls::default();
    let app = app(&keyring(SECRET, &clock), true, &calls);
    let mut jar = Jar::default();
    let token = send(&app, &mut jar, get_req("/csrf")).await.body;
    assert_eq!(
        send(&app, &mut jar, get_req("/get")).await.status,
        StatusCode::OK
    );

    let big = format!("_csrf_token={token}&pad={}", "x".repeat(64 * 1024));
    let r = send(&app, &mut jar, form_req("/form", &big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(calls.get(), 0);
}

// ---------------------------------------------------------------------------------------------
// B. Flash
// ---------------------------------------------------------------------------------------------

async fn browser_with_session(app: &Router) -> (Jar, String) {
    let mut jar = Jar::default();
    let id = send(app, &mut jar, get_req("/id")).await.body;
    (jar, id)
}

fn flash_of(key: &str, value: Value) -> Flash {
    let mut flash = Flash::new();
    flash.put(key, value);
    flash
}

fn deletes_flash_cookie(r: &Reply) -> bool {
    r.set_cookies()
        .iter()
        .any(|c| c == "__phoenix_flash__=; Path=/; Max-Age=0")
}

#[tokio::test]
async fn case_17_flash_token_accepted_at_59s_rejected_at_61s() {
    let (clock, handle) = clock();
    let k = keyring(SECRET, &clock);
    let app = app(&k, true, &Calls::default());
    let (mut jar, id) = browser_with_session(&app).await;
    let message = json!({"title": "Welcome", "subtitle": "a@b.c"});

    let token = seal_flash(&k, &id, &flash_of("user", message.clone()));
    handle.advance(Duration::from_secs(59));
    jar.set(FLASH_COOKIE, &token);
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({"user": message}));
    assert!(deletes_flash_cookie(&r));
    assert!(jar.get(FLASH_COOKIE).is_none());

    let token = seal_flash(&k, &id, &flash_of("user", message));
    handle.advance(Duration::from_secs(61));
    jar.set(FLASH_COOKIE, &token);
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}), "61 s old flash ignored");
    assert!(deletes_flash_cookie(&r), "deleted even when expired");
}

#[tokio::test]
async fn case_19_21_flash_token_bound_to_another_session_ignored() {
    let (clock, _) = clock();
    let k = keyring(SECRET, &clock);
    let app = app(&k, true, &Calls::default());
    let (_attacker, attacker_id) = browser_with_session(&app).await;
    let (mut victim, victim_id) = browser_with_session(&app).await;
    assert_ne!(attacker_id, victim_id);

    let planted = seal_flash(&k, &attacker_id, &flash_of("info", json!("from attacker")));
    victim.set(FLASH_COOKIE, &planted);
    let r = send(&app, &mut victim, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}));
    assert!(deletes_flash_cookie(&r));

    // A browser with no session at all ignores any flash cookie too.
    let mut anon = Jar::default();
    anon.set(FLASH_COOKIE, &planted);
    let r = send(&app, &mut anon, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}));
    assert!(deletes_flash_cookie(&r));
}

#[tokio::test]
async fn tampered_flash_cookie_ignored_and_always_deleted() {
    let (clock, _) = clock();
    let k = keyring(SECRET, &clock);
    let app = app(&k, true, &Calls::default());
    let (mut jar, id) = browser_with_session(&app).await;
    let token = seal_flash(&k, &id, &flash_of("info", json!("hi")));
    let other_purpose = k.seal(
        "lv-page",
        &json!({"s": "x", "f": {"info": "hi"}}),
        Duration::from_secs(60),
    );
    for bad in [
        flip_byte(&token, 40),
        token[..token.len() - 3].to_owned(),
        String::new(),
        "SFMyNTY.g2gDdAAAAAFtAAAABGluZm9tAAAAAmhp.sig".to_owned(),
        other_purpose,
    ] {
        jar.set(FLASH_COOKIE, &bad);
        let r = send(&app, &mut jar, get_req("/flash")).await;
        assert_eq!(r.status, StatusCode::OK, "{bad:?}");
        assert_eq!(r.json(), json!({}), "{bad:?}");
        assert!(deletes_flash_cookie(&r), "{bad:?}");
    }
    // No cookie: no deletion header.
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert!(!deletes_flash_cookie(&r));
}

#[tokio::test]
async fn case_29_flash_before_redirect_is_shown_exactly_once() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = logged_in(&app).await;
    let r = send(&app, &mut jar, get_req("/logout")).await;
    assert!(r.status.is_redirection());
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({"info": "Logged out successfully."}));
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}), "reloading does not show it again");
    let r = send(&app, &mut jar, get_req("/get")).await;
    assert_eq!(
        r.json(),
        json!({}),
        "renewed session holds no login and no flash"
    );
}

#[tokio::test]
async fn cookie_flash_survives_a_redirect_then_shows_once() {
    let (clock, _) = clock();
    let k = keyring(SECRET, &clock);
    let app = app(&k, true, &Calls::default());
    let (mut jar, id) = browser_with_session(&app).await;
    jar.set(
        FLASH_COOKIE,
        &seal_flash(&k, &id, &flash_of("info", json!("moved"))),
    );
    let r = send(&app, &mut jar, get_req("/redirect")).await;
    assert!(r.status.is_redirection());
    assert!(deletes_flash_cookie(&r));
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({"info": "moved"}));
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}));
}

#[tokio::test]
async fn flash_put_during_a_page_is_for_the_next_request_only() {
    let (clock, _) = clock();
    let app = app(&keyring(SECRET, &clock), true, &Calls::default());
    let mut jar = Jar::default();
    let r = send(&app, &mut jar, get_req("/put-and-render")).await;
    assert_eq!(r.json(), json!({}), "not shown in the same response");
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(
        r.json(),
        json!({"info": {"title": "Saved", "subtitle": "next page"}})
    );
    let r = send(&app, &mut jar, get_req("/flash")).await;
    assert_eq!(r.json(), json!({}));
}
