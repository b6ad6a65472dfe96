// Budgets end to end: each budget against a model that would go on forever; the run exits 6 with
// turn.failed code budget_exceeded, the rollout resumes, and the resumed request carries the
// whole history.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  callOutput,
  dynamic,
  execCommand,
  functionCall,
  http,
  inputItems,
  messageTexts,
  reasoning,
  reply,
  sse,
  turn,
  usage,
  type OutputItem,
  type RecordedRequest,
  type Step,
  type Usage,
} from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, items, makeRepo, processAlive, readPid, runOcx, useMockServers, waitFor, threadId } from "./harness.ts";

const T = 30_000;
const FULL = ["--sandbox", "danger-full-access"];
const JSON_ = ["--json", "--color", "never"];
const RESUME_PROMPT = "go on with more budget";

const setup = useMockServers();
afterAll(() => cleanupTemp());

const lastEvent = (events: any[] | undefined) => (events ?? []).at(-1);
const isResume = (req: RecordedRequest) => messageTexts(req.body).includes(RESUME_PROMPT);

/**
 * A model that never stops: response n (1-based) is `make(n)`, with `usageOf(n)`; more steps than
 * any budget here allows, so a budget that is not enforced shows as the mock running out (500,
 * exit 1). The resumed run's prompt gets a plain answer.
 */
function endless(make: (n: number) => OutputItem[], usageOf: (n: number) => Usage = () => usage()): Step[] {
  let n = 0;
  return Array.from({ length: 40 }, () =>
    dynamic((req) => (isResume(req) ? reply("picked up where the budget stopped") : sse(turn(make(++n), usageOf(n))))),
  );
}

/** ocx's additions to turn.failed: this run's usage (no cached or reasoning tokens here) and counts. */
function runStats(modelRequests: number, toolCalls: number, input: number, output: number) {
  return {
    run_usage: { input_tokens: input, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 0 },
    model_requests: modelRequests,
    tool_calls: toolCalls,
  };
}

/** Resumes `id` and checks that the model got the first run's history plus the new prompt. */
async function resumeAndCheck(home: string, cwd: string, id: string, mock: { requests: RecordedRequest[] }) {
  const before = mock.requests.length;
  const firstRunInput = mock.requests.at(-1)!.body.input as any[];
  const r = await runOcx(["exec", "resume", id, ...JSON_, RESUME_PROMPT], { home, cwd });
  expect(r.code).toBe(0);
  expect(items(r.events, "item.completed", "agent_message").at(-1)?.text).toBe("picked up where the budget stopped");
  expect(mock.requests).toHaveLength(before + 1);
  const input = mock.requests.at(-1)!.body.input as any[];
  // Everything the last request of the first run sent comes first, unchanged.
  expect(input.slice(0, firstRunInput.length)).toEqual(firstRunInput);
  // Every call has its output (calls the budget cut short are closed as aborted).
  const outputs = new Set(inputItems(mock.requests.at(-1)!.body, "function_call_output").map((o) => o.call_id));
  for (const c of inputItems(mock.requests.at(-1)!.body, "function_call")) expect(outputs.has(c.call_id)).toBe(true);
  expect(messageTexts(mock.requests.at(-1)!.body).at(-1)).toBe(RESUME_PROMPT);
  return { r, input };
}

describe("budgets", () => {
  test("--max-turns: the request after the Nth is not made; exit 6, budget_exceeded; resume continues", async () => {
    const { mock, home } = await setup(endless((n) => [execCommand(`echo step ${n}`, {}, `call_${n}`)]));
    const cwd = makeRepo();
    const r = await runOcx(["exec", ...JSON_, ...FULL, "--max-turns", "3", "loop forever"], { home, cwd });
    expect(r.code).toBe(6);
    expect(mock.requests).toHaveLength(3);
    expect(lastEvent(r.events)).toEqual({
      type: "turn.failed",
      error: { message: "budget exceeded: --max-turns 3 (3 model requests made)", code: "budget_exceeded" },
      ...runStats(3, 3, 300, 30),
    });
    expect(checkEventStream(r.events)).toEqual([]);
    // The third response's call ran before the budget stopped the next request.
    expect(items(r.events, "item.completed", "command_execution").map((i) => i.aggregated_output.trim())).toEqual(["step 1", "step 2", "step 3"]);

    const { input } = await resumeAndCheck(home, cwd, threadId(r.events), mock);
    expect(callOutput({ input }, "call_3")).toContain("step 3");
  }, T);

  test("--max-tool-calls: the call after the Nth is not run; resume closes it as aborted", async () => {
    const { mock, home } = await setup(endless((n) => [execCommand(`echo call ${n}`, {}, `call_${n}`)]));
    const cwd = makeRepo();
    const r = await runOcx(["exec", "--max-tool-calls", "2", ...JSON_, ...FULL, "loop forever"], { home, cwd });
    expect(r.code).toBe(6);
    expect(lastEvent(r.events)).toEqual({
      type: "turn.failed",
      error: { message: "budget exceeded: --max-tool-calls 2 (2 tool calls made, the model asked for another)", code: "budget_exceeded" },
      // The third response was cut off at its call, before its usage arrived.
      ...runStats(3, 2, 200, 20),
    });
    expect(checkEventStream(r.events)).toEqual([]);
    expect(items(r.events, "item.started", "command_execution")).toHaveLength(2);
    expect(mock.requests).toHaveLength(3);

    const { input } = await resumeAndCheck(home, cwd, threadId(r.events), mock);
    expect(callOutput({ input }, "call_2")).toContain("call 2");
    expect(callOutput({ input }, "call_3")).toMatch(/^aborted/);
  }, T);

  test("--max-tool-calls: a call over the budget in the same response stops the one still running", async () => {
    const cwd = makeRepo();
    const { mock, home } = await setup([
      sse(turn([execCommand("sleep 60", { yield_time_ms: 30000 }, "call_slow"), execCommand("echo second", {}, "call_second")])),
      reply("should not get here"),
    ]);
    // Without the stop, the first call alone would take 30 s, past the harness's 25 s limit.
    const r = await runOcx(["exec", ...JSON_, ...FULL, "--max-tool-calls", "1", "two at once"], { home, cwd });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(6);
    expect(lastEvent(r.events)).toMatchObject({ type: "turn.failed", error: { code: "budget_exceeded", message: "budget exceeded: --max-tool-calls 1 (1 tool call made, the model asked for another)" } });
    expect(checkEventStream(r.events)).toEqual([]);
    expect(items(r.events, "item.started", "command_execution").map((i) => i.command)).not.toContainEqual(expect.stringContaining("echo second"));
    expect(mock.requests).toHaveLength(1);
  }, T);

  test("--max-tokens: usage reported by the provider adds up; no request once it is reached", async () => {
    // A history that grows: input 100, 200, 300, ... tokens, 10 out each.
    const { mock, home } = await setup(
      endless(
        (n) => [functionCall("update_plan", { plan: [{ step: `step ${n}`, status: "in_progress" }] }, `call_${n}`)],
        (n) => usage(100 * n, 10),
      ),
    );
    const cwd = makeRepo();
    const r = await runOcx(["exec", ...JSON_, "loop forever", "--max-tokens", "500"], { home, cwd });
    expect(r.code).toBe(6);
    // 110 + 210 < 500 <= 110 + 210 + 310
    expect(mock.requests).toHaveLength(3);
    expect(lastEvent(r.events)).toEqual({
      type: "turn.failed",
      error: { message: "budget exceeded: --max-tokens 500 (630 tokens used)", code: "budget_exceeded" },
      ...runStats(3, 3, 600, 30),
    });
    expect(checkEventStream(r.events)).toEqual([]);
    await resumeAndCheck(home, cwd, threadId(r.events), mock);
  }, T);

  test("--timeout stops a model stream that never completes; resume continues", async () => {
    let hung = false;
    const { mock, home } = await setup(
      Array.from({ length: 3 }, () =>
        dynamic((req) => {
          if (isResume(req)) return reply("picked up where the budget stopped");
          hung = true;
          return sse(turn([reasoning("thinking forever")]).slice(0, 3), { hang: true });
        }),
      ),
    );
    const cwd = makeRepo();
    const r = await runOcx(["exec", ...JSON_, "--timeout", "1s", "think"], { home, cwd });
    expect(r.timedOut).toBe(false);
    expect(hung).toBe(true);
    expect(r.code).toBe(6);
    expect(lastEvent(r.events)).toEqual({
      type: "turn.failed",
      error: { message: "budget exceeded: --timeout 1s (the run was stopped after 1s)", code: "budget_exceeded" },
      ...runStats(1, 0, 0, 0),
    });
    expect(checkEventStream(r.events)).toEqual([]);
    await resumeAndCheck(home, cwd, threadId(r.events), mock);
  }, T);

  test("--timeout (from config) stops a running command and its children; resume sends the stopped command's result", async () => {
    const cwd = makeRepo();
    const shellPid = join(cwd, "shell.pid");
    const childPid = join(cwd, "child.pid");
    const cmd = `sleep 60 & echo $! > ${childPid}; echo $$ > ${shellPid}; wait`;
    const { mock, home } = await setup([
      sse(turn([execCommand(cmd, { yield_time_ms: 30000 }, "call_sleep")])),
      dynamic((req) => (isResume(req) ? reply("picked up where the budget stopped") : reply("should not get here"))),
    ]);
    let pids: number[] = [];
    try {
      const r = await runOcx(["exec", "-c", 'timeout="2s"', "--strict-config", ...JSON_, ...FULL, "sleep a while"], { home, cwd });
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(6);
      pids = [readPid(shellPid), readPid(childPid)].filter((p): p is number => p !== undefined);
      expect(pids).toHaveLength(2);
      expect(lastEvent(r.events)).toEqual({
        type: "turn.failed",
        error: { message: "budget exceeded: timeout = 2s (config) (the run was stopped after 2s)", code: "budget_exceeded" },
        ...runStats(1, 1, 100, 10),
      });
      expect(checkEventStream(r.events)).toEqual([]);
      await waitFor(() => pids.every((p) => !processAlive(p)), 3_000, "the command's processes to go").catch(() => {});
      expect(pids.filter((p) => processAlive(p))).toEqual([]);
      expect(mock.requests).toHaveLength(1);

      const { input } = await resumeAndCheck(home, cwd, threadId(r.events), mock);
      // The stopped command's result went back with the history (killed: SIGTERM, 143).
      expect(callOutput({ input }, "call_sleep")).toContain("Process exited with code 143");
    } finally {
      for (const p of pids) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone, as it should be
        }
      }
    }
  }, T);

  test("--timeout interrupts the wait before a retry", async () => {
    // Every request is refused with a long Retry-After, and retries are plenty: only the timeout can end this.
    const { mock, home } = await setup(
      Array.from({ length: 10 }, () => http(429, { error: { type: "rate_limit", message: "slow down" } }, { "retry-after": "30" })),
      { stream_max_retries: 100 },
    );
    const r = await runOcx(["exec", ...JSON_, "--timeout", "1500ms", "hi"], { home });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(6);
    expect(mock.requests.length).toBeGreaterThanOrEqual(1);
    expect(lastEvent(r.events)).toMatchObject({ type: "turn.failed", error: { code: "budget_exceeded", message: "budget exceeded: --timeout 1.5s (the run was stopped after 1.5s)" } });
  }, T);

  test("human mode names the budget and how to resume; --ephemeral says it cannot be", async () => {
    const { home } = await setup(endless((n) => [functionCall("update_plan", { plan: [{ step: `step ${n}`, status: "pending" }] })]));
    const r = await runOcx(["exec", "--color", "never", "-c", "max_turns=1", "--strict-config", "loop"], { home });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    const id = /session id: (\S+)/.exec(r.stderr)?.[1];
    expect(id).toBeDefined();
    expect(r.stderr).toContain("ERROR: budget exceeded: max_turns = 1 (config) (1 model request made)\n");
    expect(r.stderr).toContain(`to continue where it stopped (with fresh budgets): ocx exec resume ${id} "PROMPT"\n`);

    const eph = await runOcx(["exec", "--color", "never", "--ephemeral", "--max-turns", "1", "loop"], { home });
    expect(eph.code).toBe(6);
    expect(eph.stderr).toContain("ERROR: budget exceeded: --max-turns 1 (1 model request made)\n");
    expect(eph.stderr).toContain("this run was --ephemeral: it cannot be resumed\n");
    expect(eph.stderr).not.toContain("ocx exec resume");

    // A session that cannot be written (sessions/ is a file) is a warning; the hint says so.
    rmSync(join(home, "sessions"), { recursive: true, force: true });
    writeFileSync(join(home, "sessions"), "not a folder\n");
    const unsaved = await runOcx(["exec", "--color", "never", "--max-turns", "1", "loop"], { home });
    expect(unsaved.code).toBe(6);
    expect(unsaved.stderr).toContain("could not write the session file");
    expect(unsaved.stderr).toContain("its session file could not be written: it cannot be resumed\n");
    expect(unsaved.stderr).not.toContain("--ephemeral");
  }, T);

  test("a bad budget value is a usage error (exit 2) before anything runs; a bad config value exit 3", async () => {
    const { mock, home } = await setup([reply("never")]);
    const flag = await runOcx(["exec", "--json", "hi", "--timeout", "soon"], { home });
    expect(flag.code).toBe(2);
    expect(flag.stdout).toBe("");
    expect(flag.stderr.trim()).toBe("error: invalid value 'soon' for '--timeout': expected more than 0 seconds or a duration like 500ms, 90s, 15m, 1h");
    const zero = await runOcx(["exec", "resume", "--last", "--max-turns", "0", "hi"], { home });
    expect(zero.code).toBe(2);
    expect(zero.stderr.trim()).toBe("error: invalid value '0' for '--max-turns': expected a whole number above 0");
    const config = await runOcx(["exec", "-c", "max_tokens=-5", "hi"], { home });
    expect(config.code).toBe(3);
    expect(config.stderr).toContain("invalid value for `max_tokens`: expected a whole number above 0");
    expect(mock.requests).toHaveLength(0);
  }, T);
});
