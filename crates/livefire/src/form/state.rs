//! [`FormState`]: a form's values, errors and DOM identity between renders.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Form, FormError};

/// What a view keeps for one form: the last decoded payload, validation errors per field, and
/// the form's DOM id. The model is Phoenix's `Phoenix.HTML.Form` with `used_input?/1`.
///
/// * **Values.** [`update`](FormState::update) stores the [`Form`] of each `phx-change` /
///   `phx-submit` event; [`value`](FormState::value) reads a field back for the re-render.
/// * **Errors only for used fields.** On change events the client sends an `_unused_` twin
///   (`user[_unused_email]=`) for every input the user has not focused yet. [`used`](FormState::used)
///   reads those, and [`shown_errors`](FormState::shown_errors) hides the errors of unused
///   fields, so a form validated on its first keystroke does not shout about the fields below.
///   A submit marks every input as used (the client sends no twins), so all errors show then.
/// * **Reset after submit.** [`reset`](FormState::reset) empties values and errors *and* gives
///   the form and its inputs new DOM ids. Emptying the values alone is not enough: when the
///   form never sent a `phx-change`, the server rendered `value=""` before the user typed and
///   renders `value=""` again after the submit, so there is no diff and the browser keeps the
///   typed text (and the client never overwrites the input that has focus either). A new id
///   makes the client drop the old `<form>` and insert a fresh one. Put
///   `phx-mounted={JS::new().focus(To::Source)}` on an input that should keep the focus.
///
/// Field names are relative to the [`namespace`](FormState::namespace): in a `"user"` form,
/// field `"email"` is the input `user[email]` with id `{form id}_user_email`.
///
/// ```
/// use livefire::form::{Form, FormState};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Message { body: String }
///
/// let mut form = FormState::new("message").namespace("message");
/// assert_eq!(form.id(), "message");
///
/// // A change event: the user typed in `body`, never focused `to`.
/// form.update(Form::parse("message[body]=hi&message[_unused_to]=&message[to]=").unwrap());
/// form.add_error("body", "is too short");
/// form.add_error("to", "can't be blank");
/// assert_eq!(form.value("body"), "hi");
/// assert!(form.used("body") && !form.used("to"));
/// assert_eq!(form.shown_errors("body"), ["is too short"]);
/// assert!(form.shown_errors("to").is_empty()); // not used yet
/// assert!(!form.is_valid());
///
/// // The submit: every field is used now.
/// form.update(Form::parse("message[body]=hello&message[to]=").unwrap());
/// assert!(form.used("to"));
/// let message: Message = form.deserialize().unwrap();
/// assert_eq!(message.body, "hello");
///
/// // Saved: a fresh, empty form with a new DOM id, so the browser clears the inputs.
/// form.reset();
/// assert_eq!(form.id(), "message-1");
/// assert_eq!(form.value("body"), "");
/// assert!(form.is_valid());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FormState {
    id: String,
    generation: u64,
    namespace: Option<String>,
    form: Form,
    errors: Vec<(String, String)>,
}

impl FormState {
    /// An empty form whose `<form>` has DOM id `id` (nothing used, no errors).
    ///
    /// ```
    /// let form = livefire::form::FormState::new("login");
    /// assert_eq!(form.id(), "login");
    /// assert_eq!(form.field_name("email"), "email");
    /// assert_eq!(form.field_id("email"), "login_email");
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            generation: 0,
            namespace: None,
            form: Form::empty(),
            errors: Vec::new(),
        }
    }

    /// Nests the fields under `name` (`user[email]`), as Phoenix's `to_form(params, as: :user)`.
    ///
    /// ```
    /// let form = livefire::form::FormState::new("f").namespace("user");
    /// assert_eq!(form.field_name("email"), "user[email]");
    /// assert_eq!(form.field_id("email"), "f_user_email");
    /// ```
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        self.namespace = Some(name.into());
        self
    }

    /// The DOM id to give the `<form>`: the id given to [`new`](FormState::new), then
    /// `{id}-1`, `{id}-2`, … after each [`reset`](FormState::reset).
    pub fn id(&self) -> String {
        if self.generation == 0 {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, self.generation)
        }
    }

    /// Stores the payload of a change or submit event and clears the errors (validate again
    /// after updating).
    ///
    /// ```
    /// use livefire::form::{Form, FormState};
    /// let mut form = FormState::new("f");
    /// form.add_error("q", "bad");
    /// form.update(Form::parse("q=rust").unwrap());
    /// assert_eq!(form.value("q"), "rust");
    /// assert!(form.is_valid());
    /// ```
    pub fn update(&mut self, form: Form) -> &mut Self {
        self.form = form;
        self.errors.clear();
        self
    }

    /// Adds a validation error to `field` (a field may have several).
    ///
    /// ```
    /// let mut form = livefire::form::FormState::new("f");
    /// form.add_error("q", "is required").add_error("q", "is too short");
    /// assert_eq!(form.errors("q"), ["is required", "is too short"]);
    /// ```
    pub fn add_error(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        self.errors.push((field.into(), message.into()));
        self
    }

    /// Removes every error.
    ///
    /// ```
    /// let mut form = livefire::form::FormState::new("f");
    /// form.add_error("q", "bad").clear_errors();
    /// assert!(form.is_valid());
    /// ```
    pub fn clear_errors(&mut self) -> &mut Self {
        self.errors.clear();
        self
    }

    /// Whether no field has an error.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors of `field`, used or not.
    pub fn errors(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
            .collect()
    }

    /// The errors of `field` if the user has used it ([`used`](FormState::used)), else none:
    /// what a template shows.
    ///
    /// ```
    /// use livefire::form::{Form, FormState};
    /// let mut form = FormState::new("f");
    /// form.update(Form::parse("_unused_q=&q=").unwrap()).add_error("q", "is required");
    /// assert!(form.shown_errors("q").is_empty());
    /// form.update(Form::parse("q=").unwrap()).add_error("q", "is required");
    /// assert_eq!(form.shown_errors("q"), ["is required"]);
    /// ```
    pub fn shown_errors(&self, field: &str) -> Vec<&str> {
        if self.used(field) {
            self.errors(field)
        } else {
            Vec::new()
        }
    }

    /// Whether the user has used `field` (focused it, or submitted the form), as Phoenix's
    /// `used_input?/1`: false before any event and for fields the last change event marked
    /// `_unused_`.
    pub fn used(&self, field: &str) -> bool {
        match &self.namespace {
            Some(ns) => self.form.used(&[ns.as_str(), field]),
            None => self.form.used(&[field]),
        }
    }

    /// The field's current value as text: a string leaf of the payload, `""` when absent (or
    /// not a string, such as a list of checkbox values).
    pub fn value(&self, field: &str) -> &str {
        self.params()
            .and_then(|params| params.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The payload under the namespace (or the whole payload without one), if any.
    ///
    /// ```
    /// use livefire::form::{Form, FormState};
    /// let mut form = FormState::new("f").namespace("user");
    /// assert!(form.params().is_none());
    /// form.update(Form::parse("user[name]=Ann&other=1").unwrap());
    /// assert_eq!(form.params().unwrap(), &serde_json::json!({"name": "Ann"}));
    /// ```
    pub fn params(&self) -> Option<&Value> {
        let value = self.form.value();
        match &self.namespace {
            Some(ns) => value.get(ns),
            None => Some(value).filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
        }
    }

    /// Deserializes the payload under the namespace (see [`Form::deserialize`]); an empty
    /// object when there is none yet.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, FormError> {
        match &self.namespace {
            Some(ns) => {
                let inner = self
                    .form
                    .value()
                    .get(ns)
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default()));
                Ok(super::de::from_value(&inner)?)
            }
            None => self.form.deserialize(),
        }
    }

    /// The input's `name`: `field`, or `namespace[field]`.
    pub fn field_name(&self, field: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}[{field}]"),
            None => field.to_owned(),
        }
    }

    /// The input's DOM id: `{form id}_{namespace}_{field}`, with every character other than
    /// ASCII letters, digits, `-` and `_` replaced by `_`. It changes with the form's id, so a
    /// [`reset`](FormState::reset) replaces the inputs too (the client would otherwise move
    /// the old input, text and all, into the new form, since it matches elements by id).
    pub fn field_id(&self, field: &str) -> String {
        let mut id = self.id();
        if let Some(ns) = &self.namespace {
            id.push('_');
            id.push_str(ns);
        }
        id.push('_');
        id.push_str(field);
        id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// Empties the form (values, used fields, errors) and moves it to a new DOM id
    /// (`{id}-{n}`), so the next render replaces the `<form>` and its inputs in the browser.
    /// Call it after a successful submit. See the [type docs](FormState) for why the id must
    /// change.
    ///
    /// ```
    /// use livefire::form::{Form, FormState};
    /// let mut form = FormState::new("chat").namespace("msg");
    /// form.update(Form::parse("msg[body]=hello").unwrap());
    /// let before = form.field_id("body");
    /// form.reset();
    /// assert_eq!(form.value("body"), "");
    /// assert_eq!(form.id(), "chat-1");
    /// assert_ne!(form.field_id("body"), before);
    /// assert_eq!(form.field_id("body"), "chat-1_msg_body");
    /// ```
    pub fn reset(&mut self) -> &mut Self {
        self.generation += 1;
        self.form = Form::empty();
        self.errors.clear();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_namespace() {
        let mut form = FormState::new("f").namespace("user");
        form.update(Form::parse("user[email]=a%40b&email=top&user[tags][]=x").expect("parses"));
        assert_eq!(form.value("email"), "a@b");
        assert_eq!(form.value("tags"), "");
        assert_eq!(form.value("missing"), "");
        let top = {
            let mut f = FormState::new("g");
            f.update(Form::parse("email=top").expect("parses"));
            f
        };
        assert_eq!(top.value("email"), "top");
    }

    #[test]
    fn used_follows_the_unused_twins_within_the_namespace() {
        let mut form = FormState::new("f").namespace("user");
        assert!(!form.used("email"));
        form.update(Form::parse("user[_unused_email]=&user[email]=&user[name]=x").expect("parses"));
        assert!(!form.used("email"));
        assert!(form.used("name"));
        form.add_error("email", "required")
            .add_error("name", "taken");
        assert!(form.shown_errors("email").is_empty());
        assert_eq!(form.errors("email"), ["required"]);
        assert_eq!(form.shown_errors("name"), ["taken"]);
    }

    #[test]
    fn deserialize_reads_the_namespace() {
        #[derive(serde::Deserialize)]
        struct User {
            #[serde(default)]
            name: String,
        }
        let mut form = FormState::new("f").namespace("user");
        let empty: User = form.deserialize().expect("an empty object");
        assert_eq!(empty.name, "");
        form.update(Form::parse("user[name]=Ann").expect("parses"));
        let user: User = form.deserialize().expect("a user");
        assert_eq!(user.name, "Ann");
    }

    #[test]
    fn ids_are_safe_and_change_on_each_reset() {
        let mut form = FormState::new("new room").namespace("room[x]");
        assert_eq!(form.field_id("na me"), "new_room_room_x__na_me");
        form.reset();
        form.reset();
        assert_eq!(form.id(), "new room-2");
        assert!(form.field_id("a").starts_with("new_room-2_"));
    }
}
