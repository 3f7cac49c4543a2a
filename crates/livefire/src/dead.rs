//! The dead render: a live route answering a plain `GET` with full HTML.
//!
//! It runs `mount` and `handle_params` exactly as the connected join will, renders the view
//! into the live container with its page tokens, and wraps it in the app's layout. A redirect
//! during mount becomes a `302` whose flash is kept in the session for the next request.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::client_addr::ClientAddr;
use crate::component::{ComponentSocket, Myself, resolve_fresh};
use crate::endpoint::{DeadCtx, Endpoint, NestedCtx};
use crate::flash::{Flash, FlashHandle};
use crate::layout::Page;
use crate::lifecycle::{self, Failure};
use crate::live_view::{LiveView, Mount};
use crate::nested::{collect_nested, fill_nested, nested_token};
use crate::on_mount::{self, OnMount};
use crate::page_token::{self, PageSession, PageStatic, TOKEN_VSN};
use crate::params::Params;
use crate::rendered::Rendered;
use crate::session::Session;
use crate::socket::{Navigation, Socket};

/// Entry point of a live route's `GET`.
pub(crate) async fn handle(
    endpoint: Arc<Endpoint>,
    route: usize,
    path_params: HashMap<String, String>,
    req: Request,
) -> Response {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        tracing::error!("livefire: CookieSessionLayer is missing around the live router");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "livefire: add CookieSessionLayer around the live router",
        )
            .into_response();
    };
    let flash = req.extensions().get::<FlashHandle>().cloned();
    let uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |pq| pq.as_str());
    let params = Params::from_uri(uri, path_params);
    let extensions = req.extensions().clone();
    let ctx = DeadCtx {
        endpoint: endpoint.clone(),
        route,
        params,
        session,
        flash,
        extensions,
    };
    endpoint.route(route).mounter.dead(ctx).await
}

/// A `302` to `to`, as Phoenix answers a redirect during the dead mount: the flash is kept in
/// the session for the next request.
fn redirect_with_flash(handle: Option<&FlashHandle>, to: String, flash: Flash) -> Response {
    match handle {
        Some(handle) => {
            for (key, value) in flash {
                handle.put(key, value);
            }
        }
        None if !flash.is_empty() => {
            tracing::warn!("flash dropped on redirect: LiveFlashLayer is missing");
        }
        None => {}
    }
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn server_error(what: &str, detail: &str) -> Response {
    tracing::error!(detail, "dead render failed: {what}");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

/// Runs the view's mount and render for HTTP.
pub(crate) async fn render<V: LiveView>(mut view: V, ctx: DeadCtx) -> Response {
    let session_data = Arc::new(ctx.session.data());
    let incoming: Flash = ctx
        .flash
        .as_ref()
        .map(FlashHandle::incoming)
        .unwrap_or_default();
    let mut socket: Socket<V::Message> = Socket::disconnected()
        .with_session(session_data.clone())
        .with_flash(incoming)
        .with_csrf_token(ctx.session.csrf_token());
    socket.client_addr = ClientAddr::of(&ctx.extensions);
    let mut mount = Mount {
        params: ctx.params,
        session: session_data,
        connect_params: None,
        assigns: Default::default(),
    };
    // The live session's on_mount hooks: assigns for the view, or a 302.
    let hooks = ctx.endpoint.route(ctx.route).hooks.clone();
    if !hooks.is_empty() {
        let cx = OnMount {
            params: mount.params.clone(),
            session: mount.session.clone(),
            connected: false,
            client_addr: socket.client_addr,
            assigns: Default::default(),
        };
        match on_mount::run(&hooks, cx).await {
            Ok(assigns) => mount.assigns = assigns,
            Err(halt) => return redirect_with_flash(ctx.flash.as_ref(), halt.to, halt.flash),
        }
    }
    if let Err(failure) = lifecycle::mount(&mut view, &mount, &mut socket, true).await {
        return server_error("mount failed", &failure.to_string());
    }
    // Over HTTP the session is at hand: the view's session writes apply directly.
    let writes = socket.core.take_session_writes();
    if !writes.is_empty()
        && let Err(err) = writes.apply(&ctx.session)
    {
        tracing::error!(%err, "session writes of the dead render not fully stored");
    }
    // A renewed session has a new CSRF secret: the page must carry a token of it.
    socket.csrf_token = Some(ctx.session.csrf_token().into());
    let outputs = socket.take_outputs();
    if let Some(err) = outputs.nav_error {
        return server_error("redirect refused", &err.to_string());
    }
    if let Some(
        Navigation::Redirect(to) | Navigation::Navigate { to, .. } | Navigation::Patch { to, .. },
    ) = outputs.nav
    {
        return redirect_with_flash(ctx.flash.as_ref(), to, outputs.flash_put);
    }
    let mut rendered = match lifecycle::render(&view, &socket) {
        Ok(rendered) => rendered,
        Err(failure) => return server_error("render panicked", &failure.to_string()),
    };
    // Live components render in place (the connected render gives them their cids again).
    let mut component_socket = ComponentSocket {
        core: &mut socket.core,
        myself: Myself(0),
        parent: None,
    };
    let components = match resolve_fresh(&mut rendered, &mut component_socket).await {
        Ok(components) => components,
        Err(failure) => return server_error("a live component failed", &failure.to_string()),
    };
    let id = page_token::new_container_id();
    // Nested live views render in place too, each with its own tokens.
    let nested = NestedCtx {
        endpoint: ctx.endpoint.clone(),
        session: mount.session.clone(),
        csrf_token: socket.csrf_token.clone(),
        client_addr: socket.client_addr,
        id: id.clone(),
    };
    if let Err(failure) = resolve_nested(&mut rendered, &nested).await {
        return server_error("a nested live view failed", &failure.to_string());
    }

    let endpoint = &ctx.endpoint;
    let route = endpoint.route(ctx.route);
    let session_token = page_token::seal_session(
        &endpoint.keyring,
        &PageSession {
            v: TOKEN_VSN,
            id: id.clone(),
            route: route.pattern.to_string(),
            ls: route.live_session.to_string(),
            child: None,
        },
    );
    let static_token = page_token::seal_static(
        &endpoint.keyring,
        &PageStatic {
            v: TOKEN_VSN,
            id: id.clone(),
            flash: socket.flash().clone(),
        },
    );
    let mut container = String::with_capacity(1024);
    route
        .container
        .open_main(&mut container, &id, &session_token, &static_token);
    rendered.write_html_with(&mut container, &|cid| components.get(&cid));
    route.container.close(&mut container);

    // Make sure the browser has a session id (binds flash tokens) and a CSRF secret.
    let _ = ctx.session.id();
    let page = Page::new(
        socket.title().map(str::to_owned),
        socket.csrf_token().unwrap_or_default().to_owned(),
        container,
        socket.flash().clone(),
    )
    .with_extensions(ctx.extensions);
    let Ok(mut layout) = std::panic::catch_unwind(AssertUnwindSafe(|| (endpoint.layout)(&page)))
    else {
        return server_error("layout panicked", "");
    };
    // Sticky live views live in the layout.
    if let Err(failure) = resolve_nested(&mut layout, &nested).await {
        return server_error(
            "a nested live view of the layout failed",
            &failure.to_string(),
        );
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout.to_html()),
    )
        .into_response()
}

/// Renders every nested live view of `tree` in place (dead render): each child mounts (not
/// connected), renders (with its own components and children), and its container carries its
/// static token (and, if sticky, its session token: a non-sticky child gets its session token
/// from the parent's connected render, as in Phoenix).
pub(crate) async fn resolve_nested(tree: &mut Rendered, ctx: &NestedCtx) -> Result<(), Failure> {
    let mut calls = Vec::new();
    collect_nested(tree.dynamics(), &mut calls);
    if calls.is_empty() {
        return Ok(());
    }
    let endpoint = &ctx.endpoint;
    let mut containers = Vec::with_capacity(calls.len());
    for call in calls {
        let Some(mounter) = endpoint.child(call.view) else {
            return Err(Failure::Err(crate::Error::app(format!(
                "nested live view {} is not registered (LiveRouter::child_view)",
                call.view
            ))));
        };
        let mut session = (*ctx.session).clone();
        session.extend(call.session.clone());
        let child_ctx = NestedCtx {
            endpoint: endpoint.clone(),
            session: Arc::new(session),
            csrf_token: ctx.csrf_token.clone(),
            client_addr: ctx.client_addr,
            id: call.id.clone(),
        };
        let inner = mounter.dead_nested(child_ctx).await?;
        let static_token = page_token::seal_static(
            &endpoint.keyring,
            &PageStatic {
                v: TOKEN_VSN,
                id: call.id.clone(),
                flash: Flash::default(),
            },
        );
        let session_token = if call.sticky {
            page_token::seal_session(&endpoint.keyring, &nested_token(&call, None))
        } else {
            String::new()
        };
        let mut container = call.container(&session_token, &static_token, Some(&ctx.id));
        container.push_str(&inner);
        container.push_str("</div>");
        containers.push(container);
    }
    let mut containers = containers.into_iter();
    fill_nested(tree.dynamics_mut(), &mut containers);
    Ok(())
}

/// A nested view's dead render: mount (not connected, no URL) and render, with its own
/// components and children; its inner HTML.
pub(crate) async fn render_nested<V: LiveView>(
    mut view: V,
    ctx: NestedCtx,
) -> Result<String, Failure> {
    let mut socket: Socket<V::Message> = Socket::disconnected().with_session(ctx.session.clone());
    socket.csrf_token = ctx.csrf_token.clone();
    socket.client_addr = ctx.client_addr;
    let mount = Mount {
        params: Params::default(),
        session: ctx.session.clone(),
        connect_params: None,
        assigns: Default::default(),
    };
    lifecycle::mount(&mut view, &mount, &mut socket, false).await?;
    if socket.is_redirected() {
        return Err(Failure::Err(crate::Error::app(
            "a nested live view redirected during the dead render",
        )));
    }
    let mut rendered = lifecycle::render(&view, &socket)?;
    let mut component_socket = ComponentSocket {
        core: &mut socket.core,
        myself: Myself(0),
        parent: None,
    };
    let components = resolve_fresh(&mut rendered, &mut component_socket).await?;
    Box::pin(resolve_nested(&mut rendered, &ctx)).await?;
    let mut html = String::new();
    rendered.write_html_with(&mut html, &|cid| components.get(&cid));
    Ok(html)
}
