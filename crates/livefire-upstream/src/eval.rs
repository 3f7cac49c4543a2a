//! Stand-ins for upstream's code evaluation: `evalLV(page, code)` (a `sandbox:eval` event that
//! the `Phoenix.LiveViewTest.E2E.Hooks` on_mount hook evaluates in the live view) and
//! `evalPlug`/`POST /eval`. Nothing is evaluated: each view answers the exact strings its specs
//! send, and any other string gets an error reply that names it.
//!
//! The "sync gate" reproduces the forms spec's serialisation trick: `inspect(self())` gives the
//! view a pid-like id, `attach_hook(…receive {:sync, ^event}…)` makes every event but `ping` wait
//! for a `{:sync, event}` message, which `POST /eval` delivers by that id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livefire::{Event, Socket};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The event name `evalLV` pushes.
pub const EVENT: &str = "sandbox:eval";

/// The Elixir source of an `evalLV` call, trimmed.
pub fn code(event: &Event) -> &str {
    event.get("value").unwrap_or_default().trim()
}

/// The error for a code string this view has no stand-in for (an error reply naming it).
pub fn unknown(code: &str) -> livefire::Error {
    tracing::error!(code, "evalLV: no stand-in for this code");
    let msg = format!("livefire-upstream has no evalLV stand-in for: {code}");
    livefire::Error::Value(<serde_json::Error as serde::de::Error>::custom(msg))
}

/// The fallback of a view's `handle_event`: unknown eval code, or an unknown event.
pub fn fallback(event: &Event) -> livefire::Error {
    if event.name() == EVENT {
        unknown(code(event))
    } else {
        livefire::Error::UnknownEvent(event.name().to_owned())
    }
}

/// Replies `%{"result" => value}` to the eval push.
pub fn reply<M: Send>(socket: &mut Socket<M>, value: Value) -> livefire::Result {
    socket.reply(json!({ "result": value }));
    Ok(())
}

/// Whitespace-insensitive comparison of two code strings.
pub fn same(code: &str, expected: &str) -> bool {
    code.split_whitespace().eq(expected.split_whitespace())
}

static NEXT_PID: AtomicU64 = AtomicU64::new(100);
static GATES: Mutex<Option<HashMap<u64, mpsc::UnboundedSender<String>>>> = Mutex::new(None);

/// A view's pid-like id and its `{:sync, event}` mailbox.
#[derive(Debug)]
pub struct SyncGate {
    id: u64,
    rx: mpsc::UnboundedReceiver<String>,
    pending: Vec<String>,
    /// Set by the `attach_hook(socket, :sync, …)` stand-in.
    pub enabled: bool,
}

impl SyncGate {
    /// Registers a new gate.
    pub fn new() -> Self {
        let id = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        GATES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(id, tx);
        Self {
            id,
            rx,
            pending: Vec::new(),
            enabled: false,
        }
    }

    /// `%{lv_pid: ["0", id, "0"]}`, what the spec's `inspect(self())` snippet returns.
    pub fn pid_parts(&self) -> Value {
        json!({ "lv_pid": ["0", self.id.to_string(), "0"] })
    }

    /// Waits for `{:sync, event}` when enabled (selective receive: other syncs stay queued).
    pub async fn wait(&mut self, event: &str) {
        if !self.enabled || event == "ping" {
            return;
        }
        if let Some(i) = self.pending.iter().position(|e| e == event) {
            self.pending.remove(i);
            return;
        }
        while let Some(got) = self.rx.recv().await {
            if got == event {
                return;
            }
            self.pending.push(got);
        }
    }
}

impl Default for SyncGate {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SyncGate {
    fn drop(&mut self) {
        if let Some(map) = GATES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            map.remove(&self.id);
        }
    }
}

/// The `inspect(self())` snippet of the forms spec.
pub const PID_CODE: &str = r##"<<"#PID"::binary, pid::binary>> = inspect(self())

      pid_parts =
        pid
        |> String.trim_leading("<")
        |> String.trim_trailing(">")
        |> String.split(".")

      %{lv_pid: pid_parts}"##;

/// The `attach_hook(socket, :sync, …)` snippet of the forms spec.
pub const SYNC_HOOK_CODE: &str = r#"attach_hook(socket, :sync, :handle_event, fn event, _params, socket ->
        if event == "ping" do
          {:cont, socket}
        else
          receive do {:sync, ^event} -> {:cont, socket} end
        end
      end)"#;

/// `POST /eval` with `{"code": …}`: `send(IEx.Helpers.pid(0, N, 0), {:sync, "event"}); nil`.
pub async fn plug(Json(body): Json<Value>) -> Response {
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim();
    match parse_sync(code) {
        Some((id, event)) => {
            let sent = GATES
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .and_then(|map| map.get(&id))
                .is_some_and(|tx| tx.send(event).is_ok());
            if !sent {
                tracing::warn!(id, "POST /eval: no live view with this pid");
            }
            Json(Value::Null).into_response()
        }
        None => {
            tracing::error!(code, "POST /eval: no stand-in for this code");
            let error = format!("livefire-upstream has no /eval stand-in for: {code}");
            (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
        }
    }
}

/// Parses `send(IEx.Helpers.pid(0, N, 0), {:sync, "event"}); nil`.
fn parse_sync(code: &str) -> Option<(u64, String)> {
    let rest = code.strip_prefix("send(IEx.Helpers.pid(")?;
    let (pid, rest) = rest.split_once(')')?;
    let id = pid.split(',').nth(1)?.trim().parse().ok()?;
    let event = rest.strip_prefix(", {:sync, \"")?.split_once('"')?.0;
    rest.ends_with("}); nil").then(|| (id, event.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sync_sends() {
        assert_eq!(
            parse_sync(r#"send(IEx.Helpers.pid(0, 123, 0), {:sync, "validate"}); nil"#),
            Some((123, "validate".to_owned()))
        );
        assert_eq!(parse_sync("System.halt()"), None);
    }

    #[test]
    fn compares_code_ignoring_whitespace() {
        assert!(same("a  b\n c", "a b c"));
        assert!(!same("a b", "a c"));
    }
}
