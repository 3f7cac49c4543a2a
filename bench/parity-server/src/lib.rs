//! The livefire server of the component and stream benchmarks of `bench/run.sh`. Benchmark
//! plumbing only; the user-facing example of both features is `examples/todo`.
//!
//! - `/components`: a [`Grid`] of `n` [`Cell`]s, stateful live components each with its own
//!   count and `+` button (`phx-target={myself}`): a click updates one component only.
//! - `/stream`: a [`Feed`], a stream of items fed by events: `insert` (`phx-value-n`, at most
//!   [`MAX_BATCH`]) appends `n` new items, `reset` empties the stream. The server keeps none
//!   of the items once they are sent.
//! - `/upload`: an [`UploadSink`], one auto-upload in 64 KiB chunks, consumed (and its
//!   temporary file deleted) as soon as it is done (the upload benchmark).
//! - `/nested`: a [`Nest`] of `children` nested [`Child`] counters (the nested-view benchmark).

pub mod child;
pub mod nested;
pub mod upload;

use std::path::PathBuf;

use axum::Router;
use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::session::CookieSessionLayer;
use livefire::stream::Stream;
use livefire::token::Keyring;
use livefire::{Error, Event, Limits, LiveRouter, LiveView, Rendered, Result, Socket, html};

pub use crate::child::Child;
pub use crate::nested::Nest;
pub use crate::upload::UploadSink;

/// The largest `n` of one `insert` event.
pub const MAX_BATCH: usize = 10_000;

/// One cell of the grid: a live component with its own count.
#[derive(Debug)]
pub struct Cell {
    index: u32,
    count: u64,
}

impl LiveComponent for Cell {
    /// Its index in the grid.
    type Assigns = u32;

    fn new(index: &u32) -> Self {
        Cell {
            index: *index,
            count: 0,
        }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "inc" => self.count += 1,
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html! {
            <li class="cell">
                <span>"Cell " {self.index}</span>
                " "
                <button phx-click="inc" phx-target={myself}>"+"</button>
                " "
                <b>{self.count}</b>
            </li>
        }
    }
}

/// The page of `n` cells.
#[derive(Debug)]
pub struct Grid {
    n: u32,
}

impl LiveView for Grid {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html! {
            <h1>"Cells"</h1>
            <ul id="cells">
                @for i in 0..self.n; key = i {
                    {live_component::<Cell>(format!("cell-{i}"), i)}
                }
            </ul>
        }
    }
}

/// One item of the feed.
#[derive(Debug)]
pub struct Item(u64);

/// A stream fed by `insert` events.
#[derive(Debug)]
pub struct Feed {
    items: Stream<Item>,
    inserted: u64,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            items: Stream::new("items", |item: &Item| format!("items-{}", item.0)),
            inserted: 0,
        }
    }
}

impl LiveView for Feed {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "insert" => {
                let n = event
                    .get("n")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(1)
                    .min(MAX_BATCH);
                for _ in 0..n {
                    self.inserted += 1;
                    self.items.insert(Item(self.inserted));
                }
            }
            "reset" => {
                self.items.reset();
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html! {
            <p>"Inserted: " <span id="inserted">{self.inserted}</span></p>
            <ul id="items" phx-update="stream">
                @for (dom_id, item) in &self.items {
                    <li id={dom_id}>"Item " {item.0}</li>
                }
            </ul>
        }
    }
}

/// What the benchmark app serves.
///
/// ```
/// let options = bench_parity_server::Options::default();
/// assert_eq!((options.components, options.children), (1000, 10));
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Live components on `/components`.
    pub components: u32,
    /// Nested live views on `/nested`.
    pub children: u32,
    /// Where uploads' temporary files go (`None`: livefire's default, the system's temp dir).
    pub upload_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            components: 1000,
            children: 10,
            upload_dir: None,
        }
    }
}

/// The socket limits of the benchmark app: livefire's defaults, except frames up to 65 KiB, so
/// that a 64 KiB upload chunk and its frame header fit (livefire keeps 1 KiB for the header
/// and would otherwise lower the chunk size to 63 KiB).
///
/// ```
/// assert_eq!(bench_parity_server::limits().max_message_size, 65 * 1024);
/// ```
pub fn limits() -> Limits {
    Limits {
        max_message_size: upload::CHUNK_SIZE as usize + 1024,
        ..Limits::default()
    }
}

/// The benchmark app: `/components`, `/stream`, `/upload` and `/nested`.
///
/// ```
/// use livefire::token::Keyring;
/// let _router = bench_parity_server::app(Keyring::random(), bench_parity_server::Options::default());
/// ```
pub fn app(keyring: Keyring, options: Options) -> Router {
    let Options {
        components,
        children,
        upload_dir,
    } = options;
    let mut router = LiveRouter::new(keyring.clone()).limits(limits());
    if let Some(dir) = upload_dir {
        router = router.upload_dir(dir);
    }
    router
        .child_view(Child::default)
        .live("/components", move || Grid { n: components })
        .live("/stream", Feed::default)
        .live("/upload", UploadSink::default)
        .live("/nested", move || Nest { children })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn page(app: Router, path: &str) -> String {
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), 200);
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("body");
        String::from_utf8(body.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn pages_render() {
        let app = app(
            Keyring::random(),
            Options {
                components: 3,
                children: 2,
                upload_dir: None,
            },
        );
        let grid = page(app.clone(), "/components").await;
        assert_eq!(grid.matches("<li class=\"cell\">").count(), 3, "{grid}");
        assert!(
            grid.contains(
                "<span>Cell 2</span> <button phx-click=\"inc\" phx-target=\"3\">+</button> <b>0</b>"
            ),
            "{grid}"
        );
        let feed = page(app.clone(), "/stream").await;
        assert!(
            feed.contains("<ul id=\"items\" phx-update=\"stream\"></ul>"),
            "{feed}"
        );
        let upload = page(app.clone(), "/upload").await;
        assert!(
            upload.contains(r#"data-phx-hook="Phoenix.LiveFileUpload""#),
            "{upload}"
        );
        let nested = page(app, "/nested").await;
        assert_eq!(nested.matches("data-phx-parent-id=").count(), 2, "{nested}");
        assert!(
            nested.contains(
                r#"<p class="child">Child 1: <b>0</b> <button phx-click="inc">+</button></p>"#
            ),
            "{nested}"
        );
    }
}
