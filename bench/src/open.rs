//! Opening many sessions at once: workers that take the next session index until all are
//! opened, shared by the scenarios that hold thousands of sessions open.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use crate::client::{self, Handle, Opener, Target, source_ip};

/// What a parallel open gave: the sessions opened, how many failed (with the first error)
/// and how long it took.
pub struct Opened<T> {
    pub items: Vec<T>,
    pub failed: usize,
    pub first_error: Option<String>,
    pub secs: f64,
}

/// Opens `count` sessions with `open` (worker index, session index), `concurrency` at a time,
/// none started after `deadline`. A run of failures (more than 2 % of `count` plus 20) gives up
/// on the rest: the server is refusing or overloaded.
pub async fn open_many<T, F, Fut>(
    count: usize,
    concurrency: usize,
    deadline: Option<Instant>,
    open: F,
) -> Opened<T>
where
    T: Send + 'static,
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = io::Result<T>> + Send,
{
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let items = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let open = Arc::new(open);
    let mut workers = Vec::new();
    for w in 0..concurrency.min(count) {
        let (next, failed, items, first_error, open) = (
            next.clone(),
            failed.clone(),
            items.clone(),
            first_error.clone(),
            open.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || deadline.is_some_and(|d| Instant::now() > d) {
                    break;
                }
                match open(w, i).await {
                    Ok(item) => items.lock().unwrap_or_else(|e| e.into_inner()).push(item),
                    Err(e) => {
                        let n = failed.fetch_add(1, Ordering::Relaxed) + 1;
                        first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert_with(|| e.to_string());
                        if n > count / 50 + 20 {
                            next.fetch_add(count, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let items = std::mem::take(&mut *items.lock().unwrap_or_else(|e| e.into_inner()));
    let first_error = first_error.lock().unwrap_or_else(|e| e.into_inner()).take();
    Opened {
        items,
        failed: failed.load(Ordering::Relaxed),
        first_error,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// `count` joined WebSocket sessions of `views` live views each, running in their own tasks,
/// `concurrency` at a time; session `i` connects from `source_ip(first + i, spread)`. Each worker
/// keeps one dead-render connection alive (an [`Opener`]), closed when the open is done.
pub async fn open_sessions(
    target: &Arc<Target>,
    first: usize,
    count: usize,
    views: usize,
    (concurrency, spread): (usize, usize),
    deadline: Option<Instant>,
) -> Opened<Handle> {
    let openers: Arc<Vec<tokio::sync::Mutex<Opener>>> = Arc::new(
        (0..concurrency)
            .map(|w| {
                tokio::sync::Mutex::new(Opener::new(target.clone(), source_ip(first + w, spread)))
            })
            .collect(),
    );
    open_many(count, concurrency, deadline, move |w, i| {
        let openers = openers.clone();
        async move {
            let mut opener = openers[w].lock().await;
            opener
                .open(views, source_ip(first + i, spread))
                .await
                .map(client::spawn)
        }
    })
    .await
}
