// Helpers for the end-to-end suite: run the compiled `ocx` binary against a local mock server,
// in throwaway CODEX_HOME / working directories, with a minimal environment.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "bun:test";
import { startMockResponses, type Mock, type Step } from "../mock/responses-server.ts";
import { eventSchemaProblems } from "../event-schema.ts";
import { filesUnder } from "../temp.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** The binary under test: $OCX_BIN, else <repo>/dist/ocx. */
export function ocxBin(): string {
  return process.env.OCX_BIN ?? join(REPO_ROOT, "dist", "ocx");
}

// Everything created here lives under one temp root, removed by cleanupTemp().
// Realpath'd so paths compare equal to what a process sees as its cwd.
let tempRoot: string | undefined;
function root(): string {
  if (!tempRoot) {
    const base = process.env.TMPDIR || tmpdir();
    tempRoot = mkdtempSync(join(base, "ocx-e2e-"));
    tempRoot = Bun.spawnSync(["realpath", tempRoot]).stdout.toString().trim() || tempRoot;
  }
  return tempRoot;
}

/** Keys and tokens the suite hands to ocx; none may ever appear in a rollout file. */
export const TEST_SECRETS = ["sk-test-e2e", "sk-sdk-test", "sk-ocx-FAKE-KEY", "ocx-test-token"];

/**
 * Removes the temp root, after scanning every rollout written under it for TEST_SECRETS (the
 * suite-wide secrets check: a leak fails the file that wrote it).
 */
export function cleanupTemp(): void {
  const leaks: string[] = [];
  if (tempRoot) {
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && e.name.startsWith("rollout-") && e.name.endsWith(".jsonl")) {
          const text = readFileSync(p, "utf8");
          for (const s of TEST_SECRETS) if (text.includes(s)) leaks.push(`${p} contains ${s}`);
        }
      }
    };
    walk(tempRoot);
  }
  if (tempRoot && !process.env.OCX_E2E_KEEP) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
  if (leaks.length > 0) throw new Error(`secrets in rollouts:\n${leaks.join("\n")}`);
}

export function makeDir(prefix = "dir-"): string {
  return mkdtempSync(join(root(), prefix));
}

/** A fresh git repository (git init, no commits). */
export function makeRepo(): string {
  const dir = makeDir("repo-");
  const r = Bun.spawnSync(["git", "init", "-q", dir], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  if (r.exitCode !== 0) throw new Error(`git init failed: ${r.stderr.toString()}`);
  return dir;
}

export interface HomeOptions {
  stream_max_retries?: number;
  request_max_retries?: number;
  stream_idle_timeout_ms?: number;
}

/**
 * A fresh CODEX_HOME whose config.toml points at the mock provider. `extra` is either raw TOML
 * appended at the end (top-level keys must come before tables, so prefer -c for those) or
 * provider retry settings.
 */
export function makeHome(mockUrl: string, extra?: string | HomeOptions): string {
  const home = makeDir("home-");
  const provider: string[] = [
    `[model_providers.mock]`,
    `name = "Mock"`,
    `base_url = ${JSON.stringify(mockUrl)}`,
    `env_key = "CODEX_API_KEY"`,
    `wire_api = "responses"`,
  ];
  if (extra && typeof extra === "object") {
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) provider.push(`${k} = ${v}`);
  }
  const toml = [`model = "gpt-5.5"`, `model_provider = "mock"`, ``, ...provider, ``];
  if (typeof extra === "string") toml.push(extra, ``);
  writeFileSync(join(home, "config.toml"), toml.join("\n"));
  return home;
}

export interface RunOptions {
  home: string;
  /** Working directory; default: a fresh git repo. */
  cwd?: string;
  /** Extra env; a value of `undefined` removes a variable (e.g. `{ CODEX_API_KEY: undefined }`). */
  env?: Record<string, string | undefined>;
  /** A string is written then closed; "ignore" is /dev/null (default); "idle" is an open pipe never written. */
  stdin?: string | "ignore" | "idle";
  /** Kill (SIGKILL) the process after this long; the result then has `timedOut: true`. Default 25 s. */
  timeoutMs?: number;
  /**
   * Send `signal` (default SIGINT) once `after` resolves (a function returning a promise) or
   * after `after` ms.
   */
  signalAfter?: { after: number | (() => Promise<unknown>); signal?: NodeJS.Signals | number };
  /** Record the peak RSS of ocx (kB) via /usr/bin/time when available, else rusage. */
  measureRss?: boolean;
  /** How to start ocx; default the compiled binary (e.g. DENO_OCX to run the source on Deno). */
  command?: string[];
}

/** ocx from source on Deno (the optional dependency, linux-x64 only), with the permissions the agent needs. */
export const DENO_OCX = [join(REPO_ROOT, "node_modules", "@deno", "linux-x64-glibc", "deno"), "run", "--allow-all", "--no-prompt", join(REPO_ROOT, "src", "bin", "deno.ts")];

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSONL when every non-empty line is a JSON object; otherwise undefined. */
  events: any[] | undefined;
  durationMs: number;
  timedOut: boolean;
  pid: number;
  /** Peak resident set size in kB, when measureRss was asked for. */
  maxRssKb?: number;
}

const BASE_ENV_KEYS = ["PATH", "LANG", "LC_ALL", "USER", "LOGNAME", "SHELL"];

function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV_KEYS) if (process.env[k]) env[k] = process.env[k]!;
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  env.HOME = home; // keep ~/.codex, ~/.gitconfig etc. of the developer out of the run
  env.TMPDIR = process.env.TMPDIR || tmpdir();
  env.CODEX_HOME = home;
  env.CODEX_API_KEY = "sk-test-e2e";
  env.NO_COLOR = "1";
  return env;
}

/** `ocx exec … --json` (also `e`, `exec resume`): a run whose stdout is the event stream. */
function isExecJson(args: string[]): boolean {
  return (args.includes("exec") || args[0] === "e") && args.includes("--json");
}

export function parseJsonl(stdout: string): any[] | undefined {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const out: any[] = [];
  for (const line of lines) {
    try {
      const v = JSON.parse(line);
      if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
      out.push(v);
    } catch {
      return undefined;
    }
  }
  return out;
}

const hasGnuTime = existsSync("/usr/bin/time");

export async function runOcx(args: string[], opts: RunOptions): Promise<RunResult> {
  return startOcx(args, opts).result;
}

/** A started ocx whose stderr can be watched while it runs (login URLs, device codes). */
export interface RunningOcx {
  pid: number;
  stderrSoFar(): string;
  /** Resolves with the first match of `re` in stderr; rejects if ocx ends first or after the timeout. */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): void;
  result: Promise<RunResult>;
}

export function startOcx(args: string[], opts: RunOptions): RunningOcx {
  if (!opts.command && !existsSync(ocxBin())) {
    throw new Error(`ocx binary not found at ${ocxBin()}: build it first (bun run build) or set OCX_BIN`);
  }
  const cwd = opts.cwd ?? makeRepo();
  const env = baseEnv(opts.home);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const stdinOpt = opts.stdin ?? "ignore";
  let cmd = [...(opts.command ?? [ocxBin()]), ...args];
  let rssFile: string | undefined;
  if (opts.measureRss && hasGnuTime) {
    rssFile = join(makeDir("rss-"), "rss");
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rssFile, ...cmd];
  }

  const start = performance.now();
  const proc = Bun.spawn(cmd, {
    cwd,
    env,
    stdin: stdinOpt === "ignore" ? "ignore" : "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  if (typeof stdinOpt === "string" && stdinOpt !== "ignore" && stdinOpt !== "idle") {
    const sink = proc.stdin as import("bun").FileSink;
    void (async () => {
      try {
        sink.write(stdinOpt);
        await sink.flush();
        await sink.end();
      } catch {
        // the process may exit before reading stdin; that is the test's business
      }
    })();
  }

  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 25_000);

  let signalled: Promise<void> = Promise.resolve();
  if (opts.signalAfter) {
    const { after, signal = "SIGINT" } = opts.signalAfter;
    signalled = (async () => {
      try {
        if (typeof after === "number") await Bun.sleep(after);
        else await after();
      } catch (e) {
        console.error(`signalAfter: ${e}`);
      }
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal as any);
    })();
  }

  let stderrText = "";
  let ended = false;
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderrText += decoder.decode(chunk, { stream: true });
    stderrText += decoder.decode();
  })();

  const result = (async (): Promise<RunResult> => {
  const [stdout] = await Promise.all([new Response(proc.stdout).text(), stderrDone]);
  await proc.exited;
  ended = true;
  const stderr = stderrText;
  const durationMs = performance.now() - start;
  clearTimeout(killer);
  if (stdinOpt === "idle") {
    try {
      await (proc.stdin as import("bun").FileSink).end();
    } catch {
      // already gone
    }
  }
  void signalled; // if `after` never resolved there is nothing left to signal

  let maxRssKb: number | undefined;
  if (opts.measureRss) {
    if (rssFile && existsSync(rssFile)) {
      const m = readFileSync(rssFile, "utf8").match(/(\d+)\s*$/);
      if (m) maxRssKb = Number(m[1]);
    }
    if (maxRssKb === undefined) {
      const ru = proc.resourceUsage();
      if (ru) maxRssKb = Math.round(Number(ru.maxRSS) / 1024); // Bun reports bytes
    }
  }

  const events = parseJsonl(stdout);
  // Every event an `exec --json` run prints must match schema/events.schema.json.
  if (events && isExecJson(args)) {
    const bad = events.flatMap((e) => eventSchemaProblems(e).map((p) => `${p}\n  ${JSON.stringify(e)}`));
    if (bad.length > 0) throw new Error(`ocx ${args.join(" ")} printed events outside the schema:\n${bad.join("\n")}`);
  }
  return {
    code: proc.exitCode,
    signal: proc.signalCode === null ? null : String(proc.signalCode),
    stdout,
    stderr,
    events,
    durationMs,
    timedOut,
    pid: proc.pid,
    maxRssKb,
  };
  })();

  return {
    pid: proc.pid,
    stderrSoFar: () => stderrText,
    async waitForStderr(re, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = stderrText.match(re);
        if (m) return m;
        if (ended) throw new Error(`ocx ended without printing ${re} on stderr:\n${stderrText}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} on stderr:\n${stderrText}`);
        await Bun.sleep(20);
      }
    },
    kill: (signal = "SIGINT") => proc.kill(signal),
    result,
  };
}

// ---------------------------------------------------------------------------------------------
// Small utilities for tests

export async function waitFor(cond: () => boolean, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** True when `pid` exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return existsSync(`/proc/${pid}`) ? true : false;
  }
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function items(events: any[] | undefined, phase: "item.started" | "item.completed" | "item.updated" = "item.completed", type?: string): any[] {
  return (events ?? []).filter((e) => e.type === phase && (!type || e.item?.type === type)).map((e) => e.item);
}

/** Shape checks every --json run must pass (contract §2, design principle 7). */
export function checkEventStream(events: any[] | undefined): string[] {
  const problems: string[] = [];
  if (!events) return ["stdout is not JSONL"];
  if (events[0]?.type !== "thread.started") problems.push(`first event is ${events[0]?.type}, not thread.started`);
  if (typeof events[0]?.thread_id !== "string") problems.push("thread.started has no thread_id");
  if (events[1]?.type !== "turn.started") problems.push(`second event is ${events[1]?.type}, not turn.started`);
  const last = events.at(-1)?.type;
  if (last !== "turn.completed" && last !== "turn.failed") problems.push(`last event is ${last}`);
  const started = new Set<string>();
  const completed = new Set<string>();
  for (const e of events) {
    problems.push(...eventSchemaProblems(e));
    if (typeof e.type !== "string") problems.push(`event without type: ${JSON.stringify(e)}`);
    if (e.type === "item.started") started.add(e.item.id);
    if (e.type === "item.completed") completed.add(e.item.id);
    if (e.type?.startsWith("item.") && !/^item_\d+$/.test(e.item?.id ?? "")) problems.push(`bad item id ${e.item?.id}`);
  }
  for (const id of started) if (!completed.has(id)) problems.push(`item ${id} started but never completed`);
  return problems;
}

export { mkdirSync, existsSync, readFileSync, writeFileSync, join };

/** A local port that was free a moment ago (nothing listens on it now). */
export async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

/**
 * For a test file: `setup(script)` starts a mock Responses server with `script` and a
 * CODEX_HOME pointing at it; every server is closed after each test.
 */
export function useMockServers() {
  let mocks: Mock[] = [];
  afterEach(async () => {
    await Promise.all(mocks.map((m) => m.close()));
    mocks = [];
  });
  return async function setup(script: Step[], homeOpts?: HomeOptions | string) {
    const mock = await startMockResponses(script);
    mocks.push(mock);
    return { mock, home: makeHome(mock.url, homeOpts) };
  };
}

/** Every rollout file under CODEX_HOME/sessions. */
export function rollouts(home: string): string[] {
  return filesUnder(join(home, "sessions")).filter((p) => p.endsWith(".jsonl"));
}

/** The thread id of a --json run (its thread.started event). */
export function threadId(events: any[] | undefined): string {
  return (events ?? []).find((e) => e.type === "thread.started")?.thread_id;
}

export { filesUnder };
