//! `Phoenix.LiveViewTest.E2E.FormDynamicInputsLive` (`support/form_dynamic_inputs_live.ex`) at
//! `/form/dynamic-inputs`: nested inputs added and removed with Ecto's `sort_param`/`drop_param`
//! convention (`users_sort[]`, `users_drop[]`), by buttons or (`?checkboxes=1`) checkboxes.
//! `<.inputs_for>` is written out by hand.

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Map, Value};

use crate::eval;
use crate::js::Js;

/// `FormDynamicInputsLive`.
#[derive(Debug, Default)]
pub struct FormDynamicInputsLive {
    name: Option<String>,
    /// The users' names, in order (`None`: a new, empty user).
    users: Vec<Option<String>>,
    checkboxes: bool,
    submitted: bool,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `build_users(value, sort, drop)`: sorted entries first (new ones for unknown keys), then the
/// remaining ones by index, without the dropped ones.
fn build_users(
    value: &Map<String, Value>,
    sort: &[String],
    drop: &[String],
) -> Vec<Option<String>> {
    let mut pending = value.clone();
    let mut sort = sort.to_vec();
    for d in drop {
        if let Some(i) = sort.iter().position(|s| s == d) {
            sort.remove(i);
        }
    }
    let name_of = |user: Option<Value>| user.and_then(|u| u["name"].as_str().map(str::to_owned));
    let mut result: Vec<Option<String>> = sort
        .iter()
        .map(|key| name_of(pending.remove(key)))
        .collect();
    let mut rest: Vec<(i64, Value)> = pending
        .into_iter()
        .filter(|(k, _)| !drop.contains(k))
        .map(|(k, v)| (k.parse().unwrap_or(i64::MAX), v))
        .collect();
    rest.sort_by_key(|(k, _)| *k);
    result.extend(rest.into_iter().map(|(_, v)| name_of(Some(v))));
    result
}

impl FormDynamicInputsLive {
    fn assign_form(&mut self, event: &Event) -> Result {
        let params = event.form_data()?.into_value()["my_form"].clone();
        self.name = params["name"].as_str().map(str::to_owned);
        let users = params["users"].as_object().cloned().unwrap_or_default();
        self.users = build_users(
            &users,
            &strings(&params["users_sort"]),
            &strings(&params["users_drop"]),
        );
        Ok(())
    }
}

impl LiveView for FormDynamicInputsLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.checkboxes = cx.params().query("checkboxes") == Some("1");
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => self.assign_form(&event)?,
            "save" => {
                self.assign_form(&event)?;
                self.submitted = true;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let change = Js::new().dispatch("change", Value::Null);
        let checkboxes = self.checkboxes;
        let users: Vec<(usize, Option<&str>)> = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (i, u.as_deref()))
            .collect();
        crate::layout::live(
            socket,
            html!(
                <form phx-change="validate" phx-submit="save" style="display: flex; flex-direction: column; gap: 4px; max-width: 500px;">
                    <fieldset>
                        <input type="text" id="my-form_name" name="my_form[name]" value={self.name.as_deref()} placeholder="name">
                        @for (i, name) in users {
                            <div style="padding: 4px; border: 1px solid gray;">
                                <input type="hidden" name="my_form[users_sort][]" value={i}>
                                <input type="text" id={format!("my-form_users_{i}_name")} name={format!("my_form[users][{i}][name]")} value={name} placeholder="name">
                                @if !checkboxes {
                                    <button type="button" name="my_form[users_drop][]" value={i} phx-click={change.clone()}>"Remove"</button>
                                } else {
                                    <label><input type="checkbox" name="my_form[users_drop][]" value={i}>" Remove"</label>
                                }
                            </div>
                        }
                    </fieldset>
                    <input type="hidden" name="my_form[users_drop][]">
                    @if !checkboxes {
                        <button type="button" name="my_form[users_sort][]" value="new" phx-click={change}>"add more"</button>
                    } else {
                        <label><input type="checkbox" name="my_form[users_sort][]">" add more"</label>
                    }
                </form>
                @if self.submitted { <p>"Form was submitted!"</p> }
            ),
        )
    }
}
