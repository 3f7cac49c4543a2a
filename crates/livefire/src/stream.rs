//! [`Stream`]: a list the server renders but does not keep (docs/protocol.md §3.5).
//!
//! A stream holds only the items of its latest operations: once the client has them (in a
//! container with `phx-update="stream"`), they are never sent again, and the stream drops them
//! at its next operation (insert, delete or reset). So a stream costs at most one batch of
//! items, however many were inserted over time. Each item needs a DOM id (the stream's
//! `dom_id` function), which the template puts on the item's root element; the client inserts,
//! moves, updates and deletes elements by that id.
//!
//! ```
//! use livefire::{html, Rendered};
//! use livefire::stream::Stream;
//!
//! struct Song { id: u32, title: String }
//!
//! struct Playlist { songs: Stream<Song> }
//!
//! impl Playlist {
//!     fn new() -> Self {
//!         let mut songs = Stream::new("songs", |s: &Song| format!("songs-{}", s.id));
//!         songs.insert(Song { id: 1, title: "Intro".into() });
//!         Playlist { songs }
//!     }
//!
//!     fn render(&self) -> Rendered {
//!         html!(<ul id="songs" phx-update="stream">
//!             @for (dom_id, song) in &self.songs { <li id={dom_id}>{song.title.as_str()}</li> }
//!         </ul>)
//!     }
//! }
//!
//! let list = Playlist::new();
//! assert_eq!(
//!     list.render().to_html(),
//!     r#"<ul id="songs" phx-update="stream"><li id="songs-1">Intro</li></ul>"#
//! );
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::rendered::{StreamInsert, StreamMeta, StreamSent};

/// Streams get page-wide unique refs (the client resets a stream by its ref, across views).
static NEXT_REF: AtomicU64 = AtomicU64::new(0);

/// A stream's operations not yet sent: inserts, deleted DOM ids, reset.
type Pending<'a, T> = (&'a [(String, T, InsertAt)], &'a [String], bool);

/// Where [`Stream::insert_with`] puts an item.
///
/// ```
/// use livefire::stream::InsertAt;
/// let first = InsertAt { at: 0, ..Default::default() };
/// assert_eq!(InsertAt::default().at, -1); // appended
/// # let _ = first;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertAt {
    /// Position in the container: `-1` appends (the default), `0` prepends, `n` inserts
    /// before the n-th item. An item whose DOM id is already on the page is updated in place.
    pub at: i64,
    /// Keep at most this many items after inserting: a positive limit keeps the first ones,
    /// a negative one the last ones.
    pub limit: Option<i64>,
    /// Only update the item if it is already on the page; never add it.
    pub update_only: bool,
}

impl Default for InsertAt {
    fn default() -> Self {
        Self {
            at: -1,
            limit: None,
            update_only: false,
        }
    }
}

/// A stream of items of type `T`: see the [module docs](self).
pub struct Stream<T> {
    reference: Arc<str>,
    dom_id: Arc<dyn Fn(&T) -> String + Send + Sync>,
    /// Items inserted since the last render that reached the client, in order.
    inserts: Vec<(String, T, InsertAt)>,
    deletes: Vec<String>,
    reset: bool,
    /// How many renders of this stream reached the client (set by the runtime).
    sent: Arc<AtomicU64>,
    /// The render the pending operations belong to.
    generation: u64,
}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("ref", &self.reference)
            .field("pending_inserts", &self.pending().0.len())
            .finish_non_exhaustive()
    }
}

impl<T> Stream<T> {
    /// An empty stream; `dom_id` gives each item's DOM id (unique on the page, e.g.
    /// `"songs-42"`). `name` only helps debugging.
    pub fn new(name: &str, dom_id: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        let n = NEXT_REF.fetch_add(1, Ordering::Relaxed);
        Self {
            reference: Arc::from(format!("{name}-{n}")),
            dom_id: Arc::new(dom_id),
            inserts: Vec::new(),
            deletes: Vec::new(),
            reset: false,
            sent: Arc::new(AtomicU64::new(0)),
            generation: 0,
        }
    }

    /// Drops the operations the client has (they were sent with an earlier render).
    fn prune(&mut self) {
        let sent = self.sent.load(Ordering::Relaxed);
        if sent > self.generation {
            // Replaced, not cleared: a large batch's buffer is freed, not kept for good.
            self.inserts = Vec::new();
            self.deletes = Vec::new();
            self.reset = false;
            self.generation = sent;
        }
    }

    /// The pending operations (inserts, deletes, reset), unless they were sent already.
    fn pending(&self) -> Pending<'_, T> {
        if self.sent.load(Ordering::Relaxed) > self.generation {
            (&[], &[], false)
        } else {
            (&self.inserts, &self.deletes, self.reset)
        }
    }

    /// Appends an item (or updates it in place if its DOM id is on the page).
    pub fn insert(&mut self, item: T) -> &mut Self {
        self.insert_with(item, InsertAt::default())
    }

    /// Inserts an item at a position, with a limit (see [`InsertAt`]).
    pub fn insert_with(&mut self, item: T, at: InsertAt) -> &mut Self {
        self.prune();
        let id = (self.dom_id)(&item);
        // The same item twice in one render: the later insert wins.
        self.inserts.retain(|(existing, _, _)| *existing != id);
        self.inserts.push((id, item, at));
        self
    }

    /// Appends every item.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        for item in items {
            self.insert(item);
        }
        self
    }

    /// Removes an item from the page.
    pub fn delete(&mut self, item: &T) -> &mut Self {
        let id = (self.dom_id)(item);
        self.delete_by_dom_id(id)
    }

    /// Removes the item with this DOM id from the page.
    pub fn delete_by_dom_id(&mut self, dom_id: impl Into<String>) -> &mut Self {
        self.prune();
        let id = dom_id.into();
        self.inserts.retain(|(existing, _, _)| *existing != id);
        self.deletes.push(id);
        self
    }

    /// Removes every item from the page (items inserted after this, in the same callback,
    /// appear).
    pub fn reset(&mut self) -> &mut Self {
        self.prune();
        self.inserts = Vec::new();
        self.deletes = Vec::new();
        self.reset = true;
        self
    }

    /// The DOM id of an item.
    pub fn dom_id(&self, item: &T) -> String {
        (self.dom_id)(item)
    }

    /// What the comprehension of this stream sends.
    fn meta(&self) -> StreamMeta {
        let (inserts, deletes, reset) = self.pending();
        StreamMeta {
            reference: self.reference.clone(),
            inserts: inserts
                .iter()
                .map(|(id, _, at)| StreamInsert {
                    dom_id: id.clone(),
                    at: at.at,
                    limit: at.limit,
                    update_only: at.update_only,
                })
                .collect(),
            deletes: deletes.to_vec(),
            reset,
            sent: Some(StreamSent {
                counter: self.sent.clone(),
                generation: self.generation,
            }),
        }
    }
}

/// The items to render: each new item with its DOM id.
impl<'a, T> IntoIterator for &'a Stream<T> {
    type Item = (String, &'a T);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, T, InsertAt)>,
        fn(&'a (String, T, InsertAt)) -> (String, &'a T),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn item<T>((id, item, _): &(String, T, InsertAt)) -> (String, &T) {
            (id.clone(), item)
        }
        self.pending().0.iter().map(item::<T>)
    }
}

/// What `html!`'s `@for` uses to find a stream's operations (autoref specialisation).
#[doc(hidden)]
pub mod __private {
    use super::Stream;
    use crate::rendered::StreamMeta;

    /// The source of a `@for`, borrowed.
    #[allow(missing_debug_implementations)]
    pub struct Source<'a, X>(pub &'a X);

    /// A stream source: its operations.
    pub trait IsStream {
        fn __livefire_stream(&self) -> Option<StreamMeta>;
    }

    impl<T> IsStream for Source<'_, &Stream<T>> {
        fn __livefire_stream(&self) -> Option<StreamMeta> {
            Some(self.0.meta())
        }
    }

    impl<T> IsStream for Source<'_, &mut Stream<T>> {
        fn __livefire_stream(&self) -> Option<StreamMeta> {
            Some(self.0.meta())
        }
    }

    /// Any other source: none.
    pub trait NoStream {
        fn __livefire_stream(&self) -> Option<StreamMeta> {
            None
        }
    }

    impl<X> NoStream for &Source<'_, X> {}
}
