//! Nested live views (docs/protocol.md §2.1, §7.7): a live view rendered inside another with
//! [`live_render`], running in its own task with its own channel on the same socket.
//!
//! The child's type must be registered on the router with
//! [`LiveRouter::child_view`](crate::LiveRouter::child_view) (the client joins it by the page
//! tokens the parent renders, so every node must know how to mount it). A child mounts with
//! no URL (`handle_params` does not run), reads the cookie session merged with the values the
//! parent passes ([`LiveRender::session`]), and can talk to its parent through
//! [`SocketCore::parent`](crate::SocketCore::parent). A crash in a child gives `phx_error` to
//! the child only (the client rejoins it), unless it [linked](crate::SocketCore::link_parent)
//! itself to the parent, which then crashes too. When the parent ends, its children end.
//!
//! A **sticky** child ([`LiveRender::sticky`]) keeps running across live navigation
//! (`push_navigate`) of the main view, including a navigation it pushes itself, provided every
//! view it should survive between renders it with the same id (as Phoenix's app layout does):
//! the official client moves the sticky element into the new main view and keeps it only if
//! that view's render has it too.
//!
//! ```
//! use livefire::nested::live_render;
//! use livefire::{html, LiveRouter, LiveView, Rendered, Socket};
//!
//! #[derive(Default)]
//! struct Clock;
//! impl LiveView for Clock {
//!     type Message = ();
//!     fn render(&self, _: &Socket) -> Rendered { html!(<time>"12:00"</time>) }
//! }
//!
//! #[derive(Default)]
//! struct Dashboard;
//! impl LiveView for Dashboard {
//!     type Message = ();
//!     fn render(&self, _: &Socket) -> Rendered {
//!         html!(<h1>"Dashboard"</h1>{live_render::<Clock>("clock").session("zone", "UTC")})
//!     }
//! }
//!
//! let app = LiveRouter::new(livefire::token::Keyring::random())
//!     .child_view(Clock::default)
//!     .live("/", Dashboard::default)
//!     .build()
//!     .unwrap();
//! # let _ = app;
//! ```

use serde::Serialize;

use crate::dynamic::IntoDynamic;
use crate::live_view::LiveView;
use crate::page_token::{ChildToken, PageSession, TOKEN_VSN};
use crate::rendered::Dynamic;

pub use crate::rendered::LiveRender;

/// Places the nested live view `V` with the DOM id `id` (unique on the page) in a template.
pub fn live_render<V: LiveView>(id: impl Into<String>) -> LiveRender {
    LiveRender {
        view: std::any::type_name::<V>(),
        id: id.into(),
        session: serde_json::Map::new(),
        sticky: false,
    }
}

impl LiveRender {
    /// Passes a value to the child's session (read with
    /// [`Mount::session`](crate::Mount::session)); it rides sealed in the child's page token.
    pub fn session(mut self, key: &str, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(value) => {
                self.session.insert(key.to_owned(), value);
            }
            Err(err) => tracing::error!(key, %err, "live_render session value not serializable"),
        }
        self
    }

    /// Makes the child sticky: it has no parent and survives live navigation to another view
    /// that renders it with the same id (see the [module documentation](self)).
    pub fn sticky(mut self) -> Self {
        self.sticky = true;
        self
    }
}

impl IntoDynamic for LiveRender {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::LiveRender(Box::new(self))
    }
}

/// The page token of a nested view: its type, parent and session, bound to its id.
pub(crate) fn nested_token(call: &LiveRender, parent: Option<&str>) -> PageSession {
    PageSession {
        v: TOKEN_VSN,
        id: call.id.clone(),
        route: String::new(),
        ls: String::new(),
        child: Some(ChildToken {
            view: call.view.to_owned(),
            parent: if call.sticky {
                None
            } else {
                parent.map(str::to_owned)
            },
            session: call.session.clone(),
        }),
    }
}

/// The nested views of a tree, in order.
pub(crate) fn collect_nested(dynamics: &[Dynamic], out: &mut Vec<LiveRender>) {
    for dynamic in dynamics {
        match dynamic {
            Dynamic::LiveRender(call) => out.push((**call).clone()),
            Dynamic::Nested(r) => collect_nested(r.dynamics(), out),
            Dynamic::Comprehension(c) => {
                for entry in c.entries() {
                    collect_nested(entry, out);
                }
            }
            Dynamic::Html(_) | Dynamic::Component(_) => {}
        }
    }
}

/// Replaces the nested views of a tree, in order, by their rendered containers.
pub(crate) fn fill_nested(dynamics: &mut [Dynamic], html: &mut impl Iterator<Item = String>) {
    for dynamic in dynamics {
        match dynamic {
            Dynamic::LiveRender(_) => {
                if let Some(container) = html.next() {
                    *dynamic = Dynamic::Html(container.into());
                }
            }
            Dynamic::Nested(r) => fill_nested(r.dynamics_mut(), html),
            Dynamic::Comprehension(c) => {
                for entry in c.entries_mut() {
                    fill_nested(entry, html);
                }
            }
            Dynamic::Html(_) | Dynamic::Component(_) => {}
        }
    }
}
