#!/usr/bin/env bash
# livefire benchmarks, side by side with pyview and dioxus-liveview, in one command:
#
#   bash bench/run.sh            # everything (about 10-15 minutes on 2 cores, peers' first build included)
#   bash bench/run.sh --quick    # small counts, for a smoke test (about 2 minutes once built)
#   bash bench/run.sh --scenario attack   # anonymous clients against the demo app (no peers;
#                                         # about 2 minutes once built; exits 1 if a check fails)
#   bash bench/run.sh --scenario revalidate   # CPU cost of the live sockets' periodic
#                                         # revalidation at 10,000 real sockets (no peers)
#   bash bench/run.sh --scenario upload   # one 100 MiB upload in 64 KiB chunks: MiB/s and the
#                                         # server's RSS growth (no peers; under a minute)
#   bash bench/run.sh --scenario nested   # a page of 10 nested live views: join time and
#                                         # memory per child (no peers; about a minute)
#   bash bench/run.sh --scenario longpoll # click round trips over long polling and
#                                         # WebSocket side by side, 1 and 1,000 sessions
#                                         # (no peers; about 90 s once built)
#
# Extra arguments go to the load generator (see bench/README.md). Environment:
#   LIVEFIRE_BENCH_WORK=/tmp/livefire-bench   scratch folder (peer venv, peer apps, server logs)
#   BENCH_SKIP_PYVIEW=1 / BENCH_SKIP_DIOXUS=1 leave a peer out
#
# Peers are installed and generated under the scratch folder at run time; nothing of theirs is
# ever written into this repository. All traffic stays on loopback (127.0.0.0/8).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=${LIVEFIRE_BENCH_WORK:-/tmp/livefire-bench}
export LIVEFIRE_BENCH_WORK=$WORK
mkdir -p "$WORK" bench/results

# One socket per session in the server and one in the load generator: raise the soft
# open-files limit as far as allowed (the generator caps its session counts to fit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), open files $(ulimit -n)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"

# `--scenario NAME` runs that scenario alone (no peers, none of the other measurements);
# without it, the comparison with the peers runs.
SCENARIO=compare
PREV=
for ARG in "$@"; do
  if [ "$PREV" = --scenario ]; then SCENARIO=$ARG; fi
  PREV=$ARG
done
# A scenario of its own: build its server (package, what it is) and the load generator, then
# hand over to the generator with the flag that names the server binary.
run_scenario() {
  local package=$1 what=$2 flag=$3
  echo "== building $what and the load generator (release)"
  cargo build --release -p "$package" -p livefire-bench
  echo "== running the $SCENARIO scenario (load $(cut -d' ' -f1-3 /proc/loadavg))"
  exec "$ROOT/target/release/livefire-bench" run "$flag" "$ROOT/target/release/$package" "${@:4}"
}
case "$SCENARIO" in
  # `--scenario attack`: the demo app (examples/demo, release) under login floods and idle
  # half-open connections (bench/src/attack.rs).
  attack) run_scenario demo "the demo app (examples/demo)" --demo "$@" ;;
  # `--scenario revalidate`: the demo's login store and revalidation check behind N real live
  # sockets (bench/revalidate-server; bench/src/revalidate.rs).
  revalidate)
    run_scenario bench-revalidate-server "the revalidation server (bench/revalidate-server)" \
      --server "$@" ;;
  # `--scenario upload` / `--scenario nested`: bench/parity-server's /upload and /nested pages
  # (bench/src/upload.rs, bench/src/nested.rs). Ports 4610 and 4620-4621 unless --port-base
  # is given.
  upload | nested)
    run_scenario bench-parity-server "the parity server (bench/parity-server)" --parity "$@" ;;
  # `--scenario longpoll`: the counter server (bench/counter-server) over `/live/longpoll` and
  # `/live/websocket` side by side (bench/src/longpoll.rs). Ports from 4700 unless
  # `--port-base` is given.
  longpoll)
    run_scenario bench-counter-server "the counter server (bench/counter-server)" \
      --livefire "$@" ;;
esac

echo "== building livefire's benchmark servers (bench/counter-server, bench/parity-server) and the load generator (release)"
cargo build --release -p bench-counter-server -p bench-parity-server -p livefire-bench

# The counter example's view plus a "Last broadcast" line; no timer unless BENCH_TICK_MS is set,
# and the broadcast route only in the fan-out run (the generator sets BENCH_BROADCAST=1 there).
ARGS=(--livefire "$ROOT/target/release/bench-counter-server")
# A page of 1,000 live components and a stream fed by events (livefire only).
ARGS+=(--parity "$ROOT/target/release/bench-parity-server")

if [ "${BENCH_SKIP_PYVIEW:-0}" != 1 ]; then
  echo "== pyview: virtualenv and app under $WORK"
  if [ ! -x "$WORK/pyview-venv/bin/uvicorn" ]; then
    python3 -m venv "$WORK/pyview-venv"
    "$WORK/pyview-venv/bin/pip" install --quiet pyview-web==0.9.0 uvicorn
  fi
  APP="$WORK/pyview-app/counterapp"
  mkdir -p "$APP"
  : > "$APP/__init__.py"
  cat > "$APP/count.py" <<'EOF'
from pyview import LiveView


class CountLiveView(LiveView[dict]):
    async def mount(self, socket, session):
        socket.context = {"count": 0, "text": "", "items": [], "ticks": 0, "broadcast": 0}

    async def handle_event(self, event, payload, socket):
        c = socket.context
        if event == "inc":
            c["count"] += 1
        elif event == "dec":
            c["count"] -= 1
        elif event == "echo":
            c["text"] = payload.get("text", [""])[0]
        elif event == "add":
            c["items"].append(f"Item {len(c['items']) + 1}")
        elif event == "remove" and c["items"]:
            c["items"].pop()
EOF
  cat > "$APP/count.html" <<'EOF'
<main class="counter">
  <h1>Counter</h1>
  <p>Count: <span id="count">{{count}}</span></p>
  <button id="dec" phx-click="dec">-</button> <button id="inc" phx-click="inc">+</button>
  <form id="echo-form" phx-change="echo" phx-submit="echo">
    <label for="text">Say something: </label>
    <input id="text" name="text" type="text" autocomplete="off" value="{{text}}">
  </form>
  <p>You typed: <span id="echo">{{text}}</span></p>
  <button id="add" phx-click="add">Add item</button> <button id="remove" phx-click="remove">Remove item</button>
  <ul id="items">{% for item in items %}<li>{{item}}</li>{% endfor %}</ul>
  <p>Server ticks: <span id="ticks">{{ticks}}</span></p>
  <p>Last broadcast: <span id="broadcast">{{broadcast}}</span></p>
</main>
EOF
  cat > "$APP/app.py" <<'EOF'
from pyview import PyView, defaultRootTemplate
from starlette.staticfiles import StaticFiles

from .count import CountLiveView

app = PyView()
app.mount("/static", StaticFiles(packages=[("pyview", "static")]), name="static")
app.rootTemplate = defaultRootTemplate()
app.add_live_view("/", CountLiveView)
EOF
  ARGS+=(--pyview "$WORK/pyview-venv/bin/uvicorn counterapp.app:app --host 127.0.0.1 --port {port} --ws wsproto --no-access-log --log-level warning"
         --pyview-cwd "$WORK/pyview-app")
fi

if [ "${BENCH_SKIP_DIOXUS:-0}" != 1 ]; then
  echo "== dioxus-liveview 0.7.10: app under $WORK/dx-lv (first build ~2-5 min)"
  DX="$WORK/dx-lv"
  mkdir -p "$DX/src"
  cat > "$DX/Cargo.toml" <<'EOF'
[package]
name = "dx-lv-counter"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
dioxus = { version = "=0.7.10", default-features = false, features = ["minimal"] }
dioxus-liveview = { version = "=0.7.10", default-features = false, features = ["axum", "multi-thread"] }
axum = { version = "0.8", features = ["ws"] }
tokio = { version = "1", features = ["full"] }

[profile.release]
debug = false

[workspace]
EOF
  cat > "$DX/src/main.rs" <<'EOF'
// Same-shaped counter as livefire's bench/counter-server, for the side-by-side benchmark.
use axum::Router;
use dioxus::prelude::*;
use dioxus_liveview::LiveviewRouter;

fn app() -> Element {
    let mut count = use_signal(|| 0i64);
    let mut text = use_signal(String::new);
    let mut items = use_signal(Vec::<String>::new);
    rsx! {
        main { class: "counter",
            h1 { "Counter" }
            p { "Count: " span { id: "count", "{count}" } }
            button { id: "dec", onclick: move |_| count -= 1, "-" }
            " "
            button { id: "inc", onclick: move |_| count += 1, "+" }
            form { id: "echo-form",
                label { r#for: "text", "Say something: " }
                input { id: "text", name: "text", r#type: "text", autocomplete: "off", value: "{text}",
                    oninput: move |e| text.set(e.value()) }
            }
            p { "You typed: " span { id: "echo", "{text}" } }
            button { id: "add", onclick: move |_| { let n = items.read().len() + 1; items.write().push(format!("Item {n}")); }, "Add item" }
            " "
            button { id: "remove", onclick: move |_| { items.write().pop(); }, "Remove item" }
            ul { id: "items",
                for item in items.read().clone() { li { "{item}" } }
            }
            p { "Server ticks: " span { id: "ticks", "0" } }
            p { "Last broadcast: " span { id: "broadcast", "0" } }
        }
    }
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3030);
    let router = Router::new().with_app("/", app);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    axum::serve(listener, router).await.expect("serve");
}
EOF
  if (cd "$DX" && timeout 1500 cargo build --release --quiet); then
    ARGS+=(--dioxus "$DX/target/release/dx-lv-counter")
  else
    echo "!! dioxus-liveview did not build; leaving it out of this run"
  fi
fi

echo "== running (load $(cut -d' ' -f1-3 /proc/loadavg))"
"$ROOT/target/release/livefire-bench" run "${ARGS[@]}" --out bench/results/latest.json "$@"
