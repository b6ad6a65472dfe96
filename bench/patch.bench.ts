// Benchmark: a 200-hunk Update patch against a 50,000-line file, and a one-line Add File. Each
// figure is the median and spread over N runs (default 30):
//   plan   - parse + verify + compute the new text, in memory (src/core/patch)
//   tool   - the apply_patch tool end to end on a real file under workspace-write: read, verify,
//            sandbox check, atomic write in the confined writer (`ocx __sandbox ... -- ocx __patch-write`)
//   small  - the same for a one-line Add File: mostly the confined writer's start-up
//   tool-full, small-full - the same under danger-full-access (written in-process)
//   diff   - the unified diff human mode prints for the big change (target: 20 ms), built from
//            where the chunks landed; diff-whole - the library's diff of the whole old and new
//            texts it replaced, for comparison. Then the peak memory each adds, measured in a
//            fresh process (Linux: the peak RSS is reset through /proc/self/clear_refs).
// The confined writer is the compiled binary ($OCX_BIN, else dist/ocx) when it exists, else
// `bun src/bin/bun.ts` (much slower to start).
//   bun bench/patch.bench.ts [runs]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../src/adapters/bun.ts";
import { openLibc } from "../src/adapters/sandbox/libc-bun.ts";
import { reportTarget } from "./lib/targets.ts";
import { hostSandbox } from "../src/adapters/sandbox/index.ts";
import { parsePatch, planPatch, unifiedDiff } from "../src/core/patch/index.ts";
import { wholeFileHunks } from "../src/core/patch/unified-diff.ts";
import { applyPatch } from "../src/core/tools/apply-patch.ts";
import { FULL_ACCESS, toolHarness, workspaceWrite } from "../test/support/tool-context.ts";

const DIFF_TARGET_MS = 20;
const MEMORY_PROBE = "--diff-memory=";
const probe = process.argv.find((a) => a.startsWith(MEMORY_PROBE))?.slice(MEMORY_PROBE.length);
const runs = probe ? 0 : Number(process.argv[2] ?? 30);
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

const planned = () => planPatch(parsePatch(patch), () => original, "/ws", (cwd, p) => `${cwd}/${p}`);

if (probe) {
  // A child of this bench: how much the peak RSS grows while the diff is made, once, cold.
  const ops = planned();
  const op = ops[0]!;
  if (op.kind !== "update") throw new Error("not an update");
  const diff = probe === "whole" ? () => wholeFileHunks(op.path, op.path, original, op.newContent) : () => unifiedDiff(ops, () => original);
  const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;
  Bun.gc(true);
  writeFileSync("/proc/self/clear_refs", "5"); // the peak RSS starts again from the current RSS
  const before = peak();
  diff();
  console.log(peak() - before);
  process.exit(0);
}

/** Peak RSS added by one cold diff (`windowed` or `whole`), in MiB, or "n/a". */
function diffMemory(kind: "windowed" | "whole"): string {
  const child = Bun.spawnSync([process.execPath, import.meta.path, `${MEMORY_PROBE}${kind}`], { stderr: "ignore" });
  const bytes = Number(child.stdout.toString().trim());
  return child.exitCode === 0 && Number.isFinite(bytes) && bytes >= 0 ? `+${(bytes / 2 ** 20).toFixed(1)} MiB` : "n/a";
}

/** Runs `fn` runs+3 times (the first three warm the JIT) and prints the spread (and `note`). */
async function measure(label: string, fn: () => unknown | Promise<unknown>, note = "") {
  const times: number[] = [];
  for (let r = 0; r < runs + 3; r++) {
    const t0 = performance.now();
    await fn();
    const t = performance.now() - t0;
    if (r >= 3) times.push(t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * (times.length - 1)))]!.toFixed(2);
  console.log(`${label.padEnd(10)} median ${q(0.5)} ms  p10 ${q(0.1)}  p90 ${q(0.9)}  min ${q(0)}  max ${q(1)}${note}`);
  return Number(q(0.5));
}

const countChanged = (text: string) => text.match(/ changed$/gm)?.length ?? 0;
console.log(`apply_patch: ${HUNKS} hunks on a ${LINES}-line file, ${runs} runs`);

await measure("plan", () => {
  const op = planned()[0]!;
  if (op.kind !== "update" || countChanged(op.newContent) !== HUNKS) throw new Error("plan produced the wrong text");
});

const bin = process.env.OCX_BIN ?? join(import.meta.dir, "..", "dist", "ocx");
const base = bunRuntime();
const runtime = existsSync(bin) ? { ...base, sandbox: hostSandbox([bin], async () => openLibc()) } : base;
console.log(`confined writer: ${existsSync(bin) ? bin : "bun src/bin/bun.ts"}`);
const dir = mkdtempSync(join(tmpdir(), "ocx-bench-patch-"));
const file = join(dir, "big.txt");
const h = toolHarness({ runtime, cwd: dir, sandbox: workspaceWrite(dir) });
const full = toolHarness({ runtime, cwd: dir, sandbox: FULL_ACCESS });
const small = "*** Begin Patch\n*** Add File: small.txt\n+one line\n*** End Patch";
for (const [suffix, harness] of [["", h], ["-full", full]] as const) {
  await measure(`tool${suffix}`, async () => {
    writeFileSync(file, original);
    const out = await applyPatch(patch, harness.ctx);
    if (!out.includes("M big.txt") || countChanged(readFileSync(file, "utf8")) !== HUNKS) throw new Error(out);
  });
  await measure(`small${suffix}`, async () => {
    const out = await applyPatch(small, harness.ctx);
    if (!out.includes("A small.txt") || readFileSync(join(dir, "small.txt"), "utf8") !== "one line\n") throw new Error(out);
  });
}

const diff = h.details[0]!.detail; // the big patch's
if (diff.kind !== "diff") throw new Error("no diff detail");
const diffMs = await measure("diff", () => diff.text(), `  (target ≤ ${DIFF_TARGET_MS} ms)`);
const big = planned()[0]!;
if (big.kind !== "update") throw new Error("not an update");
const wholeMs = await measure("diff-whole", () => wholeFileHunks(big.path, big.path, original, big.newContent), "  (the whole-file diff it replaced)");
const memory = { windowed: diffMemory("windowed"), whole: diffMemory("whole") };
console.log(`diff peak memory ${memory.windowed}  (whole-file diff: ${memory.whole})`);
reportTarget(
  `human-mode diff of a ${HUNKS}-hunk patch on ${LINES} lines`,
  `${diffMs.toFixed(1)} ms, ${memory.windowed}`,
  `≤ ${DIFF_TARGET_MS} ms, no whole-file diff (that one: ${wholeMs.toFixed(1)} ms, ${memory.whole})`,
  diffMs <= DIFF_TARGET_MS,
);
rmSync(dir, { recursive: true, force: true });
