//! The todo example: live components, streams and JS commands together.
//!
//! - The list is a [`Stream`] of [`Todo`]s: the server sends each row once and keeps none of
//!   them. Adding inserts at the end, deleting deletes, a rename or a toggle re-inserts the todo
//!   under the same DOM id (updated in place), "Top" moves it to the start (delete, then insert
//!   at 0: an insert alone never moves an item already on the page), and "Clear completed"
//!   resets the stream with the todos left.
//! - Each row is a [`TodoRow`], a stateful live component with its own edit form (validated as
//!   you type) and done checkbox; it changes the todo in the [`Store`] and tells the list view
//!   ([`Changed`]), which updates the stream item and the open count in the header and the page
//!   title.
//! - The form that adds a todo is validated live by the list view.
//! - "Clear completed…" asks first, in a dialog shown and hidden by JS commands (fade in and
//!   out, no round trip); its "Clear" button hides it and pushes the event.
//!
//! The todos live in memory, in a [`Store`] shared by every view: a page load shows the current
//! list (streams are not kept by the server, so a fresh mount inserts every todo).
//!
//! Run with `npm ci && cargo run -p todo`, then open <http://127.0.0.1:4002>. The browser tests
//! (`tests/browser.rs`) drive every feature in Chromium and, after each action, compare the page
//! with a fresh server render of the same store.

mod js;
mod row;
mod store;

use axum::Router;
use livefire::component::live_component;
use livefire::layout::Page;
use livefire::session::CookieSessionLayer;
use livefire::stream::{InsertAt, Stream};
use livefire::token::Keyring;
use livefire::{Error, Event, LiveRouter, LiveView, Mount, Raw, Rendered, Result, Socket, html};
use serde::Deserialize;

pub use row::{Changed, RowAssigns, TodoRow};
pub use store::{MAX_TITLE, Store, Todo};

/// The id of the "Clear completed" confirmation dialog.
const CONFIRM_CLEAR: &str = "confirm-clear";

/// The todo list view. Its message is a row's [`Changed`].
#[derive(Debug)]
pub struct TodoList {
    store: Store,
    todos: Stream<Todo>,
    open: usize,
    done: usize,
    /// What the "new todo" input holds, and its error once the input was used.
    draft: String,
    error: Option<&'static str>,
}

impl TodoList {
    /// A list view showing `store`.
    pub fn new(store: Store) -> Self {
        TodoList {
            store,
            todos: Stream::new("todos", |todo: &Todo| format!("todos-{}", todo.id)),
            open: 0,
            done: 0,
            draft: String::new(),
            error: None,
        }
    }

    /// Counts the todos again; the title follows the open count.
    fn recount(&mut self, socket: &mut Socket<Changed>) {
        let open = self.store.open_count();
        if open != self.open || socket.title().is_none() {
            socket.set_title(format!("Todos ({open} open)"));
        }
        self.open = open;
        self.done = self.store.done_count();
    }
}

#[derive(Deserialize)]
struct TitleForm {
    #[serde(default)]
    title: String,
}

/// The `phx-value-id` of a click.
fn todo_id(event: &Event) -> Result<u64> {
    event
        .get("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| <serde_json::Error as serde::de::Error>::custom("no todo id").into())
}

impl LiveView for TodoList {
    type Message = Changed;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Changed>) -> Result {
        self.todos.extend(self.store.all());
        self.recount(socket);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Changed>) -> Result {
        match event.name() {
            "validate" => {
                let used = event.form_data()?.used(&["title"]);
                self.draft = event.form::<TitleForm>()?.title;
                self.error = match used {
                    true => self.store.check_title(&self.draft, None).err(),
                    false => None,
                };
            }
            "add" => {
                let draft = event.form::<TitleForm>()?.title;
                match self.store.check_title(&draft, None) {
                    Ok(title) => {
                        self.todos.insert(self.store.add(&title));
                        self.draft.clear();
                        self.error = None;
                    }
                    Err(error) => (self.draft, self.error) = (draft, Some(error)),
                }
            }
            "delete" => {
                if let Some(todo) = self.store.delete(todo_id(&event)?) {
                    self.todos.delete(&todo);
                }
            }
            "move-to-top" => {
                if let Some(todo) = self.store.move_to_top(todo_id(&event)?) {
                    let top = InsertAt {
                        at: 0,
                        ..InsertAt::default()
                    };
                    self.todos.delete(&todo).insert_with(todo, top);
                }
            }
            "clear-completed" => {
                let left = self.store.clear_completed();
                self.todos.reset().extend(left);
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        self.recount(socket);
        Ok(())
    }

    /// A row renamed or toggled its todo: update it in place.
    async fn handle_info(&mut self, Changed(id): Changed, socket: &mut Socket<Changed>) -> Result {
        if let Some(todo) = self.store.get(id) {
            self.todos.insert(todo);
        }
        self.recount(socket);
        Ok(())
    }

    fn render(&self, _socket: &Socket<Changed>) -> Rendered {
        html! {
            <main class="todos">
                <header id="header">
                    <h1>"Todos"</h1>
                    <p id="summary"><span id="open-count">{self.open}</span>" open, "
                        <span id="done-count">{self.done}</span>" done"</p>
                </header>
                <form id="new-todo" phx-change="validate" phx-submit="add">
                    <label for="new-title">"New todo "</label>
                    <input id="new-title" name="title" type="text" autocomplete="off"
                        placeholder="What needs doing?" value={self.draft.as_str()}>
                    <button id="add" type="submit">"Add"</button>
                    @if let Some(error) = self.error {
                        <p class="error" id="new-title-error">"Title " {error}</p>
                    }
                </form>
                <ul id="todos" phx-update="stream">
                    @for (dom_id, todo) in &self.todos {
                        <li id={dom_id} class={if todo.done { "todo done" } else { "todo" }}>
                            {live_component::<TodoRow>(format!("todo-{}", todo.id), RowAssigns {
                                todo: todo.clone(),
                                store: self.store.clone(),
                            })}
                        </li>
                    }
                </ul>
                <footer>
                    <button id="clear-completed" type="button" disabled={self.done == 0}
                        phx-click={js::show(CONFIRM_CLEAR)}>"Clear completed…"</button>
                </footer>
                <div id={CONFIRM_CLEAR} class="dialog" style="display: none" role="dialog"
                    aria-modal="true" aria-labelledby="confirm-clear-title">
                    <div class="dialog-box">
                        <h2 id="confirm-clear-title">"Clear completed todos?"</h2>
                        <p>"This removes " <span id="confirm-clear-count">{self.done}</span>
                            " done todo(s)."</p>
                        <button id="confirm-clear-yes" type="button"
                            phx-click={js::hide_and_push(CONFIRM_CLEAR, "clear-completed")}>"Clear"</button>
                        " "
                        <button id="confirm-clear-no" type="button"
                            phx-click={js::hide(CONFIRM_CLEAR)}>"Cancel"</button>
                    </div>
                </div>
            </main>
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}\
#todos{list-style:none;padding:0}.todo{border-bottom:1px solid #eee;padding:.4rem 0}\
.row{display:flex;gap:.5rem;align-items:center}.row .title{flex:1}\
.todo.done .title{text-decoration:line-through;color:#888}.error{color:#b00020;margin:.2rem 0}\
.dialog{position:fixed;inset:0;background:rgba(0,0,0,.4);align-items:center;justify-content:center}\
.dialog-box{background:#fff;padding:1rem 1.5rem;border-radius:.5rem}\
.fade{transition:opacity 150ms ease}.faded{opacity:0}.opaque{opacity:1}";

/// The page around the view: the default head plus the example's style sheet.
fn layout(page: &Page) -> Rendered {
    html! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                {page.csrf_meta()}
                {page.empty_favicon()}
                <title>{page.title()}</title>
                <style>{Raw::new_unchecked(STYLE)}</style>
                {page.scripts()}
            </head>
            <body>{page.content()}</body>
        </html>
    }
}

/// The todo app: the list at `/`, showing (and changing) `store`.
pub fn app(keyring: Keyring, store: Store) -> Router {
    LiveRouter::new(keyring.clone())
        .layout(layout)
        .live("/", move || TodoList::new(store.clone()))
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}
