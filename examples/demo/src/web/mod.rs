//! The demo's web layer: routes, layout, the login handoff and the live views.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | dead render: the flash and who is signed in |
//! | `/register` | live view: create an account, validated live |
//! | `/login` | live view: log in; success hands the login to the HTTP session |
//! | `/account` | live view: "Signed in as EMAIL"; logged out, redirects to `/login` |
//! | `POST /logout` | CSRF-checked: deletes the login server-side and renews the session |

mod account;
pub mod auth;
mod components;
mod home;
mod login;
mod register;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use livefire::LiveRouter;
use livefire::csrf::VerifyCsrfLayer;
use livefire::flash::LiveFlashLayer;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::sockets::LiveSockets;
use livefire::token::Keyring;

use crate::users::Users;

pub use account::Account;
pub use auth::CurrentUser;
pub use login::Login;
pub use register::Register;

/// What the web layer needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The user store.
    pub users: Users,
    /// Seals sessions, page tokens and flash tokens.
    pub keyring: Keyring,
    /// Serve cookies with `Secure` and the `__Host-` prefix (https).
    pub secure_cookies: bool,
}

/// State of the plain HTTP routes.
#[derive(Debug, Clone)]
pub struct Web {
    /// The user store.
    pub users: Users,
    /// Connected live sockets by login, to disconnect them on logout.
    pub sockets: LiveSockets,
}

impl axum::extract::FromRef<Web> for Users {
    fn from_ref(web: &Web) -> Self {
        web.users.clone()
    }
}

/// The whole demo application, on one node (logouts disconnect this process's sockets).
pub fn app(state: AppState) -> Router {
    app_with_pubsub(state, PubSub::local())
}

/// The whole demo application; logouts are broadcast on `pubsub`, so with
/// [`PubSub::redis`] they disconnect the live sockets of that login on every node.
pub fn app_with_pubsub(state: AppState, pubsub: PubSub) -> Router {
    let users = state.users.clone();
    let login_users = users.clone();
    let register_users = users.clone();
    let account_users = users.clone();
    let live_router = LiveRouter::new(state.keyring.clone())
        .layout(components::layout)
        .live_session("public")
        .live("/login", move || Login::new(login_users.clone()))
        .live("/register", move || Register::new(register_users.clone()))
        .live_session("authenticated")
        .live("/account", move || Account::new(account_users.clone()))
        .pubsub(pubsub)
        .socket_id(|session| {
            session
                .get::<String>(auth::USER_TOKEN)
                .map(|token| auth::live_socket_id(&token))
        });
    let sockets = live_router.sockets();
    let live = live_router.build().expect("valid live routes");
    Router::new()
        .route("/", get(home::home))
        .route("/logout", post(auth::logout))
        .with_state(Web {
            users: users.clone(),
            sockets,
        })
        .merge(live)
        .layer(VerifyCsrfLayer::new())
        .layer(from_fn_with_state(users, auth::authenticate))
        .layer(LiveFlashLayer::new(state.keyring.clone()))
        .layer(CookieSessionLayer::new(state.keyring).secure(state.secure_cookies))
}
