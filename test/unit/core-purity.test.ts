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

/** Relative imports of a source file (static, type-only and dynamic), resolved to paths. */
function importsOf(file: string, text: string): string[] {
  const re = /(?:import|export)\s[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;
  return [...code(text).matchAll(re)].map((m) => join(file, "..", m[1] ?? m[2]!));
}

/** Every import cycle among `graph`'s files, each as the list of files it passes through. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === "open") found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

test("src has no import cycles (the ports import nothing above them)", () => {
  const graph = new Map(files("src").map((f) => [f, importsOf(f, readFileSync(f, "utf8"))] as const));
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles(graph).map((c) => c.join(" -> "))).toEqual([]);
});

test("the cycle scan catches a cycle, also through a type-only or dynamic import", () => {
  const graph = new Map([
    ["src/core/runtime.ts", importsOf("src/core/runtime.ts", 'import type { S } from "./sandbox/spec.ts";')],
    ["src/core/sandbox/spec.ts", importsOf("src/core/sandbox/spec.ts", 'const m = await import("../runtime.ts");')],
    ["src/core/leaf.ts", []],
  ]);
  expect(cycles(graph)).toEqual([["src/core/runtime.ts", "src/core/sandbox/spec.ts", "src/core/runtime.ts"]]);
});
