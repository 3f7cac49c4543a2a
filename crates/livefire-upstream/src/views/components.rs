//! `Phoenix.LiveViewTest.E2E.ComponentsLive` (`support/components_live.ex`) at `/components`:
//! `<.focus_wrap>` in a dropdown menu and in a simple container (function components only).

use livefire::{LiveView, Params, Rendered, Result, Socket, html};
use serde_json::json;

use crate::components::focus_wrap;
use crate::js::Js;
use crate::layout::{self, Live};

const MENU_BUTTON: &str = "block w-full text-left px-4 py-2 text-sm text-gray-700 hover:bg-gray-100 focus:bg-gray-100 focus:outline-none";
const GREEN_BUTTON: &str = "px-3 py-2 bg-green-600 text-white rounded hover:bg-green-700 focus:outline-none focus:ring-2 focus:ring-green-500";

/// `ComponentsLive`.
#[derive(Debug, Default)]
pub struct ComponentsLive {
    active_tab: String,
}

fn focus_wrap_demo() -> Rendered {
    let toggle = Js::new()
        .op("toggle", json!({"to": "#dropdown-menu"}))
        .op("focus_first", json!({"to": "#dropdown-content"}));
    let hide = Js::new().hide(json!({"to": "#dropdown-menu"}));
    let menu = html!(
        <button phx-click={hide.clone()} class={MENU_BUTTON}>"Edit Profile"</button>
        <button phx-click={hide.clone()} class={MENU_BUTTON}>"Settings"</button>
        <button phx-click={hide} class={MENU_BUTTON}>"Sign Out"</button>
    );
    let container = html!(
        <div class="space-y-3">
            <h4 class="font-medium">"Focus Trapped Container"</h4>
            <p class="text-sm text-gray-600">"Tab through these elements and notice how focus cycles within this container."</p>
            <div class="grid grid-cols-2 gap-3">
                <button class={GREEN_BUTTON}>"Button 1"</button>
                " "
                <button class={GREEN_BUTTON}>"Button 2"</button>
            </div>
            <input type="text" placeholder="Input within container" class="w-full px-3 py-2 border border-gray-300 rounded focus:outline-none focus:ring-2 focus:ring-green-500">
        </div>
    );
    html!(
        <div class="space-y-6">
            <div>
                <h2 class="text-xl font-semibold mb-4">"Phoenix.Component.focus_wrap Demo"</h2>
                <p class="text-gray-600 mb-6">"The focus_wrap component wraps tab focus around a container for accessibility."</p>
            </div>
            <div class="space-y-4">
                <h3 class="text-lg font-medium">"Dropdown Menu Example"</h3>
                <p class="text-sm text-gray-600">"Click the button to open a dropdown menu with focus wrapping."</p>
                <div class="relative inline-block">
                    <button id="dropdown-button" phx-click={toggle} class="px-4 py-2 bg-gray-600 text-white rounded hover:bg-gray-700 focus:outline-none focus:ring-2 focus:ring-gray-500">"Options ▼"</button>
                    <div id="dropdown-menu" class="hidden absolute left-0 mt-2 bg-white border border-gray-300 rounded shadow-lg z-10">
                        {focus_wrap("dropdown-content", Some("py-1"), menu)}
                    </div>
                </div>
            </div>
            <div class="space-y-4">
                <h3 class="text-lg font-medium">"Simple Focus Container"</h3>
                <p class="text-sm text-gray-600">"A simple container that wraps focus. Notice how Tab navigation cycles within this box."</p>
                {focus_wrap("simple-focus-container", Some("border-2 border-dashed border-gray-300 p-4 rounded"), container)}
            </div>
        </div>
    )
}

impl LiveView for ComponentsLive {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.active_tab = params.query("tab").unwrap_or("focus_wrap").to_owned();
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let active = self.active_tab == "focus_wrap";
        let class = if active {
            "whitespace-nowrap py-2 px-1 border-b-2 font-medium text-sm transition-colors border-blue-500 text-blue-600"
        } else {
            "whitespace-nowrap py-2 px-1 border-b-2 font-medium text-sm transition-colors border-transparent text-gray-500 hover:text-gray-700 hover:border-gray-300"
        };
        let opts = Live {
            tailwind: true,
            ..Live::default()
        };
        layout::live_with(
            socket,
            opts,
            html!(
                <div class="p-6">
                    <h1 class="text-2xl font-bold mb-6">"Phoenix Components Demo"</h1>
                    <div class="border-b border-gray-200 mb-6">
                        <nav class="-mb-px flex space-x-8">
                            <a href="/components?tab=focus_wrap" data-phx-link="patch" data-phx-link-state="push" class={class}>"Focus Wrap"</a>
                        </nav>
                    </div>
                    <div class="mt-6">
                        @if active { <div>{focus_wrap_demo()}</div> }
                    </div>
                </div>
            ),
        )
    }
}
