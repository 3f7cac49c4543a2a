// Reads scripts/upstream-e2e/skip.txt. One entry per line:
//
//   <spec path> | <title path, describe › test, or *> | <reason> | <link to the spec line>
//
// Blank lines and lines starting with # are ignored. `*` skips the whole spec file.
import fs from "node:fs";

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function parseSkipList(text) {
  const entries = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim() || line.trim().startsWith("#")) return;
    const parts = line.split(" | ").map((p) => p.trim());
    if (parts.length !== 4 || parts.some((p) => !p)) {
      throw new Error(`skip list line ${i + 1}: expected "spec | title | reason | link": ${line}`);
    }
    const [file, title, reason, link] = parts;
    entries.push({ file, title, reason, link });
  });
  return entries;
}

// Playwright matches grep patterns against "<project> <file> <describe…> <title>".
export const titleRegExp = (entry) =>
  new RegExp(`${escape(entry.file)} ${escape(entry.title.split(" › ").join(" "))}$`);

export function readSkipList(path) {
  if (!path) return { entries: [], files: [], titles: [] };
  const entries = parseSkipList(fs.readFileSync(path, "utf-8"));
  return {
    entries,
    files: entries.filter((e) => e.title === "*").map((e) => `**/${e.file}`),
    titles: entries.filter((e) => e.title !== "*").map(titleRegExp),
  };
}

// The skip entry that covers a test, if any.
export function skipFor(entries, file, titlePath) {
  const grepTitle = `${file} ${titlePath.join(" ")}`;
  return entries.find((e) => e.file === file && (e.title === "*" || titleRegExp(e).test(grepTitle)));
}
