// Benchmark: a command that prints 1 GB. The mock model asks dist/ocx to run
// `yes | head -c 1000000000` (exec_command), then answers; once sandboxed (workspace-write, the
// default sandbox) and once with --dangerously-bypass-approvals-and-sandbox. Prints, as the
// median of N runs (default 3):
//   - the CPU of ocx's whole process tree (ocx, the sandbox helper and its init, the shell and the
//     pipeline: the rusage wait4 reports for ocx includes every descendant that was waited for)
//     minus the CPU of the same pipeline run alone by `sh -c` here, its stdout a pipe (a FIFO)
//     read by this bench, as the command's is a pipe read by ocx;
//   - ocx's peak RSS (wait4's ru_maxrss: the largest of ocx and its descendants, so an upper
//     bound for ocx itself; the pipeline and the helper are far smaller).
// Figures only; nothing is asserted beyond the run succeeding and the model seeing the count.
//   bun bench/big-output.bench.ts [runs]        (OCX_BIN overrides the binary)
import { existsSync, rmSync } from "node:fs";
import { mockHome } from "./lib/mock-home.ts";
import { median, reportTarget } from "./lib/targets.ts";
import { join, resolve } from "node:path";
import { callOutput, execCommand, reply, sse, startMockResponses, turn, type RecordedRequest } from "../test/mock/responses-server.ts";

const runs = Math.max(1, Number(process.argv[2] ?? 3));
const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
if (!existsSync(bin)) throw new Error(`no ${bin}: npm run build first (or set OCX_BIN)`);
const BYTES = 1_000_000_000;
const CMD = `yes | head -c ${BYTES}`;
const TARGET_CPU_S = 0.8;
const TARGET_RSS_MIB = 100;

const mock = await startMockResponses();
const { home, env } = mockHome("ocx-bench-big-", mock.url);

const cpuSeconds = (u: { cpuTime: { total: bigint } } | undefined) => (u ? Number(u.cpuTime.total) / 1e6 : NaN);

/**
 * The pipeline alone: its CPU (sh and its children), its stdout a plain pipe (a FIFO: Bun.spawn's
 * "pipe" is a socket pair, dearer for the writer) drained by this process.
 */
async function pipelineAlone(): Promise<number> {
  const fifo = join(home, "fifo");
  rmSync(fifo, { force: true });
  if (Bun.spawnSync(["mkfifo", fifo]).exitCode !== 0) throw new Error("mkfifo failed");
  const proc = Bun.spawn(["sh", "-c", `exec > '${fifo}'; ${CMD}`], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  let n = 0;
  for await (const chunk of Bun.file(fifo).stream()) n += chunk.length;
  const code = await proc.exited;
  if (code !== 0 || n !== BYTES) throw new Error(`pipeline alone: exit ${code}, ${n} bytes`);
  return cpuSeconds(proc.resourceUsage());
}

/** One ocx run: its tree's CPU, its peak RSS (MiB) and wall time (s). */
async function ocxRun(mode: string[]): Promise<{ cpu: number; rss: number; wall: number }> {
  const callId = "call_big";
  mock.push(sse(turn([execCommand(CMD, { yield_time_ms: 30_000 }, callId)])), reply("done"));
  const before = mock.requests.length;
  const t0 = performance.now();
  const proc = Bun.spawn([bin, "exec", "--skip-git-repo-check", "--json", ...mode, "print a lot"], {
    env,
    cwd: home,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0 || !out.includes('"turn.completed"')) throw new Error(`ocx run failed (exit ${code}): ${out.slice(-2000)}\n${err.slice(-2000)}`);
  const second: RecordedRequest | undefined = mock.requests[before + 1];
  const output = second && callOutput(second.body, callId);
  if (!output?.includes(`Total output lines: ${BYTES / 2}`)) throw new Error(`the model did not see the whole output: ${output?.slice(0, 500)}`);
  const usage = proc.resourceUsage();
  return { cpu: cpuSeconds(usage), rss: (usage?.maxRSS ?? 0) / 1024 / 1024, wall };
}

try {
  console.log(`ocx big-output benchmark: ${bin}, \`${CMD}\`, median of ${runs} runs`);
  await pipelineAlone(); // warm up
  const modes: [string, string[]][] = [
    ["--sandbox workspace-write", ["--sandbox", "workspace-write"]],
    ["--dangerously-bypass-approvals-and-sandbox", ["--dangerously-bypass-approvals-and-sandbox"]],
  ];
  const alone: number[] = [];
  const rows: string[] = [];
  for (const [label, mode] of modes) {
    // Each ocx run is paired with a run of the pipeline alone just before it (the machine's load drifts).
    const results: { cpu: number; beyond: number; rss: number; wall: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const base = await pipelineAlone();
      alone.push(base);
      const r = await ocxRun(mode);
      results.push({ ...r, beyond: r.cpu - base });
    }
    const cpu = median(results.map((r) => r.cpu));
    const beyond = median(results.map((r) => r.beyond));
    const rss = median(results.map((r) => r.rss));
    const wall = median(results.map((r) => r.wall));
    reportTarget(`1 GB of command output (${label})`, `${beyond.toFixed(2)} s CPU beyond the pipeline, ${rss.toFixed(0)} MiB`, `≤ ${TARGET_CPU_S} s, ≤ ${TARGET_RSS_MIB} MiB`, beyond <= TARGET_CPU_S && rss <= TARGET_RSS_MIB);
    rows.push(
      `${label.padEnd(44)} tree CPU ${cpu.toFixed(2)} s, beyond the pipeline ${beyond.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB, wall ${wall.toFixed(2)} s` +
        `   (target ≤ ${TARGET_CPU_S} s beyond the pipeline, ≤ ${TARGET_RSS_MIB} MiB)`,
    );
  }
  console.log(`${"pipeline alone (sh -c, into a FIFO)".padEnd(44)} CPU ${median(alone).toFixed(2)} s`);
  for (const row of rows) console.log(row);
} finally {
  await mock.close();
  rmSync(home, { recursive: true, force: true });
}
