// src/core must stay runtime-agnostic: no node:/bun imports, no Bun/Deno/process globals.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+["'](node:|bun\b|bun:)/, "imports a runtime module"],
  [/import\(\s*["'](node:|bun\b|bun:)/, "dynamically imports a runtime module"],
  [/require\(/, "uses require()"],
  [/\bBun\./, "touches the Bun global"],
  [/\bDeno\./, "touches the Deno global"],
  [/(?<![.\w])process\./, "touches the process global"],
  [/globalThis\.fetch|(?<![.\w])fetch\(/, "calls the global fetch instead of the injected one"],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Source without comments, so prose may mention what code must not do. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

test("src/core reaches the system only through the Runtime port", () => {
  const leaks: string[] = [];
  const all = files("src/core");
  expect(all.length).toBeGreaterThan(10);
  for (const file of all) {
    code(readFileSync(file, "utf8"))
      .split("\n")
      .forEach((line, i) => {
        for (const [re, why] of FORBIDDEN) if (re.test(line)) leaks.push(`${file}:${i + 1}: ${why}: ${line.trim()}`);
      });
  }
  expect(leaks).toEqual([]);
});

test("the purity scan catches a leak", () => {
  const sample = code('import { readFile } from "node:fs";\nconst x = process.env.HOME; // fine in a comment: process.\n');
  const hits = FORBIDDEN.filter(([re]) => sample.split("\n").some((l) => re.test(l)));
  expect(hits.map(([, why]) => why)).toEqual(["imports a runtime module", "touches the process global"]);
});
