// `@if cond <b>…</b>`: the body needs braces (rustc would say "comparison operators cannot be
// chained").
use livefire::html;

fn main() {
    let count = 3;
    let _ = html!(<p>@if count > 2 <b>"many"</b></p>);
}
