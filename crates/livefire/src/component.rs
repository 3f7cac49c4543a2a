//! Stateful live components (docs/protocol.md §3.4): a piece of a live view with its own
//! state, its own events and its own render, updated and sent on its own.
//!
//! A view places a component in its template with [`live_component`]`::<C>(id, assigns)`.
//! The runtime keeps one `C` per id: created with [`LiveComponent::new`] the first time,
//! [`update`](LiveComponent::update)d when the parent renders it with other assigns,
//! rendered again only when it changed, and sent to the client as a `cid` in the parent's tree
//! with its own tree in the diff's `c` map. Events from elements with
//! `phx-target={myself}` (see [`Myself`]) go to the component's
//! [`handle_event`](LiveComponent::handle_event) instead of the view's.
//!
//! ```
//! use livefire::component::{live_component, ComponentSocket, LiveComponent, Myself};
//! use livefire::{html, Event, Rendered, Result};
//!
//! /// A row of a todo list that can be edited in place.
//! struct Row { title: String, editing: bool }
//!
//! #[derive(Clone, PartialEq)]
//! struct RowAssigns { title: String }
//!
//! impl LiveComponent for Row {
//!     type Assigns = RowAssigns;
//!
//!     fn new(assigns: &RowAssigns) -> Self {
//!         Row { title: assigns.title.clone(), editing: false }
//!     }
//!
//!     async fn update(&mut self, assigns: RowAssigns, _socket: &mut ComponentSocket<'_>) -> Result {
//!         self.title = assigns.title; // keeps `editing`
//!         Ok(())
//!     }
//!
//!     async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
//!         match event.name() {
//!             "edit" => self.editing = !self.editing,
//!             other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(&self, myself: Myself) -> Rendered {
//!         html!(<li>{self.title.as_str()} " " <button phx-click="edit" phx-target={myself}>"Edit"</button></li>)
//!     }
//! }
//!
//! // In a view's render:
//! let titles = ["Milk", "Bread"];
//! let list = html!(<ul>@for (i, title) in titles.iter().enumerate() {
//!     {live_component::<Row>(format!("row-{i}"), RowAssigns { title: title.to_string() })}
//! }</ul>);
//! // Outside the runtime a component renders on its own:
//! assert!(list.to_html().starts_with("<ul><li>Milk <button phx-click=\"edit\""));
//! ```

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;

use futures_util::future::BoxFuture;

use crate::event::Event;
use crate::message::ComponentUpdate;
use crate::rendered::{ComponentCall, Dynamic, ErasedCall, Rendered};

pub use crate::socket::{ComponentSocket, Myself};

/// A stateful live component. See the [module docs](self).
pub trait LiveComponent: Sized + Send + 'static {
    /// What the parent passes when it renders the component; compared with the previous
    /// assigns to decide whether to update.
    type Assigns: Clone + PartialEq + Send + Sync + 'static;

    /// Creates the component the first time its id is rendered.
    fn new(assigns: &Self::Assigns) -> Self;

    /// Runs once right after [`new`](Self::new), before the component's first render, with
    /// the view's socket: Phoenix's `mount/1`. `socket.connected()` is false during the dead
    /// render and true once the view joined, so a component can start connected-only work
    /// here (for example [`send_update`](crate::SocketCore::send_update) to itself, which is
    /// applied after this render). During the dead render what it asks of the socket besides
    /// reading it is ignored. The default does nothing.
    ///
    /// (Rendering a component outside a view, with `to_html()`, only calls `new`.)
    ///
    /// ```
    /// use livefire::component::{ComponentSocket, LiveComponent, Myself};
    /// use livefire::{html, Rendered, Result};
    ///
    /// struct Clock { live: bool }
    ///
    /// impl LiveComponent for Clock {
    ///     type Assigns = ();
    ///     fn new(_: &()) -> Self { Clock { live: false } }
    ///     async fn mount(&mut self, socket: &mut ComponentSocket<'_>) -> Result {
    ///         self.live = socket.connected();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: Myself) -> Rendered {
    ///         html!(<p>@if self.live { "live" } else { "loading…" }</p>)
    ///     }
    /// }
    ///
    /// // Outside a view (no socket, no mount): the disconnected markup.
    /// let page = html!(<div>{livefire::component::live_component::<Clock>("clock", ())}</div>);
    /// assert_eq!(page.to_html(), "<div><p>loading…</p></div>");
    /// ```
    fn mount(
        &mut self,
        _socket: &mut ComponentSocket<'_>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Runs when the parent renders the component with assigns different from the last ones.
    /// The default starts over: `*self = Self::new(&assigns)`.
    fn update(
        &mut self,
        assigns: Self::Assigns,
        _socket: &mut ComponentSocket<'_>,
    ) -> impl Future<Output = crate::Result> + Send {
        *self = Self::new(&assigns);
        async { Ok(()) }
    }

    /// Handles an event sent to this component (`phx-target={myself}`). The default refuses
    /// every event with [`Error::UnknownEvent`](crate::Error::UnknownEvent).
    fn handle_event(
        &mut self,
        event: Event,
        _socket: &mut ComponentSocket<'_>,
    ) -> impl Future<Output = crate::Result> + Send {
        async move { Err(crate::Error::UnknownEvent(event.name().to_owned())) }
    }

    /// Renders the component: a template with **one root element** (the client marks it
    /// with the component's id). `myself` is the `phx-target` of the component's own events.
    fn render(&self, myself: Myself) -> Rendered;
}

/// Places the live component `C` with `id` (unique among the view's `C`s) in a template.
///
/// ```
/// # use livefire::component::{live_component, LiveComponent, Myself};
/// # use livefire::{html, Rendered};
/// # struct Badge(u32);
/// # impl LiveComponent for Badge {
/// #     type Assigns = u32;
/// #     fn new(n: &u32) -> Self { Badge(*n) }
/// #     fn render(&self, _: Myself) -> Rendered { html!(<b>{self.0}</b>) }
/// # }
/// let page = html!(<p>"Unread: " {live_component::<Badge>("unread", 3)}</p>);
/// assert_eq!(page.to_html(), "<p>Unread: <b>3</b></p>");
/// ```
pub fn live_component<C: LiveComponent>(
    id: impl Into<String>,
    assigns: C::Assigns,
) -> ComponentCall {
    ComponentCall::new(Box::new(Call::<C> {
        id: id.into(),
        assigns,
    }))
}

impl crate::dynamic::IntoDynamic for ComponentCall {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Component(self)
    }
}

/// A placed component before the runtime resolved it.
struct Call<C: LiveComponent> {
    id: String,
    assigns: C::Assigns,
}

impl<C: LiveComponent> ErasedCall for Call<C> {
    fn kind(&self) -> TypeId {
        TypeId::of::<C>()
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn clone_box(&self) -> Box<dyn ErasedCall> {
        Box::new(Self {
            id: self.id.clone(),
            assigns: self.assigns.clone(),
        })
    }

    fn write_standalone(&self, out: &mut String) {
        C::new(&self.assigns).render(Myself(0)).write_html(out);
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        let call: Box<dyn RuntimeCall> = self;
        Box::new(call)
    }
}

/// What the runtime does with a placed component.
trait RuntimeCall: Send {
    /// A new component from the call.
    fn instantiate(self: Box<Self>) -> Box<dyn Instance>;
    /// Gives the call's assigns to an existing component: the update to run if they differ
    /// from its last ones.
    fn apply<'a, 'b: 'a>(
        self: Box<Self>,
        instance: &'a mut dyn Instance,
        socket: &'a mut ComponentSocket<'b>,
    ) -> Option<BoxFuture<'a, crate::Result>>;
}

impl<C: LiveComponent> RuntimeCall for Call<C> {
    fn instantiate(self: Box<Self>) -> Box<dyn Instance> {
        Box::new(Holder::<C> {
            component: C::new(&self.assigns),
            assigns: self.assigns,
        })
    }

    fn apply<'a, 'b: 'a>(
        self: Box<Self>,
        instance: &'a mut dyn Instance,
        socket: &'a mut ComponentSocket<'b>,
    ) -> Option<BoxFuture<'a, crate::Result>> {
        let holder = instance.as_any_mut().downcast_mut::<Holder<C>>()?;
        if holder.assigns == self.assigns {
            return None;
        }
        holder.assigns = self.assigns.clone();
        Some(Box::pin(holder.component.update(self.assigns, socket)))
    }
}

/// A live component of some type, as the runtime holds it.
trait Instance: Send {
    fn render(&self, myself: Myself) -> Rendered;
    fn mount<'a, 'b: 'a>(
        &'a mut self,
        socket: &'a mut ComponentSocket<'b>,
    ) -> BoxFuture<'a, crate::Result>;
    fn handle_event<'a, 'b: 'a>(
        &'a mut self,
        event: Event,
        socket: &'a mut ComponentSocket<'b>,
    ) -> BoxFuture<'a, crate::Result>;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The component itself, for [`ComponentUpdate`]s.
    fn component_mut(&mut self) -> &mut dyn Any;
}

struct Holder<C: LiveComponent> {
    component: C,
    assigns: C::Assigns,
}

impl<C: LiveComponent> Instance for Holder<C> {
    fn render(&self, myself: Myself) -> Rendered {
        self.component.render(myself)
    }

    fn mount<'a, 'b: 'a>(
        &'a mut self,
        socket: &'a mut ComponentSocket<'b>,
    ) -> BoxFuture<'a, crate::Result> {
        Box::pin(self.component.mount(socket))
    }

    fn handle_event<'a, 'b: 'a>(
        &'a mut self,
        event: Event,
        socket: &'a mut ComponentSocket<'b>,
    ) -> BoxFuture<'a, crate::Result> {
        Box::pin(self.component.handle_event(event, socket))
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn component_mut(&mut self) -> &mut dyn Any {
        &mut self.component
    }
}

/// Two components of one type with the same id in one render.
#[derive(Debug, thiserror::Error)]
#[error("duplicate live component id {0:?} in one render")]
pub(crate) struct DuplicateId(pub(crate) String);

/// One component of a view.
struct Entry {
    kind: TypeId,
    id: String,
    instance: Box<dyn Instance>,
    /// The client reported its root gone (`cids_will_destroy`).
    marked: bool,
    /// The client holds nothing for it (new, or revived after `cids_will_destroy`): its
    /// next render is sent in full.
    fresh: bool,
    /// Changed since its last render.
    dirty: bool,
    /// The components its last render placed.
    children: Vec<u32>,
}

/// The live components of one view, by cid and by (type, id).
#[derive(Default)]
struct Registry {
    entries: HashMap<u32, Entry>,
    ids: HashMap<(TypeId, String), u32>,
    next: u32,
    /// The components the view's last render placed.
    root: Vec<u32>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("count", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Calls found in a tree, to resolve: the cid, and the call.
pub(crate) struct Placed(Vec<(u32, TypeId, String, Box<dyn RuntimeCall>)>);

impl Placed {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
}

impl fmt::Debug for Placed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Placed").field(&self.0.len()).finish()
    }
}

/// A placeholder left in the tree once the runtime took a call's assigns.
struct Taken {
    kind: TypeId,
    id: String,
}

impl ErasedCall for Taken {
    fn kind(&self) -> TypeId {
        self.kind
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn clone_box(&self) -> Box<dyn ErasedCall> {
        Box::new(Taken {
            kind: self.kind,
            id: self.id.clone(),
        })
    }
    fn write_standalone(&self, _out: &mut String) {}
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        Box::new(())
    }
}

impl Registry {
    /// Gives every component call in `tree` its cid (allocating cids for new ids) and takes
    /// the calls out for [`resolve`](Self::resolve). `seen` catches an id used twice in one
    /// render.
    /// Returns the cids of the components placed directly in `tree` (not those their own
    /// renders place).
    pub(crate) fn place(
        &mut self,
        tree: &mut Rendered,
        seen: &mut HashSet<u32>,
        placed: &mut Placed,
    ) -> Result<Vec<u32>, DuplicateId> {
        let mut direct = Vec::new();
        self.place_all(tree.dynamics_mut(), seen, placed, &mut direct)?;
        Ok(direct)
    }

    fn place_all(
        &mut self,
        dynamics: &mut [Dynamic],
        seen: &mut HashSet<u32>,
        placed: &mut Placed,
        direct: &mut Vec<u32>,
    ) -> Result<(), DuplicateId> {
        for dynamic in dynamics {
            match dynamic {
                // A nested live view's components are its own.
                Dynamic::Html(_) | Dynamic::LiveRender(_) => {}
                Dynamic::Nested(r) => self.place_all(r.dynamics_mut(), seen, placed, direct)?,
                Dynamic::Comprehension(c) => {
                    for entry in c.entries_mut() {
                        self.place_all(entry, seen, placed, direct)?;
                    }
                }
                Dynamic::Component(call) => {
                    let kind = call.inner.kind();
                    let id = call.inner.id().to_owned();
                    let cid = match self.ids.get(&(kind, id.clone())) {
                        Some(&cid) => cid,
                        None => {
                            self.next += 1;
                            self.next
                        }
                    };
                    if !seen.insert(cid) {
                        return Err(DuplicateId(id));
                    }
                    call.cid = Some(cid);
                    direct.push(cid);
                    let inner = std::mem::replace(
                        &mut call.inner,
                        Box::new(Taken {
                            kind,
                            id: id.clone(),
                        }),
                    );
                    // (Already taken, for a tree placed twice: nothing to resolve.)
                    if let Ok(runtime) = inner.into_any().downcast::<Box<dyn RuntimeCall>>() {
                        placed.0.push((cid, kind, id.clone(), *runtime));
                    }
                    if !self.ids.contains_key(&(kind, id.clone())) {
                        // Reserve the cid now so a second call with this id is a duplicate.
                        self.ids.insert((kind, id), cid);
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates, updates and renders the placed components and those they place in turn,
    /// then renders the components changed by their own events or by updates. Returns the
    /// renders to send (the components that changed), in cid order.
    pub(crate) async fn resolve(
        &mut self,
        mut placed: Placed,
        seen: &mut HashSet<u32>,
        socket: &mut ComponentSocket<'_>,
    ) -> Result<Vec<(u32, Rendered)>, crate::lifecycle::Failure> {
        let mut renders = Vec::new();
        loop {
            while let Some((cid, kind, id, call)) = placed.0.pop() {
                let entry = match self.entries.get_mut(&cid) {
                    Some(entry) => {
                        if entry.marked {
                            // Re-added before the client destroyed it: revive, in full.
                            entry.marked = false;
                            entry.fresh = true;
                        }
                        socket.myself = Myself(cid);
                        if let Some(update) = call.apply(&mut *entry.instance, socket) {
                            crate::lifecycle::guarded(update).await?;
                            entry.dirty = true;
                        }
                        entry
                    }
                    None => {
                        let mut instance = call.instantiate();
                        socket.myself = Myself(cid);
                        crate::lifecycle::guarded(instance.mount(socket)).await?;
                        self.entries.entry(cid).or_insert(Entry {
                            kind,
                            id,
                            instance,
                            marked: false,
                            fresh: true,
                            dirty: true,
                            children: Vec::new(),
                        })
                    }
                };
                if entry.dirty || entry.fresh {
                    entry.dirty = false;
                    let mut tree = render_guarded(&*entry.instance, Myself(cid))?;
                    let children = self
                        .place(&mut tree, seen, &mut placed)
                        .map_err(|err| crate::lifecycle::Failure::Err(crate::Error::app(err)))?;
                    self.set_children(cid, children);
                    renders.push((cid, tree));
                }
            }
            // Components changed outside a parent render: their own events, updates.
            let mut dirty: Vec<u32> = self
                .entries
                .iter()
                .filter(|(_, e)| e.dirty)
                .map(|(cid, _)| *cid)
                .collect();
            if dirty.is_empty() {
                break;
            }
            dirty.sort_unstable();
            for cid in dirty {
                let Some(entry) = self.entries.get_mut(&cid) else {
                    continue;
                };
                entry.dirty = false;
                let mut tree = render_guarded(&*entry.instance, Myself(cid))?;
                seen.insert(cid);
                let children = self
                    .place(&mut tree, seen, &mut placed)
                    .map_err(|err| crate::lifecycle::Failure::Err(crate::Error::app(err)))?;
                self.set_children(cid, children);
                renders.push((cid, tree));
            }
        }
        renders.sort_by_key(|(cid, _)| *cid);
        Ok(renders)
    }

    /// Whether the client must get `cid` in full (then clears the flag).
    pub(crate) fn take_fresh(&mut self, cid: u32) -> bool {
        self.entries
            .get_mut(&cid)
            .is_some_and(|e| std::mem::take(&mut e.fresh))
    }

    /// Runs a component's event handler; `None` if there is no component `cid`.
    pub(crate) fn handle_event<'a>(
        &'a mut self,
        cid: u32,
        event: Event,
        socket: &'a mut ComponentSocket<'_>,
    ) -> Option<BoxFuture<'a, crate::Result>> {
        let entry = self.entries.get_mut(&cid)?;
        entry.dirty = true;
        socket.myself = Myself(cid);
        // The socket outlives the future: reborrow for 'a.
        Some(entry.instance.handle_event(event, socket))
    }

    /// Applies a change to the component it names; false if there is none.
    pub(crate) fn apply_update(&mut self, update: ComponentUpdate) -> bool {
        let Some(&cid) = self.ids.get(&(update.kind, update.id.clone())) else {
            tracing::warn!(id = %update.id, "send_update: no such live component");
            return false;
        };
        let Some(entry) = self.entries.get_mut(&cid) else {
            return false;
        };
        (update.apply)(entry.instance.component_mut());
        entry.dirty = true;
        true
    }

    fn set_children(&mut self, cid: u32, children: Vec<u32>) {
        if let Some(entry) = self.entries.get_mut(&cid) {
            entry.children = children;
        }
    }

    /// Records the components the view's render placed (the roots of what is on the page).
    pub(crate) fn set_root(&mut self, cids: Vec<u32>) {
        self.root = cids;
    }

    /// The components the server's latest renders put on the page: those the view placed,
    /// and those they placed in turn.
    fn on_page(&self) -> HashSet<u32> {
        let mut reached: HashSet<u32> = HashSet::new();
        let mut todo: Vec<u32> = self.root.clone();
        while let Some(cid) = todo.pop() {
            if reached.insert(cid)
                && let Some(entry) = self.entries.get(&cid)
            {
                todo.extend_from_slice(&entry.children);
            }
        }
        reached
    }

    /// The client lost every component (the view's root was sent with new statics, which
    /// replaces the client's whole tree, `c` included): the next render sends each placed
    /// component in full.
    pub(crate) fn refresh_all(&mut self) {
        for entry in self.entries.values_mut() {
            entry.fresh = true;
            entry.marked = false;
        }
    }

    /// Forgets the components not on the page (after [`refresh_all`](Self::refresh_all): the
    /// client holds none of them, so it will never report them); returns their cids.
    pub(crate) fn retain_on_page(&mut self) -> Vec<u32> {
        let keep = self.on_page();
        let gone: Vec<u32> = self
            .entries
            .keys()
            .filter(|cid| !keep.contains(cid))
            .copied()
            .collect();
        for cid in &gone {
            if let Some(entry) = self.entries.remove(cid) {
                self.ids.remove(&(entry.kind, entry.id));
            }
        }
        gone
    }

    /// `cids_will_destroy`: the client removed these components' roots from the DOM. A
    /// component that the server's latest render put back on the page is not marked: the
    /// report is older than that render, which the client has not applied yet.
    pub(crate) fn mark(&mut self, cids: &[u32]) {
        let on_page = self.on_page();
        for cid in cids {
            if on_page.contains(cid) {
                continue;
            }
            if let Some(entry) = self.entries.get_mut(cid) {
                entry.marked = true;
            }
        }
    }

    /// `cids_destroyed`: forgets the components still marked and not back on the page;
    /// returns their cids.
    pub(crate) fn destroy(&mut self, cids: &[u32]) -> Vec<u32> {
        let on_page = self.on_page();
        let mut destroyed = Vec::new();
        for &cid in cids {
            if !on_page.contains(&cid)
                && self.entries.get(&cid).is_some_and(|e| e.marked)
                && let Some(entry) = self.entries.remove(&cid)
            {
                self.ids.remove(&(entry.kind, entry.id));
                destroyed.push(cid);
            }
        }
        destroyed
    }
}

/// The live components of one view: nothing but a null pointer until the view places its
/// first component. It lives in every view task, and most views have none (the registry's
/// maps and lists take ~130 bytes inline; idle memory per view is a measured target, see
/// BENCHMARKS.md).
#[derive(Debug, Default)]
pub(crate) struct Components(Option<Box<Registry>>);

impl Components {
    /// See [`Registry::place`]; allocates the registry at the first component call found.
    pub(crate) fn place(
        &mut self,
        tree: &mut Rendered,
        seen: &mut HashSet<u32>,
        placed: &mut Placed,
    ) -> Result<Vec<u32>, DuplicateId> {
        match &mut self.0 {
            Some(registry) => registry.place(tree, seen, placed),
            None if !has_calls(tree.dynamics()) => Ok(Vec::new()),
            None => self
                .0
                .get_or_insert_with(Box::default)
                .place(tree, seen, placed),
        }
    }

    /// See [`Registry::resolve`].
    pub(crate) async fn resolve(
        &mut self,
        placed: Placed,
        seen: &mut HashSet<u32>,
        socket: &mut ComponentSocket<'_>,
    ) -> Result<Vec<(u32, Rendered)>, crate::lifecycle::Failure> {
        match &mut self.0 {
            Some(registry) => registry.resolve(placed, seen, socket).await,
            // Nothing was placed (`place` allocates at the first call) and nothing changed.
            None => Ok(Vec::new()),
        }
    }

    /// See [`Registry::take_fresh`].
    pub(crate) fn take_fresh(&mut self, cid: u32) -> bool {
        self.0.as_mut().is_some_and(|r| r.take_fresh(cid))
    }

    /// See [`Registry::handle_event`].
    pub(crate) fn handle_event<'a>(
        &'a mut self,
        cid: u32,
        event: Event,
        socket: &'a mut ComponentSocket<'_>,
    ) -> Option<BoxFuture<'a, crate::Result>> {
        self.0.as_mut()?.handle_event(cid, event, socket)
    }

    /// See [`Registry::apply_update`].
    pub(crate) fn apply_update(&mut self, update: ComponentUpdate) -> bool {
        match &mut self.0 {
            Some(registry) => registry.apply_update(update),
            None => {
                tracing::warn!(id = %update.id, "send_update: no such live component");
                false
            }
        }
    }

    /// See [`Registry::set_root`].
    pub(crate) fn set_root(&mut self, cids: Vec<u32>) {
        match &mut self.0 {
            Some(registry) => registry.set_root(cids),
            None if cids.is_empty() => {}
            None => self.0.get_or_insert_with(Box::default).set_root(cids),
        }
    }

    /// See [`Registry::refresh_all`].
    pub(crate) fn refresh_all(&mut self) {
        if let Some(registry) = &mut self.0 {
            registry.refresh_all();
        }
    }

    /// See [`Registry::retain_on_page`].
    pub(crate) fn retain_on_page(&mut self) -> Vec<u32> {
        self.0
            .as_mut()
            .map(|r| r.retain_on_page())
            .unwrap_or_default()
    }

    /// See [`Registry::mark`].
    pub(crate) fn mark(&mut self, cids: &[u32]) {
        if let Some(registry) = &mut self.0 {
            registry.mark(cids);
        }
    }

    /// See [`Registry::destroy`].
    pub(crate) fn destroy(&mut self, cids: &[u32]) -> Vec<u32> {
        self.0.as_mut().map(|r| r.destroy(cids)).unwrap_or_default()
    }
}

/// Whether a tree holds a component call (outside nested live views, whose components are
/// their own).
fn has_calls(dynamics: &[Dynamic]) -> bool {
    dynamics.iter().any(|dynamic| match dynamic {
        Dynamic::Html(_) | Dynamic::LiveRender(_) => false,
        Dynamic::Nested(r) => has_calls(r.dynamics()),
        Dynamic::Comprehension(c) => c.entries().iter().any(|entry| has_calls(entry)),
        Dynamic::Component(_) => true,
    })
}

fn render_guarded(
    instance: &dyn Instance,
    myself: Myself,
) -> Result<Rendered, crate::lifecycle::Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| instance.render(myself)))
        .map_err(|payload| crate::lifecycle::Failure::Panic(crate::error::panic_message(&*payload)))
}

/// Resolves every component of a tree from scratch, without updates (the dead render: each
/// component is created from its call, mounted with the disconnected `socket`, and rendered).
/// Returns the renders by cid.
pub(crate) async fn resolve_fresh(
    tree: &mut Rendered,
    socket: &mut ComponentSocket<'_>,
) -> Result<HashMap<u32, Rendered>, crate::lifecycle::Failure> {
    let mut components = Registry::default();
    let mut seen = HashSet::new();
    let mut placed = Placed::new();
    components
        .place(tree, &mut seen, &mut placed)
        .map_err(|err| crate::lifecycle::Failure::Err(crate::Error::app(err)))?;
    let mut renders = HashMap::new();
    while let Some((cid, _, _, call)) = placed.0.pop() {
        let mut instance = call.instantiate();
        socket.myself = Myself(cid);
        crate::lifecycle::guarded(instance.mount(socket)).await?;
        let mut rendered = render_guarded(&*instance, Myself(cid))?;
        components
            .place(&mut rendered, &mut seen, &mut placed)
            .map_err(|err| crate::lifecycle::Failure::Err(crate::Error::app(err)))?;
        renders.insert(cid, rendered);
    }
    Ok(renders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_without_components_holds_one_null_pointer() {
        assert_eq!(size_of::<Components>(), size_of::<usize>());
        let mut components = Components::default();
        let mut tree = crate::html! { <p>{"no components"}</p> };
        let placed = components
            .place(&mut tree, &mut HashSet::new(), &mut Placed::new())
            .unwrap();
        assert!(placed.is_empty());
        components.set_root(placed);
        assert!(
            components.0.is_none(),
            "nothing allocated without a component"
        );
        assert!(components.retain_on_page().is_empty());
        assert!(!components.take_fresh(1));
    }
}
