//! `phx_join` on `lv:<id>`: verify the page tokens, re-check the session, resolve the route,
//! pick the flash, and start the view task.
//!
//! Refusals follow Phoenix so the official client reacts as expected:
//! a bad, expired or foreign token, or a socket without a (CSRF-checked) session, is `stale`
//! (the client reloads the page); a URL that routes to another view type or live session than
//! the page token's route, or live navigation across live sessions, is `unauthorized` (also a
//! full page load).

use std::sync::Arc;

use serde_json::Value;

use super::Connection;
use super::views::Slot;
use crate::endpoint::{JoinCtx, ParentLink};
use crate::flash::{Flash, open_flash};
use crate::live_view::Mount;
use crate::page_token::{open_session, open_static};
use crate::params::Params;
use crate::wire::frame;

pub(super) fn join(
    conn: &mut Connection,
    topic: &str,
    join_ref: String,
    msg_ref: Option<String>,
    payload: Value,
    replies: &mut Vec<String>,
) {
    let refuse = |reason: &str| {
        frame::reply(
            Some(&join_ref),
            msg_ref.as_deref(),
            topic,
            false,
            &frame::reason(reason),
        )
    };
    let id = &topic[3..];
    let endpoint = conn.endpoint.clone();

    let Some(session_token) = payload.get("session").and_then(Value::as_str) else {
        replies.push(refuse("stale"));
        return;
    };
    let page = match open_session(&endpoint.keyring, session_token, id) {
        Ok(page) => page,
        Err(err) => {
            tracing::debug!(%topic, %err, "join refused: session token");
            replies.push(refuse("stale"));
            return;
        }
    };
    let page_static = match payload.get("static").and_then(Value::as_str) {
        Some(token) => match open_static(&endpoint.keyring, token, id) {
            Ok(page_static) => Some(page_static),
            Err(err) => {
                tracing::debug!(%topic, %err, "join refused: static token");
                replies.push(refuse("stale"));
                return;
            }
        },
        None => None,
    };
    let Some(session) = conn.info.session.clone() else {
        tracing::debug!(%topic, "join refused: the socket has no CSRF-checked session");
        replies.push(refuse("stale"));
        return;
    };

    // A nested view (its token names the view type and parent) or a routed one (by URL).
    // A nested view without a parent is sticky (its token names none).
    let sticky = page
        .child
        .as_ref()
        .is_some_and(|child| child.parent.is_none());
    let (mounter, route, params_of_url, redirected, parent, session) = match &page.child {
        Some(child) => {
            let Some(mounter) = endpoint.child(&child.view) else {
                tracing::debug!(%topic, view = %child.view, "join refused: unknown nested view");
                replies.push(refuse("stale"));
                return;
            };
            // The parent must be joined on this connection (a forged or foreign parent id
            // finds none).
            let parent = match &child.parent {
                Some(parent_id) => {
                    let parent_topic = format!("lv:{parent_id}");
                    match conn.views.get(&parent_topic) {
                        Some(slot) => Some(ParentLink {
                            topic: Arc::from(parent_topic.as_str()),
                            handle: slot.inbox.handle(),
                        }),
                        None => {
                            tracing::debug!(%topic, "join refused: the parent view is not joined here");
                            replies.push(refuse("unauthorized"));
                            return;
                        }
                    }
                }
                None => None,
            };
            let mut merged = (*session).clone();
            merged.extend(child.session.clone());
            (
                mounter,
                None,
                Params::default(),
                false,
                parent,
                Arc::new(merged),
            )
        }
        None => {
            let (url, redirected) = match (
                payload.get("url").and_then(Value::as_str),
                payload.get("redirect").and_then(Value::as_str),
            ) {
                (Some(url), _) => (url, false),
                (None, Some(url)) => (url, true),
                (None, None) => {
                    replies.push(refuse("unauthorized"));
                    return;
                }
            };
            let Some(resolved) = endpoint.resolve(url) else {
                replies.push(refuse("unauthorized"));
                return;
            };
            let target = resolved.route;
            let allowed = if redirected {
                *target.live_session == *page.ls
            } else {
                // As Phoenix compares the view module and live session: after a live_patch
                // to another route of the same view, the page's token still names the first
                // route.
                endpoint
                    .route_by_pattern(&page.route)
                    .is_some_and(|rendered| {
                        rendered.view == target.view && *target.live_session == *page.ls
                    })
            };
            if !allowed {
                tracing::debug!(%topic, url, "join refused: route does not match the page token");
                replies.push(refuse("unauthorized"));
                return;
            }
            (
                &*target.mounter,
                Some(resolved.index),
                resolved.params,
                redirected,
                None,
                session,
            )
        }
    };

    let params = payload.get("params").cloned();
    let mounts = params
        .as_ref()
        .and_then(|p| p.get("_mounts"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let flash = match payload.get("flash").and_then(Value::as_str) {
        Some(token) => match &conn.info.session_id {
            Some(sid) => open_flash(&endpoint.keyring, sid, token).unwrap_or_else(|err| {
                tracing::debug!(%topic, %err, "join flash token ignored");
                Flash::default()
            }),
            None => Flash::default(),
        },
        None if !redirected && mounts == 0 => page_static.map(|s| s.flash).unwrap_or_default(),
        None => Flash::default(),
    };

    if let Some(old) = conn.views.remove(topic) {
        // A duplicate join replaces the running view, as Phoenix does.
        old.task.abort();
        conn.stop_children(topic);
        replies.push(frame::close(&old.join_ref, topic));
    }

    let topic: Arc<str> = Arc::from(topic);
    let join_ref: Arc<str> = Arc::from(join_ref.as_str());
    let ctx = JoinCtx {
        topic: topic.clone(),
        join_ref: join_ref.clone(),
        msg_ref,
        mount: Mount {
            params: params_of_url,
            session,
            connect_params: params,
            assigns: Default::default(),
        },
        flash,
        route,
        parent: parent.clone(),
        sticky,
        session_id: conn.info.session_id.clone(),
        csrf_token: conn.info.csrf_token.clone(),
        client_addr: conn.info.client_addr,
        endpoint: endpoint.clone(),
        out: conn.out_tx.clone(),
    };
    let spawned = mounter.spawn(ctx);
    conn.views.insert(
        topic,
        Slot {
            join_ref,
            inbox: spawned.inbox,
            task: spawned.task,
            parent: parent.map(|p| p.topic),
        },
    );
}
