//! `support/form_live.ex`: `Phoenix.LiveViewTest.E2E.FormLive` at `/form`, a form whose
//! attributes come from the query string (`?no-id`, `?js-change`, `?phx-auto-recover=…`,
//! `?portal`, `?live-component`, …), used by the form recovery, loading-state and unused-field
//! specs; its `FormComponent` (the `?live-component` variant: the same form in a live component,
//! `phx-target={@myself}`); and `FormStreamLive` at `/form/stream` (a form around a stream whose
//! items have hooks, for the latent-clone spec).
//!
//! `NestedFormLive` at `/form/nested` renders the form as a nested live view (`FormLiveNested`,
//! upstream the same module compiled twice; here `FormLive` itself, registered as a child view),
//! passing its query parameters in the child's session (under one key, `form_params`, instead of
//! upstream's whole session map) and without a layout.

use std::collections::BTreeMap;
use std::time::Duration;

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::nested::live_render;
use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Value, json};

use crate::components::{options, portal};
use crate::eval::{self, SyncGate};
use crate::js::Js;
use crate::layout;

/// The `@params` of `FormLive` (and of its `FormComponent`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormParams {
    params: BTreeMap<String, String>,
    /// `phx-change`: an event name or (with `?js-change`) encoded JS commands.
    change: Option<String>,
}

impl FormParams {
    fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    fn contains(&self, key: &str) -> bool {
        self.params.contains_key(key)
    }

    /// `Map.merge(params, event_params)`.
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

    fn custom_recovery(&mut self) {
        self.params
            .insert("b".to_owned(), "custom value from server".to_owned());
    }
}

/// `my_form/1`: the form, with `phx-target` when rendered by `FormComponent`.
fn my_form(params: &FormParams, target: Option<Myself>) -> Rendered {
    let p = |k| params.get(k);
    let id = p("id");
    let submit_js = Js::new().dispatch("test", Value::Null);
    html!(
        <form id={id} phx-submit="save" phx-change={params.change.as_deref()}
            phx-auto-recover={p("phx-auto-recover")}
            phx-no-unused-field={p("phx-no-unused-field-form")} phx-target={target} class="myformclass">
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

/// `FormLive`.
#[derive(Debug, Default)]
pub struct FormLive {
    form: FormParams,
    submitted: bool,
    gate: SyncGate,
    /// Rendered by `NestedFormLive` (no layout).
    nested: bool,
}

/// `FormLive.FormComponent`: the form in a live component (`?live-component`).
#[derive(Debug)]
pub struct FormComponent {
    params: FormParams,
    submitted: bool,
}

impl LiveComponent for FormComponent {
    type Assigns = FormParams;

    fn new(params: &FormParams) -> Self {
        Self {
            params: params.clone(),
            submitted: false,
        }
    }

    /// The default `update/2`: `assign(socket, assigns)` (`submitted` stays).
    async fn update(&mut self, params: FormParams, _socket: &mut ComponentSocket<'_>) -> Result {
        self.params = params;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "validate" => self.params.merge(&event)?,
            "save" => self.submitted = true,
            "custom-recovery" => self.params.custom_recovery(),
            "patch-recovery" => socket.push_patch("/form?patched=true"),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <div>
                {my_form(&self.params, Some(myself))}
                @if self.submitted { <p>"LC Form was submitted!"</p> }
            </div>
        )
    }
}

impl LiveView for FormLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        let form = &mut self.form;
        for (k, v) in [
            ("a", "foo"),
            ("b", "bar"),
            ("c", "baz"),
            ("id", "test-form"),
        ] {
            form.params.insert(k.to_owned(), v.to_owned());
        }
        form.change = Some("validate".to_owned());
        // Nested: `:not_mounted_at_router`, the parent's params come in the session.
        let pairs = match cx.session::<Vec<(String, String)>>(NESTED_PARAMS) {
            Some(pairs) => {
                self.nested = true;
                pairs
            }
            None => cx.params().query_pairs().to_vec(),
        };
        for (k, v) in pairs {
            form.params.insert(k, v);
        }
        if let Some(change) = form.params.get("phx-change") {
            form.change = Some(change.clone());
        }
        if form.contains("no-id") {
            form.params.remove("id");
        } else if form.contains("no-change-event") {
            form.change = None;
        } else if form.contains("js-change") {
            form.change = Some(Js::new().push("validate", Value::Null).encode());
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
            "validate" => self.form.merge(&event)?,
            "save" => self.submitted = true,
            "custom-recovery" => self.form.custom_recovery(),
            "patch-recovery" => socket.push_patch("/form?patched=true"),
            "button-test" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let portal_mode = self.form.contains("portal");
        let form = if self.form.contains("live-component") {
            html!({ live_component::<FormComponent>("form-component", self.form.clone()) })
        } else {
            my_form(&self.form, None)
        };
        let content = html!(
            @if portal_mode { <h1>"Form"</h1> }
            @if portal_mode { {portal("form-portal", "body", None, form)} } else { {form} }
            @if self.submitted { <p>"Form was submitted!"</p> }
        );
        if self.nested {
            content
        } else {
            layout::live(socket, content)
        }
    }
}

/// The session key under which `NestedFormLive` passes its params to the nested form.
const NESTED_PARAMS: &str = "form_params";

/// `NestedFormLive` (`/form/nested`): `FormLive` as a nested live view with id `nested`.
#[derive(Debug, Default)]
pub struct NestedFormLive {
    params: Vec<(String, String)>,
}

impl LiveView for NestedFormLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.params = cx.params().query_pairs().to_vec();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!({ live_render::<FormLive>("nested").session(NESTED_PARAMS, &self.params) }),
        )
    }
}

/// `FormStreamLive` (`/form/stream`): a form whose `phx-change`/`phx-submit` insert stream
/// items with hooks, while a 100 ms tick re-renders the form.
#[derive(Debug)]
pub struct FormStreamLive {
    count: u64,
    stream_count: u64,
    items: Stream<u64>,
    gate: SyncGate,
}

impl Default for FormStreamLive {
    fn default() -> Self {
        Self {
            count: 0,
            stream_count: 3,
            items: Stream::new("items", |id: &u64| format!("items-{id}")),
            gate: SyncGate::new(),
        }
    }
}

/// `:tick`.
#[derive(Debug)]
pub struct Tick;

impl LiveView for FormStreamLive {
    type Message = Tick;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Tick>) -> Result {
        // `:timer.send_interval/3` only when connected (`every` does nothing otherwise).
        socket.every(Duration::from_millis(100), || Tick);
        self.items.extend([1, 2, 3]);
        Ok(())
    }

    async fn handle_info(&mut self, _: Tick, _socket: &mut Socket<Tick>) -> Result {
        self.count += 1;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Tick>) -> Result {
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
            "ping" => {
                socket.reply(json!({}));
            }
            "validate" | "save" => {
                self.count += 1;
                self.stream_count += 1;
                self.items.insert(self.stream_count);
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<Tick>) -> Rendered {
        let count = self.count;
        layout::live(
            socket,
            html!(
                {count}
                <form id="test-form" phx-change="validate" phx-submit="save">
                    <input name="myname" value={count}>
                    <input id="other" name="other" value={count}>
                    <div id="form-stream-hook" phx-hook="FormHook" phx-update="ignore"></div>
                    <ul id="form-stream" phx-update="stream">
                        @for (id, item) in &self.items {
                            <li id={id} phx-hook="FormStreamHook">"*" {format!("%{{id: {item}}}")}</li>
                        }
                    </ul>
                    <button id="submit" phx-disable-with="Saving...">"Submit"</button>
                </form>
            ),
        )
    }
}
