// The session table under many commands (issue 14): a session is never pruned while a call is
// still waiting on it or before the model has been told its id; a pruned one says why; polls of
// one session run in the order they were asked for.
import { afterEach, describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { spawnBun } from "../../src/adapters/bun-spawn.ts";
import { MAX_SESSIONS, PRUNED_REASON, ProcessManager, UnknownSessionError, type SessionEnd } from "../../src/core/process/process-manager.ts";
import type { Runtime, SpawnOptions } from "../../src/core/runtime.ts";
import { writeStdinTool } from "../../src/core/tools/write-stdin.ts";
import { toolHarness } from "../support/tool-context.ts";

const runtime = {
  spawn: (opts: SpawnOptions) => spawnBun(opts),
  monotonic: () => performance.now(),
} as unknown as Runtime;

const managers: ProcessManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.terminateAll()));
});

function manager(): ProcessManager {
  const m = new ProcessManager(runtime, { killGraceMs: 200 });
  managers.push(m);
  return m;
}

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const sh = (script: string) => ["/bin/sh", "-c", script];

describe("ProcessManager: sessions under load", () => {
  test(`more than ${MAX_SESSIONS} commands polled at once all report their own exit, none is pruned`, async () => {
    const m = manager();
    const ends: SessionEnd[] = [];
    const n = MAX_SESSIONS + 16;
    const polls = Array.from({ length: n }, () => {
      const id = m.start({ argv: sh("sleep 0.3; echo hi; exit 3"), cwd: tmpdir(), env, onEnd: (e) => ends.push(e) });
      return m.poll(id, { yieldTimeMs: 20_000, maxOutputTokens: 100 });
    });
    const results = await Promise.all(polls);
    expect(results.map((r) => [r.running, r.exitCode, r.output])).toEqual(Array.from({ length: n }, () => [false, 3, "hi\n"]));
    expect(ends.filter((e) => e.prunedReason !== undefined)).toEqual([]);
    expect(m.size).toBe(0);
  });

  test("when the table is full, the least recently used session the model knows is ended, and says why", async () => {
    const m = manager();
    const ends = new Map<number, SessionEnd>();
    const ids: number[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) {
      const id = m.start({ argv: sh("sleep 30"), cwd: tmpdir(), env, onEnd: (e) => ends.set(e.sessionId, e) });
      ids.push(id);
      expect((await m.poll(id, { yieldTimeMs: 0, maxOutputTokens: 100 })).running).toBe(true);
    }
    // Returned running, and that answer sent to the model: it knows the ids.
    m.sent();
    const extra = m.start({ argv: sh("echo late"), cwd: tmpdir(), env });
    const oldest = ids[0]!;
    expect(m.has(oldest)).toBe(false);
    expect(m.has(extra)).toBe(true);
    await new Promise<void>((r) => {
      const t = setInterval(() => ends.has(oldest) && (clearInterval(t), r()), 10);
    });
    expect(ends.get(oldest)!.prunedReason).toBe(PRUNED_REASON);
    expect(ends.get(oldest)!.exitCode).toBe(143);
    // The model asking for it learns it was ocx that ended it.
    const err = await m.poll(oldest, { yieldTimeMs: 0, maxOutputTokens: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownSessionError);
    expect(err.pruned).toBe(true);
    const h = toolHarness({ runtime });
    managers.push(h.processes);
    const out = await writeStdinTool.run(JSON.stringify({ session_id: oldest, chars: "x" }), { ...h.ctx, processes: m });
    expect(out).toContain(`session ID ${oldest} was ended by ocx, which keeps at most ${MAX_SESSIONS} commands running`);
    // The one just started is answered normally.
    expect((await m.poll(extra, { yieldTimeMs: 5_000, maxOutputTokens: 100 })).output).toBe("late\n");
  });

  test("a session a call is still polling is never the one pruned, even when it is the least recently used", async () => {
    const m = manager();
    const first = m.start({ argv: sh("sleep 30"), cwd: tmpdir(), env });
    await m.poll(first, { yieldTimeMs: 0, maxOutputTokens: 100 });
    m.sent();
    // A call waits on it (a write_stdin with a long yield), from before all the others were used.
    const waiting = m.poll(first, { yieldTimeMs: 20_000, maxOutputTokens: 100 });
    const others: number[] = [];
    for (let i = 1; i < MAX_SESSIONS; i++) {
      const id = m.start({ argv: sh("sleep 30"), cwd: tmpdir(), env });
      others.push(id);
      await m.poll(id, { yieldTimeMs: 0, maxOutputTokens: 100 });
    }
    m.sent();
    m.start({ argv: sh("true"), cwd: tmpdir(), env });
    expect(m.has(first)).toBe(true);
    expect(m.has(others[0]!)).toBe(false);
    await m.terminate(first);
    expect(await waiting).toMatchObject({ running: false, exitCode: 143 });
  });

  test("sessions answered as running in the response not yet sent to the model are never pruned", async () => {
    const m = manager();
    const ids: number[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) {
      const id = m.start({ argv: sh("sleep 30"), cwd: tmpdir(), env });
      ids.push(id);
      await m.poll(id, { yieldTimeMs: 0, maxOutputTokens: 100 });
    }
    // Same response: the table grows past the limit rather than ending one.
    const extra = m.start({ argv: sh("sleep 30"), cwd: tmpdir(), env });
    expect(ids.every((id) => m.has(id))).toBe(true);
    expect(m.size).toBe(MAX_SESSIONS + 1);
    await m.poll(extra, { yieldTimeMs: 0, maxOutputTokens: 100 });
    // Once the answers are sent, the least recently used goes when the next one starts.
    m.sent();
    m.start({ argv: sh("true"), cwd: tmpdir(), env });
    expect(m.has(ids[0]!)).toBe(false);
    expect(m.has(ids[1]!)).toBe(true);
  });

  test("polls of one session run in the order they were asked for", async () => {
    const m = manager();
    const id = m.start({ argv: sh("read line; echo got $line"), cwd: tmpdir(), env });
    // The first poll (the command's own) yields before the input the second one writes.
    const first = m.poll(id, { yieldTimeMs: 300, maxOutputTokens: 100 });
    const second = m.poll(id, { chars: "hello\n", yieldTimeMs: 5_000, maxOutputTokens: 100 });
    // A third one, queued behind the poll that reports the exit, finds the session gone.
    const third = m.poll(id, { yieldTimeMs: 0, maxOutputTokens: 100 }).catch((e) => e);
    const a = await first;
    expect([a.running, a.output]).toEqual([true, ""]);
    const b = await second;
    expect([b.running, b.exitCode, b.output]).toEqual([false, 0, "got hello\n"]);
    const c = await third;
    expect(c).toBeInstanceOf(UnknownSessionError);
    expect(c.pruned).toBe(false);
  });
});

describe("ProcessManager: a command that prints a lot", () => {
  test("40 MB of `yes`: every line counted, head and tail kept, interleaved stderr in place, the item's output bounded", async () => {
    const m = manager();
    let end: SessionEnd | undefined;
    const id = m.start({
      argv: sh("echo start >&2; yes | head -c 40000000; echo done >&2"),
      cwd: tmpdir(),
      env,
      onEnd: (e) => (end = e),
    });
    const r = await m.poll(id, { yieldTimeMs: 30_000, maxOutputTokens: 100 });
    expect([r.running, r.exitCode, r.originalTokenCount]).toEqual([false, 0, 10_000_003]);
    expect(r.output.startsWith("Total output lines: 20000002\n\nstart\ny\ny\n")).toBe(true);
    expect(r.output.endsWith("y\ny\ndone\n")).toBe(true);
    expect(r.output).toContain("tokens truncated");
    expect(end!.aggregatedOutput.startsWith("start\ny\n")).toBe(true);
    expect(end!.aggregatedOutput.endsWith("y\ndone\n")).toBe(true);
    expect(end!.aggregatedOutput.length).toBeLessThan(140 * 1024);
  });
});
