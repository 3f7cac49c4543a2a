//! `Issue4027Live` (`support/issues/issue_4027.ex`, `?case=first|second`): keyed comprehensions
//! inside live components, fed by `assign_async` (here a task that sleeps 100 ms and messages
//! the view; only the latest load counts), are merged correctly when an entry goes away.
//! (Upstream's own `live.html` layout is overridden by the live session's, as in Phoenix.)

use std::time::Duration;

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `%{id: id, value: value}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    id: u32,
    value: &'static str,
}

/// `Phoenix.LiveView.AsyncResult`: `ok?`, `loading` and the last result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AsyncResult {
    ok: bool,
    loading: bool,
    result: Vec<Entry>,
}

impl AsyncResult {
    /// `AsyncResult.ok(result)`.
    fn ok(result: Vec<Entry>) -> Self {
        Self {
            ok: true,
            loading: false,
            result,
        }
    }
}

/// The async result of the load with this generation.
#[derive(Debug)]
pub struct Loaded(u64, Vec<Entry>);

/// `Issue4027Live`.
#[derive(Debug, Default)]
pub struct Issue4027Live {
    data: AsyncResult,
    case: String,
    /// The latest `assign_async` (earlier results are ignored, as upstream's stale refs).
    generation: u64,
}

impl Issue4027Live {
    /// `assign_async(socket, :data, fn -> Process.sleep(100); {:ok, %{data: data}} end)`:
    /// the previous result stays while loading.
    fn assign_async(&mut self, socket: &Socket<Loaded>, data: Vec<Entry>) {
        self.generation += 1;
        self.data.loading = true;
        let (handle, generation) = (socket.handle(), self.generation);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = handle.send(Loaded(generation, data)).await;
        });
    }
}

fn entry(id: u32, value: &'static str) -> Entry {
    Entry { id, value }
}

impl LiveView for Issue4027Live {
    type Message = Loaded;

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket<Loaded>) -> Result {
        self.data = AsyncResult::ok(Vec::new());
        self.case = cx.params().query("case").unwrap_or("first").to_owned();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Loaded>) -> Result {
        match event.name() {
            "load" => {
                let data = vec![entry(1, "First"), entry(2, "Second"), entry(3, "Third")];
                self.assign_async(socket, data);
            }
            "remove" => {
                let data = vec![entry(2, "Second"), entry(3, "Third")];
                self.assign_async(socket, data);
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    async fn handle_info(
        &mut self,
        Loaded(generation, data): Loaded,
        _: &mut Socket<Loaded>,
    ) -> Result {
        if generation == self.generation {
            self.data = AsyncResult::ok(data);
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<Loaded>) -> Rendered {
        let data = &self.data;
        layout::live(
            socket,
            html!(
                <div class="p-4">
                    <p class="my-4">"Click Load Data. 3 items should be displayed. Then click Remove First entry. The expected result is 2 items displayed."</p>
                    <div>
                        // `<.async_result :let={data} :if={@case == "first"} assign={@data}>`
                        @if self.case == "first" && data.ok {
                            {live_component::<ReproLiveComponent>("repro", data.result.clone())}
                        }
                        @if self.case == "second" {
                            <div style="margin: 10px; height: 1px; background-color: black;"></div>
                            {live_component::<ReproLiveComponentWithAsyncResult>("repro_async", data.clone())}
                        }
                    </div>
                    <div>
                        <button phx-click="load">"Load data"</button>
                        <button phx-click="remove">"Remove first entry"</button>
                    </div>
                </div>
            ),
        )
    }
}

/// `ReproLiveComponentWithAsyncResult`: `<.async_result>` and a keyed comprehension.
#[derive(Debug)]
pub struct ReproLiveComponentWithAsyncResult(AsyncResult);

impl LiveComponent for ReproLiveComponentWithAsyncResult {
    type Assigns = AsyncResult;

    fn new(data: &AsyncResult) -> Self {
        Self(data.clone())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div id="result">
                @if self.0.ok {
                    @for item in &self.0.result; key = item.id { <p>{item.value}</p> }
                }
            </div>
        )
    }
}

/// `ReproLiveComponent`: a keyed comprehension.
#[derive(Debug)]
pub struct ReproLiveComponent(Vec<Entry>);

impl LiveComponent for ReproLiveComponent {
    type Assigns = Vec<Entry>;

    fn new(data: &Vec<Entry>) -> Self {
        Self(data.clone())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div id="result">
                @for item in &self.0; key = item.id { <p>{item.value}</p> }
            </div>
        )
    }
}
