//! The task that runs one connected live view: mount, events, messages, diffs.
//!
//! Each joined view is one tokio task with a small bounded inbox. A panic or `Err` in a
//! callback ends that task only: the client gets `phx_error` and rejoins.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::channel::{frame, queue};
use crate::diff::{DiffState, write_json_str};
use crate::event::Event;
use crate::flash::Flash;
use crate::live_view::{LiveView, Mount, Params};
use crate::router::LiveShared;
use crate::socket::{Navigation, Outputs, Socket};

/// Capacity of a view's inbox. A client that floods one view past this is disconnected.
pub(crate) const INBOX: usize = 32;

/// A message for a view task.
///
/// Client frames are boxed so a slot of the view's inbox stays small (16 bytes for a small
/// `M`, instead of 72); the inbox keeps the slots it once grew to for the view's life.
#[derive(Debug)]
pub(crate) enum ViewMsg<M> {
    /// A frame from the client, routed by the connection.
    Inbound(Box<Inbound>),
    /// A message from another task ([`ViewHandle`](crate::ViewHandle)).
    Info(M),
}

/// Client frames a view handles.
#[derive(Debug)]
pub(crate) enum Inbound {
    Event {
        msg_ref: Option<String>,
        payload: Value,
    },
    LivePatch {
        msg_ref: Option<String>,
        url: String,
    },
    CidsWillDestroy {
        msg_ref: Option<String>,
    },
    CidsDestroyed {
        msg_ref: Option<String>,
        cids: Value,
    },
}

/// What a view task tells its connection (24 bytes; the outbox keeps its slots for the
/// connection's life).
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A text frame to send.
    Frame(String),
    /// The view with this (topic, join ref) has stopped.
    Ended(Box<(Arc<str>, Arc<str>)>),
    /// Close the whole connection with 1001 (a logout elsewhere); the client reconnects.
    Disconnect,
}

/// Type-erased sender into a view's inbox.
pub(crate) trait InboundTx: Send + Sync {
    fn try_send(&self, msg: Inbound) -> Result<(), mpsc::error::TrySendError<()>>;
}

impl<M: Send + 'static> InboundTx for queue::Sender<ViewMsg<M>> {
    fn try_send(&self, msg: Inbound) -> Result<(), mpsc::error::TrySendError<()>> {
        queue::Sender::try_send(self, ViewMsg::Inbound(Box::new(msg))).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => mpsc::error::TrySendError::Full(()),
            mpsc::error::TrySendError::Closed(_) => mpsc::error::TrySendError::Closed(()),
        })
    }
}

/// Everything a view task needs to start.
#[derive(Debug)]
pub(crate) struct JoinCtx {
    pub(crate) topic: Arc<str>,
    pub(crate) join_ref: Arc<str>,
    pub(crate) msg_ref: Option<String>,
    pub(crate) mount: Mount,
    pub(crate) flash: Flash,
    pub(crate) route: usize,
    pub(crate) session_id: Option<String>,
    pub(crate) csrf_token: Option<Arc<str>>,
    pub(crate) live: Arc<LiveShared>,
    pub(crate) out: queue::Sender<Outbound>,
}

/// Spawns the task of one view; returns its inbox and a handle to abort it.
pub(crate) fn spawn<V: LiveView>(
    view: V,
    ctx: JoinCtx,
) -> (Box<dyn InboundTx>, tokio::task::AbortHandle) {
    let (tx, rx) = queue::channel::<ViewMsg<V::Message>>(INBOX);
    let inbox: Box<dyn InboundTx> = Box::new(tx.clone());
    let task = tokio::spawn(run(view, ctx, tx, rx));
    (inbox, task.abort_handle())
}

/// Why a callback failed.
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

/// Runs a callback, turning an `Err` or a panic into a [`Failure`].
pub(crate) async fn guarded<F: std::future::Future<Output = crate::Result>>(
    fut: F,
) -> Result<(), Failure> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(Failure::Err(err)),
        Err(payload) => Err(Failure::Panic(crate::error::panic_message(&*payload))),
    }
}

/// `mount`, then `handle_params` unless mount redirected: the same on the dead render and on
/// the connected join.
pub(crate) async fn mount_view<V: LiveView>(
    view: &mut V,
    mount: &Mount,
    socket: &mut Socket<V::Message>,
) -> Result<(), Failure> {
    guarded(view.mount(mount, socket)).await?;
    if !socket.is_redirected() {
        guarded(view.handle_params(&mount.params, socket)).await?;
    }
    Ok(())
}

struct Runner<V: LiveView> {
    view: V,
    socket: Socket<V::Message>,
    diff: DiffState,
    ctx: JoinCtx,
}

/// Whether the view goes on after a callback.
enum Flow {
    Continue,
    Stop,
}

/// The view task. The runner is built before the future, which captures it once: an
/// `async fn` keeps its parameters for its whole life next to whatever they were moved into
/// (for the counter: 1,544 bytes of future instead of ~650).
fn run<V: LiveView>(
    view: V,
    mut ctx: JoinCtx,
    tx: queue::Sender<ViewMsg<V::Message>>,
    mut rx: queue::Receiver<ViewMsg<V::Message>>,
) -> impl Future<Output = ()> + Send {
    let mut socket = Socket::disconnected()
        .with_session(ctx.mount.session.clone())
        .with_flash(std::mem::take(&mut ctx.flash));
    socket.connected = true;
    socket.csrf_token = ctx.csrf_token.clone();
    socket.sender = Some(tx);
    let mut runner = Runner {
        view,
        socket,
        diff: DiffState::new(),
        ctx,
    };
    async move {
        // The callbacks' futures are boxed: the task only keeps the runner and the inbox
        // while idle, not the largest state of `join`/`handle` (and of the view's own async
        // callbacks), which would otherwise be paid by every idle view (~1.5 KiB for the
        // counter).
        if let Flow::Continue = Box::pin(runner.join()).await {
            while let Some(msg) = rx.recv().await {
                if let Flow::Stop = Box::pin(runner.handle(msg)).await {
                    break;
                }
            }
        }
        Box::pin(runner.ended()).await;
    }
}

impl<V: LiveView> Runner<V> {
    async fn send(&mut self, frame: String) -> Flow {
        match self.ctx.out.send(Outbound::Frame(frame)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }

    async fn ended(&mut self) {
        let _ = self
            .ctx
            .out
            .send(Outbound::Ended(Box::new((
                self.ctx.topic.clone(),
                self.ctx.join_ref.clone(),
            ))))
            .await;
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

    /// Logs a failed callback and tells the client the view crashed (it rejoins).
    async fn crash(&mut self, failure: Failure) -> Flow {
        match failure {
            Failure::Err(err) => {
                tracing::error!(topic = %self.ctx.topic, %err, "live view callback failed");
            }
            Failure::Panic(msg) => {
                tracing::error!(topic = %self.ctx.topic, panic = %msg, "live view callback panicked");
            }
        }
        let jr = Some(&*self.ctx.join_ref);
        let frame = {
            let mut out = String::new();
            frame::write_head(jr, jr, &self.ctx.topic, "phx_error", &mut out);
            out.push_str("{\"reason\":\"crash\"}]");
            out
        };
        let _ = self.send(frame).await;
        Flow::Stop
    }

    /// Mount, handle_params, render; answers the join.
    async fn join(&mut self) -> Flow {
        let msg_ref = self.ctx.msg_ref.take();
        let msg_ref = msg_ref.as_deref();
        // Taken, not cloned: the connect params and URL are only needed for the join, so an
        // idle view does not keep them.
        let session = self.ctx.mount.session.clone();
        let mount = std::mem::replace(
            &mut self.ctx.mount,
            Mount {
                params: Params::default(),
                session,
                connect_params: None,
            },
        );
        if let Err(failure) = mount_view(&mut self.view, &mount, &mut self.socket).await {
            let _ = self.crash_join(failure, msg_ref).await;
            return Flow::Stop;
        }
        let mut outputs = self.socket.take_outputs();
        if let Some(err) = outputs.nav_error.take() {
            let _ = self.crash_join(Failure::Err(err.into()), msg_ref).await;
            return Flow::Stop;
        }
        let mut live_patch = None;
        match outputs.nav.take() {
            Some(Navigation::Redirect(to)) => {
                let body = self.redirect_body("redirect", &to, None, &outputs.flash_put);
                let _ = self.reply(msg_ref, false, &body).await;
                return Flow::Stop;
            }
            Some(Navigation::Navigate { to, replace }) => {
                let body =
                    self.redirect_body("live_redirect", &to, Some(replace), &outputs.flash_put);
                let _ = self.reply(msg_ref, false, &body).await;
                return Flow::Stop;
            }
            Some(Navigation::Patch { to, replace }) => {
                let params = self.params_for(&to);
                if let Err(failure) =
                    guarded(self.view.handle_params(&params, &mut self.socket)).await
                {
                    let _ = self.crash_join(failure, msg_ref).await;
                    return Flow::Stop;
                }
                let more = self.socket.take_outputs();
                outputs.events.extend(more.events);
                outputs.title = more.title.or(outputs.title);
                live_patch = Some((to, replace));
            }
            None => {}
        }
        let Some(rendered) = self.render_guarded() else {
            let _ = self
                .crash_join(Failure::Panic("render panicked".to_owned()), msg_ref)
                .await;
            return Flow::Stop;
        };
        let mut body = String::with_capacity(512);
        body.push_str("{\"rendered\":{");
        self.diff.full(&rendered, &mut body);
        let mut has_members = !rendered.statics().parts().is_empty();
        // The title, if the view set one, so the client updates document.title on mount.
        if let Some(title) = self.socket.title() {
            push_member(&mut body, &mut has_members, "t");
            write_json_str(title, &mut body);
        }
        if !outputs.events.is_empty() {
            push_member(&mut body, &mut has_members, "e");
            write_events(&outputs.events, &mut body);
        }
        body.push_str("},\"liveview_version\":\"");
        body.push_str(crate::LIVEVIEW_VERSION);
        body.push('"');
        if let Some((to, replace)) = live_patch {
            body.push_str(",\"live_patch\":");
            write_nav(&to, Some(replace), None, &mut body);
        }
        body.push('}');
        self.reply(msg_ref, true, &body).await
    }

    async fn crash_join(&mut self, failure: Failure, msg_ref: Option<&str>) -> Flow {
        match failure {
            Failure::Err(err) => {
                tracing::error!(topic = %self.ctx.topic, %err, "live view mount failed");
            }
            Failure::Panic(msg) => {
                tracing::error!(topic = %self.ctx.topic, panic = %msg, "live view mount panicked");
            }
        }
        self.reply(msg_ref, false, &frame::reason("join crashed"))
            .await
    }

    fn render_guarded(&self) -> Option<crate::rendered::Rendered> {
        std::panic::catch_unwind(AssertUnwindSafe(|| self.view.render(&self.socket))).ok()
    }

    fn params_for(&self, to: &str) -> Params {
        let path_params = self
            .ctx
            .live
            .match_path(to)
            .map(|(_, params)| params)
            .unwrap_or_default();
        Params::from_uri(to, path_params)
    }

    /// `{"redirect":{"to":..,"flash":..}}` or the `live_redirect` equivalent.
    fn redirect_body(&self, key: &str, to: &str, replace: Option<bool>, flash: &Flash) -> String {
        wrap(key, &self.nav_json(to, replace, flash))
    }

    /// `{"to":..,"kind":..,"flash":..}` with the flash sealed into a browser-bound token.
    fn nav_json(&self, to: &str, replace: Option<bool>, flash: &Flash) -> String {
        let token = self.flash_token(flash);
        let mut out = String::with_capacity(64);
        write_nav(to, replace, token.as_deref(), &mut out);
        out
    }

    fn flash_token(&self, flash: &Flash) -> Option<String> {
        if flash.is_empty() {
            return None;
        }
        match &self.ctx.session_id {
            Some(sid) => Some(crate::flash::seal_flash(&self.ctx.live.keyring, sid, flash)),
            None => {
                tracing::warn!(topic = %self.ctx.topic, "flash dropped on redirect: the socket has no session");
                None
            }
        }
    }

    async fn handle(&mut self, msg: ViewMsg<V::Message>) -> Flow {
        match msg {
            ViewMsg::Info(msg) => {
                let result = guarded(self.view.handle_info(msg, &mut self.socket)).await;
                match result {
                    Ok(()) => self.respond(None).await,
                    Err(failure) => self.crash(failure).await,
                }
            }
            ViewMsg::Inbound(inbound) => self.handle_inbound(*inbound).await,
        }
    }

    async fn handle_inbound(&mut self, inbound: Inbound) -> Flow {
        match inbound {
            Inbound::Event { msg_ref, payload } => {
                let Some(event) = Event::from_payload(payload) else {
                    return self
                        .reply(msg_ref.as_deref(), false, &frame::reason("malformed event"))
                        .await;
                };
                if event.name() == "lv:clear-flash" {
                    match event.get("key") {
                        Some(key) => self.socket.clear_flash(key),
                        None => self.socket.clear_all_flash(),
                    };
                    return self.respond(msg_ref.as_deref()).await;
                }
                let result = guarded(self.view.handle_event(event, &mut self.socket)).await;
                match result {
                    Ok(()) => self.respond(msg_ref.as_deref()).await,
                    // Bad client input (unknown event, undecodable value): an error reply to
                    // that ref; the view survives.
                    Err(Failure::Err(err)) if err.is_bad_input() => {
                        tracing::warn!(topic = %self.ctx.topic, %err, "event refused");
                        let _ = self.socket.take_outputs();
                        self.reply(msg_ref.as_deref(), false, &frame::reason(&err.to_string()))
                            .await
                    }
                    Err(failure) => self.crash(failure).await,
                }
            }
            Inbound::LivePatch { msg_ref, url } => {
                let path = path_of(&url);
                match self.ctx.live.match_path(path) {
                    Some((route, path_params)) if route == self.ctx.route => {
                        let params = Params::from_uri(path, path_params);
                        let result =
                            guarded(self.view.handle_params(&params, &mut self.socket)).await;
                        match result {
                            Ok(()) => self.respond(msg_ref.as_deref()).await,
                            Err(failure) => self.crash(failure).await,
                        }
                    }
                    _ => {
                        self.reply(msg_ref.as_deref(), true, "{\"link_redirect\":true}")
                            .await
                    }
                }
            }
            Inbound::CidsWillDestroy { msg_ref } => {
                self.reply(msg_ref.as_deref(), true, "{}").await
            }
            Inbound::CidsDestroyed { msg_ref, cids } => {
                let body = format!("{{\"cids\":{cids}}}");
                self.reply(msg_ref.as_deref(), true, &body).await
            }
        }
    }

    /// After a callback: navigation, then the diff, as a reply (`msg_ref`) or a push.
    async fn respond(&mut self, msg_ref: Option<&str>) -> Flow {
        let mut outputs: Outputs = self.socket.take_outputs();
        if let Some(err) = outputs.nav_error.take() {
            return self.crash(Failure::Err(err.into())).await;
        }
        match outputs.nav.take() {
            Some(nav @ (Navigation::Redirect(_) | Navigation::Navigate { .. })) => {
                // Pending events go out first, as their own diff push.
                if !outputs.events.is_empty() {
                    let mut payload = String::from("{\"e\":");
                    write_events(&outputs.events, &mut payload);
                    payload.push('}');
                    if let Flow::Stop = self.push("diff", &payload).await {
                        return Flow::Stop;
                    }
                }
                let (key, to, replace) = match nav {
                    Navigation::Redirect(to) => ("redirect", to, None),
                    Navigation::Navigate { to, replace } => ("live_redirect", to, Some(replace)),
                    Navigation::Patch { .. } => unreachable!("matched above"),
                };
                let nav = self.nav_json(&to, replace, &outputs.flash_put);
                match msg_ref {
                    Some(r) => {
                        let _ = self.reply(Some(r), true, &wrap(key, &nav)).await;
                    }
                    // Outside an event the same map is a push named after the key.
                    None => {
                        let _ = self.push(key, &nav).await;
                    }
                }
                return Flow::Stop;
            }
            Some(Navigation::Patch { to, replace }) => {
                let params = self.params_for(&to);
                if let Err(failure) =
                    guarded(self.view.handle_params(&params, &mut self.socket)).await
                {
                    return self.crash(failure).await;
                }
                let more = self.socket.take_outputs();
                outputs.events.extend(more.events);
                outputs.title = more.title.or(outputs.title);
                let mut payload = String::new();
                write_nav(&to, Some(replace), None, &mut payload);
                if let Flow::Stop = self.push("live_patch", &payload).await {
                    return Flow::Stop;
                }
            }
            None => {}
        }
        let Some(rendered) = self.render_guarded() else {
            return self
                .crash(Failure::Panic("render panicked".to_owned()))
                .await;
        };
        let mut members = String::with_capacity(64);
        let mut has = self.diff.diff(&rendered, &mut members);
        if let Some(title) = &outputs.title {
            push_member(&mut members, &mut has, "t");
            write_json_str(title, &mut members);
        }
        if !outputs.events.is_empty() {
            push_member(&mut members, &mut has, "e");
            write_events(&outputs.events, &mut members);
        }
        if let Some(reply) = &outputs.reply {
            push_member(&mut members, &mut has, "r");
            members.push_str(&reply.to_string());
        }
        match msg_ref {
            Some(r) => {
                if has {
                    let body = format!("{{\"diff\":{{{members}}}}}");
                    self.reply(Some(r), true, &body).await
                } else {
                    self.reply(Some(r), true, "{}").await
                }
            }
            None if has => self.push("diff", &format!("{{{members}}}")).await,
            None => Flow::Continue,
        }
    }
}

/// The path and query of an absolute or relative URL.
pub(crate) fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url,
    }
}

/// `{"key":json}`
fn wrap(key: &str, json: &str) -> String {
    let mut out = String::with_capacity(key.len() + json.len() + 5);
    out.push_str("{\"");
    out.push_str(key);
    out.push_str("\":");
    out.push_str(json);
    out.push('}');
    out
}

fn push_member(out: &mut String, has: &mut bool, key: &str) {
    if *has {
        out.push(',');
    }
    *has = true;
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

fn write_events(events: &[(String, Value)], out: &mut String) {
    out.push('[');
    for (i, (name, payload)) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_json_str(name, out);
        out.push(',');
        out.push_str(&payload.to_string());
        out.push(']');
    }
    out.push(']');
}

/// `{"to":..,"kind":..,"flash":..}`
fn write_nav(to: &str, replace: Option<bool>, flash: Option<&str>, out: &mut String) {
    out.push_str("{\"to\":");
    write_json_str(to, out);
    if let Some(replace) = replace {
        out.push_str(if replace {
            ",\"kind\":\"replace\""
        } else {
            ",\"kind\":\"push\""
        });
    }
    if let Some(flash) = flash {
        out.push_str(",\"flash\":");
        write_json_str(flash, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_slots_stay_small() {
        // Inbox and outbox slots are kept while a view/connection idles.
        assert!(std::mem::size_of::<ViewMsg<()>>() <= 16);
        assert!(std::mem::size_of::<ViewMsg<u64>>() <= 16);
        assert!(std::mem::size_of::<Outbound>() <= 24);
    }

    #[test]
    fn path_of_strips_scheme_and_host() {
        assert_eq!(path_of("http://localhost:4000/a?b=1"), "/a?b=1");
        assert_eq!(path_of("http://localhost:4000"), "/");
        assert_eq!(path_of("/x"), "/x");
    }

    #[test]
    fn nav_json() {
        let mut out = String::new();
        write_nav("/account", None, Some("tok"), &mut out);
        assert_eq!(out, r#"{"to":"/account","flash":"tok"}"#);
        out.clear();
        write_nav("/a", Some(false), None, &mut out);
        assert_eq!(out, r#"{"to":"/a","kind":"push"}"#);
    }
}
