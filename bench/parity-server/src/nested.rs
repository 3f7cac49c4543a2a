//! `/nested`: [`Nest`], a parent live view rendering `children` [`Child`] live views
//! (`child-0`, `child-1`, …) with [`live_render`]; each joins on the page's socket.

use livefire::nested::live_render;
use livefire::{LiveView, Rendered, Socket, html};

use crate::child::Child;

/// The parent page of `children` nested counters.
///
/// ```
/// use livefire::{LiveView, Socket};
/// let html = bench_parity_server::Nest { children: 2 }.render(&Socket::disconnected()).to_html();
/// assert!(html.contains("child-1"), "{html}");
/// ```
#[derive(Debug)]
pub struct Nest {
    /// How many children it renders.
    pub children: u32,
}

impl LiveView for Nest {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html! {
            <h1>"Nested"</h1>
            <div id="children">
                @for i in 0..self.children; key = i {
                    {live_render::<Child>(format!("child-{i}")).session("n", i)}
                }
            </div>
        }
    }
}
