//! [`Child`]: the small counter that [`crate::nested::Nest`] renders `children` times.

use livefire::{Error, Event, LiveView, Mount, Rendered, Result, Socket, html};

/// A nested counter: its index (from the parent's session values) and a count.
///
/// ```
/// use bench_parity_server::Child;
/// use livefire::{LiveView, Socket};
/// let html = Child::default().render(&Socket::disconnected()).to_html();
/// assert_eq!(html, r#"<p class="child">Child 0: <b>0</b> <button phx-click="inc">+</button></p>"#);
/// ```
#[derive(Debug, Default)]
pub struct Child {
    n: u32,
    count: u64,
}

impl LiveView for Child {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.n = cx.session::<u32>("n").unwrap_or(0);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "inc" => self.count += 1,
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html! {
            <p class="child">"Child " {self.n} ": " <b>{self.count}</b> " "
                <button phx-click="inc">"+"</button></p>
        }
    }
}
