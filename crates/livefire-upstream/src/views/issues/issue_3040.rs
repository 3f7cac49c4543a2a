//! `Issue3040Live` (`support/issues/issue_3040.ex`): a patch-opened modal (`JS.show`,
//! `focus_wrap`, `phx-click-away`, `phx-window-keydown`) whose form submit must not trigger the
//! click-away.

use livefire::{Event, LiveView, Params, Raw, Rendered, Result, Socket, html};
use serde_json::json;

use crate::js::{Js, transition3};
use crate::{eval, layout};

/// The view's own utility CSS (upstream inlines it in a `<style>`).
const STYLE: &str = include_str!("issue_3040.css");

fn show_modal(id: &str) -> Js {
    Js::new()
        .show(json!({"to": format!("#{id}")}))
        .show(json!({
            "to": format!("#{id}-bg"),
            "transition": transition3("transition-all transform ease-out duration-300", "opacity-0", "opacity-100"),
        }))
        .show(json!({
            "to": format!("#{id}-container"),
            "transition": transition3(
                "transition-all transform ease-out duration-300",
                "opacity-0 translate-y-4 sm:translate-y-0 sm:scale-95",
                "opacity-100 translate-y-0 sm:scale-100",
            ),
        }))
        .op("add_class", json!({"to": "body", "names": ["overflow-hidden"]}))
        .op("focus_first", json!({"to": format!("#{id}-content")}))
}

fn hide_modal(id: &str) -> Js {
    Js::new()
        .hide(json!({
            "to": format!("#{id}-bg"),
            "transition": transition3("transition-all transform ease-in duration-200", "opacity-100", "opacity-0"),
        }))
        .hide(json!({
            "to": format!("#{id}-container"),
            "time": 200,
            "transition": transition3(
                "transition-all transform ease-in duration-200",
                "opacity-100 translate-y-0 sm:scale-100",
                "opacity-0 translate-y-4 sm:translate-y-0 sm:scale-95",
            ),
        }))
        .hide(json!({"to": format!("#{id}"), "transition": transition3("block", "block", "hidden")}))
        .op("remove_class", json!({"to": "body", "names": ["overflow-hidden"]}))
        .op("pop_focus", json!({}))
}

/// `<.modal id=… show on_cancel=…>inner</.modal>`.
fn modal(id: &str, on_cancel: Js, inner: Rendered) -> Rendered {
    let cancel = on_cancel.exec("phx-remove", None);
    let exec = Js::new().exec("data-cancel", Some(&format!("#{id}")));
    let (bg, title, description) = (
        format!("{id}-bg"),
        format!("{id}-title"),
        format!("{id}-description"),
    );
    let (container, content) = (format!("{id}-container"), format!("{id}-content"));
    let (start, end) = (format!("{container}-start"), format!("{container}-end"));
    html!(
        <div id={id} phx-mounted={show_modal(id)} phx-remove={hide_modal(id)} data-cancel={cancel} class="relative z-50 hidden">
            <div id={bg} class="bg-zinc-50/90 fixed inset-0 transition-opacity" aria-hidden="true"></div>
            <div class="fixed inset-0 overflow-y-auto" aria-labelledby={title} aria-describedby={description} role="dialog" aria-modal="true" tabindex="0">
                <div class="flex min-h-full items-center justify-center">
                    <div class="w-full max-w-3xl p-4 sm:p-6 lg:py-8">
                        <div id={container.as_str()} phx-hook="Phoenix.FocusWrap" phx-window-keydown={exec.clone()} phx-key="escape"
                            phx-click-away={exec.clone()} class="bg-gray-200 relative hidden rounded-2xl bg-white p-14 ring-1 transition">
                            <div id={start} tabindex="0" aria-hidden="true"></div>
                            <div class="absolute top-6 right-5">
                                <button phx-click={exec} type="button" class="-m-3 flex-none p-3 opacity-20 hover:opacity-40" aria-label="close">"x"</button>
                            </div>
                            <div id={content}>{inner}</div>
                            <div id={end} tabindex="0" aria-hidden="true"></div>
                        </div>
                    </div>
                </div>
            </div>
        </div>
    )
}

/// `Issue3040Live`.
#[derive(Debug, Default)]
pub struct Issue3040Live {
    modal_open: bool,
    submitted: bool,
}

impl LiveView for Issue3040Live {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.modal_open = params.query("modal").is_some();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "submit" => self.submitted = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let style = Raw::new_unchecked(STYLE);
        let form = html!(
            <form phx-submit="submit">
                <input type="text" name="name">
                @if self.submitted { <p>"Form was submitted!"</p> }
            </form>
        );
        let dialog = self
            .modal_open
            .then(|| modal("my-modal", Js::new().patch("/issues/3040"), form));
        layout::live(
            socket,
            html!(
                <style>{style}</style>
                <a href="/issues/3040?modal=true" data-phx-link="patch" data-phx-link-state="push">"Add new"</a>
                {dialog}
            ),
        )
    }
}
