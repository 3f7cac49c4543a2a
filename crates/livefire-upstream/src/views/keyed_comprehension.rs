//! `Phoenix.LiveViewTest.E2E.KeyedComprehensionLive` (`support/keyed_comprehension_live.ex`) at
//! `/keyed-comprehension`: two tables of randomly reordered rows, rendered with keyed
//! comprehensions (`:key`) on rows and columns (`?tab=all_keyed`), on rows only (`rows_keyed`) or
//! not at all (`no_keyed`).

use livefire::{Event, LiveView, Params, Rendered, Result, Socket, html};
use serde::Deserialize;
use serde_json::json;

use crate::layout::{self, Live};
use crate::{eval, rand};

const COUNT: usize = 10;

#[derive(Debug, Clone)]
struct Item {
    id: u64,
    other: String,
    bar: String,
}

fn random_items(size: usize) -> Vec<Item> {
    let ids: Vec<u64> = (1..=(size as u64 * 2)).collect();
    rand::take_random(&ids, size)
        .into_iter()
        .map(|id| Item {
            id,
            other: "hey".to_owned(),
            bar: format!("New{}", id + 1),
        })
        .collect()
}

/// A `<:col id=… name=…>` slot of the tables.
#[derive(Debug, Clone, Copy)]
struct Col {
    id: &'static str,
    name: &'static str,
}

const COLS: [Col; 2] = [
    Col {
        id: "1",
        name: "Foo",
    },
    Col {
        id: "2",
        name: "Count",
    },
];

/// `render_slot(slot, row)`: the "Foo" column (`<.my_component …/> {i}`) or the "Count" one.
fn cell(col: Col, item: &Item, count: u64, i: u32) -> Rendered {
    if col.id == "1" {
        html!(" " <span>" Count: " {count} " Name: " {item.bar.as_str()} " "</span> " " {i} " ")
    } else {
        html!(" " {count} " ")
    }
}

/// `KeyedComprehensionLive`.
#[derive(Debug)]
pub struct KeyedComprehensionLive {
    count: u64,
    items: Vec<Item>,
    size: usize,
    active_tab: String,
}

impl Default for KeyedComprehensionLive {
    fn default() -> Self {
        Self {
            count: 0,
            items: random_items(COUNT),
            size: COUNT,
            active_tab: "all_keyed".to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct Size {
    size: String,
}

impl KeyedComprehensionLive {
    /// `table_with_all_keyed/1`, `table_with_rows_keyed/1` or `table_with_no_keyed/1`, by tab:
    /// rows and columns keyed (`:key`), rows only, or neither.
    fn table(&self, i: u32) -> Rendered {
        let count = self.count;
        let items = &self.items;
        let (head, body) = match self.active_tab.as_str() {
            "all_keyed" => (
                html!(@for col in COLS; key = col.id { <th scope="col">{col.name}</th> }),
                html!(
                    @for item in items; key = item.id {
                        <tr>
                            " "
                            @for col in COLS; key = format!("{}_{}", item.id, col.id) {
                                <td>{cell(col, item, count, i)}</td>
                            }
                            " "
                        </tr>
                    }
                ),
            ),
            "rows_keyed" => (
                html!(@for col in COLS { <th scope="col">{col.name}</th> }),
                html!(
                    @for item in items; key = item.id {
                        <tr>" " @for col in COLS { <td>{cell(col, item, count, i)}</td> } " "</tr>
                    }
                ),
            ),
            _ => (
                html!(@for col in COLS { <th scope="col">{col.name}</th> }),
                html!(
                    @for item in items {
                        <tr>" " @for col in COLS { <td>{cell(col, item, count, i)}</td> } " "</tr>
                    }
                ),
            ),
        };
        html!(
            <div class="mt-8 flow-root"><div><div>
                <table>
                    <thead><tr>{head}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div></div></div>
        )
    }

    fn tab_link(&self, tab: &str, label: &str) -> Rendered {
        let class = if self.active_tab == tab {
            "tab tab-active"
        } else {
            "tab "
        };
        let href = format!("/keyed-comprehension?tab={tab}");
        html!(<a role="tab" class={class} href={href} data-phx-link="patch" data-phx-link-state="push">{label}</a>)
    }
}

impl LiveView for KeyedComprehensionLive {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.active_tab = match params.query("tab") {
            Some(tab @ ("all_keyed" | "rows_keyed" | "no_keyed")) => tab.to_owned(),
            _ => "all_keyed".to_owned(),
        };
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "randomize" => {
                self.items = random_items(self.size);
                self.count += 1;
            }
            "change_size" => {
                let Size { size } = event.form()?;
                self.size = if size.is_empty() {
                    0
                } else {
                    size.parse().map_err(livefire::Error::app)?
                };
                self.items = random_items(self.size);
                self.count += 1;
            }
            "change_0" => {
                let mut items = vec![Item {
                    id: 2000,
                    other: "hey".to_owned(),
                    bar: rand::u64().to_string(),
                }];
                items.extend(self.items.iter().skip(1).cloned());
                self.items = items;
            }
            "change_other" => {
                for item in &mut self.items {
                    item.other = format!("hey {}", rand::u64());
                }
            }
            eval::EVENT if eval::same(eval::code(&event), "socket.assigns.items") => {
                let items: Vec<_> = self
                    .items
                    .iter()
                    .map(
                        |i| json!({"id": i.id, "entry": {"other": i.other, "foo": {"bar": i.bar}}}),
                    )
                    .collect();
                return eval::reply(socket, json!(items));
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let size = self.size.to_string();
        let tables = [1, 2].map(|i| self.table(i));
        let [t1, t2] = tables;
        layout::live_with(
            socket,
            Live {
                tailwind: true,
                ..Live::default()
            },
            html!(
                <div class="p-8">
                    <div class="border-b border-gray-200 mb-6">
                        <nav role="tablist" class="tabs tabs-border">
                            {self.tab_link("all_keyed", "All keyed")}
                            {self.tab_link("rows_keyed", "Rows keyed")}
                            {self.tab_link("no_keyed", "No keyed")}
                        </nav>
                    </div>
                    <button class="btn" phx-click="randomize">"randomize"</button>
                    <button class="btn" phx-click="change_0">"change first"</button>
                    <button class="btn" phx-click="change_other">"change other"</button>
                    <form><input phx-change="change_size" name="size" value={size}></form>
                    <div>{t1}</div>
                    <div>{t2}</div>
                </div>
            ),
        )
    }
}
