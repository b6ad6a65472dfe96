// Benchmark: OutputBuffer.push of 1 GiB of command output in 64 KiB chunks, with and without
// line counting, for `yes`-like output ("y\n", a newline every 2 bytes) and log-like text.
// Prints CPU seconds per GiB (median of N runs, default 5); nothing is asserted.
//   bun bench/output-buffer.bench.ts [runs]
import { median } from "./lib/targets.ts";
import { OutputBuffer } from "../src/core/process/output-buffer.ts";

const runs = Number(process.argv[2] ?? 5);
const enc = new TextEncoder();
const CHUNK = 64 * 1024;
const inputs: [string, Uint8Array][] = [
  ["yes (y\\n)", enc.encode("y\n".repeat(CHUNK / 2))],
  ["log text (~50-byte lines)", enc.encode("a log line of moderate length, value=12345 ok\n".repeat(1500)).subarray(0, CHUNK)],
];
const reps = (1024 * 1024 * 1024) / CHUNK;

for (const [label, chunk] of inputs) {
  for (const countLines of [true, false]) {
    const times: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      const b = new OutputBuffer(10_000, 10_000, { countLines });
      const t0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) b.push(chunk);
      const d = process.cpuUsage(t0);
      if (r > 0) times.push((d.user + d.system) / 1e6);
    }
    console.log(`${label.padEnd(28)} countLines=${String(countLines).padEnd(5)} median ${median(times).toFixed(3)} s CPU per GiB`);
  }
}
