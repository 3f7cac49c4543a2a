//! [`Limits`]: the hard limits of the live socket, in one value (threat model R8).
//!
//! Every limit has a default suited to a public site; set them with
//! [`LiveRouter::limits`](crate::LiveRouter::limits). A client that goes past a limit is
//! answered the way the official client understands: an error reply for a bad frame, a close
//! code for a flood (1008), an oversized message (1009), invalid UTF-8 (1007) or a protocol
//! violation (1002).
//!
//! The client sends a heartbeat every 30 s; a socket silent for
//! [`idle_timeout`](Limits::idle_timeout) (60 s) is closed with 1001 and the client reconnects.
//! The server sends no pings of its own: the heartbeat is the application-level ping, and a
//! vanished peer is found by the idle timeout (or by the write timeout when there is something
//! to send).
//!
//! ```
//! use std::time::Duration;
//! use livefire::{Limits, RateLimit};
//!
//! let limits = Limits {
//!     // An internal tool: a slower rate, fewer views per tab, longer idle time.
//!     rate: RateLimit { per_second: 50.0, burst: 200.0 },
//!     max_views_per_socket: 8,
//!     idle_timeout: Duration::from_secs(120),
//!     ..Limits::default()
//! };
//! assert_eq!(limits.max_message_size, 64 * 1024);
//! let router = livefire::LiveRouter::new(livefire::token::Keyring::random()).limits(limits);
//! # let _ = router;
//! ```

use std::time::Duration;

/// The hard limits of a [`LiveRouter`](crate::LiveRouter)'s live sockets.
///
/// The defaults ([`Limits::default`]) are documented on each field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest WebSocket message (and frame) accepted from a client, in bytes. Larger ones
    /// close the socket with 1009 before they are buffered. Default: 64 KiB.
    pub max_message_size: usize,
    /// How many frames one connection may send (heartbeats, joins, events, patches all
    /// count). Past it the socket is closed with 1008. Default: [`RateLimit::default`].
    pub rate: RateLimit,
    /// Live views joined at once on one socket (one per `lv:` topic); further joins get an
    /// error reply. Default: 64.
    pub max_views_per_socket: usize,
    /// Client frames waiting in one view's inbox; a client that floods a view past it is
    /// closed with 1008. Default: 32.
    pub view_inbox: usize,
    /// Frames waiting to be written to one socket; views wait for room. Default: 64.
    pub socket_outbox: usize,
    /// Malformed frames tolerated per connection, text and binary together (a text frame with
    /// a readable ref gets an error reply, a malformed binary frame is dropped); one more closes
    /// it, with 1008 if it is a text frame and 1003 if it is a binary frame. A text frame that is
    /// not JSON, or whose ref cannot be read, closes the connection at once (1003). Default: 8.
    pub max_bad_frames: u32,
    /// A socket that sends nothing for this long is closed (the client heartbeats every 30 s).
    /// Default: 60 s.
    pub idle_timeout: Duration,
    /// A client that does not take a frame within this time is closed (it stopped reading).
    /// Default: 10 s.
    pub write_timeout: Duration,
    /// Bytes a slow client may leave unread before writes fail. Default: 256 KiB.
    pub max_write_buffer: usize,
    /// How many `phx_join`s one socket may send (rejoins after a crash and child views
    /// count); past it the socket is closed with 1008. Default: 10 per second, bursts of 100.
    pub joins: RateLimit,
    /// Time from the WebSocket upgrade to the client's first frame (it joins at once); a
    /// socket that stays silent is closed. Default: 10 s.
    pub handshake_timeout: Duration,
    /// Time a client has to send a complete request head (the request line and headers) on a
    /// new or kept-alive connection ([`serve`](crate::serve) only): a slowloris client is cut
    /// off. Default: 10 s.
    pub header_read_timeout: Duration,
    /// Largest request head, in bytes; a larger one is answered `431 Request Header Fields Too
    /// Large` ([`serve`](crate::serve) only). Default: 16 KiB.
    pub max_header_size: usize,
    /// Connections served at once, WebSockets included; more are refused with `503` before
    /// anything is read ([`serve`](crate::serve) only). `serve` lowers it to stay under the
    /// process's open-files limit with headroom, so a flood never exhausts descriptors.
    /// Default: 25,000.
    pub max_connections: usize,
    /// Connections served at once from one client address ([`serve`](crate::serve) only);
    /// more are refused with `503` before anything is read. Default: 256.
    pub max_connections_per_address: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 64 * 1024,
            rate: RateLimit::default(),
            max_views_per_socket: 64,
            view_inbox: 32,
            socket_outbox: 64,
            max_bad_frames: 8,
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            max_write_buffer: 256 * 1024,
            joins: RateLimit {
                per_second: 10.0,
                burst: 100.0,
            },
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_header_size: 16 * 1024,
            max_connections: 25_000,
            max_connections_per_address: 256,
        }
    }
}

/// How many frames one connection may send: `per_second` on average, `burst` at once.
///
/// ```
/// use livefire::RateLimit;
/// assert_eq!(RateLimit::default(), RateLimit { per_second: 1000.0, burst: 5000.0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained frames per second.
    pub per_second: f32,
    /// Frames allowed in one burst.
    pub burst: f32,
}

impl Default for RateLimit {
    /// 1,000 frames per second, bursts of 5,000: far above what a person produces, low enough
    /// that one connection cannot take more than a small share of the server.
    fn default() -> Self {
        Self {
            per_second: 1000.0,
            burst: 5000.0,
        }
    }
}
