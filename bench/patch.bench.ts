// Benchmark: a 200-hunk Update patch against a 50,000-line file. Three figures, each the median
// and spread over N runs (default 30):
//   plan  - parse + verify + compute the new text, in memory (src/core/patch)
//   tool  - the apply_patch tool end to end on a real file: read, verify, sandbox check, atomic write
//   diff  - the unified diff human mode prints for that change
//   bun bench/patch.bench.ts [runs]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../src/adapters/bun.ts";
import { parsePatch, planPatch } from "../src/core/patch/index.ts";
import { applyPatch } from "../src/core/tools/apply-patch.ts";
import { toolHarness, workspaceWrite } from "../test/support/tool-context.ts";

const runs = Number(process.argv[2] ?? 30);
const LINES = 50_000;
const HUNKS = 200;
const lines = Array.from({ length: LINES }, (_, i) => `line ${i} ${"x".repeat(i % 40)}`);
const original = `${lines.join("\n")}\n`;

const body: string[] = ["*** Begin Patch", "*** Update File: big.txt"];
const step = Math.floor(LINES / HUNKS);
for (let h = 0; h < HUNKS; h++) {
  const at = h * step + 10;
  body.push(`@@ ${lines[at - 4]}`);
  for (let k = at - 3; k < at; k++) body.push(` ${lines[k]}`);
  body.push(`-${lines[at]}`, `+${lines[at]} changed`);
  for (let k = at + 1; k <= at + 3; k++) body.push(` ${lines[k]}`);
}
body.push("*** End Patch");
const patch = body.join("\n");

/** Runs `fn` runs+3 times (the first three warm the JIT) and prints the spread. */
async function measure(label: string, fn: () => unknown | Promise<unknown>) {
  const times: number[] = [];
  for (let r = 0; r < runs + 3; r++) {
    const t0 = performance.now();
    await fn();
    const t = performance.now() - t0;
    if (r >= 3) times.push(t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * (times.length - 1)))]!.toFixed(2);
  console.log(`${label.padEnd(5)} median ${q(0.5)} ms  p10 ${q(0.1)}  p90 ${q(0.9)}  min ${q(0)}  max ${q(1)}`);
}

const countChanged = (text: string) => text.match(/ changed$/gm)?.length ?? 0;
console.log(`apply_patch: ${HUNKS} hunks on a ${LINES}-line file, ${runs} runs`);

await measure("plan", () => {
  const op = planPatch(parsePatch(patch), () => original, "/ws", (cwd, p) => `${cwd}/${p}`)[0]!;
  if (op.kind !== "update" || countChanged(op.newContent) !== HUNKS) throw new Error("plan produced the wrong text");
});

const dir = mkdtempSync(join(tmpdir(), "ocx-bench-patch-"));
const file = join(dir, "big.txt");
const h = toolHarness({ runtime: bunRuntime(), cwd: dir, sandbox: workspaceWrite(dir) });
await measure("tool", async () => {
  writeFileSync(file, original);
  const out = await applyPatch(patch, h.ctx);
  if (!out.includes("M big.txt") || countChanged(readFileSync(file, "utf8")) !== HUNKS) throw new Error(out);
});

const diff = h.details.at(-1)!.detail;
if (diff.kind !== "diff") throw new Error("no diff detail");
await measure("diff", () => diff.text());
rmSync(dir, { recursive: true, force: true });
