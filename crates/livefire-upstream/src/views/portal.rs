//! `Phoenix.LiveViewTest.E2E.PortalLive` (`support/portal.ex`) at `/portal`: modals, a live
//! component, tooltips and nested portals teleported with `<.portal>`, and a nested live view
//! (`NestedLive`) that teleports a button and another nested live view
//! (`NestedTeleportedLive`).
//!
//! Its own root layout ([`root`], chosen by the root layout for `/portal`) loads the client
//! with the `PortalTooltip` hook. Upstream imports `@floating-ui/dom` from a CDN and loads the
//! Tailwind CDN; here a small local stand-in (`/assets/floating-ui.js`: the tooltip is placed
//! above its activator, without auto-updates) and `/assets/upstream.css` (the utility classes
//! the modals and tooltips need to be laid out) are used instead. The colocated hooks
//! (`.InsidePortal`, `LC`'s `.TeleportedLCButton`) are in `assets/colocated.js`.

use std::time::Duration;

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::layout::Page;
use livefire::nested::live_render;
use livefire::stream::{InsertAt, Stream};
use livefire::{Event, LiveView, Mount, Params, Raw, Rendered, Result, Socket, html};
use serde_json::{Value, json};

use crate::components::portal;
use crate::js::{Js, transition3};
use crate::{eval, rand};

const ROOT_SCRIPT: &str = r#"
        import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
        import {
          computePosition,
          autoUpdate,
          offset,
        } from "/assets/floating-ui.js";
        import { hooks as colocatedHooks } from "/assets/colocated/index.js";
        let csrfToken = document
          .querySelector("meta[name='csrf-token']")
          .getAttribute("content");
        let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
          params: { _csrf_token: csrfToken },
          hooks: {
            ...colocatedHooks,
            PortalTooltip: {
              mounted() {
                this.tooltipEl = document.getElementById(this.el.dataset.id);
                this.activatorEl = this.el.querySelector(
                  `#${this.el.dataset.id}-activator`,
                );
                this.activatorEl.addEventListener("focusin", () => this.queueShow());
                this.activatorEl.addEventListener("mouseover", () => this.queueShow());
                this.activatorEl.addEventListener("focusout", () => this.queueHide());
                this.activatorEl.addEventListener("mouseout", () => this.queueHide());
                this.el.addEventListener("phx:hide-tooltip", () => this.hide());
              },
              destroyed() {
                this.cleanup && this.cleanup();
              },
              queueShow() {
                clearTimeout(this.hideTimeout);
                this.showTimeout = setTimeout(() => this.show(), 200);
              },
              queueHide() {
                clearTimeout(this.showTimeout);
                this.hideTimeout = setTimeout(() => this.hide(), 50);
              },
              show() {
                this.cleanup && this.cleanup();
                this.cleanup = autoUpdate(this.activatorEl, this.tooltipEl, () => {
                  computePosition(this.activatorEl, this.tooltipEl, {
                    placement: this.el.dataset.position,
                    middleware: [offset(10)],
                  }).then(({ x, y }) => {
                    this.tooltipEl.style.left = `${x}px`;
                    this.tooltipEl.style.top = `${y}px`;
                  });
                });
                this.liveSocket.execJS(this.el, this.el.dataset.show);
              },
              hide() {
                this.liveSocket.execJS(this.el, this.el.dataset.hide);
                this.cleanup && this.cleanup();
              },
            },
          },
        });
        liveSocket.connect();
        window.liveSocket = liveSocket;
"#;

/// `PortalLive.render("root.html", …)`: the root layout of `/portal`.
pub fn root(page: &Page) -> Rendered {
    let token = page.csrf_token().to_owned();
    let script = Raw::new_unchecked(ROOT_SCRIPT);
    html!(
        <!DOCTYPE html>
        <head>
            <meta name="csrf-token" content={token}>
            <link rel="stylesheet" href="/assets/upstream.css">
            <script src="/assets/phoenix/phoenix.min.js"></script>
            <style>"[data-phx-session], [data-phx-teleported-src] { display: contents }"</style>
            <script type="module">{script}</script>
        </head>
        <body>
            <main style="flex: 1; padding: 2rem;">{page.content()}</main>
            <div id="root-portal"></div>
        </body>
    )
}

const BUTTON: &str = "phx-submit-loading:opacity-75 rounded-lg bg-zinc-900 hover:bg-zinc-700 py-2 px-3 text-sm font-semibold leading-6 text-white active:text-white/80";

/// `show(js, selector)`.
fn show(js: Js, selector: &str) -> Js {
    js.show(json!({
        "to": selector,
        "time": 300,
        "transition": transition3(
            "transition-all ease-out duration-300",
            "opacity-0 translate-y-4 sm:translate-y-0 sm:scale-95",
            "opacity-100 translate-y-0 sm:scale-100",
        ),
    }))
}

/// `hide(js, selector)`.
fn hide(js: Js, selector: &str) -> Js {
    js.hide(json!({
        "to": selector,
        "time": 200,
        "transition": transition3(
            "transition-all ease-in duration-200",
            "opacity-100 translate-y-0 sm:scale-100",
            "opacity-0 translate-y-4 sm:translate-y-0 sm:scale-95",
        ),
    }))
}

/// `show_modal(js, id)`.
fn show_modal(js: Js, id: &str) -> Js {
    let js = js.show(json!({"to": format!("#{id}")})).show(json!({
        "to": format!("#{id}-bg"),
        "time": 300,
        "transition": transition3("transition-all ease-out duration-300", "opacity-0", "opacity-100"),
    }));
    show(js, &format!("#{id}-container"))
        .op(
            "add_class",
            json!({"to": "body", "names": ["overflow-hidden"]}),
        )
        .op("focus_first", json!({"to": format!("#{id}-content")}))
}

/// `hide_modal(id)`.
fn hide_modal(id: &str) -> Js {
    let js = Js::new().hide(json!({
        "to": format!("#{id}-bg"),
        "transition": transition3("transition-all ease-in duration-200", "opacity-100", "opacity-0"),
    }));
    hide(js, &format!("#{id}-container"))
        .hide(
            json!({"to": format!("#{id}"), "transition": transition3("block", "block", "hidden")}),
        )
        .op(
            "remove_class",
            json!({"to": "body", "names": ["overflow-hidden"]}),
        )
        .op("pop_focus", json!({}))
}

/// `<.modal id=…>inner</.modal>` (`show` false, `on_cancel` empty).
fn modal(id: &str, inner: Rendered) -> Rendered {
    let cancel = Js::new().exec("phx-remove", None);
    let exec = Js::new().exec("data-cancel", Some(&format!("#{id}")));
    let (bg, title, description) = (
        format!("{id}-bg"),
        format!("{id}-title"),
        format!("{id}-description"),
    );
    let (container, content) = (format!("{id}-container"), format!("{id}-content"));
    let (start, end) = (format!("{container}-start"), format!("{container}-end"));
    html!(
        <div id={id} phx-remove={hide_modal(id)} data-cancel={cancel} class="relative z-50 hidden">
            <div id={bg} class="bg-zinc-50/90 fixed inset-0 transition-opacity" aria-hidden="true"></div>
            <div class="fixed inset-0 overflow-y-auto" aria-labelledby={title} aria-describedby={description} role="dialog" aria-modal="true" tabindex="0">
                <div class="flex min-h-full items-center justify-center">
                    <div class="w-full max-w-3xl p-4 sm:p-6 lg:py-8">
                        <div id={container.as_str()} phx-hook="Phoenix.FocusWrap" phx-window-keydown={exec.clone()} phx-key="escape"
                            phx-click-away={exec.clone()} class="shadow-zinc-700/10 ring-zinc-700/10 relative hidden rounded-2xl bg-white p-14 shadow-lg ring-1 transition">
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

/// `PortalTooltip.tooltip/1`.
fn tooltip(id: &str, portal_mode: bool, activator: Rendered, inner: Rendered) -> Rendered {
    let show = Js::new().show(json!({
        "to": format!("#{id}"),
        "transition": transition3(
            "transform ease-out duration-200 transition origin-bottom",
            "scale-95 translate-y-0.5 opacity-0",
            "scale-100 translate-y-0 opacity-100",
        ),
        "display": "block",
        "time": 200,
        "blocking": false,
    }));
    let hide = Js::new().hide(json!({
        "to": format!("#{id}"),
        "transition": transition3("transition ease-in duration-100", "opacity-100", "opacity-0"),
        "time": 100,
        "blocking": false,
    }));
    let keydown = Js::new().dispatch("phx:hide-tooltip", Value::Null);
    let mounted = Js::new().op("ignore_attrs", json!({"attrs": ["style"]}));
    let (wrapper, activator_id) = (format!("{id}-wrapper"), format!("{id}-activator"));
    const CLASS: &str = "hidden absolute top-0 left-0 z-50 bg-sky-800 text-white text-xs p-1";
    let tip = html!(<div id={id} phx-mounted={mounted} role="tooltip" class={CLASS}>{inner}</div>);
    let placed = if portal_mode {
        portal(&format!("{id}-portal"), "body", None, tip)
    } else {
        tip
    };
    html!(
        <div id={wrapper} class="relative inline-block w-fit" phx-hook="PortalTooltip" data-id={id}
            data-show={show} data-hide={hide} data-position="top" phx-window-keydown={keydown} phx-key="escape">
            <div id={activator_id} aria-describedby={id} data-activator>{activator}</div>
            {placed}
        </div>
    )
}

/// `:tick`.
#[derive(Debug, Clone, Copy)]
pub struct Tick;

/// `PortalLive`.
#[derive(Debug, Default)]
pub struct PortalLive {
    param_current: Option<String>,
    param_next: i64,
    count: u64,
    render_modal: bool,
    render_nested_portals: bool,
    nested_portal_count: u64,
}

impl LiveView for PortalLive {
    type Message = Tick;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<Tick>) -> Result {
        if socket.connected() && cx.params().query("tick") != Some("false") {
            socket.every(Duration::from_secs(1), || Tick);
        }
        self.render_modal = true;
        self.render_nested_portals = true;
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket<Tick>) -> Result {
        self.param_current = params.query("param").map(str::to_owned);
        self.param_next = rand::unique_integer();
        Ok(())
    }

    async fn handle_info(&mut self, Tick: Tick, _socket: &mut Socket<Tick>) -> Result {
        self.count += 1;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Tick>) -> Result {
        match event.name() {
            "tick" => self.count += 1,
            "toggle_modal" => self.render_modal = !self.render_modal,
            "toggle_nested_portals" => self.render_nested_portals = !self.render_nested_portals,
            "nested_portal_click" => self.nested_portal_count += 1,
            eval::EVENT if eval::same(eval::code(&event), "send(self(), :tick)") => {
                let _ = socket.handle().try_send(Tick);
                return eval::reply(socket, Value::Null);
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket<Tick>) -> Rendered {
        let patch = Js::new().patch(&format!("/portal?param={}", self.param_next));
        let count = self.count;
        let hook_script = html!(<div id="hook-test" phx-hook="Phoenix.LiveViewTest.E2E.PortalLive.InsidePortal">"This should get a data attribute"</div>);
        let first = self.render_modal.then(|| {
            portal(
                "portal-source",
                "#root-portal",
                None,
                html!(
                    {modal("my-modal", html!(
                        "This is a modal."
                        <p>"DOM patching works as expected: " {count}</p>
                        <button class={BUTTON} phx-click={patch.clone()}>"Patch this LiveView"</button>
                    ))}
                    {hook_script}
                ),
            )
        });
        let red_box = portal(
            "modal-2-inner-portal-2",
            "#my-modal-2-content",
            Some("contents"),
            html!(<div id="inner-red-box" class="absolute top-0 right-0 bg-red-500 size-32" phx-click-away={Js::new().hide(json!({}))}>"test"</div>),
        );
        let gray = portal(
            "modal-2-inner-portal",
            "#my-modal-2-content",
            Some("contents"),
            html!(<div class="size-96 bg-gray-300 absolute top-0 right-0">{red_box}</div>),
        );
        let second = portal(
            "portal-source-2",
            "#app-portal",
            None,
            modal("my-modal-2", html!("This is a second modal." {gray})),
        );
        let lc = portal(
            "portal-with-live-component",
            "#root-portal",
            None,
            html!({ live_component::<Lc>("lc", ()) }),
        );
        let nested_portals = self.render_nested_portals.then(|| {
            let inner = portal(
                "inner-portal-source",
                "body",
                None,
                html!(
                    <div id="inner-portal" class="border border-green-400 p-2 m-2">
                        <h4>"Inner Portal (nested inside outer)"</h4>
                        <p id="nested-portal-content">"Tick count: " {count}</p>
                        <button class={BUTTON} phx-click="nested_portal_click">"Click nested portal button"</button>
                    </div>
                ),
            );
            portal(
                "nested-portal-source",
                "#root-portal",
                None,
                html!(
                    <div id="outer-portal" class="border border-blue-400 p-4 m-2">
                        <h3>"Outer Portal"</h3>
                        {inner}
                    </div>
                ),
            )
        });
        let menu = portal(
            "teleported-menu",
            "body",
            None,
            html!(
                <div id="teleported-menu-content" class="hidden z-[100] fixed top-0 left-0 border border-red-500 p-4 bg-white">
                    <button class={BUTTON} phx-click={Js::new().hide(json!({"to": "#teleported-menu-content"}))}>"Close menu"</button>
                </div>
            ),
        );
        let non_teleported = modal(
            "non-teleported-modal",
            html!(
                "This is a non-teleported modal. Open the menu and click an item. The modal must not close."
                <button class={BUTTON} phx-click={Js::new().show(json!({"to": "#teleported-menu-content"}))}>"Open menu"</button>
                {menu}
            ),
        );
        let hover = html!(<button class={BUTTON}>"Hover me"</button>);
        let hover_no_portal = html!(<button class={BUTTON}>"Hover me (no portal)"</button>);
        let tooltips = html!(
            {tooltip("tooltip-example-portal", true, hover, html!("Hey there! " {count}))}
            {tooltip("tooltip-example-no-portal", false, hover_no_portal, html!("Hey there! " {count}))}
        );
        let open_second = show_modal(Js::new(), "my-modal-2").show(json!({"to": "#inner-red-box"}));
        let navigate = Js::new().op("navigate", json!({"href": "/form", "replace": false}));
        html!(
            <h1>"Modal example"</h1>
            <p>"Current param: " {self.param_current.as_deref()}</p>
            <button class={BUTTON} phx-click={patch}>"Patch this LiveView"</button>
            <button class={BUTTON} phx-click={show_modal(Js::new(), "my-modal")}>"Open modal"</button>
            <button class={BUTTON} phx-click="toggle_modal">"Toggle modal render"</button>
            <button class={BUTTON} phx-click={open_second}>"Open second modal"</button>
            <button class={BUTTON} phx-click={Js::new().push("tick", Value::Null)}>"Tick"</button>
            <button class={BUTTON} phx-click={navigate}>"Live navigate"</button>
            {first}
            {second}
            {lc}
            {live_render::<NestedLive>("nested")}
            <div class="border border-sky-600 overflow-hidden mt-8 p-4 flex gap-4">{tooltips}</div>
            <div class="border border-purple-600 mt-8 p-4">
                <h2>"Nested Portal Test"</h2>
                <button class={BUTTON} phx-click="toggle_nested_portals">"Toggle nested portals"</button>
                <p>"Nested portal count: " <span id="nested-portal-count">{self.nested_portal_count}</span></p>
                {nested_portals}
            </div>
            {non_teleported}
            <button class={BUTTON} phx-click={show_modal(Js::new(), "non-teleported-modal")}>"Open non-teleported modal"</button>
            <div id="app-portal"></div>
        )
    }
}

/// `PortalLive.NestedLive`.
#[derive(Debug, Default)]
pub struct NestedLive {
    count: u64,
}

impl LiveView for NestedLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "event" => {
                tracing::info!("Nested LV got event!");
                self.count += 1;
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div class="border border-orange-200">
                <h1>"Nested LiveView"</h1>
                <p id="nested-event-count">{self.count}</p>
                <button phx-click="event">"Trigger event in nested LV"</button>
                {portal("nested-lv-button", "body", None, html!(<button phx-click="event">"Trigger event in nested LV (from teleported button)"</button>))}
                {portal("nested-lv", "body", None, html!({ live_render::<NestedTeleportedLive>("nested-teleported") }))}
            </div>
        )
    }
}

/// `PortalLive.NestedTeleportedLive`.
#[derive(Debug, Default)]
pub struct NestedTeleportedLive;

impl LiveView for NestedTeleportedLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "event" => {
                tracing::info!("Nested teleported LV got event!");
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div class="border border-green-200">
                <h1>"Nested teleport LiveView"</h1>
                <button phx-click="event">"Toggle event in teleported LV"</button>
            </div>
        )
    }
}

/// `%{id: id, name: name}`.
#[derive(Debug)]
pub struct Item {
    id: i64,
    name: String,
}

/// `PortalLive.LC`: a stream in a teleported live component.
#[derive(Debug)]
pub struct Lc {
    items: Stream<Item>,
}

impl LiveComponent for Lc {
    type Assigns = ();

    fn new(_: &()) -> Self {
        let mut items = Stream::new("items", |i: &Item| format!("items-{}", i.id));
        items.extend([1, 2].map(|id| Item {
            id,
            name: format!("Item {id}"),
        }));
        Self { items }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "prepend" => {
                // `1000 + floor(:rand.uniform() * 1000)`
                let id = 1000 + (rand::uniform() * 1000.0).floor() as i64;
                self.items.insert_with(
                    Item {
                        id,
                        name: format!("Item {id}"),
                    },
                    InsertAt {
                        at: 0,
                        ..InsertAt::default()
                    },
                );
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <div id="teleported-lc" class="border border-red-200">
                <h1>"LiveComponent"</h1>
                <ul id="stream-in-lc" phx-update="stream">
                    @for (id, item) in &self.items { <li id={id}>{item.name.as_str()}</li> }
                </ul>
                <button phx-click="prepend" phx-target={myself}>"Prepend item"</button>
                {portal("teleported-from-lc-button", "body", None, html!(<button id="lcbtn" phx-hook="Phoenix.LiveViewTest.E2E.PortalLive.LC.TeleportedLCButton">"Prepend item (teleported)"</button>))}
            </div>
        )
    }
}
