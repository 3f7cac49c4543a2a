//! `/profile`: the signed-in user's profile as they see it: their avatar and email. In the same
//! guarded live session as `/account`, so links between the two navigate live (and the sticky
//! [session clock](super::clock) both render keeps running across them).

use livefire::components::flash_group;
use livefire::{LiveView, Mount, Rendered, Result, Socket, html, link};

use super::account::current_avatar;
use super::auth::CurrentUser;
use super::clock::sticky_clock;
use crate::avatars::{Avatar, Avatars};
use crate::users::User;

/// The profile live view (the user comes from the `on_mount` hook, as for the account page).
#[derive(Debug)]
pub struct Profile {
    avatars: Avatars,
    user: Option<User>,
    avatar: Option<Avatar>,
}

impl Profile {
    /// A profile view reading avatars from `avatars`.
    pub fn new(avatars: Avatars) -> Self {
        Self {
            avatars,
            user: None,
            avatar: None,
        }
    }
}

impl LiveView for Profile {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Profile");
        self.user = cx
            .get::<CurrentUser>()
            .and_then(|current| current.0.clone());
        let Some(user) = &self.user else {
            return Err(livefire::Error::app(
                "the profile page needs the require_user on_mount hook",
            ));
        };
        self.avatar = self
            .avatars
            .get(user.id)
            .await
            .map_err(livefire::Error::app)?;
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="profile">
                {flash_group(socket.flash())}
                <h1>"Your profile"</h1>
                {current_avatar(self.avatar.as_ref())}
                @if let Some(user) = &self.user {
                    <p id="profile-email">{user.email.as_str()}</p>
                }
                // Live navigation back to the account page (same live session).
                <p>{link::navigate("/account").id("edit-account-link").render("Change your avatar")}</p>
            </main>
            {sticky_clock()}
        }
    }
}
