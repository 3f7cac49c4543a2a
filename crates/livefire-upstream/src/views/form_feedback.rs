//! `Phoenix.LiveViewTest.E2E.FormFeedbackLive` (`support/form_feedback.ex`) at `/form/feedback`:
//! the `phx-feedback-for` backwards-compatibility shim in the view's own layout.

use livefire::{Event, LiveView, Raw, Rendered, Result, Socket, html};

use crate::eval;

const SCRIPT: &str = r#"
      import {
        LiveSocket,
        isUsedInput,
      } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let resetFeedbacks = (container, feedbacks) => {
        feedbacks =
          feedbacks ||
          Array.from(container.querySelectorAll("[phx-feedback-for]")).map((el) => [
            el,
            el.getAttribute("phx-feedback-for"),
          ]);

        feedbacks.forEach(([feedbackEl, name]) => {
          let query = `[name="${name}"], [name="${name}[]"]`;
          let isUsed = Array.from(container.querySelectorAll(query)).find((input) =>
            isUsedInput(input),
          );
          if (isUsed || !feedbackEl.hasAttribute("phx-feedback-for")) {
            feedbackEl.classList.remove("phx-no-feedback");
          } else {
            feedbackEl.classList.add("phx-no-feedback");
          }
        });
      };

      let phxFeedbackDom = (dom) => {
        window.addEventListener("reset", (e) => resetFeedbacks(document));
        let feedbacks;
        let submitPending = false;
        let inputPending = false;
        window.addEventListener("submit", (e) => (submitPending = e.target));
        window.addEventListener("input", (e) => (inputPending = e.target));
        // extend provided dom options with our own.
        // accumulate phx-feedback-for containers for each patch and reset feedbacks when patch ends
        return {
          onPatchStart(container) {
            feedbacks = [];
            dom.onPatchStart && dom.onPatchStart(container);
          },
          onNodeAdded(node) {
            if (node.hasAttribute && node.hasAttribute("phx-feedback-for")) {
              feedbacks.push([node, node.getAttribute("phx-feedback-for")]);
            }
            dom.onNodeAdded && dom.onNodeAdded(node);
          },
          onBeforeElUpdated(from, to) {
            let fromFor = from.getAttribute("phx-feedback-for");
            let toFor = to.getAttribute("phx-feedback-for");
            if (fromFor || toFor) {
              feedbacks.push([from, fromFor || toFor], [to, toFor || fromFor]);
            }

            dom.onBeforeElUpdated && dom.onBeforeElUpdated(from, to);
          },
          onPatchEnd(container) {
            resetFeedbacks(container, feedbacks);
            // we might not find some feedback nodes if they are skipped in the patch
            // therefore we explicitly reset feedbacks for all nodes when the patch
            // follows a submit or input event
            if (inputPending || submitPending) {
              resetFeedbacks(container);
              inputPending = null;
              submitPending = null;
            }
            dom.onPatchEnd && dom.onPatchEnd(container);
          },
        };
      };
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        dom: phxFeedbackDom({}),
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

/// `FormFeedbackLive`.
#[derive(Debug)]
pub struct FormFeedbackLive {
    count: i64,
    submit_count: u64,
    validate_count: u64,
    feedback: bool,
}

impl Default for FormFeedbackLive {
    fn default() -> Self {
        Self {
            count: 0,
            submit_count: 0,
            validate_count: 0,
            feedback: true,
        }
    }
}

impl LiveView for FormFeedbackLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => self.validate_count += 1,
            "submit" => self.submit_count += 1,
            "inc" => self.count += 1,
            "dec" => self.count -= 1,
            "toggle-feedback" => self.feedback = !self.feedback,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let token = socket.csrf_token().unwrap_or_default();
        let script = Raw::new_unchecked(SCRIPT);
        let feedback_for = self.feedback.then_some("myfeedback");
        html!(
            <meta name="csrf-token" content={token}>
            <script src="/assets/phoenix/phoenix.min.js"></script>
            <script type="module">{script}</script>
            <style>".phx-no-feedback { display: none; }"</style>
            <p>"Button Count: " {self.count}</p>
            <p>"Validate Count: " {self.validate_count}</p>
            <p>"Submit Count: " {self.submit_count}</p>
            <button phx-click="inc" class="bg-blue-500 text-white p-4">"+"</button>
            <button phx-click="dec" class="bg-blue-500 text-white p-4">"-"</button>
            <form id="myform" name="test" phx-change="validate" phx-submit="submit">
                <input type="text" name="name" class="border border-gray-500" placeholder="type sth">
                <input type="text" name="myfeedback" class="border border-gray-500" placeholder="myfeedback">
                <button type="submit">"Submit"</button>
                <button type="reset">"Reset"</button>
            </form>
            <div phx-feedback-for={feedback_for} data-feedback-container>
                "I am visible, because phx-no-feedback is not set for myfeedback!"
            </div>
            <button phx-click="toggle-feedback">"Toggle feedback"</button>
        )
    }
}
