// `@for x in xs <li>…</li>`: the body needs braces.
use livefire::html;

fn main() {
    let items = ["a", "b"];
    let _ = html!(<ul>@for item in items <li>{item}</li></ul>);
}
