//! Running a view's callbacks: errors and panics turned into a [`Failure`], and the mount
//! sequence shared by the dead render and the connected join.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;

use crate::live_view::{LiveView, Mount};
use crate::rendered::Rendered;
use crate::socket::Socket;

/// Why a callback failed.
#[derive(Debug)]
pub(crate) enum Failure {
    Err(crate::Error),
    Panic(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Err(err) => write!(f, "error: {err}"),
            Self::Panic(msg) => write!(f, "panic: {msg}"),
        }
    }
}

impl From<crate::Error> for Failure {
    fn from(err: crate::Error) -> Self {
        Self::Err(err)
    }
}

/// Runs a callback, turning an `Err` or a panic into a [`Failure`].
pub(crate) async fn guarded<F: Future<Output = crate::Result>>(fut: F) -> Result<(), Failure> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(Failure::Err(err)),
        Err(payload) => Err(Failure::Panic(crate::error::panic_message(&*payload))),
    }
}

/// Renders the view, turning a panic into a [`Failure`].
pub(crate) fn render<V: LiveView>(
    view: &V,
    socket: &Socket<V::Message>,
) -> Result<Rendered, Failure> {
    std::panic::catch_unwind(AssertUnwindSafe(|| view.render(socket)))
        .map_err(|payload| Failure::Panic(crate::error::panic_message(&*payload)))
}

/// `mount`, then `handle_params` unless mount redirected: the same on the dead render and on
/// the connected join. A nested view (`routed` false) has no URL: only `mount` runs.
pub(crate) async fn mount<V: LiveView>(
    view: &mut V,
    mount: &Mount,
    socket: &mut Socket<V::Message>,
    routed: bool,
) -> Result<(), Failure> {
    guarded(view.mount(mount, socket)).await?;
    if routed && !socket.is_redirected() {
        guarded(view.handle_params(&mount.params, socket)).await?;
    }
    Ok(())
}
