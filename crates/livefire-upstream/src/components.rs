//! The few `Phoenix.Component` / `Phoenix.HTML` helpers the support views use, rendering the
//! same HTML as upstream: `options_for_select`, `<.focus_wrap>`, `<.portal>`, `inspect/1` of a
//! flash map.

use livefire::flash::Flash;
use livefire::{Rendered, html};
use serde_json::Value;

/// `Phoenix.HTML.Form.options_for_select(options, selected)` with `{label, value}` pairs.
pub fn options_for_select<'a>(
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    selected: &[&str],
) -> Rendered {
    let options: Vec<(&str, &str, bool)> = options
        .into_iter()
        .map(|(label, value)| (label, value, selected.contains(&value)))
        .collect();
    html!(@for (label, value, sel) in options { <option selected={sel} value={value}>{label}</option> })
}

/// `options_for_select` where every label is its value.
pub fn options<'a>(values: impl IntoIterator<Item = &'a str>, selected: &[&str]) -> Rendered {
    options_for_select(values.into_iter().map(|v| (v, v)), selected)
}

/// `<.focus_wrap id=… class=…>inner</.focus_wrap>`.
pub fn focus_wrap(id: &str, class: Option<&str>, inner: Rendered) -> Rendered {
    let (start, end) = (format!("{id}-start"), format!("{id}-end"));
    html!(
        <div id={id} phx-hook="Phoenix.FocusWrap" class={class}>
            <div id={start} tabindex="0" aria-hidden="true"></div>
            {inner}
            <div id={end} tabindex="0" aria-hidden="true"></div>
        </div>
    )
}

/// `<.portal id=… target=…>inner</.portal>` (default `div` wrapper).
pub fn portal(id: &str, target: &str, class: Option<&str>, inner: Rendered) -> Rendered {
    let wrap = format!("_lv_portal_wrap_{id}");
    html!(<template id={id} data-phx-portal={target}><div id={wrap} class={class}>{inner}</div></template>)
}

/// `inspect(@flash)`: `%{}` or `%{"info" => "text"}`.
pub fn inspect_flash(flash: &Flash) -> String {
    let entries: Vec<String> = flash
        .iter()
        .map(|(k, v)| format!("{} => {}", inspect_str(k), inspect_value(v)))
        .collect();
    format!("%{{{}}}", entries.join(", "))
}

/// `inspect/1` of a JSON value holding strings, numbers, lists and maps.
pub fn inspect_value(value: &Value) -> String {
    match value {
        Value::String(s) => inspect_str(s),
        Value::Null => "nil".to_owned(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inspect_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} => {}", inspect_str(k), inspect_value(v)))
                .collect();
            format!("%{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

fn inspect_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `inspect/1` of an upload error (`upload_errors/1,2`): `:too_many_files`, `:not_accepted`, …,
/// and `{:writer_failure, :reason}` for a writer's string reason.
pub fn inspect_upload_error(error: &livefire::upload::EntryError) -> String {
    match error {
        livefire::upload::EntryError::Writer(Value::String(reason)) => {
            format!("{{:{}, :{reason}}}", error.code())
        }
        livefire::upload::EntryError::Writer(reason) => {
            format!("{{:{}, {}}}", error.code(), inspect_value(reason))
        }
        _ => format!(":{}", error.code()),
    }
}
