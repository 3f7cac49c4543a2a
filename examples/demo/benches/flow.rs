//! The demo's whole flow with `livefire::test`, in process, timed: register (the
//! `phx-trigger-action` session form lands on `/account`), log out, log in (the ticket in the
//! redirect's flash is redeemed on the next request: the session handoff), the account page,
//! log out. Each flow runs in a fresh `Browser` (its own cookie jar and loopback server) against
//! one app and one database, as `tests/live_test.rs` does.
//!
//! ```sh
//! cargo bench -p demo --bench flow               # 50 flows after 3 warm-up flows
//! FLOW_RUNS=200 cargo bench -p demo --bench flow
//! ```
//!
//! Prints the median and p95 wall time per flow and per step, and the password work alone
//! (`Users::register` and `Users::authenticate` called directly, one Argon2id hash and one
//! verification, as in a flow), to separate Argon2 from the rest (HTTP, WebSocket, joins,
//! renders, SQLite). Results and the machine they ran on: BENCHMARKS.md.

use std::time::{Duration, Instant};

use demo::db::Db;
use demo::users::Users;
use demo::users::throttle::ThrottleConfig;
use demo::web::{self, AppState};
use livefire::test::{Browser, Navigation, Outcome};
use livefire::token::Keyring;

const PASSWORD: &str = "correct horse battery";
const WARM_UP: usize = 3;
const STEPS: [&str; 5] = [
    "register (live form, session POST, /account)",
    "log out",
    "log in (live form, handoff redirect, /account joined)",
    "account page (dead render + join)",
    "log out again",
];

fn main() {
    let runs: usize = std::env::var("FLOW_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench(runs));
}

async fn bench(runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let db = tokio::task::spawn_blocking(move || Db::open(&path))
        .await
        .expect("task")
        .expect("db");
    // Every flow registers from 127.0.0.1: lift the per-address registration limit.
    let users = Users::new(db).with_throttle(ThrottleConfig {
        peer_max_registrations: usize::MAX,
        ..ThrottleConfig::default()
    });
    users.warm_up().await.expect("warm up");
    let app = web::app(AppState {
        users: users.clone(),
        keyring: Keyring::random(),
        secure_cookies: false,
    });

    let mut totals = Vec::with_capacity(runs);
    let mut steps: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); STEPS.len()];
    for i in 0..WARM_UP + runs {
        let (total, split) = flow(&app, &format!("user{i}@example.com")).await;
        if i >= WARM_UP {
            totals.push(total);
            for (all, d) in steps.iter_mut().zip(split) {
                all.push(d);
            }
        }
    }

    // The password work of a flow alone: one hash (registration), one verification (login).
    let mut password = Vec::with_capacity(runs);
    for i in 0..runs {
        let email = format!("direct{i}@example.com");
        let started = Instant::now();
        users.register(&email, PASSWORD).await.expect("register");
        users.authenticate(&email, PASSWORD).await.expect("login");
        password.push(started.elapsed());
    }

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("demo flow with livefire::test, {runs} flows after {WARM_UP} warm-up flows");
    println!("load average before printing: {}", load.trim());
    println!();
    println!("| | median | p95 |");
    println!("|---|---:|---:|");
    row("whole flow", &mut totals);
    for (name, all) in STEPS.iter().zip(steps.iter_mut()) {
        row(&format!("- {name}"), all);
    }
    row(
        "password work alone (1 Argon2id hash + 1 verification, direct)",
        &mut password,
    );
    let flow_median = median(&mut totals);
    let password_median = median(&mut password);
    println!();
    println!(
        "Argon2 share of the median flow: {:.0}% ({} of {})",
        100.0 * password_median.as_secs_f64() / flow_median.as_secs_f64(),
        ms(password_median),
        ms(flow_median)
    );
}

/// One flow for a new user `email`; its total time and each step's.
async fn flow(app: &axum::Router, email: &str) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let mut split = Vec::with_capacity(STEPS.len());
    let mut t = Instant::now();
    let mut lap = |split: &mut Vec<Duration>| {
        split.push(t.elapsed());
        t = Instant::now();
    };
    let browser = Browser::start(app).await.expect("browser");

    // Register: the live form answers with the phx-trigger-action session form.
    let mut register = browser.live("/register").await.expect("/register");
    let outcome = register
        .submit_form(
            "#register-form",
            &[("email", email), ("password", PASSWORD)],
        )
        .await
        .expect("submit");
    let Outcome::Navigated(post @ Navigation::FormPost { .. }) = outcome else {
        panic!("registration renders the phx-trigger-action form: {outcome:?}")
    };
    let account = register.follow_redirect(post).await.expect("session POST");
    assert!(account.has_element("#signed-in", Some(email)));
    drop(account);
    lap(&mut split);

    logout(&browser).await;
    lap(&mut split);

    // Log in: the redirect carries a ticket in its flash, redeemed by the next page load.
    let mut login = browser.live("/login").await.expect("/login");
    let redirect = login
        .submit_form("#login-form", &[("email", email), ("password", PASSWORD)])
        .await
        .expect("submit")
        .navigation();
    let account = login.follow_redirect(redirect).await.expect("handoff");
    assert!(account.has_element("#signed-in", Some(email)));
    drop(account);
    lap(&mut split);

    // The guarded page again, signed in by the cookie alone.
    let account = browser.live("/account").await.expect("/account");
    assert!(account.has_element("#signed-in", Some(email)));
    drop(account);
    lap(&mut split);

    logout(&browser).await;
    lap(&mut split);
    (started.elapsed(), split)
}

/// The layout's logout form, posted from the account page.
async fn logout(browser: &Browser) {
    let page = browser.get("/account").await.expect("/account");
    let home = browser
        .submit_form(&page, "#logout-form", &[])
        .await
        .expect("logout");
    assert!(home.has_element("#signed-out", None), "{}", home.body);
}

fn median(all: &mut [Duration]) -> Duration {
    percentile(all, 50.0)
}

/// Nearest-rank percentile.
fn percentile(all: &mut [Duration], p: f64) -> Duration {
    all.sort_unstable();
    let rank = ((p / 100.0) * all.len() as f64).ceil() as usize;
    all[rank.clamp(1, all.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn row(name: &str, all: &mut [Duration]) {
    println!(
        "| {name} | {} | {} |",
        ms(median(all)),
        ms(percentile(all, 95.0))
    );
}
