//! [`TodoRow`]: one todo of the list as a stateful live component, with its own edit form.

use livefire::component::{ComponentSocket, LiveComponent, Myself};
use livefire::{Error, Event, Rendered, Result, html};
use serde::Deserialize;

use crate::store::{Store, Todo};

/// What the list passes to a row when it renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowAssigns {
    /// The todo shown.
    pub todo: Todo,
    /// Where the row changes its todo.
    pub store: Store,
}

/// Tells the list view that a row changed a todo in the store (renamed or toggled), so that
/// it updates the todo's stream item and its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed(pub u64);

/// A todo row: a done checkbox, the title, and buttons; "Edit" swaps them for a form that
/// renames the todo (validated as you type), which "Save" or "Cancel" closes again.
///
/// Its own events (`phx-target={myself}`): `toggle`, `edit`, `validate`, `save`, `cancel`.
/// "Top" and "Delete" have no target: they go to the list view, which owns the order.
#[derive(Debug)]
pub struct TodoRow {
    todo: Todo,
    store: Store,
    /// The open edit form, if any.
    edit: Option<Edit>,
}

#[derive(Debug)]
struct Edit {
    /// What the input holds.
    draft: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct TitleForm {
    #[serde(default)]
    title: String,
}

impl TodoRow {
    fn changed(&self, socket: &ComponentSocket<'_>) -> Result {
        socket
            .send_parent(Changed(self.todo.id))
            .map_err(Error::app)
    }
}

impl LiveComponent for TodoRow {
    type Assigns = RowAssigns;

    fn new(assigns: &RowAssigns) -> Self {
        TodoRow {
            todo: assigns.todo.clone(),
            store: assigns.store.clone(),
            edit: None,
        }
    }

    /// A new version of the todo (the list re-inserted it): keeps the edit form open.
    async fn update(&mut self, assigns: RowAssigns, _socket: &mut ComponentSocket<'_>) -> Result {
        self.todo = assigns.todo;
        self.store = assigns.store;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        let id = self.todo.id;
        match event.name() {
            "toggle" => {
                if let Some(todo) = self.store.toggle(id) {
                    self.todo = todo;
                    self.changed(socket)?;
                }
            }
            "edit" => {
                self.edit = Some(Edit {
                    draft: self.todo.title.clone(),
                    error: None,
                });
            }
            "cancel" => self.edit = None,
            "validate" => {
                let draft = event.form::<TitleForm>()?.title;
                let error = self.store.check_title(&draft, Some(id)).err();
                self.edit = Some(Edit { draft, error });
            }
            "save" => {
                let draft = event.form::<TitleForm>()?.title;
                match self.store.check_title(&draft, Some(id)) {
                    Ok(title) => {
                        if let Some(todo) = self.store.rename(id, &title) {
                            self.todo = todo;
                            self.changed(socket)?;
                        }
                        self.edit = None;
                    }
                    Err(error) => {
                        self.edit = Some(Edit {
                            draft,
                            error: Some(error),
                        });
                    }
                }
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        let todo = &self.todo;
        let id = todo.id;
        html! {
            <div class="row" id={format!("row-{id}")}>
                @if let Some(edit) = &self.edit {
                    <form id={format!("edit-{id}")} phx-change="validate" phx-submit="save" phx-target={myself}>
                        <input id={format!("edit-{id}-title")} name="title" type="text" autocomplete="off"
                            aria-label="Title" value={edit.draft.as_str()}>
                        <button id={format!("save-{id}")} type="submit">"Save"</button>
                        <button id={format!("cancel-{id}")} type="button" phx-click="cancel" phx-target={myself}>"Cancel"</button>
                        @if let Some(error) = edit.error {
                            <p class="error" id={format!("edit-{id}-error")}>"Title " {error}</p>
                        }
                    </form>
                } else {
                    <input id={format!("done-{id}")} type="checkbox" aria-label="Done" checked={todo.done}
                        phx-click="toggle" phx-target={myself}>
                    <span class="title">{todo.title.as_str()}</span>
                    <button id={format!("edit-{id}-open")} phx-click="edit" phx-target={myself}>"Edit"</button>
                    <button id={format!("top-{id}")} phx-click="move-to-top" phx-value-id={id}>"Top"</button>
                    <button id={format!("delete-{id}")} phx-click="delete" phx-value-id={id}>"Delete"</button>
                }
            </div>
        }
    }
}
