// `{room}` in a string attribute is not interpolated: refused, with the `format!` to write.
use livefire::html;

fn main() {
    let room = "lobby";
    let _ = html!(<a href="/rooms/{room}">"Lobby"</a>);
}
