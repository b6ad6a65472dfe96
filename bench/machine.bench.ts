// Benchmark: what this machine charges for the things ocx's figures are made of, so that the
// other benchmarks' absolute figures (ms, µs) can be read against the machine they ran on:
//   1. a page of fresh memory: a new process touches 64 MiB it has never used (4 KiB apart), and
//      the time per page is printed (on most Linux hosts about 1 µs or less; a virtual machine that
//      hands freed memory back to its host can charge ten times that, and every new process,
//      heap and buffer pays it);
//   2. stat of one file: 10,000 files in 100 folders, each stat'ed once, in one thread;
//   3. plain computation: a loop of integer arithmetic, ns per iteration.
// Figures only; nothing is asserted. The targets of issue 19 that are absolute (SSE µs/event,
// resume ms, --last ms) scale with the first two; the start-up ratio is measured against a floor
// program in the same run, and does not.
//   bun bench/machine.bench.ts
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./lib/targets.ts";

const PAGES = 16_384; // 64 MiB

/** µs per fresh 4 KiB page, touched by a new process (so that no page was used before). */
function freshPageUs(): number {
  const script = `const b = new Uint8Array(${PAGES} * 4096); const t = performance.now(); for (let i = 0; i < b.length; i += 4096) b[i] = 1; console.log(((performance.now() - t) * 1000) / ${PAGES});`;
  const proc = Bun.spawnSync([process.execPath, "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  if (proc.exitCode !== 0) throw new Error(`the page probe failed: ${proc.stderr}`);
  return Number(proc.stdout.toString().trim());
}

function statUs(dir: string): number {
  const paths: string[] = [];
  for (let d = 0; d < 100; d++) {
    const folder = join(dir, String(d));
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < 100; f++) {
      const path = join(folder, `rollout-${f}.jsonl`);
      writeFileSync(path, "x");
      paths.push(path);
    }
  }
  const t = performance.now();
  for (const p of paths) statSync(p);
  return ((performance.now() - t) * 1000) / paths.length;
}

function loopNs(): number {
  const n = 100_000_000;
  let x = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  const ns = ((performance.now() - t) * 1e6) / n;
  if (x === 42) console.log(""); // keeps the loop
  return ns;
}

const work = mkdtempSync(join(tmpdir(), "ocx-bench-machine-"));
try {
  const pages = [freshPageUs(), freshPageUs(), freshPageUs()];
  const stats = [statUs(join(work, "a")), statUs(join(work, "b")), statUs(join(work, "c"))];
  const loops = [loopNs(), loopNs(), loopNs()];
  console.log(`fresh memory: ${median(pages).toFixed(2)} µs per 4 KiB page (${((median(pages) * 256) / 1000).toFixed(1)} ms per MiB; a new process, 64 MiB, median of 3)`);
  console.log(`stat of a file: ${median(stats).toFixed(2)} µs (10,000 files, one thread, median of 3)`);
  console.log(`integer loop: ${median(loops).toFixed(2)} ns per iteration (median of 3)`);
  console.log(
    `MACHINE | fresh page ${median(pages).toFixed(2)} µs, stat ${median(stats).toFixed(2)} µs, loop ${median(loops).toFixed(2)} ns | the absolute targets scale with these`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
