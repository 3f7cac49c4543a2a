//! `Issue4323Live` (`support/issues/issue_4323.ex`): `phx-patch-focused` on form-associated
//! custom elements and inputs. The custom elements are defined by `render_in_root`.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `assigns[:render_in_root]`: defines the two custom elements before the live container.
pub const RENDER_IN_ROOT: &str = r#"<script>
          class Issue4323Face extends HTMLElement {
            static formAssociated = true;
            constructor() {
              super();
              this.attachInternals();
            }
          }
          customElements.define("issue-4323-face", Issue4323Face);

          class Issue4323DelegatesFace extends HTMLElement {
            static formAssociated = true;
            constructor() {
              super();
              this.attachInternals();
              this.attachShadow({ mode: "open", delegatesFocus: true });
              this.shadowRoot.innerHTML = '<input type="text"><slot></slot>';
            }
          }
          customElements.define("issue-4323-delegates-face", Issue4323DelegatesFace);
        </script>"#;

/// `Issue4323Live`.
#[derive(Debug, Default)]
pub struct Issue4323Live {
    counter: u64,
}

const INCREMENT: &str =
    "{:noreply, Phoenix.Component.assign(socket, :counter, socket.assigns.counter + 1)}";

impl LiveView for Issue4323Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            eval::EVENT if eval::same(eval::code(&event), INCREMENT) => {
                self.counter += 1;
                socket.reply(serde_json::json!({}));
                Ok(())
            }
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let n = self.counter;
        layout::live(
            socket,
            html!(
                <form id="test-form">
                    <issue-4323-face id="face-default" tabindex="0">
                        <span id="face-default-child">"count:" {n}</span>
                    </issue-4323-face>
                    <issue-4323-face id="face-opt-in" tabindex="0" phx-patch-focused>
                        <span id="face-opt-in-child">"count:" {n}</span>
                    </issue-4323-face>
                    <issue-4323-delegates-face id="face-delegates" phx-patch-focused>
                        <span id="face-delegates-child">"count:" {n}</span>
                    </issue-4323-delegates-face>
                    <input id="native-default" value={n}>
                    <input id="native-opt-in" value={n} phx-patch-focused>
                </form>
            ),
        )
    }
}
