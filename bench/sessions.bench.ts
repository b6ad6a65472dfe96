// Benchmark: resuming sessions with dist/ocx against the local mock. Prints, over N runs each
// (default 10):
//   1. `exec resume <id>` of a 2,000-turn session (~50 MB rollout): process start -> the mock
//      has the first request (which carries the whole history);
//   2. `exec resume --last` among 10,000 session files: process start -> first request, and the
//      lookup alone (findLatest in this process);
//   and, for scale, the same start -> first request for a one-turn session resumed by id.
// A session resumed by id is filed where ocx files its own (the folder of its id's creation
// date), so the lookup is the one a real resume makes, not the fallback through every folder.
// Figures only; nothing is asserted. Each is printed next to its target: the resume's first
// request within 200 ms and its peak RSS within 2.5 times the file's size; `--last` (start ->
// first request) within 60 ms.
// The peak RSS is the run's own: each run is started by bench/lib/spawn-measured.ts, since a
// child spawned from this process (which holds 50 MB strings and bodies) would report this
// process's peak (about 320 MiB) as its own.
//   bun bench/sessions.bench.ts [runs]        (OCX_BIN overrides the binary)
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { mockHome } from "./lib/mock-home.ts";
import { median, reportTarget } from "./lib/targets.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { reply, startMockResponses } from "../test/mock/responses-server.ts";
import { bunRuntime } from "../src/adapters/bun.ts";
import { findLatest } from "../src/core/session/find.ts";
import { rolloutRelativePath } from "../src/core/session/rollout.ts";
import { uuidv7, uuidv7Ms } from "../src/core/util/uuid.ts";

const runs = Number(process.argv[2] ?? 10);
const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const measured = resolve(import.meta.dir, "lib/spawn-measured.ts");
const mock = await startMockResponses();
const { home, env } = mockHome("ocx-bench-sessions-", mock.url, "model_context_window = 100000000\nmodel_auto_compact_token_limit = 100000000\n");
const work = mkdtempSync(join(tmpdir(), "ocx-bench-work-"));

const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: "2026-11-20T10:00:00.000Z", type, payload })}\n`;
const meta = (id: string, cwd: string) => line("session_meta", { id, timestamp: "2026-11-20T10:00:00.000Z", cwd, originator: "ocx_exec", cli_version: "0.1.0", source: "exec", model_provider: "mock" });
const turnContext = (cwd: string) => line("turn_context", { cwd, approval_policy: "never", sandbox_policy: { type: "danger-full-access" }, model: "gpt-5.5" });

/**
 * Where ocx itself files the rollout of thread `id`: the folder and name of the id's creation
 * time in local time, where `exec resume <id>` looks first.
 */
const filedAt = (id: string) => join(home, rolloutRelativePath(uuidv7Ms(id)!, bunRuntime(), id));

function writeRollout(path: string, id: string, cwd: string, turns: number, outputBytes: number): string {
  mkdirSync(dirname(path), { recursive: true });
  const chunks: string[] = [meta(id, cwd)];
  const output = "x".repeat(outputBytes);
  for (let t = 0; t < turns; t++) {
    chunks.push(
      turnContext(cwd),
      line("event_msg", { type: "task_started", turn_id: `t${t}` }),
      line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: `step ${t}: do the next thing` }] }),
      line("response_item", { type: "function_call", name: "exec_command", arguments: `{"cmd":"make step-${t}"}`, call_id: `call_${t}` }),
      line("response_item", { type: "function_call_output", call_id: `call_${t}`, output }),
      line("response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: `step ${t} done` }] }),
      line("event_msg", { type: "task_complete", last_agent_message: `step ${t} done` }),
    );
  }
  writeFileSync(path, chunks.join(""));
  return path;
}

async function timeToFirstRequest(args: string[], cwd: string): Promise<number> {
  mock.push(reply("ok"));
  const before = mock.requests.length;
  // Started by a small process in between, so that the peak RSS is the run's own (see spawn-measured.ts).
  const proc = Bun.spawn([process.execPath, measured, bin, ...args], { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [text, spawnErr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if ((await proc.exited) !== 0) throw new Error(`spawn-measured.ts failed: ${spawnErr}`);
  const { code, started, maxRSS, out, err } = JSON.parse(text) as { code: number; started: number; maxRSS: number; out: string; err: string };
  if (code !== 0) throw new Error(`run failed (exit ${code}): ${out}${err}`);
  const req = mock.requests[before];
  if (!req) throw new Error("the mock received no request");
  lastMaxRss = maxRSS;
  // The mock keeps every body it received (50 MB each, as text and parsed): let them go, so the
  // harness's own heap does not grow run after run (and slow down how fast it reads the next).
  mock.requests.length = 0;
  return req.at - started;
}
/** Peak RSS of the last run in bytes (getrusage of the child, as Bun reports it). */
let lastMaxRss = 0;

const report = (label: string, xs: number[], targetMs?: number) => {
  if (targetMs !== undefined) reportTarget(label.replace(/: start -> first request$/, ""), `${median(xs).toFixed(0)} ms to the first request`, `≤ ${targetMs} ms`, median(xs) <= targetMs);
  console.log(
    `${label.padEnd(52)} median ${median(xs).toFixed(1)} ms  min ${Math.min(...xs).toFixed(1)}  max ${Math.max(...xs).toFixed(1)}` +
      (targetMs === undefined ? "" : `  (target <= ${targetMs} ms: ${median(xs) <= targetMs ? "met" : "NOT met"})`),
  );
};

try {
  // 1. A 2,000-turn session of about 50 MB. Each resume appends a turn; restore it each run.
  const bigId = uuidv7();
  const bigPath = writeRollout(filedAt(bigId), bigId, work, 2000, 25_000);
  const size = Bun.file(bigPath).size;
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t = await timeToFirstRequest(["exec", "resume", bigId, "--skip-git-repo-check", "--json", "next step"], work);
    writeRollout(bigPath, bigId, work, 2000, 25_000);
    if (i > 0) times.push(t), rss.push(lastMaxRss);
  }
  report(`resume by id, 2,000 turns (${(size / 1e6).toFixed(1)} MB): start -> first request`, times, 200);
  const rssMiB = median(rss) / 1048576;
  const ratio = median(rss) / size;
  console.log(
    `${"resume by id: peak RSS of the whole run".padEnd(52)} median ${rssMiB.toFixed(0)} MiB, ${ratio.toFixed(2)}x the file's ${(size / 1048576).toFixed(0)} MiB` +
      `  min ${(Math.min(...rss) / size).toFixed(2)}x  max ${(Math.max(...rss) / size).toFixed(2)}x  (target <= 2.5x: ${ratio <= 2.5 ? "met" : "NOT met"})`,
  );
  reportTarget("resume of a 52 MB session: peak RSS", `${ratio.toFixed(2)}x the file (${rssMiB.toFixed(0)} MiB; best run ${(Math.min(...rss) / size).toFixed(2)}x)`, "≤ 2.5x", ratio <= 2.5);
  rmSync(join(home, "sessions"), { recursive: true, force: true });

  // For scale: what any resume costs (start-up, config, one small file).
  const smallId = uuidv7();
  writeRollout(filedAt(smallId), smallId, work, 1, 200);
  const small: number[] = [];
  for (let i = 0; i < runs; i++) small.push(await timeToFirstRequest(["exec", "resume", smallId, "--ephemeral", "--skip-git-repo-check", "--json", "hi"], work));
  report("resume by id, 1 turn: start -> first request", small);
  rmSync(join(home, "sessions"), { recursive: true, force: true });

  // 2. 10,000 small sessions over 100 days, from other directories; the newest is this one's.
  const others = join(work, "other");
  let latestId = "";
  for (let i = 0; i < 10_000; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const month = String(1 + Math.floor(i / 2800)).padStart(2, "0");
    const id = uuidv7();
    const path = writeRollout(join(home, "sessions", "2026", month, day, `rollout-2026-${month}-${day}T10-00-00-${id}.jsonl`), id, i === 9_999 ? work : others, 1, 200);
    const mtime = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
    utimesSync(path, mtime, mtime);
    if (i === 9_999) latestId = id;
  }
  const lookups: number[] = [];
  const runtime = bunRuntime();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const found = await findLatest(runtime, home, { cwd: work, all: false });
    lookups.push(performance.now() - t0);
    if (found?.id !== latestId) throw new Error(`findLatest found ${found?.id}, expected ${latestId}`);
  }
  report("--last among 10,000 session files: the lookup alone", lookups);
  const lastTimes: number[] = [];
  for (let i = 0; i < runs; i++) lastTimes.push(await timeToFirstRequest(["exec", "resume", "--last", "--skip-git-repo-check", "--json", "go on"], work));
  report("--last among 10,000 session files: start -> first request", lastTimes, 60);
} finally {
  await mock.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
