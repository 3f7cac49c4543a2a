//! The task that runs one connected live view: mount, events, messages, patches, diffs.
//!
//! Each joined view is one tokio task with a small bounded inbox. A callback records its
//! requests on the [`Socket`]; when it returns, the task renders the view and writes one
//! reply (to a client push) or one push (after a message from another task), built by
//! [`crate::wire::payload`]. A panic or `Err` in a callback ends that task only: the client
//! gets `phx_error` and rejoins.

use std::any::Any;
use std::collections::{HashMap, HashSet};

use crate::component::{ComponentSocket, Components, Myself, Placed};
use crate::diff::DiffState;
use std::sync::Arc;

use crate::endpoint::{Endpoint, JoinCtx, Spawned};
use crate::event::Event;
use crate::flash::Flash;
use crate::lifecycle::{self, Failure, guarded};
use crate::live_view::{LiveView, Mount};
use crate::message::{Ended, Inbound, InboundTx, Outbound, ViewMsg};
use crate::nested;
use crate::on_mount::{self, OnMount};
use crate::params::Params;
use crate::queue;
use crate::rendered::{Rendered, Statics};
use crate::session::tickets::FLASH_KEY;
use crate::session::writes::SessionWrites;
use crate::socket::{Navigation, Outputs, Socket};
use crate::upload;
use crate::wire::{frame, json, payload};

/// Consecutive `push_patch`es one round may make (a `handle_params` that patches again, and
/// again…) before the view is considered stuck in a loop and crashed, as Phoenix does.
const MAX_PATCHES: usize = 20;

/// Follow-up rounds of `send_update`s one message may cause (an update that sends another
/// update, and again…) before the remaining updates are dropped as a loop.
const MAX_UPDATE_ROUNDS: usize = 20;

/// Spawns the task of one view; returns its inbox and a handle to abort it.
pub(crate) fn spawn<V: LiveView>(view: V, ctx: JoinCtx) -> Spawned {
    let (tx, rx) = queue::channel::<ViewMsg<V::Message>>(ctx.endpoint.limits.view_inbox);
    let inbox: Box<dyn InboundTx> = Box::new(tx.clone());
    let task = tokio::spawn(run(view, ctx, tx, rx));
    Spawned {
        inbox,
        task: task.abort_handle(),
    }
}

struct Runner<V: LiveView> {
    view: V,
    socket: Socket<V::Message>,
    diff: DiffState,
    ctx: ViewCtx,
    /// The view's live components.
    components: Components,
}

/// What the task keeps of its [`JoinCtx`] for the view's whole life. The rest (the join's
/// ref, the mount context with its URL and connect params) is needed by the join only: it
/// is boxed apart ([`Joining`]) and dropped once the join is answered, so an idle view does
/// not carry it (~260 bytes of every view task).
struct ViewCtx {
    topic: Arc<str>,
    join_ref: Arc<str>,
    /// The route the view was joined on (`None` for a nested view).
    route: Option<usize>,
    /// A sticky nested view: its `push_navigate` navigates the page and it keeps running.
    sticky: bool,
    /// The browser's session id (binds flash tokens and session-write tickets).
    session_id: Option<Arc<str>>,
    endpoint: Arc<Endpoint>,
    /// The connection's outbox.
    out: queue::Sender<Outbound>,
}

/// The part of the [`JoinCtx`] only the join reads.
struct Joining {
    msg_ref: Option<String>,
    mount: Mount,
}

/// Whether the view goes on after a callback.
enum Flow {
    Continue,
    /// Stopped on purpose after a redirect: the connection sends `phx_close`, as Phoenix does
    /// when a joined channel shuts down.
    Close,
    /// Ended without `phx_close`: a join that was refused, or a connection that is gone.
    End,
    /// Crashed: `phx_error` was sent (or the join answered an error); the client rejoins.
    Crashed,
}

/// The view task. The runner is built before the future, which captures it once: an
/// `async fn` keeps its parameters for its whole life next to whatever they were moved into
/// (for the counter: 1,544 bytes of future instead of ~650).
fn run<V: LiveView>(
    view: V,
    ctx: JoinCtx,
    tx: queue::Sender<ViewMsg<V::Message>>,
    mut rx: queue::Receiver<ViewMsg<V::Message>>,
) -> impl Future<Output = ()> + Send {
    let JoinCtx {
        topic,
        join_ref,
        msg_ref,
        mount,
        flash,
        route,
        parent,
        sticky,
        session_id,
        csrf_token,
        client_addr,
        endpoint,
        out,
    } = ctx;
    let mut socket = Socket::disconnected()
        .with_session(mount.session.clone())
        .with_flash(flash);
    socket.connected = true;
    socket.csrf_token = csrf_token;
    socket.client_addr = client_addr;
    if let Some(parent) = parent {
        socket.extras_mut().parent = Some(parent.handle);
    }
    socket.sender = Some(tx);
    #[cfg(feature = "test-util")]
    {
        let id = topic.strip_prefix("lv:").unwrap_or(&topic);
        socket.extras_mut().pending = Some(crate::message::registry::register(id));
    }
    let mut runner = Runner {
        view,
        socket,
        diff: DiffState::new(),
        ctx: ViewCtx {
            topic,
            join_ref,
            route,
            sticky,
            session_id,
            endpoint,
            out,
        },
        components: Components::default(),
    };
    let joining = Box::new(Joining { msg_ref, mount });
    async move {
        // The callbacks' futures are boxed: the task only keeps the runner and the inbox
        // while idle, not the largest state of `join`/`handle` (and of the view's own async
        // callbacks), which would otherwise be paid by every idle view (~1.5 KiB for the
        // counter).
        let mut flow = Box::pin(runner.join(joining)).await;
        while let Flow::Continue = flow {
            // `send_update`s of the round just sent, as follow-up diffs.
            flow = Box::pin(runner.follow_updates()).await;
            if !matches!(flow, Flow::Continue) {
                break;
            }
            let Some(msg) = rx.recv().await else {
                break;
            };
            flow = Box::pin(runner.handle(msg)).await;
        }
        let linked_crash = matches!(flow, Flow::Crashed) && runner.socket.linked();
        Box::pin(runner.ended(matches!(flow, Flow::Close), linked_crash)).await;
    }
}

impl<V: LiveView> Runner<V> {
    async fn send(&mut self, frame: String) -> Flow {
        match self.ctx.out.send(Outbound::Frame(frame)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::End,
        }
    }

    async fn ended(&mut self, close: bool, linked_crash: bool) {
        let ended = Ended {
            topic: self.ctx.topic.clone(),
            join_ref: self.ctx.join_ref.clone(),
            close,
            linked_crash,
        };
        let _ = self.ctx.out.send(Outbound::Ended(Box::new(ended))).await;
    }

    async fn reply(&mut self, msg_ref: Option<&str>, ok: bool, response: &str) -> Flow {
        let frame = frame::reply(
            Some(&self.ctx.join_ref),
            msg_ref,
            &self.ctx.topic,
            ok,
            response,
        );
        self.send(frame).await
    }

    async fn push(&mut self, event: &str, payload: &str) -> Flow {
        let frame = frame::push(Some(&self.ctx.join_ref), &self.ctx.topic, event, payload);
        self.send(frame).await
    }

    /// Logs a failed callback and answers it: `phx_error` for a running view (the client
    /// rejoins), an error reply for a join.
    async fn crash(&mut self, failure: Failure, join_ref: Option<&str>) -> Flow {
        match &failure {
            Failure::Err(err) => {
                tracing::error!(topic = %self.ctx.topic, %err, "live view callback failed");
            }
            Failure::Panic(msg) => {
                tracing::error!(topic = %self.ctx.topic, panic = %msg, "live view callback panicked");
            }
        }
        match join_ref {
            // The join itself failed: answer its push.
            Some(msg_ref) => {
                let _ = self
                    .reply(Some(msg_ref), false, &frame::reason("join crashed"))
                    .await;
            }
            None => {
                let frame = frame::error(&self.ctx.join_ref, &self.ctx.topic);
                let _ = self.send(frame).await;
            }
        }
        Flow::Crashed
    }

    /// Mount, handle_params, render; answers the join.
    async fn join(&mut self, joining: Box<Joining>) -> Flow {
        // Dropped when the join is answered: the connect params and URL are only needed
        // here, so an idle view does not keep them.
        let Joining { msg_ref, mut mount } = *joining;
        let msg_ref = msg_ref.unwrap_or_default();
        // The live session's on_mount hooks: assigns for the view, or a redirect.
        let hooks = match self.ctx.route {
            Some(route) => self.ctx.endpoint.route(route).hooks.clone(),
            None => Default::default(),
        };
        if !hooks.is_empty() {
            let cx = OnMount {
                params: mount.params.clone(),
                session: mount.session.clone(),
                connected: true,
                client_addr: self.socket.client_addr,
                assigns: Default::default(),
            };
            match on_mount::run(&hooks, cx).await {
                Ok(assigns) => mount.assigns = assigns,
                Err(halt) => {
                    let body = json::wrap("redirect", &self.nav(&halt.to, None, &halt.flash));
                    let _ = self.reply(Some(&msg_ref), false, &body).await;
                    return Flow::End;
                }
            }
        }
        let routed = self.ctx.route.is_some();
        if let Err(failure) =
            lifecycle::mount(&mut self.view, &mount, &mut self.socket, routed).await
        {
            return self.crash(failure, Some(&msg_ref)).await;
        }
        let outputs = self.socket.take_outputs();
        let (mut outputs, patch) = match self.follow_patches(outputs).await {
            Ok(done) => done,
            Err(failure) => return self.crash(failure, Some(&msg_ref)).await,
        };
        if let Err(failure) = self.hand_over_session_writes(&mut outputs).await {
            return self.crash(failure, Some(&msg_ref)).await;
        }
        match outputs.nav.take() {
            Some(Navigation::Redirect(to)) => {
                let body = json::wrap("redirect", &self.nav(&to, None, &outputs.flash_put));
                let _ = self.reply(Some(&msg_ref), false, &body).await;
                return Flow::End;
            }
            Some(Navigation::Navigate { to, replace }) => {
                let body = json::wrap(
                    "live_redirect",
                    &self.nav(&to, Some(replace), &outputs.flash_put),
                );
                let _ = self.reply(Some(&msg_ref), false, &body).await;
                return Flow::End;
            }
            Some(Navigation::Patch { .. }) | None => {}
        }
        let (rendered, components) = match self.render(true).await {
            Ok((Some(rendered), components)) => (rendered, components),
            Ok((None, _)) => unreachable!("the view is rendered when asked"),
            Err(failure) => return self.crash(failure, Some(&msg_ref)).await,
        };
        let mut members = String::with_capacity(512);
        self.diff.full(&rendered, &mut members);
        let mut has = !members.is_empty();
        self.write_components(&components, &mut members, &mut has);
        // The title, if the view set one, so the client updates document.title on mount.
        let title = self.socket.title().map(str::to_owned);
        payload::extras(
            &mut members,
            &mut has,
            title.as_deref(),
            &outputs.events,
            None,
        );
        let live_patch = patch.map(|(to, replace)| payload::nav(&to, Some(replace), None));
        let body = payload::join_reply(&members, live_patch.as_deref());
        let flow = self.reply(Some(&msg_ref), true, &body).await;
        self.diff.streams_sent();
        flow
    }

    /// Renders the view (when `view` is true: after one of its own callbacks) and the live
    /// components that changed: the view's tree, and the components' trees by cid.
    async fn render(
        &mut self,
        view: bool,
    ) -> Result<(Option<Rendered>, Vec<(u32, Rendered)>), Failure> {
        // (`send_update`s of this round wait in the socket: `follow_updates` applies them
        // after it.)
        let mut seen = HashSet::new();
        let mut placed = Placed::new();
        let mut replaced = false;
        let tree = if view {
            let mut tree = lifecycle::render(&self.view, &self.socket)?;
            self.render_nested(&mut tree);
            let direct = self
                .components
                .place(&mut tree, &mut seen, &mut placed)
                .map_err(|err| Failure::Err(crate::Error::app(err)))?;
            self.components.set_root(direct);
            // New root statics replace the client's whole tree, its components included:
            // they all go out again, in full.
            if self.diff.replaces_root(&tree) {
                replaced = true;
                self.components.refresh_all();
            }
            Some(tree)
        } else {
            None
        };
        let parent = self
            .socket
            .sender
            .as_ref()
            .map(|sender| sender as &(dyn Any + Send + Sync));
        let mut socket = ComponentSocket {
            core: &mut self.socket.core,
            myself: Myself(0),
            parent,
        };
        let renders = self
            .components
            .resolve(placed, &mut seen, &mut socket)
            .await?;
        if replaced {
            for cid in self.components.retain_on_page() {
                self.diff.forget_component(cid);
            }
        }
        Ok((tree, renders))
    }

    /// Applies the `send_update`s queued during the round just sent (by the callback, or by
    /// a component's `update` or event handler while the round rendered) and sends each
    /// follow-up round as a diff push, as Phoenix handles `send_update` as a message after the
    /// current render. Updates queued by a follow-up round make another one, at most
    /// [`MAX_UPDATE_ROUNDS`]; the rest are then dropped (and logged) as a loop.
    async fn follow_updates(&mut self) -> Flow {
        let mut rounds = 0;
        while self.socket.core.has_updates() {
            if rounds == MAX_UPDATE_ROUNDS {
                let dropped = self.socket.core.take_updates();
                tracing::error!(
                    topic = %self.ctx.topic,
                    dropped = dropped.len(),
                    "send_update loop: {MAX_UPDATE_ROUNDS} follow-up rounds in a row; \
                     the remaining updates are dropped"
                );
                break;
            }
            rounds += 1;
            let mut applied = false;
            for update in self.socket.core.take_updates() {
                applied |= self.components.apply_update(update);
            }
            if applied {
                match self.respond_to(None, false).await {
                    Flow::Continue => {}
                    other => return other,
                }
            }
        }
        Flow::Continue
    }

    /// Puts the containers of the tree's nested views in place: the child's session token
    /// (naming its type, this view as parent, and the values passed), an empty static token,
    /// no content (the client keeps the child's own DOM).
    fn render_nested(&mut self, tree: &mut Rendered) {
        let mut calls = Vec::new();
        nested::collect_nested(tree.dynamics(), &mut calls);
        if calls.is_empty() {
            return;
        }
        let parent_id = &self.ctx.topic[3..];
        let keyring = &self.ctx.endpoint.keyring;
        let known = &mut self.socket.core.extras_mut().nested;
        let containers: Vec<String> = calls
            .iter()
            .map(|call| {
                let fresh = !known
                    .get(&call.id)
                    .is_some_and(|(session, _)| *session == call.session);
                if fresh {
                    let token = crate::page_token::seal_session(
                        keyring,
                        &nested::nested_token(call, Some(parent_id)),
                    );
                    let mut container = call.container(&token, "", Some(parent_id));
                    container.push_str("</div>");
                    known.insert(call.id.clone(), (call.session.clone(), container));
                }
                known
                    .get(&call.id)
                    .map(|(_, html)| html.clone())
                    .unwrap_or_default()
            })
            .collect();
        nested::fill_nested(tree.dynamics_mut(), &mut containers.into_iter());
    }

    /// Writes the `c` map of a diff: each changed component in full (with `"r":1`) when the
    /// client holds nothing for it, otherwise only its changes. A full component shares the
    /// statics of an earlier one of the same template in the same map (`"s":cid`).
    fn write_components(
        &mut self,
        renders: &[(u32, Rendered)],
        members: &mut String,
        has: &mut bool,
    ) {
        if renders.is_empty() {
            return;
        }
        let (mark, had) = (members.len(), *has);
        json::push_member(members, has, "c");
        members.push('{');
        let mut first = true;
        let mut templates: HashMap<u64, (u32, &'static Statics)> = HashMap::new();
        for (cid, tree) in renders {
            let fresh = self.components.take_fresh(*cid);
            let statics = tree.statics();
            let share = templates
                .get(&statics.fingerprint())
                .filter(|(_, s)| std::ptr::eq(*s, statics) || s.parts() == statics.parts())
                .map(|(cid, _)| *cid)
                .filter(|_| fresh);
            let entry = members.len();
            if !first {
                members.push(',');
            }
            members.push('"');
            members.push_str(&cid.to_string());
            members.push_str("\":{");
            if self.diff.component(*cid, tree, fresh, share, members) {
                members.push('}');
                first = false;
                if fresh && share.is_none() {
                    templates
                        .entry(statics.fingerprint())
                        .or_insert((*cid, statics));
                }
            } else {
                members.truncate(entry);
            }
        }
        if first {
            members.truncate(mark);
            *has = had;
        } else {
            members.push('}');
        }
    }

    /// Runs `handle_params` for every `push_patch` the callbacks ask for, until one does not
    /// patch again (at most [`MAX_PATCHES`] in a row). Returns the accumulated outputs and the
    /// last patch target, which the client must put into its history.
    async fn follow_patches(
        &mut self,
        mut outputs: Outputs,
    ) -> Result<(Outputs, Option<(String, bool)>), Failure> {
        let mut last = None;
        let mut count = 0;
        loop {
            let (to, replace) = match outputs.nav.take() {
                Some(Navigation::Patch { to, replace }) => (to, replace),
                other => {
                    outputs.nav = other;
                    break;
                }
            };
            count += 1;
            if count > MAX_PATCHES {
                return Err(crate::Error::app(format!(
                    "too many patches in a row (last to {to:?}): check handle_params for an \
                     infinite push_patch loop"
                ))
                .into());
            }
            let Some(params) = self.params_for(&to) else {
                return Err(crate::Error::app(format!(
                    "cannot push_patch to {to:?}: it does not route to this live view"
                ))
                .into());
            };
            guarded(self.view.handle_params(&params, &mut self.socket)).await?;
            outputs.merge(self.socket.take_outputs());
            last = Some((to, replace));
        }
        if let Some(err) = outputs.nav_error.take() {
            return Err(crate::Error::from(err).into());
        }
        Ok((outputs, last))
    }

    /// Puts the session writes of this round (and earlier unsent ones) under a fresh ticket.
    /// A redirect carries the ticket in its flash; a `push_navigate` with a ticket becomes a
    /// redirect (live navigation never reaches the HTTP session); otherwise the ticket waits
    /// in the socket for [`Socket::session_form`] or a later redirect.
    async fn hand_over_session_writes(&mut self, outputs: &mut Outputs) -> Result<(), Failure> {
        let fresh = self.socket.core.take_session_writes();
        if !fresh.is_empty() {
            let Some(tickets) = self.ctx.endpoint.tickets.clone() else {
                return Err(crate::Error::app(
                    "session writes need a ticket store: LiveRouter::session_store and \
                     LiveFlashLayer::session_store",
                )
                .into());
            };
            let Some(session_id) = self.ctx.session_id.clone() else {
                return Err(crate::Error::app(
                    "session writes need a browser session (the socket has none)",
                )
                .into());
            };
            let extras = self.socket.core.extras_mut();
            extras.handed.0.extend(fresh.0);
            // A redirect carries this round's flash in its own token.
            if !matches!(
                outputs.nav,
                Some(Navigation::Redirect(_) | Navigation::Navigate { .. })
            ) {
                extras.handed_flash.merge(outputs.flash_put.clone());
            }
            let handed = extras.handed.clone();
            let handed_flash = extras
                .handed_flash
                .iter()
                .map(|(k, v)| (k.to_owned(), v.clone()))
                .collect();
            let ticket = tickets
                .mint(
                    &self.ctx.endpoint.keyring,
                    &session_id,
                    handed,
                    handed_flash,
                )
                .await
                .map_err(crate::Error::app)?;
            let old = self.socket.core.extras_mut().session_ticket.replace(ticket);
            if let Some(old) = old {
                // Superseded: its writes are in the new ticket too.
                tickets.discard(&session_id, &old).await;
            }
        }
        if self.socket.session_ticket().is_none() {
            return Ok(());
        }
        if let Some(Navigation::Navigate { to, .. }) = &outputs.nav {
            outputs.nav = Some(Navigation::Redirect(to.clone()));
        }
        if let Some(Navigation::Redirect(_)) = &outputs.nav
            && let Some(extras) = self.socket.core.extras.as_deref_mut()
            && let Some(ticket) = extras.session_ticket.take()
        {
            outputs.flash_put.put(FLASH_KEY, ticket);
            extras.handed = SessionWrites::default();
            extras.handed_flash = Flash::default();
        }
        Ok(())
    }

    /// The params of `url` if it routes to this view's type (a patch stays in the view).
    fn params_for(&self, url: &str) -> Option<Params> {
        let endpoint = &self.ctx.endpoint;
        // A nested view is not at a URL: it cannot patch.
        let here = endpoint.route(self.ctx.route?).view;
        endpoint
            .resolve(url)
            .filter(|resolved| resolved.route.view == here)
            .map(|resolved| resolved.params)
    }

    /// The navigation map, with the flash put during the callback sealed into a token bound to
    /// this browser's session.
    fn nav(&self, to: &str, replace: Option<bool>, flash: &Flash) -> String {
        let token = if flash.is_empty() {
            None
        } else if let Some(sid) = &self.ctx.session_id {
            Some(crate::flash::seal_flash(
                &self.ctx.endpoint.keyring,
                sid,
                flash,
            ))
        } else {
            tracing::warn!(topic = %self.ctx.topic, "flash dropped on redirect: the socket has no session");
            None
        };
        payload::nav(to, replace, token.as_deref())
    }

    async fn handle(&mut self, msg: ViewMsg<V::Message>) -> Flow {
        match msg {
            ViewMsg::Info(msg) => self.info(msg).await,
            ViewMsg::Async(done) => {
                let (done, guard) = *done;
                if !self.socket.finish_async(&done) {
                    // A replaced task's result: its name now belongs to a newer task.
                    return Flow::Continue;
                }
                let flow = match guarded(self.view.handle_async(
                    &done.name,
                    done.outcome,
                    &mut self.socket,
                ))
                .await
                {
                    Ok(()) => self.respond(None).await,
                    Err(failure) => self.crash(failure, None).await,
                };
                // Handled and its diff queued: the task no longer counts as running
                // (`livefire::test`'s `render_async` waits for that).
                drop(guard);
                flow
            }
            ViewMsg::Inbound(inbound) => self.handle_inbound(*inbound).await,
            ViewMsg::Update(update) => {
                if self.components.apply_update(*update) {
                    self.respond_to(None, false).await
                } else {
                    Flow::Continue
                }
            }
        }
    }

    async fn info(&mut self, msg: V::Message) -> Flow {
        match guarded(self.view.handle_info(msg, &mut self.socket)).await {
            Ok(()) => self.respond(None).await,
            Err(failure) => self.crash(failure, None).await,
        }
    }

    async fn handle_inbound(&mut self, inbound: Inbound) -> Flow {
        match inbound {
            Inbound::Event { msg_ref, payload } => {
                let uploads_before = self.uploads_version();
                // A form event lists the files selected in its upload inputs.
                if let (Some(selected), Some(uploads)) =
                    (payload.get("uploads"), self.socket.core.uploads_mut())
                {
                    uploads.put_event_entries(selected);
                }
                let Some(event) = Event::from_payload(payload) else {
                    return self
                        .reply(msg_ref.as_deref(), false, &frame::reason("malformed event"))
                        .await;
                };
                self.event(msg_ref.as_deref(), event, uploads_before).await
            }
            Inbound::LivePatch { msg_ref, url } => match self.params_for(&url) {
                Some(params) => {
                    // As Phoenix: a patch from the client starts with an empty flash.
                    self.socket.clear_all_flash();
                    match guarded(self.view.handle_params(&params, &mut self.socket)).await {
                        Ok(()) => self.respond(msg_ref.as_deref()).await,
                        Err(failure) => self.crash(failure, None).await,
                    }
                }
                // Another view: the client navigates there (a live redirect).
                None => {
                    self.reply(msg_ref.as_deref(), true, "{\"link_redirect\":true}")
                        .await
                }
            },
            Inbound::CidsWillDestroy { msg_ref, cids } => {
                self.components.mark(&cids);
                self.reply(msg_ref.as_deref(), true, "{}").await
            }
            Inbound::CidsDestroyed { msg_ref, cids } => {
                let destroyed = self.components.destroy(&cids);
                for cid in &destroyed {
                    self.diff.forget_component(*cid);
                }
                let list = destroyed
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                let body = format!("{{\"cids\":[{list}]}}");
                self.reply(msg_ref.as_deref(), true, &body).await
            }
            Inbound::AllowUpload { msg_ref, payload } => {
                self.allow_upload(msg_ref.as_deref(), &payload).await
            }
            Inbound::Progress { msg_ref, payload } => {
                self.upload_progress(msg_ref.as_deref(), &payload).await
            }
            Inbound::UploadJoin(join) => {
                match self.socket.core.uploads_mut() {
                    Some(uploads) => uploads.register(join),
                    None => {
                        let _ = join.reply.send(Err("disallowed"));
                    }
                }
                Flow::Continue
            }
            Inbound::UploadFinished {
                upload_ref,
                entry_ref,
                how,
            } => {
                if let Some(uploads) = self.socket.core.uploads_mut() {
                    uploads.finished(&upload_ref, &entry_ref, how);
                }
                self.respond(None).await
            }
            // Chunks go to upload channels, never to a view.
            Inbound::Chunk { .. } => Flow::Continue,
        }
    }

    /// `allow_upload`: the preflight of selected files. The answer (tokens or errors) goes
    /// out with the diff of the entries it added.
    async fn allow_upload(&mut self, msg_ref: Option<&str>, payload: &serde_json::Value) -> Flow {
        let keyring = &self.ctx.endpoint.keyring;
        let view_id = &self.ctx.topic[3..];
        let seal = |upload_ref: &str, entry_ref: &str| {
            upload::seal_entry_token(
                keyring,
                &upload::EntryClaims {
                    view: view_id.to_owned(),
                    upload: upload_ref.to_owned(),
                    entry: entry_ref.to_owned(),
                },
            )
        };
        let mut answer = match self.socket.core.uploads_mut() {
            Some(uploads) => uploads.preflight(payload, &seal),
            None => {
                let upload_ref = payload.get("ref").cloned().unwrap_or_default();
                serde_json::json!({"ref": upload_ref, "error": [[upload_ref, "disallowed"]]})
            }
        };
        // One chunk must fit in one frame, with room for its header.
        let max_chunk = self
            .ctx
            .endpoint
            .limits
            .max_message_size
            .saturating_sub(1024)
            .max(1024);
        if let Some(chunk) = answer.pointer_mut("/config/chunk_size")
            && chunk.as_u64().is_some_and(|c| c > max_chunk as u64)
        {
            *chunk = max_chunk.into();
        }
        let members = answer.to_string();
        let members = members[1..members.len() - 1].to_owned();
        self.respond_to_with(msg_ref, true, Some(members)).await
    }

    /// `progress`: an entry's upload progress, then the view's progress callback.
    async fn upload_progress(
        &mut self,
        msg_ref: Option<&str>,
        payload: &serde_json::Value,
    ) -> Flow {
        let progressed = self
            .socket
            .core
            .uploads_mut()
            .and_then(|uploads| uploads.progress(payload));
        if let Some((name, entry)) = progressed {
            match guarded(self.view.handle_progress(&name, &entry, &mut self.socket)).await {
                Ok(()) => {}
                Err(Failure::Err(err)) if err.is_bad_input() => {
                    tracing::warn!(topic = %self.ctx.topic, %err, "progress refused");
                    let _ = self.socket.take_outputs();
                    return self
                        .reply(msg_ref, false, &frame::reason(&err.to_string()))
                        .await;
                }
                Err(failure) => return self.crash(failure, None).await,
            }
        }
        self.respond(msg_ref).await
    }

    /// The change counter of the view's uploads (`None` before any upload is allowed).
    fn uploads_version(&self) -> Option<u64> {
        self.socket.core.uploads().map(|u| u.version())
    }

    /// An event; `uploads_before` is [`uploads_version`](Self::uploads_version) before the
    /// event's selected files were recorded.
    async fn event(
        &mut self,
        msg_ref: Option<&str>,
        event: Event,
        uploads_before: Option<u64>,
    ) -> Flow {
        if event.name() == "lv:clear-flash" {
            match event.get("key") {
                Some(key) => self.socket.clear_flash(key),
                None => self.socket.clear_all_flash(),
            };
            return self.respond(msg_ref).await;
        }
        if let Some(cid) = event.cid() {
            return self
                .component_event(msg_ref, cid, event, uploads_before)
                .await;
        }
        match guarded(self.view.handle_event(event, &mut self.socket)).await {
            Ok(()) => self.respond(msg_ref).await,
            // Bad client input (unknown event, undecodable value): an error reply to that
            // ref; the view survives.
            Err(Failure::Err(err)) if err.is_bad_input() => {
                tracing::warn!(topic = %self.ctx.topic, %err, "event refused");
                let _ = self.socket.take_outputs();
                self.reply(msg_ref, false, &frame::reason(&err.to_string()))
                    .await
            }
            Err(failure) => self.crash(failure, None).await,
        }
    }

    /// An event for a live component (`cid` in the payload): its `handle_event`, then only
    /// the components that changed are rendered and sent, and the view too when the view's
    /// uploads changed (the event's selected files, or the component cancelled or consumed
    /// entries): a component shows an upload as assigns from its view, so the view must
    /// render again to pass the new state.
    async fn component_event(
        &mut self,
        msg_ref: Option<&str>,
        cid: u64,
        event: Event,
        uploads_before: Option<u64>,
    ) -> Flow {
        let Some(cid) = u32::try_from(cid).ok() else {
            return self
                .reply(msg_ref, false, &frame::reason("unknown component"))
                .await;
        };
        let parent = self
            .socket
            .sender
            .as_ref()
            .map(|sender| sender as &(dyn Any + Send + Sync));
        let mut socket = ComponentSocket {
            core: &mut self.socket.core,
            myself: Myself(cid),
            parent,
        };
        let Some(handled) = self.components.handle_event(cid, event, &mut socket) else {
            // Destroyed meanwhile (or never existed): nothing to do, as Phoenix.
            tracing::debug!(topic = %self.ctx.topic, cid, "event for an unknown component");
            return self
                .reply(msg_ref, false, &frame::reason("unknown component"))
                .await;
        };
        match guarded(handled).await {
            Ok(()) => {
                let view = self.uploads_version() != uploads_before;
                self.respond_to(msg_ref, view).await
            }
            Err(Failure::Err(err)) if err.is_bad_input() => {
                tracing::warn!(topic = %self.ctx.topic, cid, %err, "component event refused");
                let _ = self.socket.take_outputs();
                self.reply(msg_ref, false, &frame::reason(&err.to_string()))
                    .await
            }
            Err(failure) => self.crash(failure, None).await,
        }
    }

    /// After a callback of the view: patches, navigation, then the diff, as a reply
    /// (`msg_ref`) or a push.
    async fn respond(&mut self, msg_ref: Option<&str>) -> Flow {
        self.respond_to(msg_ref, true).await
    }

    /// After a callback: patches, navigation, then the diff of the view (when `view`) and of
    /// the changed components, as a reply (`msg_ref`) or a push.
    async fn respond_to(&mut self, msg_ref: Option<&str>, view: bool) -> Flow {
        self.respond_to_with(msg_ref, view, None).await
    }

    /// [`respond_to`](Self::respond_to), with members added to the reply (an `allow_upload`
    /// preflight's answer).
    async fn respond_to_with(
        &mut self,
        msg_ref: Option<&str>,
        view: bool,
        extra: Option<String>,
    ) -> Flow {
        let outputs = self.socket.take_outputs();
        let (mut outputs, patch) = match self.follow_patches(outputs).await {
            Ok(done) => done,
            Err(failure) => return self.crash(failure, None).await,
        };
        if let Err(failure) = self.hand_over_session_writes(&mut outputs).await {
            return self.crash(failure, None).await;
        }
        let (key, to, replace) = match outputs.nav.take() {
            Some(Navigation::Redirect(to)) => ("redirect", to, None),
            Some(Navigation::Navigate { to, replace }) => ("live_redirect", to, Some(replace)),
            Some(Navigation::Patch { .. }) | None => {
                // A patch runs the view's handle_params: the view renders too.
                let view = view || patch.is_some();
                return self
                    .respond_with_diff(msg_ref, &outputs, patch, view, extra)
                    .await;
            }
        };
        // Pending events go out first, as their own diff push.
        if !outputs.events.is_empty() {
            let mut members = String::new();
            payload::extras(&mut members, &mut false, None, &outputs.events, None);
            if let flow @ Flow::End = self.push("diff", &payload::diff_push(&members)).await {
                return flow;
            }
        }
        let nav = self.nav(&to, replace, &outputs.flash_put);
        let sent = match msg_ref {
            Some(r) => self.reply(Some(r), true, &json::wrap(key, &nav)).await,
            // Outside an event the same map is a push named after the key.
            None => self.push(key, &nav).await,
        };
        // A sticky view's live navigation replaces the main view only: it keeps running
        // (unrendered this round), as Phoenix does.
        if self.ctx.sticky && key == "live_redirect" {
            return sent;
        }
        Flow::Close
    }

    /// Renders, then sends the `live_patch` push (if the round patched) and the diff.
    async fn respond_with_diff(
        &mut self,
        msg_ref: Option<&str>,
        outputs: &Outputs,
        patch: Option<(String, bool)>,
        view: bool,
        extra: Option<String>,
    ) -> Flow {
        let (rendered, components) = match self.render(view).await {
            Ok(done) => done,
            Err(failure) => return self.crash(failure, None).await,
        };
        if let Some((to, replace)) = patch {
            // History first, as Phoenix: the client pushes the URL, then applies the diff.
            let nav = payload::nav(&to, Some(replace), None);
            if let flow @ Flow::End = self.push("live_patch", &nav).await {
                return flow;
            }
        }
        let mut members = String::with_capacity(64);
        let mut has = match &rendered {
            Some(rendered) => self.diff.diff(rendered, &mut members),
            None => false,
        };
        self.write_components(&components, &mut members, &mut has);
        payload::extras(
            &mut members,
            &mut has,
            outputs.title.as_deref(),
            &outputs.events,
            outputs.reply.as_ref(),
        );
        let flow = match msg_ref {
            Some(r) => {
                let body = payload::diff_reply_with(&members, extra.as_deref());
                self.reply(Some(r), true, &body).await
            }
            None if has => self.push("diff", &payload::diff_push(&members)).await,
            None => Flow::Continue,
        };
        self.diff.streams_sent();
        flow
    }
}

impl<V: LiveView> std::fmt::Debug for Runner<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("topic", &self.ctx.topic)
            .finish_non_exhaustive()
    }
}
