//! `Phoenix.LiveViewTest.E2E.FormLive` (`support/form_live.ex`) at `/form`: a form whose
//! attributes come from the query string (`?no-id`, `?js-change`, `?phx-auto-recover=…`,
//! `?portal`, …), used by the form recovery, loading-state and unused-field specs.
//!
//! Not ported: the `?live-component` variant (`FormComponent`, a live component),
//! `NestedFormLive` (a nested live view) and `FormStreamLive` (a stream).

use std::collections::BTreeMap;

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Value, json};

use crate::components::{options, portal};
use crate::eval::{self, SyncGate};
use crate::js::Js;
use crate::layout;

/// `FormLive`.
#[derive(Debug, Default)]
pub struct FormLive {
    params: BTreeMap<String, String>,
    /// `phx-change`: an event name or (with `?js-change`) encoded JS commands.
    change: Option<String>,
    submitted: bool,
    gate: SyncGate,
}

impl FormLive {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    fn merge(&mut self, event: &Event) -> Result {
        if let Value::Object(map) = event.form_data()?.into_value() {
            for (k, v) in map {
                if let Value::String(s) = v {
                    self.params.insert(k, s);
                }
            }
        }
        Ok(())
    }

    fn my_form(&self) -> Rendered {
        let p = |k| self.param(k);
        let id = p("id");
        let submit_js = Js::new().dispatch("test", Value::Null);
        html!(
            <form id={id} phx-submit="save" phx-change={self.change.as_deref()}
                phx-auto-recover={p("phx-auto-recover")}
                phx-no-unused-field={p("phx-no-unused-field-form")} class="myformclass">
                <fieldset disabled={p("disabled-fieldset")}>
                    <input type="text" name="a" readonly value={p("a")}>
                    <input type="text" name="b" value={p("b")}>
                </fieldset>
                <input type="text" name="c" value={p("c")} phx-no-unused-field={p("phx-no-unused-field-input")}>
                <select name="d">{options(["foo", "bar", "baz"], &[p("d").unwrap_or_default()])}</select>
                @if id.is_some() { <input type="text" name="e" form={id} value={p("e")}> }
                <button type="submit" phx-disable-with="Submitting" phx-click={submit_js}>"Submit with JS"</button>
                <button id="submit" type="submit" phx-disable-with="Submitting">"Submit"</button>
                <button type="button" phx-click="button-test" phx-disable-with="Loading">"Non-form Button"</button>
            </form>
            @if id.is_some() { <input type="text" name="f" form={id} value={p("f")}> }
        )
    }
}

impl LiveView for FormLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        for (k, v) in [
            ("a", "foo"),
            ("b", "bar"),
            ("c", "baz"),
            ("id", "test-form"),
        ] {
            self.params.insert(k.to_owned(), v.to_owned());
        }
        self.change = Some("validate".to_owned());
        for (k, v) in cx.params().query_pairs() {
            self.params.insert(k.clone(), v.clone());
        }
        if let Some(change) = self.params.get("phx-change") {
            self.change = Some(change.clone());
        }
        if self.params.contains_key("no-id") {
            self.params.remove("id");
        } else if self.params.contains_key("no-change-event") {
            self.change = None;
        } else if self.params.contains_key("js-change") {
            self.change = Some(Js::new().push("validate", Value::Null).encode());
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        if event.name() == eval::EVENT {
            let code = eval::code(&event);
            if eval::same(code, eval::PID_CODE) {
                return eval::reply(socket, self.gate.pid_parts());
            }
            if eval::same(code, eval::SYNC_HOOK_CODE) {
                self.gate.enabled = true;
                socket.reply(json!({}));
                return Ok(());
            }
            return Err(eval::unknown(code));
        }
        self.gate.wait(event.name()).await;
        match event.name() {
            "validate" => self.merge(&event)?,
            "save" => self.submitted = true,
            "custom-recovery" => {
                self.params
                    .insert("b".to_owned(), "custom value from server".to_owned());
            }
            "patch-recovery" => socket.push_patch("/form?patched=true"),
            "button-test" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        if self.params.contains_key("live-component") {
            // `FormComponent` is a live component: not ported (see the skip list).
            let text = "livefire-upstream: ?live-component needs live components (not ported)";
            return layout::live(socket, html!(<p id="unsupported">{text}</p>));
        }
        let portal_mode = self.params.contains_key("portal");
        let form = self.my_form();
        layout::live(
            socket,
            html!(
                @if portal_mode { <h1>"Form"</h1> }
                @if portal_mode { {portal("form-portal", "body", None, form)} } else { {form} }
                @if self.submitted { <p>"Form was submitted!"</p> }
            ),
        )
    }
}
