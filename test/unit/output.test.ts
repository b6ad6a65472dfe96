import { describe, expect, test } from "bun:test";
import type { CommandExecutionItem, ThreadEvent } from "../../src/core/events.ts";
import { esc, humanProcessor } from "../../src/core/output/human.ts";
import { jsonlProcessor } from "../../src/core/output/jsonl.ts";
import { HoldableOutput, type OutputProcessor, type RunHeader } from "../../src/core/output/processor.ts";
import type { OutputSink } from "../../src/core/runtime.ts";
import { usage } from "../support/usage.ts";

// ---------------------------------------------------------------------------------------------
// Captured sinks and fixtures

interface CapturedSink extends OutputSink {
  chunks: string[];
  text(): string;
  flushes: number;
}

function sink(isTTY = false): CapturedSink {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const s = {
    chunks,
    isTTY,
    flushes: 0,
    write(chunk: string | Uint8Array) {
      chunks.push(typeof chunk === "string" ? chunk : decoder.decode(chunk));
    },
    async flush() {
      s.flushes++;
    },
    text: () => chunks.join(""),
  };
  return s;
}


const HEADER: RunHeader = {
  version: "0.1.0",
  workdir: "/home/dev/ws",
  model: "gpt-5.5",
  provider: "mock",
  sandbox: "read-only",
  reasoningEffort: "none",
  reasoningSummaries: "none",
  sessionId: "01a20bb3-3fe3-74f3-8705-cb4eda599c2d",
  prompt: "say hi",
};

const cmd = (id: string, fields: Partial<CommandExecutionItem> = {}): CommandExecutionItem => ({
  id,
  type: "command_execution",
  command: "/bin/bash -lc 'echo hi; exit 3'",
  aggregated_output: "",
  exit_code: null,
  status: "in_progress",
  ...fields,
});

/** A representative run: every event type, every item type. */
const RUN: ThreadEvent[] = [
  { type: "thread.started", thread_id: "01a20bb3-3fe3-74f3-8705-cb4eda599c2d" },
  { type: "turn.started" },
  { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Planning** the run" } },
  { type: "error", message: "Reconnecting... 1/5 (stream disconnected before completion)" },
  { type: "item.started", item: cmd("item_1") },
  { type: "item.completed", item: cmd("item_1", { aggregated_output: "hi\n", exit_code: 3, status: "failed" }) },
  {
    type: "item.started",
    item: { id: "item_2", type: "file_change", changes: [{ path: "/ws/a.txt", kind: "update" }], status: "in_progress" },
  },
  {
    type: "item.completed",
    item: { id: "item_2", type: "file_change", changes: [{ path: "/ws/a.txt", kind: "update" }], status: "completed" },
  },
  {
    type: "item.completed",
    item: {
      id: "item_3",
      type: "mcp_tool_call",
      server: "demo",
      tool: "echo",
      arguments: { text: "hey" },
      result: { content: [{ type: "text", text: "echo: hey" }], structured_content: { echoed: "hey" } },
      error: null,
      status: "completed",
    },
  },
  { type: "item.started", item: { id: "item_4", type: "todo_list", items: [{ text: "Read", completed: false }] } },
  { type: "item.updated", item: { id: "item_4", type: "todo_list", items: [{ text: "Read", completed: true }] } },
  { type: "item.completed", item: { id: "item_4", type: "todo_list", items: [{ text: "Read", completed: true }] } },
  { type: "item.completed", item: { id: "item_5", type: "error", message: "model metadata not found" } },
  { type: "item.completed", item: { id: "item_6", type: "agent_message", text: "hi" } },
  { type: "turn.completed", usage: usage(200, 40, 14, 6) },
];

/** A fake monotonic clock the test moves by hand. */
function clock(start = 1000) {
  let now = start;
  return { monotonic: () => now, advance: (ms: number) => (now += ms) };
}

function human(opts: { color?: boolean; stdoutTTY?: boolean; stderrTTY?: boolean } = {}) {
  const stdout = sink(opts.stdoutTTY ?? false);
  const stderr = sink(opts.stderrTTY ?? false);
  const c = clock();
  const out = humanProcessor({ stdout, stderr, color: opts.color ?? false, monotonic: c.monotonic });
  return { out, stdout, stderr, clock: c };
}

const lines = (s: CapturedSink) => s.text().split("\n");
const play = (out: OutputProcessor, events: ThreadEvent[]) => {
  for (const e of events) out.emit(e);
};

// ---------------------------------------------------------------------------------------------

describe("jsonl output", () => {
  test("one JSON object per line on stdout, in order, `type` first; nothing on stderr", () => {
    const stdout = sink();
    const stderr = sink();
    const out = jsonlProcessor(stdout, stderr);
    out.header(HEADER);
    play(out, RUN);
    out.finish({ ok: true, lastAgentMessage: "hi" });

    const text = stdout.text();
    expect(text.endsWith("\n")).toBe(true);
    const rows = text.slice(0, -1).split("\n");
    expect(rows).toHaveLength(RUN.length);
    rows.forEach((row, i) => {
      expect(row).not.toContain("\n");
      const parsed = JSON.parse(row);
      expect(parsed).toEqual(RUN[i]);
      expect(Object.keys(parsed)[0]).toBe("type");
      expect(row.startsWith(`{"type":"${RUN[i].type}"`)).toBe(true);
      if (parsed.item) expect(Object.keys(parsed.item).slice(0, 2)).toEqual(["id", "type"]);
    });
    // Each event is one write of one whole line.
    expect(stdout.chunks).toHaveLength(RUN.length);
    for (const chunk of stdout.chunks) expect(chunk.indexOf("\n")).toBe(chunk.length - 1);
    expect(stderr.text()).toBe("");
  });

  test("the header and finish write nothing, even with a final message", () => {
    const stdout = sink();
    const stderr = sink();
    const out = jsonlProcessor(stdout, stderr);
    out.header(HEADER);
    out.finish({ ok: true, lastAgentMessage: "the answer" });
    out.finish({ ok: false });
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toBe("");
  });

  test("exact bytes of a few events", () => {
    const stdout = sink();
    const out = jsonlProcessor(stdout, sink());
    out.emit({ type: "turn.started" });
    out.emit({ type: "item.completed", item: { id: "item_0", type: "agent_message", text: "line1\nline2 \"q\"" } });
    out.emit({ type: "turn.failed", error: { message: "Bad prompt here", code: "model_error" } });
    expect(stdout.text()).toBe(
      '{"type":"turn.started"}\n' +
        '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"line1\\nline2 \\"q\\""}}\n' +
        '{"type":"turn.failed","error":{"message":"Bad prompt here","code":"model_error"}}\n',
    );
  });

  test("warn goes to stderr as `warning: ...`, never to stdout", () => {
    const stdout = sink();
    const stderr = sink();
    const out = jsonlProcessor(stdout, stderr);
    out.warn("This session was recorded with model `a` but is resuming with `b`.");
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toBe("warning: This session was recorded with model `a` but is resuming with `b`.\n");
  });
});

describe("human output: header and final message", () => {
  test("the header goes to stderr: version, workdir, model, provider, approval never, sandbox, session id, user + prompt", () => {
    const { out, stdout, stderr } = human();
    out.header(HEADER);
    expect(stdout.text()).toBe("");
    expect(lines(stderr)).toEqual([
      "ocx v0.1.0",
      "--------",
      "workdir: /home/dev/ws",
      "model: gpt-5.5",
      "provider: mock",
      "approval: never",
      "sandbox: read-only",
      "reasoning effort: none",
      "reasoning summaries: none",
      "session id: 01a20bb3-3fe3-74f3-8705-cb4eda599c2d",
      "--------",
      "user",
      "say hi",
      "",
    ]);
  });

  test("a multi-line prompt is printed as is", () => {
    const { out, stderr } = human();
    out.header({ ...HEADER, prompt: "line one\nline two" });
    expect(stderr.text().endsWith("user\nline one\nline two\n")).toBe(true);
  });

  test("finish(ok, message) writes exactly message + newline to stdout", () => {
    const { out, stdout, stderr } = human();
    out.header(HEADER);
    play(out, RUN);
    const before = stderr.text();
    out.finish({ ok: true, lastAgentMessage: "hi" });
    expect(stdout.text()).toBe("hi\n");
    expect(stdout.chunks).toEqual(["hi\n"]);
    expect(stderr.text()).toBe(before); // nothing more on stderr
  });

  test("a message that already ends with a newline still gets one appended", () => {
    const { out, stdout } = human();
    out.finish({ ok: true, lastAgentMessage: "done\n" });
    expect(stdout.text()).toBe("done\n\n");
  });

  test("the message is printed when only one of stdout and stderr is a TTY", () => {
    for (const [stdoutTTY, stderrTTY] of [
      [true, false],
      [false, true],
    ]) {
      const { out, stdout } = human({ stdoutTTY, stderrTTY });
      out.finish({ ok: true, lastAgentMessage: "msg" });
      expect(stdout.text()).toBe("msg\n");
    }
  });

  test("nothing on stdout when both stdout and stderr are TTYs", () => {
    const { out, stdout } = human({ stdoutTTY: true, stderrTTY: true });
    out.header(HEADER);
    play(out, RUN);
    out.finish({ ok: true, lastAgentMessage: "hi" });
    expect(stdout.text()).toBe("");
  });

  test("nothing on stdout when the turn failed, even with a message", () => {
    const { out, stdout } = human();
    out.finish({ ok: false, lastAgentMessage: "partial" });
    expect(stdout.text()).toBe("");
  });

  test("nothing on stdout with no message", () => {
    const { out, stdout } = human();
    out.header(HEADER);
    play(out, [{ type: "turn.started" }, { type: "turn.completed", usage: usage(1, 0, 1) }]);
    out.finish({ ok: true });
    expect(stdout.text()).toBe("");
  });

  test("events alone never write to stdout", () => {
    const { out, stdout } = human();
    out.header(HEADER);
    play(out, RUN);
    play(out, [{ type: "error", message: "fatal" }, { type: "turn.failed", error: { message: "fatal" } }]);
    out.warn("careful");
    expect(stdout.text()).toBe("");
  });
});

describe("human output: transcript", () => {
  test("tokens used is input - cached + output (reasoning tokens are not added again)", () => {
    const { out, stderr } = human();
    out.emit({ type: "turn.completed", usage: usage(200, 40, 14, 6) });
    expect(stderr.text()).toBe("tokens used\n174\n");
  });

  test("tokens used has thousands separators; a run with a price shows its cost beside it", () => {
    const a = human();
    a.out.emit({ type: "turn.completed", usage: usage(15000, 1500, 260, 26) });
    expect(a.stderr.text()).toBe("tokens used\n13,760\n");
    const b = human();
    b.out.emit({ type: "turn.completed", usage: usage(1_000_000, 500_000, 250_000), run_usage: usage(1_000_000, 500_000, 250_000), model_requests: 1, tool_calls: 0, cost_usd: 3.25 });
    expect(b.stderr.text()).toBe("tokens used\n750,000 ($3.25 this run)\n");
  });

  test("agent messages print under a label, then the text; reasoning prints its text", () => {
    const { out, stderr } = human();
    out.emit({ type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Planning** the run" } });
    out.emit({ type: "item.completed", item: { id: "item_1", type: "agent_message", text: "all\ndone" } });
    expect(lines(stderr)).toEqual(["**Planning** the run", "ocx", "all", "done", ""]);
  });

  test("a successful command prints `exec`, the command in the workdir, ` succeeded in Nms:` and its output", () => {
    const { out, stderr, clock } = human();
    out.header(HEADER);
    const afterHeader = stderr.text().length;
    out.emit({ type: "item.started", item: cmd("item_1", { command: "/bin/bash -lc 'echo hi'" }) });
    clock.advance(183);
    out.emit({
      type: "item.completed",
      item: cmd("item_1", { command: "/bin/bash -lc 'echo hi'", aggregated_output: "hi\n", exit_code: 0, status: "completed" }),
    });
    expect(stderr.text().slice(afterHeader)).toBe(
      "exec\n" + "/bin/bash -lc 'echo hi' in /home/dev/ws\n" + " succeeded in 183ms:\n" + "hi\n",
    );
  });

  test("a failing command prints ` exited N in Nms:`", () => {
    const { out, stderr, clock } = human();
    out.header(HEADER);
    const afterHeader = stderr.text().length;
    out.emit({ type: "item.started", item: cmd("item_1") });
    clock.advance(170);
    out.emit({ type: "item.completed", item: cmd("item_1", { aggregated_output: "hi\n", exit_code: 3, status: "failed" }) });
    expect(stderr.text().slice(afterHeader)).toBe(
      "exec\n" + "/bin/bash -lc 'echo hi; exit 3' in /home/dev/ws\n" + " exited 3 in 170ms:\n" + "hi\n",
    );
  });

  test("a command without an exit code reports (killed); one with no output prints no output line", () => {
    const { out, stderr, clock } = human();
    out.emit({ type: "item.started", item: cmd("item_1") });
    clock.advance(5);
    out.emit({ type: "item.completed", item: cmd("item_1", { exit_code: null, status: "failed" }) });
    expect(lines(stderr).slice(2)).toEqual([" exited (killed) in 5ms:", ""]);
  });

  test("durations are per item, even when commands overlap", () => {
    const { out, stderr, clock } = human();
    out.emit({ type: "item.started", item: cmd("a") });
    clock.advance(100);
    out.emit({ type: "item.started", item: cmd("b") });
    clock.advance(20);
    out.emit({ type: "item.completed", item: cmd("b", { exit_code: 0, status: "completed" }) });
    clock.advance(30);
    out.emit({ type: "item.completed", item: cmd("a", { exit_code: 0, status: "completed" }) });
    const verdicts = lines(stderr).filter((l) => l.startsWith(" succeeded"));
    expect(verdicts).toEqual([" succeeded in 20ms:", " succeeded in 150ms:"]);
  });

  test("item.updated of a command prints nothing", () => {
    const { out, stderr } = human();
    out.emit({ type: "item.updated", item: cmd("item_1", { aggregated_output: "partial" }) });
    expect(stderr.text()).toBe("");
  });

  test("long command output is cut to about 20 lines, keeping head and tail", () => {
    const { out, stderr } = human();
    const output = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
    out.emit({ type: "item.started", item: cmd("item_1") });
    out.emit({ type: "item.completed", item: cmd("item_1", { aggregated_output: output, exit_code: 0, status: "completed" }) });
    const shown = lines(stderr).slice(3, -1); // after exec / command / verdict, before the final ""
    expect(shown.length).toBeGreaterThanOrEqual(18);
    expect(shown.length).toBeLessThanOrEqual(22);
    expect(shown[0]).toBe("line 1");
    expect(shown.at(-1)).toBe("line 100");
    expect(shown.some((l) => /omitted/.test(l) && l.includes("80"))).toBe(true);
    expect(shown).not.toContain("line 50");
  });

  test("output of exactly 20 lines is printed in full", () => {
    const { out, stderr } = human();
    const output = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
    out.emit({ type: "item.started", item: cmd("item_1") });
    out.emit({ type: "item.completed", item: cmd("item_1", { aggregated_output: output, exit_code: 0, status: "completed" }) });
    expect(lines(stderr).slice(3, -1)).toEqual(output.split("\n"));
  });

  test("`Reconnecting...` error events print as warnings; other error events print nothing", () => {
    const { out, stderr } = human();
    out.emit({ type: "error", message: "Reconnecting... 1/5 (stream disconnected before completion)" });
    out.emit({ type: "error", message: "Bad prompt here" });
    expect(stderr.text()).toBe("warning: Reconnecting... 1/5 (stream disconnected before completion)\n");
  });

  test("error items print as warnings", () => {
    const { out, stderr } = human();
    out.emit({ type: "item.completed", item: { id: "item_0", type: "error", message: "model metadata not found" } });
    expect(stderr.text()).toBe("warning: model metadata not found\n");
  });

  test("warn prints `warning: ...` on stderr", () => {
    const { out, stdout, stderr } = human();
    out.warn("something odd");
    expect(stderr.text()).toBe("warning: something odd\n");
    expect(stdout.text()).toBe("");
  });

  test("a fatal error followed by turn.failed prints `ERROR: msg` exactly once", () => {
    const { out, stderr } = human();
    out.emit({ type: "turn.started" });
    out.emit({ type: "error", message: "Bad prompt here" });
    out.emit({ type: "turn.failed", error: { message: "Bad prompt here", code: "model_error" } });
    expect(stderr.text()).toBe("ERROR: Bad prompt here\n");
    expect(stderr.text().split("Bad prompt here")).toHaveLength(2);
  });

  test("lifecycle events without output (thread.started, turn.started) print nothing", () => {
    const { out, stderr } = human();
    out.emit({ type: "thread.started", thread_id: "t" });
    out.emit({ type: "turn.started" });
    expect(stderr.text()).toBe("");
  });

  test("a whole run, color off: the full stderr transcript", () => {
    const { out, stderr, clock } = human();
    out.header(HEADER);
    for (const e of RUN) {
      // Details arrive right before the event of their item, as tools send them.
      if (e.type === "item.completed" && e.item.type === "file_change") {
        out.detail(e.item.id, { kind: "diff", text: () => "--- /ws/a.txt\n+++ /ws/a.txt\n@@ -1,1 +1,1 @@\n-old\n+new" });
      }
      if (e.type === "item.started" && e.item.type === "todo_list") {
        out.detail(e.item.id, { kind: "plan", explanation: "First read", steps: [{ step: "Read", status: "in_progress" }, { step: "Fix", status: "pending" }] });
      }
      out.emit(e);
      clock.advance(10);
    }
    expect(lines(stderr).slice(13)).toEqual([
      "**Planning** the run",
      "warning: Reconnecting... 1/5 (stream disconnected before completion)",
      "exec",
      "/bin/bash -lc 'echo hi; exit 3' in /home/dev/ws",
      " exited 3 in 10ms:",
      "hi",
      "apply patch",
      "patch: completed",
      "M /ws/a.txt",
      "--- /ws/a.txt",
      "+++ /ws/a.txt",
      "@@ -1,1 +1,1 @@",
      "-old",
      "+new",
      "mcp: demo/echo (completed)",
      "echo: hey",
      "First read",
      "  → Read",
      "  • Fix",
      // an update without a detail falls back to the item's own view
      "  ✓ Read",
      "warning: model metadata not found",
      "ocx",
      "hi",
      "tokens used",
      "174",
      "",
    ]);
  });
});

describe("human output: color", () => {
  const everything = (o: ReturnType<typeof human>) => {
    o.out.header(HEADER);
    play(o.out, RUN);
    o.out.emit({ type: "item.started", item: cmd("x") });
    o.out.emit({ type: "item.completed", item: cmd("x", { aggregated_output: "ok\n", exit_code: 0, status: "completed" }) });
    o.out.emit({ type: "turn.failed", error: { message: "boom" } });
    o.out.warn("careful");
    o.out.finish({ ok: true, lastAgentMessage: "hi" });
  };

  test("color off: no escape sequence anywhere", () => {
    const o = human({ color: false });
    everything(o);
    expect(o.stderr.text()).not.toContain("\x1b[");
    expect(o.stdout.text()).not.toContain("\x1b[");
  });

  test("color on: the transcript uses ANSI SGR sequences, each reset; stdout stays plain", () => {
    const o = human({ color: true });
    everything(o);
    const err = o.stderr.text();
    expect(err).toContain("\x1b[");
    const opens = err.match(/\x1b\[[0-9;]*m/g) ?? [];
    const resets = opens.filter((s) => s === "\x1b[0m").length;
    expect(resets).toBeGreaterThan(0);
    expect(resets).toBe(opens.length - resets);
    expect(err).toContain("\x1b[31mERROR: boom\x1b[0m");
    expect(err).toContain("\x1b[32m succeeded in 0ms:\x1b[0m");
    expect(err).toContain("\x1b[31m exited 3 in 0ms:\x1b[0m");
    // Stripped of color, the text is the same as with color off.
    const plain = human({ color: false });
    everything(plain);
    expect(err.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain.stderr.text());
    expect(o.stdout.text()).toBe("hi\n");
  });
});

describe("esc: text for a terminal", () => {
  test("C0/C1 controls and DEL become \\xHH; newlines and tabs stay; CRLF becomes a newline, a lone CR is shown", () => {
    expect(esc("plain\ttext\nnext")).toBe("plain\ttext\nnext");
    expect(esc("\x1b]52;c;eA==\x07")).toBe("\\x1b]52;c;eA==\\x07");
    expect(esc("a\r\nb\rc\x7f\x9b2J\x00")).toBe("a\nb\\x0dc\\x7f\\x9b2J\\x00");
    expect(esc("ünïcödé ✓")).toBe("ünïcödé ✓");
  });
});

describe("held output", () => {
  test("while held nothing is printed; release() prints everything in the order it was given, later calls go straight out", () => {
    const out = sink();
    const err = sink();
    const held = new HoldableOutput(jsonlProcessor(out, err));
    held.emit({ type: "thread.started", thread_id: "t" });
    held.hold();
    held.emit({ type: "turn.started" });
    held.warn("first warning");
    held.emit({ type: "error", message: "e" });
    expect(out.text()).toBe('{"type":"thread.started","thread_id":"t"}\n');
    expect(err.text()).toBe("");
    held.release();
    expect(out.text()).toBe('{"type":"thread.started","thread_id":"t"}\n{"type":"turn.started"}\n{"type":"error","message":"e"}\n');
    expect(err.text()).toContain("first warning");
    held.warn("second");
    expect(err.text()).toContain("second");
  });

  test("a held call that throws does not lose the ones after it; release() then throws its error", () => {
    const out = sink();
    const inner = jsonlProcessor(out, sink());
    let first = true;
    const held = new HoldableOutput({
      ...inner,
      emit: (e) => {
        if (first) {
          first = false;
          throw new Error("broken");
        }
        inner.emit(e);
      },
    });
    held.hold();
    held.emit({ type: "turn.started" });
    held.emit({ type: "thread.started", thread_id: "t" });
    expect(() => held.release()).toThrow("broken");
    expect(out.text()).toBe('{"type":"thread.started","thread_id":"t"}\n');
  });
});
