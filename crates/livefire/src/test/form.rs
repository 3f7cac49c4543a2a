//! Forms as the browser holds and the client serializes them: `FormData` in tree order (no
//! disabled fields, unchecked boxes or file inputs, the submitter at its place), the
//! `_unused_` twins of `serializeForm`, and `URLSearchParams` encoding.

use std::collections::HashSet;

use scraper::ElementRef;
use serde_json::Value;

use super::dom::Target;

/// A change or submit ready to be pushed.
#[derive(Debug, Clone)]
pub(crate) struct FormEvent {
    pub(crate) event: String,
    pub(crate) body: String,
    pub(crate) meta: Value,
    pub(crate) targets: Vec<Target>,
    pub(crate) submit: bool,
}

/// What kind of form control a field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A text-like `<input>` (or `<textarea>`).
    Text,
    Hidden,
    /// A checkbox or radio button, checked or not.
    Check {
        radio: bool,
        checked: bool,
    },
    /// A `<select>`: its options `(value, selected)`.
    Select {
        multiple: bool,
        options: Vec<(String, bool)>,
    },
    /// A submit button (`<button>` of type submit, `<input type=submit|image>`).
    Submit,
    File,
    /// Buttons that never submit a value (`reset`, `button`).
    Inert,
}

/// One form control, in tree order.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) value: String,
    pub(crate) disabled: bool,
    pub(crate) no_unused: bool,
    /// The control's own `phx-change`.
    pub(crate) phx_change: Option<String>,
}

/// A key for "the same form" across renders: its id, else its `phx-submit`/`phx-change`.
pub(crate) fn form_key(form: ElementRef<'_>) -> String {
    let v = form.value();
    v.id()
        .map(|id| format!("#{id}"))
        .or_else(|| v.attr("phx-submit").map(|s| format!("submit:{s}")))
        .or_else(|| v.attr("phx-change").map(|s| format!("change:{s}")))
        .unwrap_or_default()
}

/// `el.value` for `extractMeta`: `None` where the element has no `value` property.
pub(crate) fn dom_value(el: ElementRef<'_>) -> Option<Value> {
    let v = el.value();
    match v.name() {
        "input" => {
            let ty = v.attr("type").unwrap_or("text").to_ascii_lowercase();
            let checkable = ty == "checkbox" || ty == "radio";
            if checkable && v.attr("checked").is_none() {
                // `delete meta.value` for an unchecked box.
                return None;
            }
            let default = if checkable { "on" } else { "" };
            Some(Value::from(v.attr("value").unwrap_or(default)))
        }
        "button" | "option" | "output" | "data" | "param" => {
            Some(Value::from(v.attr("value").unwrap_or_default()))
        }
        "textarea" => Some(Value::from(textarea_value(el))),
        "select" => Some(Value::from(
            select_options(el)
                .into_iter()
                .find(|(_, selected)| *selected)
                .map(|(value, _)| value)
                .unwrap_or_default(),
        )),
        // `HTMLLIElement.value` is a number (0 unless set).
        "li" => Some(Value::from(
            v.attr("value")
                .and_then(|n| n.trim().parse::<i64>().ok())
                .unwrap_or(0),
        )),
        "meter" | "progress" => Some(Value::from(
            v.attr("value")
                .and_then(|n| n.trim().parse::<f64>().ok())
                .unwrap_or(0.0),
        )),
        _ => None,
    }
}

fn textarea_value(el: ElementRef<'_>) -> String {
    let text: String = el.text().collect();
    // The parser drops one leading newline; line breaks are normalized to CRLF by FormData
    // and back to LF by the server's decoding: keep LF.
    text.replace("\r\n", "\n")
}

/// A select's options, with the browser's default selection (the first option of a
/// single select when none is marked).
fn select_options(el: ElementRef<'_>) -> Vec<(String, bool)> {
    let multiple = el.value().attr("multiple").is_some();
    let mut options: Vec<(String, bool, bool)> = el
        .descendent_elements()
        .filter(|o| o.value().name() == "option")
        .map(|o| {
            let value = o
                .value()
                .attr("value")
                .map_or_else(|| collapse(&o.text().collect::<String>()), str::to_owned);
            (
                value,
                o.value().attr("selected").is_some(),
                o.value().attr("disabled").is_some(),
            )
        })
        .collect();
    if !multiple {
        // Only the last selected option stays selected; none → the first enabled one.
        if let Some(last) = options.iter().rposition(|o| o.1) {
            for (i, o) in options.iter_mut().enumerate() {
                o.1 = i == last;
            }
        } else if let Some(first) = options.iter_mut().find(|o| !o.2) {
            first.1 = true;
        }
    }
    options.into_iter().map(|(v, s, _)| (v, s)).collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The form's controls in tree order (`form.elements`; controls associated by a `form`
/// attribute from outside are not seen).
pub(crate) fn fields(form: ElementRef<'_>) -> Vec<Field> {
    let mut out = Vec::new();
    for el in form.descendent_elements() {
        let v = el.value();
        let tag = v.name();
        if !matches!(tag, "input" | "select" | "textarea" | "button") {
            continue;
        }
        let in_disabled_fieldset = el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "fieldset" && a.value().attr("disabled").is_some());
        let disabled = v.attr("disabled").is_some() || in_disabled_fieldset;
        let ty = v.attr("type").unwrap_or_default().to_ascii_lowercase();
        let kind = match tag {
            "select" => Kind::Select {
                multiple: v.attr("multiple").is_some(),
                options: select_options(el),
            },
            "textarea" => Kind::Text,
            "button" => match ty.as_str() {
                "reset" | "button" => Kind::Inert,
                _ => Kind::Submit,
            },
            _ => match ty.as_str() {
                "checkbox" | "radio" => Kind::Check {
                    radio: ty == "radio",
                    checked: v.attr("checked").is_some(),
                },
                "submit" | "image" => Kind::Submit,
                "reset" | "button" => Kind::Inert,
                "file" => Kind::File,
                "hidden" => Kind::Hidden,
                _ => Kind::Text,
            },
        };
        let value = match (&kind, tag) {
            (_, "textarea") => textarea_value(el),
            (Kind::Check { .. }, _) => v.attr("value").unwrap_or("on").to_owned(),
            _ => v.attr("value").unwrap_or_default().to_owned(),
        };
        out.push(Field {
            name: v.attr("name").unwrap_or_default().to_owned(),
            kind,
            value,
            disabled,
            no_unused: v.attr("phx-no-unused-field").is_some(),
            phx_change: v.attr("phx-change").map(str::to_owned),
        });
    }
    out
}

/// Sets the fields named in `values`, as a user would: text takes the value (several fields
/// of one name take the values in order), checkboxes and radios of that name are checked
/// exactly when their value is given, options selected likewise.
pub(crate) fn fill(fields: &mut [Field], values: &[(&str, &str)]) -> Result<(), String> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in values {
        if !names.contains(name) {
            names.push(name);
        }
    }
    for name in names {
        let given: Vec<&str> = values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect();
        let matching: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.name == name
                    && !f.disabled
                    && !matches!(f.kind, Kind::Submit | Kind::Inert | Kind::File)
            })
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return Err(format!(
                "no enabled input, select or textarea named {name:?}"
            ));
        }
        let checkable = matching
            .iter()
            .any(|i| matches!(fields[*i].kind, Kind::Check { .. }));
        if checkable {
            let mut hit = vec![false; given.len()];
            for i in &matching {
                let field = &mut fields[*i];
                match &mut field.kind {
                    Kind::Check { checked, .. } => {
                        let pos = given.iter().position(|g| *g == field.value);
                        *checked = pos.is_some();
                        if let Some(p) = pos {
                            hit[p] = true;
                        }
                    }
                    // The hidden "unchecked" twin of a checkbox keeps its value.
                    _ => {
                        if let Some(p) = given.iter().position(|g| *g == field.value) {
                            hit[p] = true;
                        }
                    }
                }
            }
            if let Some(p) = hit.iter().position(|h| !h) {
                return Err(format!(
                    "no checkbox or radio {name:?} has the value {:?}",
                    given[p]
                ));
            }
            continue;
        }
        let mut rest = given.iter();
        for i in &matching {
            let field = &mut fields[*i];
            match &mut field.kind {
                Kind::Select { options, multiple } => {
                    let wanted: Vec<&str> = if *multiple {
                        given.clone()
                    } else {
                        rest.next().into_iter().copied().collect()
                    };
                    if wanted.is_empty() {
                        continue;
                    }
                    for w in &wanted {
                        if !options.iter().any(|(v, _)| v == w) {
                            return Err(format!("select {name:?} has no option {w:?}"));
                        }
                    }
                    for (v, selected) in options.iter_mut() {
                        *selected = wanted.contains(&v.as_str());
                    }
                }
                _ => {
                    if let Some(v) = rest.next() {
                        field.value = (*v).to_owned();
                    }
                }
            }
        }
        if rest.next().is_some() {
            return Err(format!(
                "more values for {name:?} than the form has fields of that name"
            ));
        }
    }
    Ok(())
}

/// The form's default button (the first submit button), if enabled: its index.
pub(crate) fn default_button(fields: &[Field]) -> Option<usize> {
    fields
        .iter()
        .position(|f| f.kind == Kind::Submit)
        .filter(|i| !fields[*i].disabled)
}

/// `prependFormDataKey(key, "_unused_")`: `user[email]` → `user[_unused_email]`.
pub(crate) fn unused_key(key: &str) -> String {
    let (base, array) = match key.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (key, ""),
    };
    let (body, close) = match base.strip_suffix(']') {
        Some(body) => (body, "]"),
        None => (base, ""),
    };
    let start = body.rfind(['[', ']']).map_or(0, |i| i + 1);
    if start == body.len() {
        return key.to_owned();
    }
    format!("{}_unused_{}{close}{array}", &body[..start], &body[start..])
}

/// `serializeForm`: the `FormData` entries in order (the submitter's `name=value` at its
/// place), with `_unused_` twins before the values of keys in no `used` field (when `used` is
/// given: change events).
pub(crate) fn serialize(
    fields: &[Field],
    submitter: Option<usize>,
    used: Option<&HashSet<String>>,
) -> String {
    let entries = form_data(fields, submitter);
    let mut params = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &entries {
        if let Some(used) = used {
            let of_key: Vec<&Field> = fields.iter().filter(|f| &f.name == name).collect();
            let unused = of_key
                .iter()
                .all(|f| !used.contains(&f.name) && !f.no_unused);
            let only_hidden = of_key.iter().all(|f| f.kind == Kind::Hidden);
            let is_submitter = submitter.is_some_and(|s| &fields[s].name == name);
            if unused && !only_hidden && !is_submitter {
                params.append_pair(&unused_key(name), "");
            }
        }
        params.append_pair(name, value);
    }
    params.finish()
}

/// `new FormData(form)` (file inputs dropped).
fn form_data(fields: &[Field], submitter: Option<usize>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        if field.disabled || field.name.is_empty() {
            continue;
        }
        match &field.kind {
            Kind::Text | Kind::Hidden => out.push((field.name.clone(), field.value.clone())),
            Kind::Check { checked, .. } => {
                if *checked {
                    out.push((field.name.clone(), field.value.clone()));
                }
            }
            Kind::Select { options, .. } => {
                for (value, selected) in options {
                    if *selected {
                        out.push((field.name.clone(), value.clone()));
                    }
                }
            }
            Kind::Submit => {
                if submitter == Some(i) {
                    out.push((field.name.clone(), field.value.clone()));
                }
            }
            Kind::File | Kind::Inert => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_keys_follow_the_client() {
        assert_eq!(unused_key("email"), "_unused_email");
        assert_eq!(unused_key("user[email]"), "user[_unused_email]");
        assert_eq!(unused_key("user[tags][]"), "user[_unused_tags][]");
        assert_eq!(unused_key("a[b][c]"), "a[b][_unused_c]");
    }

    #[test]
    fn a_form_serializes_as_form_data_with_unused_twins() {
        let doc = scraper::Html::parse_fragment(
            r#"<form><input type="hidden" name="_csrf_token" value="t">
            <input name="user[email]" value="a b"><input name="user[password]" type="password">
            <input type="checkbox" name="agree" value="yes"><input name="off" disabled value="x">
            <select name="role"><option value="u">U</option><option value="a">A</option></select>
            <textarea name="bio">hi</textarea><input type="file" name="doc">
            <button name="go" value="1">Go</button></form>"#,
        );
        let form = doc
            .select(&scraper::Selector::parse("form").unwrap())
            .next()
            .unwrap();
        let mut fields = fields(form);
        fill(&mut fields, &[("user[email]", "a@b.c"), ("agree", "yes")]).unwrap();
        let used: HashSet<String> = ["user[email]".to_owned()].into();
        assert_eq!(
            serialize(&fields, None, Some(&used)),
            "_csrf_token=t&user%5Bemail%5D=a%40b.c&user%5B_unused_password%5D=&user%5Bpassword%5D=\
             &_unused_agree=&agree=yes&_unused_role=&role=u&_unused_bio=&bio=hi"
        );
        let submitter = default_button(&fields);
        assert_eq!(
            serialize(&fields, submitter, None),
            "_csrf_token=t&user%5Bemail%5D=a%40b.c&user%5Bpassword%5D=&agree=yes&role=u&bio=hi&go=1"
        );
        assert!(fill(&mut fields, &[("nope", "1")]).is_err());
        assert!(fill(&mut fields, &[("role", "x")]).is_err());
        assert!(fill(&mut fields, &[("off", "y")]).is_err(), "disabled");
    }
}
