// End-to-end tests of how the tool calls of one response are scheduled (issue 14): many
// commands at once run a bounded number at a time and all report their own exit codes and
// output, in call order; an edit waits for the commands before it; descriptors stay bounded
// under a low `ulimit -n`; no command outlives the run.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { callOutput, customToolCall, execCommand, functionCall, inputItems, reply, sse, turn } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, items, join, ocxBin, readFileSync, runOcx, useMockServers, waitFor } from "./harness.ts";

const setup = useMockServers();
afterAll(() => cleanupTemp());

const JSON_ = ["exec", "--json", "--color", "never", "--skip-git-repo-check"];

/** Pids of processes (other than this test's) whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The exit code and output the model was told for one exec_command call. */
function execAnswer(body: any, callId: string): { code: number | undefined; output: string | undefined; text: string } {
  const text = callOutput(body, callId) ?? "";
  const code = text.match(/^Process exited with code (-?\d+)$/m)?.[1];
  const output = text.split("\nOutput:\n")[1];
  return { code: code === undefined ? undefined : Number(code), output, text };
}

/**
 * One response with `n` exec_command calls, call i printing "<marker> <i>" and exiting i % 7
 * (after `sleep` seconds when given: started all at once, that many would overflow the session table),
 * then a final answer. Returns the run and what the model was sent back.
 */
async function manyCalls(
  n: number,
  opts: { args?: string[]; command?: (bin: string) => string[]; timeoutMs: number; sleep?: string },
) {
  const marker = `ocx-calls-${Math.random().toString(36).slice(2, 10)}`;
  const calls = Array.from({ length: n }, (_, i) =>
    execCommand(`${opts.sleep ? `sleep ${opts.sleep}; ` : ""}echo ${marker} ${i}; exit ${i % 7}`, { yield_time_ms: 30_000 }, `call_${i}`),
  );
  const { mock, home } = await setup([sse(turn(calls)), reply("all done")]);
  const args = [...JSON_, ...(opts.args ?? []), "run them"];
  const t0 = performance.now();
  const r = await runOcx(args, { home, timeoutMs: opts.timeoutMs, ...(opts.command ? { command: opts.command(ocxBin()) } : {}) });
  const seconds = (performance.now() - t0) / 1000;
  return { r, mock, marker, seconds };
}

function expectAllAnswered(body: any, n: number, marker: string) {
  const outputs = inputItems(body, "function_call_output");
  // Every call answered, in call order.
  expect(outputs.map((o: any) => o.call_id)).toEqual(Array.from({ length: n }, (_, i) => `call_${i}`));
  const wrong: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = execAnswer(body, `call_${i}`);
    if (a.code !== i % 7 || a.output !== `${marker} ${i}\n`) wrong.push(`call_${i}: ${a.text.slice(0, 200)}`);
  }
  expect(wrong).toEqual([]);
}

describe("tool-call scheduling", () => {
  test(
    "200 commands in one response all complete with their own exit codes and outputs, in call order; none is left",
    async () => {
      const { r, mock, marker, seconds } = await manyCalls(200, { timeoutMs: 120_000, sleep: "0.1" });
      expect(r.stderr.replace("Reading additional input from stdin...\n", "")).toBe("");
      expect(r.code).toBe(0);
      expect(checkEventStream(r.events)).toEqual([]);
      expect(mock.requests).toHaveLength(2);
      expectAllAnswered(mock.requests[1]!.body, 200, marker);
      // Each command's item carries its own exit code, none was killed (143).
      const done = items(r.events, "item.completed", "command_execution");
      expect(done).toHaveLength(200);
      expect(done.map((i) => i.exit_code).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i % 7).sort((a, b) => a - b));
      await waitFor(() => processesWith(marker).length === 0, 5_000, "no command left").catch(() => {});
      expect(processesWith(marker)).toEqual([]);
      console.log(`200 calls: ${seconds.toFixed(1)} s`);
    },
    150_000,
  );

  test(
    "a command that creates a file, then an apply_patch updating it in the same response: the patch sees the file",
    async () => {
      const patch = ["*** Begin Patch", "*** Update File: made.txt", "@@", "-one", "+two", "*** End Patch", ""].join("\n");
      const heredoc = `apply_patch <<'EOF'\n${["*** Begin Patch", "*** Update File: made.txt", "@@", "-two", "+three", "*** End Patch"].join("\n")}\nEOF\n`;
      const { mock, home } = await setup([
        sse(
          turn([
            // Slow enough that a patch started at once would find nothing.
            execCommand("sleep 0.5; printf 'one\\n' > made.txt", {}, "make"),
            customToolCall("apply_patch", patch, "patch"),
            // The heredoc form through exec_command is an edit too.
            execCommand(heredoc, {}, "heredoc"),
            execCommand("cat made.txt", {}, "read"),
          ]),
        ),
        reply("done"),
      ]);
      const r = await runOcx([...JSON_, "--sandbox", "workspace-write", "edit"], { home, timeoutMs: 30_000 });
      expect(r.code).toBe(0);
      const body = mock.requests[1]!.body;
      const custom = inputItems(body, "custom_tool_call_output").find((i: any) => i.call_id === "patch");
      expect(String(custom?.output)).toContain("Success. Updated the following files:\nM made.txt");
      expect(callOutput(body, "heredoc")).toContain("Success. Updated the following files:\nM made.txt");
      expect(execAnswer(body, "read").output).toBe("three\n");
      expect(items(r.events, "item.completed", "file_change").map((i) => i.status)).toEqual(["completed", "completed"]);
    },
    40_000,
  );

  test(
    "write_stdin to a session started earlier in the same response finds it, and its poll follows the command's",
    async () => {
      const { mock, home } = await setup([
        sse(
          turn([
            execCommand("read line; echo got $line", { yield_time_ms: 250 }, "cmd"),
            functionCall("write_stdin", { session_id: 1000, chars: "hello\n", yield_time_ms: 5_000 }, "feed"),
          ]),
        ),
        reply("done"),
      ]);
      const r = await runOcx([...JSON_, "go"], { home, timeoutMs: 30_000 });
      expect(r.code).toBe(0);
      const body = mock.requests[1]!.body;
      expect(callOutput(body, "cmd")).toContain("Process running with session ID 1000");
      const fed = execAnswer(body, "feed");
      expect(fed.code).toBe(0);
      expect(fed.output).toBe("got hello\n");
    },
    40_000,
  );

  test("max_concurrent_tool_calls is a known key (passes --strict-config); 0 is refused with exit 3", async () => {
    const { home } = await setup([sse(turn([execCommand("echo hi", {}, "c")])), reply("ok")]);
    const ok = await runOcx([...JSON_, "--strict-config", "-c", "max_concurrent_tool_calls=2", "go"], { home, timeoutMs: 30_000 });
    expect(ok.code).toBe(0);
    const bad = await runOcx([...JSON_, "-c", "max_concurrent_tool_calls=0", "go"], { home, timeoutMs: 30_000 });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("max_concurrent_tool_calls");
  }, 40_000);

  test(
    "70 commands left running in one response are all answered as running sessions, none ended by the session limit",
    async () => {
      const marker = `ocx-calls-${Math.random().toString(36).slice(2, 10)}`;
      const calls = Array.from({ length: 70 }, (_, i) => execCommand(`echo ${marker} ${i}; sleep 30`, { yield_time_ms: 250 }, `call_${i}`));
      const { mock, home } = await setup([sse(turn(calls)), reply("leaving them")]);
      const r = await runOcx([...JSON_, "go"], { home, timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain("ended by ocx");
      const body = mock.requests[1]!.body;
      const notRunning = calls.map((_, i) => `call_${i}`).filter((id) => !/Process running with session ID \d+/.test(callOutput(body, id) ?? ""));
      expect(notRunning).toEqual([]);
      // The turn's end stopped them all.
      await waitFor(() => processesWith(marker).length === 0, 5_000, "no command left").catch(() => {});
      expect(processesWith(marker)).toEqual([]);
    },
    70_000,
  );

  test(
    "an interrupt while calls are queued: queued calls never start, running ones are stopped and closed, exit 130, nothing left",
    async () => {
      const marker = `ocx-calls-${Math.random().toString(36).slice(2, 10)}`;
      const calls = Array.from({ length: 400 }, (_, i) => execCommand(`echo ${marker} ${i}; sleep 30`, {}, `call_${i}`));
      const { mock, home } = await setup([sse(turn(calls)), reply("unreachable")]);
      const r = await runOcx([...JSON_, "go"], {
        home,
        timeoutMs: 60_000,
        signalAfter: { after: async () => (await mock.waitForRequests(1), await Bun.sleep(800)) },
      });
      expect(r.code).toBe(130);
      expect(checkEventStream(r.events)).toEqual([]);
      expect(r.events!.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
      const started = items(r.events, "item.started", "command_execution");
      // At most the bound ran; the rest never started.
      expect(started.length).toBeGreaterThan(0);
      expect(started.length).toBeLessThanOrEqual(8);
      expect(mock.requests).toHaveLength(1);
      await waitFor(() => processesWith(marker).length === 0, 5_000, "no command left").catch(() => {});
      expect(processesWith(marker)).toEqual([]);
    },
    70_000,
  );

  const BIG = Number(process.env.OCX_E2E_MANY_CALLS ?? 2_000);
  test(
    `${BIG} trivial commands in one response complete under ulimit -n 1024`,
    async () => {
      const { r, mock, marker, seconds } = await manyCalls(BIG, {
        timeoutMs: 600_000,
        args: ["--sandbox", "danger-full-access"],
        command: (bin) => ["sh", "-c", `ulimit -n 1024 && exec "$0" "$@"`, bin],
      });
      expect(r.stderr.replace("Reading additional input from stdin...\n", "")).toBe("");
      expect(r.code).toBe(0);
      expectAllAnswered(mock.requests[1]!.body, BIG, marker);
      expect(processesWith(marker)).toEqual([]);
      console.log(`${BIG} calls under ulimit -n 1024: ${seconds.toFixed(1)} s`);
    },
    660_000,
  );
});
