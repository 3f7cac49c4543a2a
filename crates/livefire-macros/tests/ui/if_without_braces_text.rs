// `@if cond "text"`: the body needs braces.
use livefire::html;

fn main() {
    let admin = true;
    let _ = html!(<p>@if admin "admin"</p>);
}
