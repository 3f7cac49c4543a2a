//! `GET /`: a plain (dead) page.

use axum::Extension;
use axum::response::Html;
use livefire::flash::FlashHandle;
use livefire::html;
use livefire::session::Session;

use super::CurrentUser;
use super::components::shell;
use livefire::components::flash_group;

/// Shows the flash and who is signed in.
pub async fn home(
    session: Session,
    flash: FlashHandle,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
) -> Html<String> {
    let content = html! {
        <main id="home">
            {flash_group(&flash.incoming())}
            <h1>"livefire demo"</h1>
            @if let Some(user) = &user {
                <p id="signed-in">"Signed in as " {user.email.as_str()}</p>
            } else {
                <p id="signed-out">"You are not signed in. " <a href="/login">"Log in"</a> " or " <a href="/register">"register"</a> "."</p>
            }
        </main>
    };
    Html(shell("Home", &session.csrf_token(), user.as_ref(), content).to_html())
}
