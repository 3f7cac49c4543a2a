// A field in the braces: the suggestion passes it as an argument (format! cannot capture it).
use livefire::html;

struct Room {
    id: u32,
}

fn main() {
    let room = Room { id: 7 };
    let _ = room.id;
    // The braced literal keeps its braces without an error.
    let _ = html!(<div id="room-{room.id}" data-x={"{kept}"}>"x"</div>);
}
