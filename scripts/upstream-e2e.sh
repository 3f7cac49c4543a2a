#!/usr/bin/env bash
# Runs the upstream phoenix_live_view Playwright e2e suite, unmodified, against livefire
# (crates/livefire-upstream). See crates/livefire-upstream/README.md.
#
#   scripts/upstream-e2e.sh [SPEC...]     e.g. scripts/upstream-e2e.sh tests/navigation.spec.js
#
# SPEC paths are relative to the suite's test/e2e folder. The suite is read from
# $LIVEFIRE_UPSTREAM_E2E (default: ../shared/upstream-e2e beside the project root), copied into
# target/upstream-e2e/suite and checked byte for byte against the source. Needs `npm ci` (the
# pinned @playwright/test) and Debian's /usr/bin/chromium. Ends with
# "upstream e2e: N passed, M failed, K skipped" (and the flaky ones: failed, then passed on one
# of the two retries upstream's own CI config allows); exits non-zero if a test failed thrice.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${LIVEFIRE_UPSTREAM_E2E:-$ROOT/../shared/upstream-e2e}"
OUT="$ROOT/target/upstream-e2e"
SUITE="$OUT/suite"
CONF="$ROOT/scripts/upstream-e2e"
CHROMIUM="${LIVEFIRE_UPSTREAM_CHROMIUM:-/usr/bin/chromium}"

die() { echo "upstream-e2e: $*" >&2; exit 2; }

[ -f "$SRC/test/e2e/test_helper.exs" ] || die "no upstream suite at $SRC (set LIVEFIRE_UPSTREAM_E2E)"
[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing: apt-get install chromium"
[ -f "$ROOT/node_modules/@playwright/test/package.json" ] || die "@playwright/test is missing: run npm ci in $ROOT"

# Copy the suite (specs, fixtures, helpers, the source map the fixtures read) and prove it is
# byte-identical to the source: specs are never edited.
rm -rf "$SUITE" "$OUT/list.json" "$OUT/results.json" "$OUT/rerun.json"
mkdir -p "$SUITE/test" "$SUITE/priv"
cp -R "$SRC/test/e2e" "$SUITE/test/e2e"
cp -R "$SRC/priv/static" "$SUITE/priv/static"
diff -r "$SRC/test/e2e" "$SUITE/test/e2e" >/dev/null || die "copied suite differs from $SRC/test/e2e"
diff -r "$SRC/priv/static" "$SUITE/priv/static" >/dev/null || die "copied priv/static differs from $SRC"
for f in playwright.config.mjs livefire-skip.mjs; do
    [ ! -e "$SUITE/test/e2e/${f/playwright/livefire.playwright}" ] || die "suite already has ${f}"
done
# Upstream's package root is an ES module package ("type": "module"); the specs rely on it.
echo '{ "private": true, "type": "module" }' > "$SUITE/package.json"
cp "$CONF/playwright.config.mjs" "$SUITE/test/e2e/livefire.playwright.config.mjs"
cp "$CONF/livefire-skip.mjs" "$SUITE/test/e2e/livefire-skip.mjs"

echo "upstream-e2e: building livefire-upstream" >&2
(cd "$ROOT" && cargo build -q -p livefire-upstream)

export LIVEFIRE_UPSTREAM_ROOT="$ROOT"
export LIVEFIRE_UPSTREAM_BIN="$ROOT/target/debug/livefire-upstream"
export LIVEFIRE_UPSTREAM_SKIP="$CONF/skip.txt"
export LIVEFIRE_UPSTREAM_CHROMIUM="$CHROMIUM"
PLAYWRIGHT="$ROOT/node_modules/.bin/playwright"
cd "$SUITE/test/e2e"

# Every test of the selected specs, skip list not applied (for the summary's skipped rows).
LIVEFIRE_UPSTREAM_NO_SKIP=1 PLAYWRIGHT_JSON_OUTPUT_NAME="$OUT/list.json" \
    "$PLAYWRIGHT" test --config livefire.playwright.config.mjs --list --reporter=json "$@" >/dev/null

# The summary, not Playwright's exit code, decides: it also checks that every listed test ran.
LIVEFIRE_UPSTREAM_JSON="$OUT/results.json" \
    "$PLAYWRIGHT" test --config livefire.playwright.config.mjs --pass-with-no-tests "$@" || true

status=0
node "$CONF/summary.mjs" "$OUT/list.json" "$OUT/results.json" "$CONF/skip.txt" "$OUT/summary.md" || status=1
exit "$status"
