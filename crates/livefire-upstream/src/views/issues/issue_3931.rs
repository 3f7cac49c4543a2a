//! `Issue3931Live` (`support/issues/issue_3931.ex`): data loaded asynchronously after mount
//! arrives as a `diff` push. Upstream uses `assign_async`; here a task sleeps 100 ms and sends
//! the result to the view.

use std::time::Duration;

use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use crate::layout;

/// `Issue3931Live`.
#[derive(Debug, Default)]
pub struct Issue3931Live {
    slow_data: Option<String>,
}

impl LiveView for Issue3931Live {
    type Message = String;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<String>) -> Result {
        if socket.connected() {
            let handle = socket.handle();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = handle
                    .send("This was loaded asynchronously!".to_owned())
                    .await;
            });
        }
        Ok(())
    }

    async fn handle_info(&mut self, data: String, _socket: &mut Socket<String>) -> Result {
        self.slow_data = Some(data);
        Ok(())
    }

    fn render(&self, socket: &Socket<String>) -> Rendered {
        layout::live(
            socket,
            html!(
                <div class="max-w-4xl mx-auto p-8">
                    @if let Some(data) = &self.slow_data {
                        <div id="async" class="space-y-3">{data.as_str()}</div>
                    } else {
                        <div id="async" class="flex items-center space-x-3">
                            <div class="animate-spin rounded-full h-8 w-8 border-b-2 border-blue-500"></div>
                            <p class="text-gray-600">"Loading data..."</p>
                        </div>
                    }
                </div>
            ),
        )
    }
}
