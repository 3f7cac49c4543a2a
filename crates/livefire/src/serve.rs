//! [`serve`]: an HTTP/1 server for a livefire app that holds its connection limits
//! ([`Limits`]): a header-read timeout (slowloris), a maximum header size (431), a cap on
//! concurrent connections and on connections per client address (refused before any byte is
//! read), and file descriptors kept below the process limit with headroom, so that a flood of
//! idle connections cannot lock out other clients (threat model R8, cases 3, 39, 55). Every
//! accepted connection gets `TCP_NODELAY`: the channel writes small frames back to back, which
//! Nagle's algorithm would hold for the client's delayed ACK.
//!
//! Use it instead of `axum::serve`; the app itself is the same axum [`Router`]. Each request
//! carries the peer's [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo), which
//! [`ClientAddr`](crate::ClientAddr) reads. [`Serve::with_graceful_shutdown`] stops it cleanly
//! (threat model case 82): live sockets are closed with 1012 so their clients reconnect.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! livefire::serve(listener, app).limits(livefire::Limits::default()).await
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

use crate::limits::Limits;

/// File descriptors left free for everything else (files, database and Redis connections,
/// the listener) when the connection cap is derived from the process limit.
const MIN_FD_HEADROOM: u64 = 64;

/// How long [`Serve::with_graceful_shutdown`] waits for open connections to end, unless
/// [`Serve::drain_timeout`] says otherwise.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The close code live sockets get when the server shuts down: 1012, *service restart*. The
/// client reconnects (with its usual backoff) instead of reloading the page.
pub(crate) const SHUTDOWN_CLOSE_CODE: u16 = 1012;

/// Serves `app` on `listener` with [`Limits::default`]; set others with
/// [`Serve::limits`]. Await the result to run the server.
pub fn serve(listener: TcpListener, app: Router) -> Serve {
    Serve {
        listener,
        app,
        limits: Limits::default(),
        signal: None,
        drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        trusted_proxies: Vec::new(),
    }
}

/// A server being configured; await it to run (see [`serve`]).
#[must_use = "a server does nothing until awaited"]
pub struct Serve {
    listener: TcpListener,
    app: Router,
    limits: Limits,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    drain_timeout: Duration,
    trusted_proxies: Vec<IpNet>,
}

impl fmt::Debug for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("limits", &self.limits)
            .field("graceful_shutdown", &self.signal.is_some())
            .field("drain_timeout", &self.drain_timeout)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl Serve {
    /// The limits to hold (normally the same value given to
    /// [`LiveRouter::limits`](crate::LiveRouter::limits)).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Shuts the server down gracefully once `signal` completes (as axum's
    /// `with_graceful_shutdown`), and makes the server's future complete then:
    ///
    /// 1. the listener is closed at once: new connections are refused;
    /// 2. idle keep-alive connections are closed; a request in progress is answered first
    ///    (with `Connection: close`), then its connection is closed;
    /// 3. every live socket is closed with code **1012** (*service restart*): the client
    ///    reconnects with its backoff, to this server once it is back or to another node,
    ///    and its views rejoin;
    /// 4. the server waits for all of that for at most the [drain
    ///    time](Self::drain_timeout) (default [`DEFAULT_DRAIN_TIMEOUT`], 10 s), then drops the
    ///    HTTP connections still open and returns `Ok(())`. (A live socket whose client does
    ///    not read its close frame ends on its own within the write timeout,
    ///    [`Limits::write_timeout`].)
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new().route("/", get(|| async { "hello" }));
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// // In a real server: `async { tokio::signal::ctrl_c().await.ok(); }` or SIGTERM.
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = tokio::spawn(
    ///     livefire::serve(listener, app)
    ///         .drain_timeout(Duration::from_secs(5))
    ///         .with_graceful_shutdown(async { stopped.await.ok(); })
    ///         .into_future(),
    /// );
    /// tokio::net::TcpStream::connect(addr).await?; // serving
    ///
    /// stop.send(()).unwrap();
    /// server.await.unwrap()?; // drained and returned
    /// assert!(tokio::net::TcpStream::connect(addr).await.is_err()); // refused
    /// # Ok(()) }
    /// ```
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// How long a graceful shutdown waits for open connections (requests in progress, live
    /// sockets finishing their close) before it drops them; default [`DEFAULT_DRAIN_TIMEOUT`].
    ///
    /// ```
    /// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// use std::time::Duration;
    /// livefire::serve(listener, app)
    ///     .drain_timeout(Duration::from_secs(3))
    ///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
    ///     .await
    /// # }
    /// ```
    pub fn drain_timeout(mut self, drain_timeout: Duration) -> Self {
        self.drain_timeout = drain_timeout;
        self
    }

    /// Peers (your reverse proxies or load balancers) that the per-address connection cap
    /// ([`Limits::max_connections_per_address`]) does not apply to: behind a proxy every
    /// connection comes from the proxy's address, and one cap for all of them would soon refuse
    /// everybody. Their connections still count towards [`Limits::max_connections`].
    ///
    /// This is the connection-level counterpart of
    /// [`TrustedProxyLayer`](crate::TrustedProxyLayer), which gives requests from the same
    /// proxies their forwarded client address (the per-address login throttle and rate limits
    /// then see the real client). Limit connections per client at the proxy itself.
    ///
    /// ```
    /// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    /// livefire::serve(listener, app).trusted_proxies(proxies).await
    /// # }
    /// ```
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
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

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Serving,
    /// Shutting down: connections finish and close, sockets close with 1012.
    Draining,
    /// The drain time is over: what is still open is dropped.
    Closed,
}

/// The connections being served, in total and by client address.
#[derive(Debug)]
struct Slots {
    max_total: usize,
    max_per_address: usize,
    /// Peers the per-address cap does not apply to ([`Serve::trusted_proxies`]).
    exempt: Vec<IpNet>,
    state: Mutex<SlotState>,
    phase: watch::Sender<Phase>,
    /// Woken when the phase becomes [`Phase::Draining`], for live sockets: waiting on it
    /// takes a much smaller future than a `watch` receiver (each idle socket keeps one).
    draining: Notify,
    /// Woken when the last connection ends.
    idle: Notify,
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
    fn new(max_total: usize, max_per_address: usize, exempt: Vec<IpNet>) -> Self {
        Self {
            max_total,
            max_per_address,
            exempt,
            state: Mutex::default(),
            phase: watch::Sender::new(Phase::Serving),
            draining: Notify::new(),
            idle: Notify::new(),
        }
    }

    /// Connections (and live sockets) open.
    fn open(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// Resolves once no connection is open.
    async fn drained(&self) {
        loop {
            let mut notified = pin!(self.idle.notified());
            notified.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Resolves once the server reached `phase`.
    async fn reached(&self, phase: Phase) {
        let mut rx = self.phase.subscribe();
        if rx.wait_for(|now| *now >= phase).await.is_err() {
            // The sender lives as long as the slots: unreachable, but never a false alarm.
            std::future::pending::<()>().await;
        }
    }

    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<ConnectionSlot> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.total >= self.max_total {
            return None;
        }
        let exempt = self.exempt.iter().any(|net| net.contains(&address));
        let count = state.by_address.entry(address).or_insert(0);
        if *count >= self.max_per_address && !exempt {
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

/// Resolves when the server that admitted `slot` starts shutting down (a live socket then
/// closes with [`SHUTDOWN_CLOSE_CODE`]); never without a slot (an app served by something
/// other than [`serve`]).
///
/// Every idle live socket keeps this future for its whole life, so it waits on a `Notify`
/// (about 0.1 KiB of state) rather than on a `watch` receiver (about 0.25 KiB).
pub(crate) async fn shutting_down(slot: Option<Arc<ConnectionSlot>>) {
    let Some(slot) = slot else {
        return std::future::pending().await;
    };
    let slots = &slot.slots;
    loop {
        let mut notified = pin!(slots.draining.notified());
        // Registered before the phase is read: a change in between still wakes it.
        notified.as_mut().enable();
        if *slots.phase.borrow() >= Phase::Draining {
            return;
        }
        notified.await;
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
        let idle = state.total == 0;
        drop(state);
        if idle {
            self.slots.idle.notify_waiters();
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
        signal,
        drain_timeout,
        trusted_proxies,
    } = serve;
    let slots = Arc::new(Slots::new(
        connection_cap(limits.max_connections),
        limits.max_connections_per_address.max(1),
        trusted_proxies,
    ));
    let mut signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
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
    // New connections are refused from here on.
    drop(listener);
    drain(&slots, drain_timeout).await;
    Ok(())
}

/// Tells every connection and live socket to close, and waits for them (at most
/// `drain_timeout`).
async fn drain(slots: &Slots, drain_timeout: Duration) {
    slots.phase.send_replace(Phase::Draining);
    slots.draining.notify_waiters();
    tracing::info!(
        open = slots.open(),
        ?drain_timeout,
        "shutting down: listener closed, draining connections"
    );
    if tokio::time::timeout(drain_timeout, slots.drained())
        .await
        .is_ok()
    {
        tracing::info!("shut down: every connection closed");
    } else {
        tracing::warn!(
            open = slots.open(),
            "shut down: drain time over, dropping the connections still open"
        );
        slots.phase.send_replace(Phase::Closed);
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
    let slots = slot.slots.clone();
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
    let mut conn = pin!(
        builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
    );
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = slots.reached(Phase::Draining) => {
            // Idle: closed now; a request in progress is answered first (keep-alive off).
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                result = conn.as_mut() => result,
                () = slots.reached(Phase::Closed) => {
                    tracing::debug!(%peer, "connection dropped: drain time over");
                    return;
                }
            }
        }
    };
    if let Err(err) = result {
        tracing::debug!(%peer, %err, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cap_totals_and_addresses_and_free_on_drop() {
        let slots = Arc::new(Slots::new(3, 2, Vec::new()));
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

    #[test]
    fn trusted_proxies_skip_the_per_address_cap_but_not_the_total() {
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let client: IpAddr = [192, 0, 2, 7].into();
        let slots = Arc::new(Slots::new(4, 1, vec!["10.0.0.0/24".parse().unwrap()]));
        let held: Vec<_> = (0..3).map(|_| slots.admit(proxy).unwrap()).collect();
        let _c1 = slots.admit(client).unwrap();
        assert!(
            slots.admit(client).is_none(),
            "others keep the per-address cap"
        );
        assert!(
            slots.admit(proxy).is_none(),
            "the total cap applies to the proxy"
        );
        drop(held);
        assert!(slots.admit(proxy).is_some());
    }
}
