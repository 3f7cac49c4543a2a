// Builds target/upstream-e2e/summary.md and the closing line from Playwright's JSON reports:
// the full list of tests (`--list`, skip list not applied) and the run (skip list applied).
// Usage: node summary.mjs <list.json> <results.json> <skip.txt> <summary.md>
// A test that failed and then passed on a retry (Playwright's status "flaky") is counted among
// the passed, and named in the closing line and the summary with its first error.
import fs from "node:fs";
import { parseSkipList, skipFor } from "./livefire-skip.mjs";

const [listPath, runPath, skipPath, outPath] = process.argv.slice(2);
const readJson = (p) => (fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, "utf-8")) : { suites: [] });
const skips = parseSkipList(fs.readFileSync(skipPath, "utf-8"));

// Flattens a report into [{file, titles, status, error}].
function flatten(report) {
  const out = [];
  const walk = (suite, file, titles) => {
    for (const spec of suite.specs || []) {
      // With --repeat-each, a spec holds one test per repetition, in the same order in the
      // list and in the run.
      for (const [repeat, test] of (spec.tests || []).entries()) {
        const results = test.results || [];
        const firstError = results.find((r) => r.error)?.error;
        out.push({
          file,
          titles: [...titles, spec.title],
          repeat,
          status: test.status,
          attempts: results.length,
          error: firstError?.message?.replace(/\x1b\[[0-9;]*m/g, "").split("\n")[0],
        });
      }
    }
    for (const child of suite.suites || []) walk(child, file, [...titles, child.title]);
  };
  for (const fileSuite of report.suites || []) walk(fileSuite, fileSuite.file, []);
  return out;
}

const key = (t) => `${t.file} › ${t.titles.join(" › ")} #${t.repeat}`;
const run = new Map(flatten(readJson(runPath)).map((t) => [key(t), t]));
const rows = flatten(readJson(listPath)).map((t) => {
  const ran = run.get(key(t));
  if (ran && ran.status !== "skipped") {
    if (ran.status === "expected") return { ...t, outcome: "passed", note: "" };
    if (ran.status === "flaky") {
      const failures = ran.attempts - 1;
      return { ...t, outcome: "passed", flaky: true, note: `flaky: failed ${failures === 1 ? "once" : `${failures} times`} (${ran.error || ""}), then passed on a retry` };
    }
    return { ...t, outcome: "failed", note: ran.error || "" };
  }
  const skip = skipFor(skips, t.file, t.titles);
  const note = skip ? `${skip.reason} (${skip.link})` : ran ? "skipped by the spec" : "not run";
  return { ...t, outcome: "skipped", note };
});

const count = (rs, o) => rs.filter((r) => r.outcome === o).length;
const files = [...new Set(rows.map((r) => r.file))].sort();
const lines = [
  "# Upstream phoenix_live_view e2e suite against livefire",
  "",
  `${count(rows, "passed")} passed, ${count(rows, "failed")} failed, ${count(rows, "skipped")} skipped (${rows.length} tests, Chromium); ${rows.filter((r) => r.flaky).length} of the passed were flaky (failed, then passed on a retry).`,
  "",
  "| spec | passed | failed | skipped |",
  "|---|---:|---:|---:|",
  ...files.map((f) => {
    const rs = rows.filter((r) => r.file === f);
    return `| ${f} | ${count(rs, "passed")} | ${count(rs, "failed")} | ${count(rs, "skipped")} |`;
  }),
  "",
  "## Tests",
  "",
  "| spec | test | outcome | note |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.file} | ${r.titles.join(" › ").replaceAll("|", "\\|")} | ${r.outcome} | ${(r.note || "").replaceAll("|", "\\|")} |`),
  "",
];
fs.writeFileSync(outPath, lines.join("\n"));
const flaky = rows.filter((r) => r.flaky);
const flakyNote = flaky.length
  ? ` (${flaky.length} of the passed flaky: failed, then passed on a retry: ${flaky.map((r) => `${r.file} › ${r.titles.join(" › ")}`).join("; ")})`
  : "";
console.log(`upstream e2e: ${count(rows, "passed")} passed, ${count(rows, "failed")} failed, ${count(rows, "skipped")} skipped${flakyNote}`);
process.exit(count(rows, "failed") > 0 ? 1 : 0);
