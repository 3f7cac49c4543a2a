//! [`input`]: a labelled form input with its errors.

use crate::dynamic::{AttrValue, push_attr};
use crate::form::FormState;
use crate::html;
use crate::rendered::Rendered;

/// Attributes written ahead of time (names checked, values escaped): written as they are, in
/// place of the one attribute the template names.
struct Attrs(String);

impl AttrValue for Attrs {
    fn write_attr(&self, _name: &str, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// A labelled input for `field` of `form`; finish it with [`Input::render`]. See [`Input`].
///
/// ```
/// use livefire::components::input;
/// use livefire::form::FormState;
///
/// let form = FormState::new("login");
/// let html = input(&form, "email").kind("email").label("Email").render().to_html();
/// assert_eq!(
///     html,
///     "<div class=\"field\"><label for=\"login_email\">Email</label>\
///      <input type=\"email\" name=\"email\" id=\"login_email\" value=\"\"></div>"
/// );
/// ```
pub fn input<'a>(form: &'a FormState, field: &str) -> Input<'a> {
    Input {
        form,
        field: field.to_owned(),
        kind: "text".to_owned(),
        label: None,
        id: None,
        value: None,
        attrs: Vec::new(),
    }
}

/// An input of a [`FormState`], as Phoenix's `<.input field={@form[:email]}>`:
///
/// ```html
/// <div class="field">
///   <label for="{id}">{label}</label>
///   <input type="{kind}" name="{name}" id="{id}" value="{value}" {attrs}>
///   <p class="error" id="{id}-error">{error}</p>   <!-- per shown error -->
/// </div>
/// ```
///
/// The name, id and value come from the form ([`FormState::field_name`],
/// [`FormState::field_id`], [`FormState::value`]). Errors are those of
/// [`FormState::shown_errors`]: none until the user has used the field. With errors, the
/// wrapper also gets the class `field-error` and the input `aria-invalid="true"` and
/// `aria-describedby` naming the first error. `kind("textarea")` renders a `<textarea>`,
/// `kind("checkbox")` a checkbox that sends `"true"` when checked and `"false"` otherwise
/// (through a hidden input, as Phoenix does).
///
/// ```
/// use livefire::components::input;
/// use livefire::form::{Form, FormState};
///
/// let mut form = FormState::new("signup").namespace("user");
/// form.update(Form::parse("user[email]=ann&user[_unused_name]=&user[name]=").unwrap());
/// form.add_error("email", "must have an @").add_error("name", "can't be blank");
///
/// let email = input(&form, "email").kind("email").label("Email").attr("autocomplete", "username");
/// assert_eq!(
///     email.render().to_html(),
///     "<div class=\"field field-error\"><label for=\"signup_user_email\">Email</label>\
///      <input type=\"email\" name=\"user[email]\" id=\"signup_user_email\" value=\"ann\" \
///      autocomplete=\"username\" aria-invalid=\"true\" aria-describedby=\"signup_user_email-error\">\
///      <p class=\"error\" id=\"signup_user_email-error\">must have an @</p></div>"
/// );
/// // `name` was not used yet: its error stays hidden.
/// assert!(!input(&form, "name").render().to_html().contains("can&#39;t be blank"));
/// ```
#[derive(Clone, Debug)]
#[must_use = "an input renders nothing until `render` is called"]
pub struct Input<'a> {
    form: &'a FormState,
    field: String,
    kind: String,
    label: Option<String>,
    id: Option<String>,
    value: Option<String>,
    attrs: Vec<(String, String)>,
}

impl Input<'_> {
    /// The input's `type` (default `"text"`); `"textarea"` and `"checkbox"` render those.
    ///
    /// ```
    /// use livefire::{components::input, form::FormState};
    /// let form = FormState::new("f");
    /// assert!(input(&form, "body").kind("textarea").render().to_html()
    ///     .contains(r#"<textarea name="body" id="f_body"></textarea>"#));
    /// let check = input(&form, "remember").kind("checkbox").render().to_html();
    /// assert!(check.contains(r#"<input type="hidden" name="remember" value="false">"#));
    /// assert!(check.contains(r#"<input type="checkbox" name="remember" id="f_remember" value="true">"#));
    /// ```
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    /// The label's text (no `<label>` without one).
    ///
    /// ```
    /// use livefire::{components::input, form::FormState};
    /// let form = FormState::new("f");
    /// assert!(input(&form, "q").label("Search").render().to_html()
    ///     .contains(r#"<label for="f_q">Search</label>"#));
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Overrides the DOM id (by default [`FormState::field_id`], which changes on
    /// [`FormState::reset`]; a fixed id keeps the old input, and its text, across a reset).
    ///
    /// ```
    /// use livefire::{components::input, form::FormState};
    /// let form = FormState::new("f");
    /// assert!(input(&form, "q").id("search").render().to_html().contains(r#" id="search""#));
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Overrides the value (by default [`FormState::value`]); for a checkbox, whether it is
    /// checked is `value == "true"`.
    ///
    /// ```
    /// use livefire::{components::input, form::FormState};
    /// let form = FormState::new("f");
    /// assert!(input(&form, "q").value("rust").render().to_html().contains(r#" value="rust""#));
    /// assert!(input(&form, "ok").kind("checkbox").value("true").render().to_html().contains(" checked"));
    /// ```
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Adds an attribute to the input (`placeholder`, `autocomplete`, `phx-debounce`,
    /// `phx-update`, …); the value is escaped. An empty value renders a bare boolean
    /// attribute (`required`).
    ///
    /// # Panics
    /// If `name` is empty or has a character other than ASCII letters, digits, `-`, `_`, `:`
    /// and `.`.
    ///
    /// ```
    /// use livefire::{components::input, form::FormState};
    /// let form = FormState::new("f");
    /// let html = input(&form, "q").attr("required", "").attr("phx-debounce", "300").render().to_html();
    /// assert!(html.contains(r#" value="" required phx-debounce="300">"#));
    /// ```
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b)),
            "invalid attribute name {name:?} for an input"
        );
        self.attrs.push((name, value.into()));
        self
    }

    /// The wrapper `<div>` with the label, the input and its shown errors.
    pub fn render(&self) -> Rendered {
        let form = self.form;
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| form.field_id(&self.field));
        let name = form.field_name(&self.field);
        let value = self
            .value
            .as_deref()
            .unwrap_or_else(|| form.value(&self.field));
        let errors = form.shown_errors(&self.field);
        let error_id = format!("{id}-error");
        let mut extra = String::new();
        for (attr, attr_value) in &self.attrs {
            if attr_value.is_empty() {
                extra.push(' ');
                extra.push_str(attr);
            } else {
                push_attr(attr, attr_value, &mut extra);
            }
        }
        if !errors.is_empty() {
            push_attr("aria-invalid", "true", &mut extra);
            push_attr("aria-describedby", &error_id, &mut extra);
        }
        // Names checked in `attr`, values escaped by `push_attr`.
        let extra = Attrs(extra);
        let class = if errors.is_empty() {
            "field"
        } else {
            "field field-error"
        };
        let control = match self.kind.as_str() {
            "textarea" => {
                html!(<textarea name={&name} id={&id} extra={&extra}>{value}</textarea>)
            }
            "checkbox" => html! {
                <input type="hidden" name={&name} value="false">
                <input type="checkbox" name={&name} id={&id} value="true" checked={value == "true"} extra={&extra}>
            },
            kind => html!(<input type={kind} name={&name} id={&id} value={value} extra={&extra}>),
        };
        html! {
            <div class={class}>
                @if let Some(label) = &self.label { <label for={&id}>{label.as_str()}</label> }
                {control}
                @for (i, error) in errors.iter().enumerate() {
                    <p class="error" id={(i == 0).then_some(error_id.as_str())}>{error}</p>
                }
            </div>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Form;

    #[test]
    fn every_value_is_escaped() {
        let mut form = FormState::new("f\"x");
        form.update(Form::parse("q=%22%3E%3Cscript%3E").expect("parses"));
        form.add_error("q", "<b>bad</b>");
        let html = input(&form, "q")
            .label("<Label>")
            .attr("placeholder", "\"")
            .render()
            .to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;\""),
            "{html}"
        );
        assert!(html.contains("id=\"f_x_q\""), "{html}");
        assert!(
            html.contains("<label for=\"f_x_q\">&lt;Label&gt;</label>"),
            "{html}"
        );
        assert!(html.contains("placeholder=\"&quot;\""), "{html}");
    }

    #[test]
    fn several_errors_and_only_the_first_is_described() {
        let mut form = FormState::new("f");
        form.update(Form::parse("q=").expect("parses"));
        form.add_error("q", "one").add_error("q", "two");
        let html = input(&form, "q").render().to_html();
        assert!(
            html.contains("<p class=\"error\" id=\"f_q-error\">one</p><p class=\"error\">two</p>")
        );
        assert_eq!(html.matches("aria-describedby=\"f_q-error\"").count(), 1);
    }

    #[test]
    fn checkbox_state_follows_the_value() {
        let mut form = FormState::new("f");
        form.update(Form::parse("ok=false&ok=true").expect("parses"));
        assert!(
            input(&form, "ok")
                .kind("checkbox")
                .render()
                .to_html()
                .contains(" checked")
        );
        form.update(Form::parse("ok=false").expect("parses"));
        assert!(
            !input(&form, "ok")
                .kind("checkbox")
                .render()
                .to_html()
                .contains(" checked")
        );
    }

    #[test]
    #[should_panic(expected = "invalid attribute name")]
    fn bad_attribute_names_are_refused() {
        let _ = input(&FormState::new("f"), "q").attr("a b", "1");
    }
}
