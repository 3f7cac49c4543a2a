// Playwright config of livefire's upstream conformance run (scripts/upstream-e2e.sh copies it
// next to the suite's own config). It differs from upstream's playwright.config.js only where the
// machine or the server differ: Chromium only (Debian's), the livefire-upstream binary as web
// server, JSON + list reporters, and the skip list applied as grepInvert/testIgnore. Retries and
// workers are upstream's CI settings.
import { devices } from "@playwright/test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSkipList } from "./livefire-skip.mjs";

const __dirname = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const skips = env.LIVEFIRE_UPSTREAM_NO_SKIP ? { files: [], titles: [] } : readSkipList(env.LIVEFIRE_UPSTREAM_SKIP);

/** @type {import("@playwright/test").PlaywrightTestConfig} */
export default {
  testDir: __dirname,
  testMatch: "tests/**/*.spec.js",
  testIgnore: skips.files,
  grepInvert: skips.titles.length ? skips.titles : undefined,
  forbidOnly: true,
  // Upstream's own config retries twice on CI (`retries: process.env.CI ? 2 : 0`): several
  // specs read the page once at a moment the client leaves open (crates/livefire-upstream/
  // README.md lists the ones seen here, with the client lines). A test that passes on a retry is reported as flaky, by name.
  retries: Number(env.LIVEFIRE_UPSTREAM_RETRIES ?? 2),
  // Playwright's default, as upstream: half the cores (one worker on a 2-core machine). Two
  // workers on two cores, each with its own Chromium, slow the page enough that the specs'
  // unawaited reads (an observer installed 50 ms before the action it watches, say) lose.
  workers: env.LIVEFIRE_UPSTREAM_WORKERS ? Number(env.LIVEFIRE_UPSTREAM_WORKERS) : undefined,
  reporter: [["list"], ["json", { outputFile: env.LIVEFIRE_UPSTREAM_JSON || "results.json" }]],
  use: {
    trace: "off",
    screenshot: "off",
    baseURL: "http://localhost:4004/",
    ignoreHTTPSErrors: true,
  },
  webServer: {
    command: env.LIVEFIRE_UPSTREAM_BIN,
    cwd: env.LIVEFIRE_UPSTREAM_ROOT,
    url: "http://127.0.0.1:4004/health",
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: env.LIVEFIRE_UPSTREAM_CHROMIUM || "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  outputDir: "test-results",
  globalTeardown: resolve(__dirname, "./teardown.js"),
};
