#!/usr/bin/env bash
# The whole test suite, the same on a fresh Debian machine and in CI:
# system packages (Chromium, chromedriver, Redis) if missing, the npm client bundles,
# a loopback Redis, then fmt, clippy and every test (browser tests included).
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

section "cargo fmt --all --check"
cargo fmt --all --check

section "cargo clippy --workspace --all-targets --locked -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "cargo test --workspace --locked"
cargo test --workspace --locked

section "All checks passed"
