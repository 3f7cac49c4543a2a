//! The stream views of `test/support/live_views/streams.ex` (`Phoenix.LiveViewTest.Support.*`),
//! which upstream's e2e router mounts at `/stream…` and `/healthy/:category`: `StreamLive` (with
//! `StreamComponent`), `HealthyLive`, `StreamResetLive`, `StreamResetLCLive`, `StreamLimitLive`,
//! `StreamInsideForLive` and `StreamNestedComponentResetLive`.
//!
//! Not ported: `StreamNestedLive` (a nested live view, not routed by the e2e suite),
//! `HighFrequencyStreamAndNoStreamUpdatesLive` (not routed), `StreamLive`'s `invalid_consume`
//! render (it makes the view raise; only LiveViewTest uses it) and the `run/2` helpers.
//!
//! Whitespace: where a spec reads text nodes or counts newlines (`empty text nodes are pruned`
//! counts the `\n`s of `#items`), the templates keep HEEx's newlines as quoted text.

use std::time::Duration;

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::rendered::ComponentCall;
use livefire::stream::{InsertAt, Stream};
use livefire::{Event, LiveView, Mount, Params, Rendered, Result, Socket, html};
use serde::Deserialize;
use serde_json::json;

use crate::js::Js;
use crate::layout;
use crate::{eval, rand};

/// `%{id: id, name: name}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    id: String,
    name: String,
}

fn item(id: impl ToString, name: impl ToString) -> Item {
    Item {
        id: id.to_string(),
        name: name.to_string(),
    }
}

/// A stream of [`Item`]s whose DOM ids are `<name>-<id>` (`stream(socket, :name, …)`).
fn stream(name: &'static str) -> Stream<Item> {
    Stream::new(name, move |i: &Item| format!("{name}-{}", i.id))
}

/// `stream(socket, name, items, at: at)`: every item inserted at `at`, in order.
fn insert_all(stream: &mut Stream<Item>, items: impl IntoIterator<Item = Item>, at: i64) {
    for i in items {
        stream.insert_with(
            i,
            InsertAt {
                at,
                ..InsertAt::default()
            },
        );
    }
}

/// `stream(socket, name, items, reset: true)`.
fn reset_with(stream: &mut Stream<Item>, items: impl IntoIterator<Item = Item>) {
    stream.reset();
    stream.extend(items);
}

/// The `"id"` value of a `phx-value-id` click.
fn value_id(event: &Event) -> Result<String> {
    event
        .get("id")
        .map(str::to_owned)
        .ok_or_else(|| livefire::Error::app("missing phx-value-id"))
}

/// `"<prefix>-" <> id` of a DOM id (the `handle_event` clause patterns).
fn strip<'a>(dom_id: &'a str, prefix: &str) -> Result<&'a str> {
    dom_id
        .strip_prefix(prefix)
        .ok_or_else(|| livefire::Error::app(format!("no {prefix} DOM id: {dom_id}")))
}

// ---------------------------------------------------------------------------------------------
// StreamLive and StreamComponent
// ---------------------------------------------------------------------------------------------

fn users() -> [Item; 2] {
    [item(1, "chris"), item(2, "callan")]
}

/// `StreamLive` (`/stream`): two streams of users, a stream in a live component, resets.
#[derive(Debug)]
pub struct StreamLive {
    users: Stream<Item>,
    admins: Stream<Item>,
    count: u64,
    no_id: bool,
    extra_item_with_id: bool,
}

impl Default for StreamLive {
    fn default() -> Self {
        Self {
            users: stream("users"),
            admins: stream("admins"),
            count: 0,
            no_id: false,
            extra_item_with_id: false,
        }
    }
}

impl StreamLive {
    /// The `handle_event/3` clauses (also reached through `socket.view.handle_event(…)`).
    fn event(&mut self, name: &str, event: &Event) -> Result {
        match name {
            "delete" => {
                self.users.delete_by_dom_id(value_id(event)?);
            }
            "update" => {
                let dom_id = value_id(event)?;
                self.users
                    .insert(item(strip(&dom_id, "users-")?, "updated"));
            }
            "move-to-first" => {
                let dom_id = value_id(event)?;
                let id = strip(&dom_id, "users-")?;
                move_to(&mut self.users, &dom_id, item(id, "updated"), 0);
            }
            "move-to-last" => {
                let dom_id = value_id(event)?;
                let id = strip(&dom_id, "users-")?;
                move_to(&mut self.users, &dom_id, item(id, "updated"), -1);
            }
            "move" => {
                let dom_id = value_id(event)?;
                let id = strip(&dom_id, "users-")?;
                let name = event.get("name").unwrap_or_default();
                let at = event
                    .get("at")
                    .unwrap_or_default()
                    .parse()
                    .map_err(livefire::Error::app)?;
                move_to(&mut self.users, &dom_id, item(id, name), at);
            }
            "reset-users" => {
                self.count += 1;
                self.users.reset();
            }
            "reset-users-reorder" => {
                self.count += 1;
                reset_with(
                    &mut self.users,
                    [item(3, "peter"), item(1, "chris"), item(4, "mona")],
                );
            }
            "stream-users" => {
                self.users.extend(users());
            }
            "append-users" => {
                insert_all(&mut self.users, [item(4, "foo"), item(3, "last_user")], -1);
            }
            "admin-delete" => {
                self.admins.delete_by_dom_id(value_id(event)?);
            }
            "admin-update" => {
                let dom_id = value_id(event)?;
                self.admins
                    .insert(item(strip(&dom_id, "admins-")?, "updated"));
            }
            "admin-move-to-first" => {
                let dom_id = value_id(event)?;
                let id = strip(&dom_id, "admins-")?;
                move_to(&mut self.admins, &dom_id, item(id, "updated"), 0);
            }
            "admin-move-to-last" => {
                let dom_id = value_id(event)?;
                let id = strip(&dom_id, "admins-")?;
                move_to(&mut self.admins, &dom_id, item(id, "updated"), -1);
            }
            "stream-no-id" => {
                self.no_id = true;
                self.users.extend(users());
            }
            "stream-extra-with-id" => {
                self.extra_item_with_id = true;
                self.users.extend(users());
            }
            _ => return Err(eval::fallback(event)),
        }
        Ok(())
    }
}

/// `stream_delete_by_dom_id(name, dom_id) |> stream_insert(name, item, at: at)`.
fn move_to(stream: &mut Stream<Item>, dom_id: &str, item: Item, at: i64) {
    stream.delete_by_dom_id(dom_id);
    stream.insert_with(
        item,
        InsertAt {
            at,
            ..InsertAt::default()
        },
    );
}

/// The `evalLV` stand-ins of the streams spec: `socket.view.handle_event("name", %{}, socket)`.
fn view_event(code: &str) -> Option<&str> {
    let rest = code.strip_prefix("socket.view.handle_event(\"")?;
    let (name, rest) = rest.split_once('"')?;
    eval::same(rest, ", %{}, socket)").then_some(name)
}

const ONLY_CHILD_STYLE: &str = "
  [only-child] {
    display: none;
  }
  [only-child]:only-child {
    display: block;
  }
";

impl LiveView for StreamLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.extra_item_with_id = cx
            .params()
            .query_pairs()
            .iter()
            .any(|(k, _)| k == "empty_item");
        self.users.extend(users());
        self.admins
            .extend([item(1, "chris-admin"), item(2, "callan-admin")]);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        if event.name() == eval::EVENT {
            let code = eval::code(&event);
            let Some(name) = view_event(code) else {
                return Err(eval::unknown(code));
            };
            let name = name.to_owned();
            self.event(&name, &event)?;
            // `{:noreply, socket}`: the eval hook replies `%{}`.
            socket.reply(json!({}));
            return Ok(());
        }
        self.event(event.name(), &event)
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let style = livefire::Raw::new_unchecked(ONLY_CHILD_STYLE);
        if self.no_id {
            return layout::live(
                socket,
                html!(
                    <div id="users" phx-update="stream">
                        <div only-child>"Empty!"</div>
                        @for (id, _user) in &self.users { <div id={id}></div> }
                    </div>
                    <style>{style}</style>
                ),
            );
        }
        if self.extra_item_with_id {
            return layout::live(
                socket,
                html!(
                    <div id="users" phx-update="stream">
                        @for (id, user) in &self.users { <div id={id}>{user.name.as_str()}</div> }
                        <div id="users-empty" only-child>"Empty!"</div>
                    </div>
                    <style>{style}</style>
                ),
            );
        }
        let count = self.count;
        layout::live(
            socket,
            html!(
                <div id="users" phx-update="stream">
                    @for (id, user) in &self.users {
                        <div id={id.as_str()} data-count={count}>
                            {user.name.as_str()}
                            <button phx-click="delete" phx-value-id={id.as_str()}>"delete"</button>
                            <button phx-click="update" phx-value-id={id.as_str()}>"update"</button>
                            <button phx-click="move-to-first" phx-value-id={id.as_str()}>"make first"</button>
                            <button phx-click="move-to-last" phx-value-id={id.as_str()}>"make last"</button>
                            <button phx-click="move" phx-value-id={id.as_str()} phx-value-name="moved" phx-value-at="1">"move"</button>
                            <button phx-click={Js::new().hide(json!({"to": format!("#{id}")}))}>"JS Hide"</button>
                        </div>
                    }
                </div>
                <div id="admins" phx-update="stream">
                    @for (id, user) in &self.admins {
                        <div id={id.as_str()} data-count={count}>
                            {user.name.as_str()}
                            <button phx-click="admin-delete" phx-value-id={id.as_str()}>"delete"</button>
                            <button phx-click="admin-update" phx-value-id={id.as_str()}>"update"</button>
                            <button phx-click="admin-move-to-first" phx-value-id={id.as_str()}>"make first"</button>
                            <button phx-click="admin-move-to-last" phx-value-id={id.as_str()}>"make last"</button>
                        </div>
                    }
                </div>
                {live_component::<StreamComponent>("stream-component", ())}
                <button phx-click="reset-users">"Reset users"</button>
                <button phx-click="reset-users-reorder">"Reorder users"</button>
            ),
        )
    }
}

/// `StreamComponent`: a live component with its own stream, `c_users`.
#[derive(Debug)]
pub struct StreamComponent {
    c_users: Stream<Item>,
}

impl LiveComponent for StreamComponent {
    type Assigns = ();

    /// `update(_assigns, socket)`: `stream(socket, :c_users, users)`.
    fn new(_: &()) -> Self {
        let mut c_users = stream("c_users");
        c_users.extend(users());
        Self { c_users }
    }

    async fn update(&mut self, _: (), _socket: &mut ComponentSocket<'_>) -> Result {
        self.c_users.extend(users());
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "reset" => {
                self.c_users.reset();
            }
            "delete" => {
                self.c_users.delete_by_dom_id(value_id(&event)?);
            }
            "update" => {
                let dom_id = value_id(&event)?;
                self.c_users
                    .insert(item(strip(&dom_id, "c_users-")?, "updated"));
            }
            "move-to-first" => {
                let dom_id = value_id(&event)?;
                let id = strip(&dom_id, "c_users-")?;
                move_to(&mut self.c_users, &dom_id, item(id, "updated"), 0);
            }
            "move-to-last" => {
                let dom_id = value_id(&event)?;
                let id = strip(&dom_id, "c_users-")?;
                move_to(&mut self.c_users, &dom_id, item(id, "updated"), -1);
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <div id="c_users" phx-update="stream">
                @for (id, user) in &self.c_users {
                    <div id={id.as_str()}>
                        {user.name.as_str()}
                        <button phx-click="delete" phx-value-id={id.as_str()} phx-target={myself}>"delete"</button>
                        <button phx-click="update" phx-value-id={id.as_str()} phx-target={myself}>"update"</button>
                        <button phx-click="move-to-first" phx-value-id={id.as_str()} phx-target={myself}>"make first"</button>
                        <button phx-click="move-to-last" phx-value-id={id.as_str()} phx-target={myself}>"make last"</button>
                    </div>
                }
            </div>
        )
    }
}

// ---------------------------------------------------------------------------------------------
// HealthyLive
// ---------------------------------------------------------------------------------------------

fn healthy_stuff(category: &str) -> Option<[Item; 2]> {
    match category {
        "fruits" => Some([item(1, "Apples"), item(2, "Oranges")]),
        "veggies" => Some([item(3, "Carrots"), item(4, "Tomatoes")]),
        _ => None,
    }
}

/// `HealthyLive` (`/healthy/:category`): a stream reset in `handle_params` (issue #2656).
#[derive(Debug)]
pub struct HealthyLive {
    category: String,
    items: Stream<Item>,
}

impl Default for HealthyLive {
    fn default() -> Self {
        Self {
            category: String::new(),
            items: stream("items"),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl LiveView for HealthyLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.category = cx.params().get("category").unwrap_or_default().to_owned();
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        let category = params.get("category").unwrap_or_default();
        // `Map.fetch!/2`
        let items = healthy_stuff(category)
            .ok_or_else(|| livefire::Error::app(format!("unknown category {category:?}")))?;
        self.category = category.to_owned();
        reset_with(&mut self.items, items);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "load-more" => {
                insert_all(
                    &mut self.items,
                    [item(5, "Pumpkins"), item(6, "Melons")],
                    -1,
                );
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let other = if self.category == "fruits" {
            "/healthy/veggies"
        } else {
            "/healthy/fruits"
        };
        layout::live(
            socket,
            html!(
                <p><a href={other} data-phx-link="patch" data-phx-link-state="push">"Switch"</a></p>
                <h1>{capitalize(&self.category)}</h1>
                <ul id="items" phx-update="stream">
                    @for (dom_id, item) in &self.items { <li id={dom_id}>{item.name.as_str()}</li> }
                </ul>
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// StreamResetLive
// ---------------------------------------------------------------------------------------------

fn abcd() -> [Item; 4] {
    [
        item("a", "A"),
        item("b", "B"),
        item("c", "C"),
        item("d", "D"),
    ]
}

/// `%{id: "a" <> "#{System.unique_integer()}", name: "#{System.unique_integer()}"}`.
fn unique_item() -> Item {
    let id = rand::unique_integer();
    let name = rand::unique_integer();
    item(format!("a{id}"), name)
}

fn insert_at(stream: &mut Stream<Item>, item: Item, at: i64) {
    stream.insert_with(
        item,
        InsertAt {
            at,
            ..InsertAt::default()
        },
    );
}

/// `StreamResetLive` (`/stream/reset`, issue #2994): resets, reorders and inserts at positions.
#[derive(Debug)]
pub struct StreamResetLive {
    items: Stream<Item>,
    use_phx_remove: bool,
}

impl Default for StreamResetLive {
    fn default() -> Self {
        Self {
            items: stream("items"),
            use_phx_remove: false,
        }
    }
}

impl LiveView for StreamResetLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.items.extend(abcd());
        // `params["phx-remove"]`: `?phx-remove` gives `""`, which is truthy in Elixir.
        self.use_phx_remove = cx.params().query("phx-remove").is_some();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        let items = &mut self.items;
        match event.name() {
            "filter" => reset_with(items, [item("b", "B"), item("c", "C"), item("d", "D")]),
            "reorder" => reset_with(
                items,
                [
                    item("b", "B"),
                    item("a", "A"),
                    item("c", "C"),
                    item("d", "D"),
                ],
            ),
            "reset" => reset_with(items, abcd()),
            "prepend" => insert_at(items, unique_item(), 0),
            "append" => insert_at(items, unique_item(), -1),
            "bulk-insert" => {
                let mut efg = vec![item("e", "E"), item("f", "F"), item("g", "G")];
                efg.reverse();
                insert_all(items, efg, 1);
            }
            "insert-at-one" => insert_at(items, unique_item(), 1),
            "insert-existing-at-one" => insert_at(items, item("c", "C"), 1),
            "delete-insert-existing-at-one" => {
                items.delete_by_dom_id("items-c");
                insert_at(items, item("c", "C"), 1);
            }
            "prepend-existing" => insert_at(items, item("c", "C"), 0),
            "append-existing" => insert_at(items, item("c", "C"), -1),
            "new-update-only" => {
                items.insert_with(
                    item("e", "E"),
                    InsertAt {
                        at: -1,
                        limit: None,
                        update_only: true,
                    },
                );
            }
            "existing-update-only" => {
                let name = format!("C {}", rand::unique_integer());
                items.insert_with(
                    item("c", name),
                    InsertAt {
                        at: -1,
                        limit: None,
                        update_only: true,
                    },
                );
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        // `phx-remove={if @use_phx_remove, do: JS.hide()}`
        let remove = self.use_phx_remove.then(|| Js::new().hide(json!({})));
        layout::live(
            socket,
            html!(
                <ul phx-update="stream" id="thelist">
                    @for (id, item) in &self.items {
                        <li id={id} phx-remove={remove.clone()}>{item.name.as_str()}</li>
                    }
                </ul>
                <button phx-click="filter">"Filter"</button>
                <button phx-click="reorder">"Reorder"</button>
                <button phx-click="reset">"Reset"</button>
                <button phx-click="prepend">"Prepend"</button>
                <button phx-click="append">"Append"</button>
                <button phx-click="bulk-insert">"Bulk insert"</button>
                <button phx-click="insert-at-one">"Insert at 1"</button>
                <button phx-click="insert-existing-at-one">"Insert C at 1"</button>
                <button phx-click="delete-insert-existing-at-one">"Delete C and insert at 1"</button>
                <button phx-click="prepend-existing">"Prepend C"</button>
                <button phx-click="append-existing">"Append C"</button>
                <button phx-click="new-update-only">"Add E (update only)"</button>
                <button phx-click="existing-update-only">"Update C (update only)"</button>
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// StreamResetLCLive
// ---------------------------------------------------------------------------------------------

/// The assigns of a component placed in a stream: `id={id} item={item}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemAssigns {
    id: String,
    item: Item,
}

/// `StreamResetLCLive.InnerComponent`: `<li id={@id}>{@item.name}</li>`.
#[derive(Debug)]
pub struct ResetLcInner {
    assigns: ItemAssigns,
}

impl LiveComponent for ResetLcInner {
    type Assigns = ItemAssigns;

    fn new(assigns: &ItemAssigns) -> Self {
        Self {
            assigns: assigns.clone(),
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<li id={self.assigns.id.as_str()}>{self.assigns.item.name.as_str()}</li>)
    }
}

/// `StreamResetLCLive` (`/stream/reset-lc`, issue #2982): live components as the direct
/// children of a stream container.
#[derive(Debug)]
pub struct StreamResetLcLive {
    items: Stream<Item>,
}

impl Default for StreamResetLcLive {
    fn default() -> Self {
        Self {
            items: stream("items"),
        }
    }
}

fn inner_reset_lc(id: String, item: &Item) -> ComponentCall {
    live_component::<ResetLcInner>(
        id.clone(),
        ItemAssigns {
            id,
            item: item.clone(),
        },
    )
}

impl LiveView for StreamResetLcLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.items.extend(abcd());
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "reorder" => reset_with(
                &mut self.items,
                [
                    item("e", "E"),
                    item("a", "A"),
                    item("f", "F"),
                    item("g", "G"),
                ],
            ),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <ul phx-update="stream" id="thelist">
                    @for (id, item) in &self.items { {inner_reset_lc(id, item)} }
                </ul>
                <button phx-click="reorder">"Reorder"</button>
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// StreamLimitLive
// ---------------------------------------------------------------------------------------------

/// `StreamLimitLive` (`/stream/limit`, issue #2686): inserts with `at` and `limit`.
#[derive(Debug)]
pub struct StreamLimitLive {
    at: i64,
    limit: i64,
    last_id: u64,
    items: Stream<u64>,
}

impl Default for StreamLimitLive {
    fn default() -> Self {
        Self {
            at: -1,
            limit: -5,
            last_id: 0,
            items: Stream::new("items", |id: &u64| format!("items-{id}")),
        }
    }
}

#[derive(Deserialize)]
struct Configure {
    at: String,
    limit: String,
}

impl StreamLimitLive {
    fn opts(&self) -> InsertAt {
        InsertAt {
            at: self.at,
            limit: Some(self.limit),
            update_only: false,
        }
    }

    fn configure(&mut self, at: &str, limit: &str) -> Result {
        self.limit = limit.trim().parse().map_err(livefire::Error::app)?;
        self.at = at.trim().parse().map_err(livefire::Error::app)?;
        // `new_stream/1`: `stream(:items, 1..10, reset: true, at: a, limit: l)`
        self.items.reset();
        let opts = self.opts();
        for n in 1..=10 {
            self.items.insert_with(n, opts);
        }
        self.last_id = 10;
        Ok(())
    }
}

impl LiveView for StreamLimitLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.configure("-1", "-5")
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "configure" => {
                let Configure { at, limit } = event.form()?;
                self.configure(&at, &limit)?;
            }
            "insert_10" => {
                let opts = self.opts();
                for n in 1..=10 {
                    self.items.insert_with(self.last_id + n, opts);
                }
                self.last_id += 10;
            }
            "insert_1" => {
                let opts = self.opts();
                self.items.insert_with(self.last_id + 1, opts);
                self.last_id += 1;
            }
            "clear" => {
                self.last_id = 0;
                self.items.reset();
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let (at, limit) = (self.at, self.limit);
        layout::live(
            socket,
            html!(
                <form phx-submit="configure">
                    "at: " <input type="text" name="at" value={at}> " limit:\n  "
                    <input type="text" name="limit" value={limit}>
                    <button type="submit">"recreate stream"</button>
                </form>
                "\n\n"
                <div>"configured with at: " {at} ", limit: " {limit}</div>
                "\n\n"
                <button phx-click="insert_10">"add 10"</button>
                <button phx-click="insert_1">"add 1"</button>
                <button phx-click="clear">"clear"</button>
                "\n\n"
                <ul id="items" phx-update="stream">
                    "\n  "
                    @for (id, item) in &self.items { <li id={id}>{*item}</li> }
                    "\n"
                </ul>
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// StreamInsideForLive
// ---------------------------------------------------------------------------------------------

/// `StreamInsideForLive` (`/stream/inside-for`, issue #3129): a stream filled asynchronously
/// (`start_async`, here a task that sleeps 50 ms and messages the view) and rendered inside a
/// comprehension.
#[derive(Debug)]
pub struct StreamInsideForLive {
    items: Stream<Item>,
}

impl Default for StreamInsideForLive {
    fn default() -> Self {
        Self {
            items: stream("items"),
        }
    }
}

/// `handle_async(:foo, {:ok, _}, socket)`.
#[derive(Debug)]
pub struct AsyncDone;

impl LiveView for StreamInsideForLive {
    type Message = AsyncDone;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<AsyncDone>) -> Result {
        // `start_async` runs only when connected.
        if socket.connected() {
            let handle = socket.handle();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = handle.send(AsyncDone).await;
            });
        }
        Ok(())
    }

    async fn handle_info(&mut self, _: AsyncDone, _socket: &mut Socket<AsyncDone>) -> Result {
        self.items.extend(abcd());
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<AsyncDone>) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket<AsyncDone>) -> Rendered {
        layout::live(
            socket,
            html!(
                @for _i in [1] {
                    <div>
                        <ul phx-update="stream" id="thelist">
                            @for (id, item) in &self.items { <li id={id}>{item.name.as_str()}</li> }
                        </ul>
                    </div>
                }
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// StreamNestedComponentResetLive
// ---------------------------------------------------------------------------------------------

/// The assigns of `StreamNestedComponentResetLive.InnerComponent`, plus `connected`: upstream's
/// first `update/2` asks `connected?(socket)`, but [`LiveComponent::new`] gets no socket, so the
/// parent passes its own.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedAssigns {
    id: String,
    item: Item,
    connected: bool,
}

/// `StreamNestedComponentResetLive.InnerComponent`: a stream item that is a live component
/// with its own stream, `nested`.
#[derive(Debug)]
pub struct NestedInner {
    id: String,
    item: Item,
    nested: Stream<Item>,
}

impl LiveComponent for NestedInner {
    type Assigns = NestedAssigns;

    /// The first `update/2`: the nested stream, reset, with items that depend on the
    /// connection.
    fn new(assigns: &NestedAssigns) -> Self {
        let id = &assigns.id;
        let names = if assigns.connected {
            ["a", "b", "c", "d"]
        } else {
            ["e", "f", "g", "h"]
        };
        let mut nested = stream("nested");
        nested.reset();
        nested.extend(
            names
                .iter()
                .map(|n| item(format!("{id}-{n}"), format!("N-{}", n.to_uppercase()))),
        );
        Self {
            id: assigns.id.clone(),
            item: assigns.item.clone(),
            nested,
        }
    }

    /// Later updates: `assign(socket, assigns)` (the stream stays).
    async fn update(
        &mut self,
        assigns: NestedAssigns,
        _socket: &mut ComponentSocket<'_>,
    ) -> Result {
        self.id = assigns.id;
        self.item = assigns.item;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "reorder" => {
                let id = &self.id;
                let items = [("e", "N-E"), ("a", "N-A"), ("f", "N-F"), ("g", "N-G")]
                    .map(|(n, name)| item(format!("{id}-{n}"), name));
                reset_with(&mut self.nested, items);
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        let nested_id = format!("{}-nested", self.id);
        html!(
            <li id={self.id.as_str()}>
                {self.item.name.as_str()}
                <div id={nested_id} phx-update="stream" style="display: flex; gap: 4px;">
                    @for (id, item) in &self.nested { <span id={id}>{item.name.as_str()}</span> }
                </div>
                <button phx-click="reorder" phx-target={myself}>"Reorder"</button>
            </li>
        )
    }
}

/// `StreamNestedComponentResetLive` (`/stream/nested-component-reset`).
#[derive(Debug)]
pub struct StreamNestedComponentResetLive {
    items: Stream<Item>,
}

impl Default for StreamNestedComponentResetLive {
    fn default() -> Self {
        Self {
            items: stream("items"),
        }
    }
}

fn nested_inner(id: String, item: &Item, connected: bool) -> ComponentCall {
    live_component::<NestedInner>(
        id.clone(),
        NestedAssigns {
            id,
            item: item.clone(),
            connected,
        },
    )
}

impl LiveView for StreamNestedComponentResetLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.items.extend(abcd());
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "reorder" => reset_with(
                &mut self.items,
                [
                    item("e", "E"),
                    item("a", "A"),
                    item("f", "F"),
                    item("g", "G"),
                ],
            ),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let connected = socket.connected();
        layout::live(
            socket,
            html!(
                <ul phx-update="stream" id="thelist">
                    @for (id, item) in &self.items { {nested_inner(id, item, connected)} }
                </ul>
                <button phx-click="reorder" id="parent-reorder">"Reorder"</button>
            ),
        )
    }
}
