//! Layout and function components shared by the pages (livefire's core components do the
//! flash group, the title and the form fields).

use livefire::components::live_title;
use livefire::flash::Flash;
use livefire::layout::Page;
use livefire::{Rendered, html, link};

use super::CurrentUser;
use crate::users::User;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}\
nav{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.5rem;margin-bottom:1rem}\
nav form{margin-left:auto}.flash{border-radius:.4rem;padding:.6rem .8rem;margin:.5rem 0}\
.flash-info{background:#e7f5ea;border:1px solid #9cd3a8}.flash-error{background:#fdecec;border:1px solid #f0a3a3}\
.flash strong{display:block}.flash p{margin:.2rem 0}.field{margin:.6rem 0}.field label{display:block}\
.field input{padding:.3rem;width:18rem}.error{color:#b00020;margin:.2rem 0}button{padding:.35rem .8rem}\
.upload-entry{display:flex;gap:.8rem;align-items:center;margin:.6rem 0}.upload-entry figcaption{display:flex;gap:.5rem;align-items:center}\
.session-clock{margin-top:2rem;padding-top:.5rem;border-top:1px solid #ddd;color:#555}";

/// The root layout of every page (live pages get it from the live router).
pub fn layout(page: &Page) -> Rendered {
    let user = page.extension::<CurrentUser>().and_then(|u| u.0.as_ref());
    shell(page.title(), page.csrf_token(), user, page.content())
}

/// The HTML shell: head (CSRF meta, an empty icon, title, client scripts), navigation, content.
pub fn shell(
    title: &str,
    csrf_token: &str,
    user: Option<&User>,
    content: impl livefire::IntoDynamic,
) -> Rendered {
    let page = Page::new(None, String::new(), String::new(), Flash::default());
    // The demo has no icon: the empty one keeps browsers from asking for `/favicon.ico`.
    let (favicon, scripts) = (page.empty_favicon(), page.scripts());
    html! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="csrf-token" content={csrf_token}>
                {favicon}
                // The suffix stays when a live view changes the title.
                {live_title(title).suffix(" · livefire demo").render()}
                <style>{livefire::Raw::new_unchecked(STYLE)}</style>
                {scripts}
            </head>
            <body>
                {nav(user, csrf_token)}
                {content}
            </body>
        </html>
    }
}

/// Navigation: links, and a CSRF-protected logout button when signed in.
pub fn nav(user: Option<&User>, csrf_token: &str) -> Rendered {
    html! {
        <nav>
            {link::href("/").render("Home")}
            @if let Some(user) = user {
                // Live navigation (same live session as /login and /register): the account
                // view's on_mount hook checks the login on the join.
                {link::navigate("/account").id("account-link").render("Account")}
                {link::navigate("/profile").id("nav-profile-link").render("Profile")}
                {link::navigate("/settings").id("nav-settings-link").render("Settings")}
                <form id="logout-form" method="post" action="/logout">
                    <input type="hidden" name="_csrf_token" value={csrf_token}>
                    <span class="who">{user.email} " "</span>
                    <button id="logout" type="submit">"Log out"</button>
                </form>
            } else {
                {link::href("/login").id("login-link").render("Log in")}
                {link::href("/register").id("register-link").render("Register")}
            }
        </nav>
    }
}
