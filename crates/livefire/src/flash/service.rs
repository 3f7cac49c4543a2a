//! [`LiveFlash`]: the middleware produced by [`super::LiveFlashLayer`].

use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::header::{COOKIE, SET_COOKIE, UPGRADE};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use tower::Service;

use super::{FLASH_COOKIE, Flash, FlashHandle, SESSION_FLASH_KEY, open_flash};
use serde_json::Value;

use crate::session::Session;
use crate::session::handoff::redeem_into;
use crate::session::tickets::{FLASH_KEY, Tickets};
use crate::token::Keyring;

/// At most this many `__phoenix_flash__` cookies are tried.
const MAX_CANDIDATES: usize = 4;

const DELETE_FLASH_COOKIE: &str = "__phoenix_flash__=; Path=/; Max-Age=0";

/// Middleware delivering flash messages. Built by [`super::LiveFlashLayer`].
///
/// It reads and writes the session, so it refuses requests (`500`) when
/// [`CookieSessionLayer`](crate::session::CookieSessionLayer) is not around it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::convert::Infallible;
/// use axum::body::Body;
/// use axum::response::Response;
/// use http::{Request, StatusCode};
/// use livefire::flash::LiveFlashLayer;
/// use livefire::token::Keyring;
/// use tower::{Layer as _, ServiceExt as _, service_fn};
///
/// let handler = service_fn(|_req: Request<Body>| async {
///     Ok::<_, Infallible>(Response::new(Body::empty()))
/// });
/// let service = LiveFlashLayer::new(Keyring::random()).layer(handler);
/// let _inner = service.get_ref();
/// let res = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LiveFlash<S> {
    inner: S,
    keyring: Keyring,
    tickets: Option<Tickets>,
}

impl<S> LiveFlash<S> {
    pub(crate) fn new(inner: S, keyring: Keyring, tickets: Option<Tickets>) -> Self {
        Self {
            inner,
            keyring,
            tickets,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        })
}

fn flash_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|c| c.name() == FLASH_COOKIE)
        .take(MAX_CANDIDATES)
        .map(|c| c.value().to_owned())
        .collect()
}

/// Redeems a ticket found in the flash (a refused one changes nothing and is logged); returns
/// the flash that travelled with the ticket.
async fn redeem(
    tickets: Option<&Tickets>,
    keyring: &Keyring,
    session: &Session,
    ticket: &Value,
) -> Flash {
    let Some(tickets) = tickets else {
        tracing::error!(
            "a live view sent session writes, but LiveFlashLayer has no ticket store \
             (LiveFlashLayer::session_store); they are dropped"
        );
        return Flash::default();
    };
    let Some(ticket) = ticket.as_str() else {
        tracing::warn!("malformed session ticket in the flash ignored");
        return Flash::default();
    };
    match redeem_into(tickets, keyring, session, ticket).await {
        Ok(flash) => Flash::from_iter(flash),
        Err(refused) => {
            tracing::warn!(%refused, "session ticket from a redirect refused");
            Flash::default()
        }
    }
}

impl<S, ReqBody> Service<Request<ReqBody>> for LiveFlash<S>
where
    S: Service<Request<ReqBody>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        if is_websocket_upgrade(req.headers()) {
            // A 101 response cannot carry the flash; give extractors an empty handle and leave
            // the stored flash and the flash cookie alone.
            req.extensions_mut()
                .insert(FlashHandle::with_incoming(Flash::default()));
            return Box::pin(self.inner.call(req));
        }
        let Some(session) = req.extensions().get::<Session>().cloned() else {
            tracing::error!("LiveFlashLayer used without CookieSessionLayer; refusing the request");
            return Box::pin(async {
                Ok((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "LiveFlashLayer needs livefire::session::CookieSessionLayer around this route",
                )
                    .into_response())
            });
        };

        let had_stored = session.contains_key(SESSION_FLASH_KEY);
        let stored: Flash = session.get(SESSION_FLASH_KEY).unwrap_or_default();
        let mut incoming = stored.clone();

        let cookies = flash_cookies(req.headers());
        let cookie_present = !cookies.is_empty();
        if cookie_present {
            match session.existing_id() {
                Some(id) => {
                    for token in &cookies {
                        match open_flash(&self.keyring, &id, token) {
                            Ok(flash) => {
                                incoming.merge(flash);
                                break;
                            }
                            Err(error) => {
                                tracing::debug!(%error, "ignoring invalid flash cookie");
                            }
                        }
                    }
                }
                None => tracing::debug!("ignoring flash cookie: the request has no session"),
            }
        }

        // A live view's session writes ride in the flash as a ticket: never shown, redeemed
        // before the handler runs (so the page sees the new session).
        let ticket = incoming.remove(FLASH_KEY);
        // The service that was polled ready handles this request; a clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let tickets = self.tickets.clone();
        let keyring = self.keyring.clone();

        Box::pin(async move {
            if let Some(ticket) = ticket {
                // The flash that travelled with the ticket (put by the view in a round without
                // a redirect); the redirect's own flash wins on equal keys.
                let mut travelled = redeem(tickets.as_ref(), &keyring, &session, &ticket).await;
                travelled.merge(incoming);
                incoming = travelled;
            }
            let handle = FlashHandle::with_incoming(incoming);
            req.extensions_mut().insert(handle.clone());
            let mut response = inner.call(req).await?;
            let (incoming, outgoing) = handle.finish();
            let keep = if response.status().is_redirection() {
                let mut keep = incoming;
                keep.merge(outgoing);
                keep
            } else {
                outgoing
            };
            if keep.is_empty() {
                if had_stored {
                    session.remove(SESSION_FLASH_KEY);
                }
            } else if !(had_stored && keep == stored)
                && let Err(error) = session.insert(SESSION_FLASH_KEY, &keep)
            {
                tracing::warn!(%error, "flash dropped: it does not fit into the session");
            }
            if cookie_present {
                response
                    .headers_mut()
                    .append(SET_COOKIE, HeaderValue::from_static(DELETE_FLASH_COOKIE));
            }
            Ok(response)
        })
    }
}
