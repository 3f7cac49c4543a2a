#!/usr/bin/env bash
# The whole test suite, the same on a fresh Debian machine and in CI:
# system packages (Chromium, chromedriver, Redis, PostgreSQL) if missing, the npm client
# bundles, a loopback Redis and a private loopback PostgreSQL cluster (scripts/postgres.sh),
# then fmt, clippy and every test (browser tests included).
set -euo pipefail

cd "$(dirname "$0")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: $* missing and apt-get is not available; install them by hand" >&2
        exit 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

section "System packages"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] \
    || ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "installing chromium, chromium-driver and redis-server"
    apt_install chromium chromium-driver redis-server
else
    echo "chromium, chromedriver and redis-server are installed"
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then
    echo "installing postgresql"
    apt_install postgresql util-linux
else
    echo "postgresql is installed"
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "installing nodejs and npm"
    apt_install nodejs npm
fi

section "npm ci (Phoenix JS client bundles)"
npm ci --no-audit --no-fund

section "Redis on 127.0.0.1:6379"
if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    echo "redis is already answering"
else
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes \
        --save '' --appendonly no --logfile /tmp/livefire-redis.log
    for _ in $(seq 1 50); do
        if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
            break
        fi
        sleep 0.1
    done
    if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
        echo "error: redis-server did not answer on 127.0.0.1:6379 (see /tmp/livefire-redis.log)" >&2
        exit 1
    fi
    echo "redis started"
fi
export REDIS_URL="redis://127.0.0.1:6379/"

section "PostgreSQL (a private cluster on a free loopback port)"
# The demo's store tests run on SQLite and on this server (DATABASE_URL); the two-node tests
# run two demo binaries on it. Tests that stop Redis start a redis-server of their own.
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$LIVEFIRE_PG_DIR"' EXIT
echo "DATABASE_URL=$DATABASE_URL"

section "cargo fmt --all --check"
cargo fmt --all --check

section "cargo clippy --workspace --all-targets --locked -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "cargo test --workspace --locked"
cargo test --workspace --locked

section "Upstream phoenix_live_view e2e suite (Playwright on Debian's Chromium)"
# The suite is read from $LIVEFIRE_UPSTREAM_E2E (default: ../shared/upstream-e2e beside the
# project); it is MIT test data, never committed here.
UPSTREAM="${LIVEFIRE_UPSTREAM_E2E:-$(cd .. && pwd)/shared/upstream-e2e}"
if [ -f "$UPSTREAM/test/e2e/test_helper.exs" ]; then
    LIVEFIRE_UPSTREAM_E2E="$UPSTREAM" bash scripts/upstream-e2e.sh
else
    echo "WARNING: upstream suite not found at $UPSTREAM: the upstream e2e run was NOT done" >&2
fi

section "Fuzzing (cargo-fuzz, ${LIVEFIRE_FUZZ_SECONDS:-30} s per target)"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
(
    cd fuzz
    for target in $(RUSTC_BOOTSTRAP=1 cargo fuzz list); do
        echo "-- fuzz target $target"
        log="$(mktemp)"
        # A crash (or a build failure) exits non-zero; its input lands in fuzz/artifacts/.
        if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- \
            -max_total_time="${LIVEFIRE_FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -print_final_stats=1 \
            >"$log" 2>&1; then
            tail -n 60 "$log"
            echo "error: fuzz target $target failed (crash inputs in fuzz/artifacts/$target)" >&2
            exit 1
        fi
        grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units)" "$log" || tail -n 3 "$log"
        rm -f "$log"
    done
)

section "All checks passed"
