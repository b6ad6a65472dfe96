// Benchmark: plan (parse + verify + compute) a 200-hunk Update patch against a 50,000-line file,
// in memory. Prints median and spread over N runs (default 30). Figures only.
//   bun bench/patch.bench.ts [runs]
import { parsePatch, planPatch } from "../src/core/patch/index.ts";

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

const times: number[] = [];
let changed = 0;
for (let r = 0; r < runs + 3; r++) {
  const t0 = performance.now();
  const ops = planPatch(parsePatch(patch), () => original, "/ws", (cwd, p) => `${cwd}/${p}`);
  const t = performance.now() - t0;
  if (r >= 3) times.push(t); // first runs warm the JIT
  const op = ops[0]!;
  changed = op.kind === "update" ? (op.newContent.match(/ changed$/gm)?.length ?? 0) : 0;
}
if (changed !== HUNKS) throw new Error(`expected ${HUNKS} changed lines, got ${changed}`);
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * (times.length - 1)))]!.toFixed(2);
console.log(`apply_patch plan: ${HUNKS} hunks on a ${LINES}-line file, ${runs} runs`);
console.log(`median ${q(0.5)} ms  p10 ${q(0.1)}  p90 ${q(0.9)}  min ${q(0)}  max ${q(1)}`);
