//! `Issue3651Live` (`support/issues/issue_3651.ex`): a hook with a dynamic id inside another
//! hook; the old hook must be destroyed when the id changes (no "ghost" event loop).

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::json;

use crate::eval;
use crate::layout::{self, Live};

const PRE_SCRIPT: &str = r#"<script>
          window.hooks.OuterHook = {
            mounted() {
              this.pushEvent("lol");
            },
          };
          window.hooks.InnerHook = {
            mounted() {
              console.log("MOUNTED", this.el);
              this.handleEvent("myevent", this._handleEvent(this));
            },
            destroyed() {
              document.getElementById("notice").innerHTML = "";
              console.log("DESTROYED", this.el);
            },
            _handleEvent(self) {
              return () => {
                setTimeout(() => {
                  console.warn("reloading", self.el);
                  self.pushEvent("reload", {});
                }, 50);
              };
            },
          };
        </script>"#;

/// `:change_id`.
#[derive(Debug, Clone, Copy)]
pub struct ChangeId;

/// `Issue3651Live`.
#[derive(Debug)]
pub struct Issue3651Live {
    id: u32,
    counter: u32,
}

impl Default for Issue3651Live {
    fn default() -> Self {
        Self { id: 1, counter: 0 }
    }
}

impl LiveView for Issue3651Live {
    type Message = ChangeId;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<ChangeId>) -> Result {
        if socket.connected() {
            let _ = socket.handle().try_send(ChangeId);
        }
        socket.push_event("myevent", json!({}));
        Ok(())
    }

    async fn handle_info(&mut self, _msg: ChangeId, _socket: &mut Socket<ChangeId>) -> Result {
        self.id = 2;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<ChangeId>) -> Result {
        match event.name() {
            "lol" => {}
            "reload" => {
                self.counter += 1;
                socket.push_event("myevent", json!({}));
                if self.counter > 4096 {
                    return Err(livefire::Error::app("that's enough, bye!"));
                }
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<ChangeId>) -> Rendered {
        let inner_id = format!("id-{}", self.id);
        let opts = Live {
            pre_script: Some(PRE_SCRIPT),
            ..Live::default()
        };
        layout::live_with(
            socket,
            opts,
            html!(
                <div id="main" phx-hook="OuterHook">
                    <div phx-hook="InnerHook" id={inner_id}></div>
                    "This is an example of nested hooks resulting in a \"ghost\" element that isn't on the DOM, and is never cleaned up."
                </div>
                <div>"To prevent blowing up your computer, the page will reload after 4096 events"</div>
                <div style="color: blue; font-size: 20px" id="counter">
                    "Total Event Calls: " <span id="total">{self.counter}</span>
                </div>
                <div style="color: red; font-size: 72px" id="notice" phx-update="ignore">
                    "I will disappear if the bug is not present."
                </div>
            ),
        )
    }
}
