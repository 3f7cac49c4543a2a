#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests, on loopback: Debian's `postgresql` binaries
# (installed by scripts/test.sh when missing), a fresh data directory under a temporary
# directory, a free port, trust authentication for loopback only (the cluster listens on
# 127.0.0.1 and a socket directory only its owner can use). As root the server runs as the
# `postgres` user (PostgreSQL refuses to run as root).
#
#   eval "$(bash scripts/postgres.sh start)"   # exports DATABASE_URL and LIVEFIRE_PG_DIR
#   bash scripts/postgres.sh stop "$LIVEFIRE_PG_DIR"
set -euo pipefail

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
        fi
    done | sort -V | tail -n 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin dir port started=0
    bin="$(pg_bin)"
    if [ -z "$bin" ]; then
        echo "error: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
        exit 1
    fi
    dir="$(mktemp -d /tmp/livefire-pg.XXXXXX)"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    for port in $(shuf -i 20000-60000 -n 20); do
        # 4004 is reserved for the upstream e2e runner; shuf never draws it here.
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start \
            >/dev/null 2>&1; then
            started=1
            break
        fi
    done
    if [ "$started" -ne 1 ]; then
        echo "error: PostgreSQL did not start (see $dir/server.log)" >&2
        tail -n 20 "$dir/server.log" >&2 || true
        exit 1
    fi
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q \
        -c "CREATE DATABASE livefire_test" >/dev/null
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/livefire_test"
    echo "export LIVEFIRE_PG_DIR=$dir"
}

stop() {
    local dir="${1:?usage: postgres.sh stop DIR}" bin
    bin="$(pg_bin)"
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *)
        echo "usage: $0 start | stop DIR" >&2
        exit 2
        ;;
esac
