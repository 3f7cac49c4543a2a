//! [`serve`]: an HTTP/1 server for a livefire app that holds its connection limits
//! ([`Limits`]): a header-read timeout (slowloris), a maximum header size (431), a cap on
//! concurrent connections and on connections per client address (refused before any byte is
//! read), and file descriptors kept below the process limit with headroom, so that a flood of
//! idle connections cannot lock out other clients (threat model R8, cases 3, 39, 55).
//!
//! Use it instead of `axum::serve`; the app itself is the same axum [`Router`]. Each request
//! carries the peer's [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo), which
//! [`ClientAddr`](crate::ClientAddr) reads.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! livefire::serve(listener, app).limits(livefire::Limits::default()).await
//! # }
//! ```

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

use crate::limits::Limits;

/// File descriptors left free for everything else (files, database and Redis connections,
/// the listener) when the connection cap is derived from the process limit.
const MIN_FD_HEADROOM: u64 = 64;

/// Serves `app` on `listener` with [`Limits::default`]; set others with
/// [`Serve::limits`]. Await the result to run the server.
pub fn serve(listener: TcpListener, app: Router) -> Serve {
    Serve {
        listener,
        app,
        limits: Limits::default(),
    }
}

/// A server being configured; await it to run (see [`serve`]).
#[derive(Debug)]
#[must_use = "a server does nothing until awaited"]
pub struct Serve {
    listener: TcpListener,
    app: Router,
    limits: Limits,
}

impl Serve {
    /// The limits to hold (normally the same value given to
    /// [`LiveRouter::limits`](crate::LiveRouter::limits)).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self))
    }
}

/// The connections being served, in total and by client address.
#[derive(Debug)]
struct Slots {
    max_total: usize,
    max_per_address: usize,
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; released when the last clone is dropped (an upgraded WebSocket
/// keeps a clone for its whole life).
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    slots: Arc<Slots>,
    address: IpAddr,
}

impl Slots {
    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<ConnectionSlot> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.total >= self.max_total {
            return None;
        }
        let count = state.by_address.entry(address).or_insert(0);
        if *count >= self.max_per_address {
            return None;
        }
        *count += 1;
        state.total += 1;
        Some(ConnectionSlot {
            slots: self.clone(),
            address,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut state = self
            .slots
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.total -= 1;
        if let Some(count) = state.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                state.by_address.remove(&self.address);
            }
        }
    }
}

/// The connection cap: the configured one, lowered to fit under the process's descriptor
/// limit (raised to its hard maximum first) with headroom.
fn connection_cap(configured: usize) -> usize {
    let soft = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft,
        Err(err) => {
            tracing::debug!(%err, "could not read the open-files limit");
            return configured;
        }
    };
    let headroom = MIN_FD_HEADROOM.max(soft / 20);
    let fit = usize::try_from(soft.saturating_sub(headroom)).unwrap_or(usize::MAX);
    if fit < configured {
        tracing::info!(
            configured,
            cap = fit,
            open_files = soft,
            "connection cap lowered to fit the open-files limit"
        );
    }
    configured.min(fit).max(1)
}

async fn run(serve: Serve) -> io::Result<()> {
    let Serve {
        listener,
        app,
        limits,
    } = serve;
    let slots = Arc::new(Slots {
        max_total: connection_cap(limits.max_connections),
        max_per_address: limits.max_connections_per_address.max(1),
        state: Mutex::default(),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of descriptors (or another transient error): wait instead of spinning;
                // the connections that end free some.
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: connection limit reached");
            refuse(stream);
            continue;
        };
        tokio::spawn(connection(stream, peer, app.clone(), limits, slot));
    }
}

/// Answers 503 if the socket takes it at once, then closes; never waits for the client.
fn refuse(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.try_write(
        b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
    );
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    slot: ConnectionSlot,
) {
    let _ = stream.set_nodelay(true);
    let slot = Arc::new(slot);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(slot.clone());
        app.clone().oneshot(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_size);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(err) = conn.await {
        tracing::debug!(%peer, %err, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cap_totals_and_addresses_and_free_on_drop() {
        let slots = Arc::new(Slots {
            max_total: 3,
            max_per_address: 2,
            state: Mutex::default(),
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = slots.admit(a).unwrap();
        let _a2 = slots.admit(a).unwrap();
        assert!(slots.admit(a).is_none(), "per-address cap");
        let _b1 = slots.admit(b).unwrap();
        assert!(slots.admit(b).is_none(), "total cap");
        drop(a1);
        assert!(slots.admit(b).is_some(), "a freed slot is reusable");
    }
}
