//! `Issue3169Live` (`support/issues/issue_3169.ex`, at `/issues/3169` outside any live session,
//! in its own layout): three nested live components; selecting a record makes `FormComponent`
//! drop its `FormCore` child and `send_update` itself to load the record, which adds the child
//! back (the cids the client was destroying come back, "magic id" change tracking).

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, rand};

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
      });
      liveSocket.connect();
"#;

/// `render("live.html", assigns)`.
fn own_layout<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    let script = livefire::Raw::new_unchecked(SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        {inner}
    )
}

/// `%{"id" => id, "name" => name}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    id: u64,
    name: String,
}

/// `Components.input/1` and `input_two/1` around `@field.value`.
fn input(value: &str) -> Rendered {
    html!(
        <div>
            {value}
            <input type="text" value={value}>
            {input_two(value)}
        </div>
    )
}

fn input_two(value: &str) -> Rendered {
    html!(
        <div>
            {value}
            <input type="text" value={value}>
        </div>
    )
}

/// `Components.test/1`.
fn test(var: &str) -> Rendered {
    html!("This is a test! " {var})
}

/// `FormColumn` (c3): renders the record's `name` field (`form={form}` of `<.form :let>`).
#[derive(Debug)]
pub struct FormColumn {
    name: String,
}

impl LiveComponent for FormColumn {
    /// `@form[:name].value`.
    type Assigns = String;

    fn new(name: &String) -> Self {
        Self { name: name.clone() }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let name = self.name.as_str();
        html!(
            <div>
                "FormColumn (c3) " <input type="text" value={name}>
                {input(name)}
                {test("foo")}
            </div>
        )
    }
}

/// `FormCore` (c2): `<.form :let={form} for={@record}>` around `FormColumn`.
#[derive(Debug)]
pub struct FormCore {
    record: Record,
}

impl LiveComponent for FormCore {
    type Assigns = Record;

    fn new(record: &Record) -> Self {
        Self {
            record: record.clone(),
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let column = format!("column-{}", self.record.id);
        html!(
            <div>
                "FormCore (c2)"
                <form>{live_component::<FormColumn>(column, self.record.name.clone())}</form>
            </div>
        )
    }
}

/// `FormComponent` (c1).
#[derive(Debug)]
pub struct FormComponent {
    record: Option<Record>,
}

impl FormComponent {
    /// `update(%{action: {:load, name}}, socket)`.
    fn load(&mut self, name: &str) {
        // (`:timer.sleep(50)` is left out: the update runs synchronously here.)
        self.record = Some(Record {
            id: rand::u64() % 1_000_000 + 1,
            name: format!("Record {name}"),
        });
    }
}

impl LiveComponent for FormComponent {
    /// `selected`.
    type Assigns = Option<String>;

    fn new(_: &Option<String>) -> Self {
        Self { record: None }
    }

    async fn update(
        &mut self,
        selected: Option<String>,
        socket: &mut ComponentSocket<'_>,
    ) -> Result {
        // `update(%{selected: nil}, socket)` keeps the socket as it is.
        if let Some(name) = selected {
            socket.send_update::<FormComponent>("form_view", move |c| c.load(&name));
            self.record = None;
        }
        Ok(())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div>
                "FormComponent (c1)"
                @if let Some(record) = &self.record {
                    <div>{live_component::<FormCore>("core", record.clone())}</div>
                }
                <hr>
            </div>
        )
    }
}

/// `Issue3169Live`.
#[derive(Debug, Default)]
pub struct Issue3169Live {
    selected: Option<String>,
}

impl LiveView for Issue3169Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "select" => self.selected = event.get("name").map(str::to_owned),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        own_layout(
            socket,
            html!(
                "HomeLive " {live_component::<FormComponent>("form_view", self.selected.clone())}
                <button id="select-a" phx-click="select" phx-value-name="a">"Select A"</button>
                <button id="select-b" phx-click="select" phx-value-name="b">"Select B"</button>
                <button id="select-z" phx-click="select" phx-value-name="z">"Select Z"</button>
            ),
        )
    }
}
