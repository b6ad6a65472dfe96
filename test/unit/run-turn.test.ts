import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { runTurn, type TurnOptions, type TurnResult } from "../../src/core/agent/run-turn.ts";
import { OcxError } from "../../src/core/errors.ts";
import { type ThreadEvent, type Usage } from "../../src/core/events.ts";
import type { ProcessManager } from "../../src/core/process/process-manager.ts";
import {
  ModelError,
  type ModelClient,
  type ModelRequest,
  type ResponseItem,
  type StreamPart,
} from "../../src/core/model/types.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import type { SandboxPolicy } from "../../src/core/sandbox/policy.ts";
import { defineTool, ToolError, type Tool } from "../../src/core/tools/define-tool.ts";
import { usage } from "../support/usage.ts";

// ---------------------------------------------------------------------------------------------
// Fakes

/** One step of a scripted response: a part to yield, an error to throw, or a pause. */
type Step = StreamPart | ModelError | { wait: Promise<unknown> } | { waitForAbort: true };
/** One scripted model request: its steps, or an error thrown before the first part. */
type Script = Step[] | ModelError;

interface FakeClient extends ModelClient {
  requests: ModelRequest[];
}

function fakeClient(scripts: Script[]): FakeClient {
  const queue = [...scripts];
  const requests: ModelRequest[] = [];
  return {
    requests,
    stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
      // The loop keeps appending to the array it sent; keep what it was at request time.
      requests.push({ ...request, input: structuredClone(request.input) });
      const script = queue.shift();
      return (async function* () {
        if (script === undefined) throw new Error(`unexpected model request #${requests.length}`);
        if (signal.aborted) throw signal.reason;
        if (script instanceof ModelError) throw script;
        for (const step of script) {
          if (step instanceof ModelError) throw step;
          if ("wait" in step) {
            await step.wait;
            continue;
          }
          if ("waitForAbort" in step) {
            await new Promise((_, reject) => {
              if (signal.aborted) reject(signal.reason);
              signal.addEventListener("abort", () => reject(signal.reason), { once: true });
            });
            continue;
          }
          yield step;
        }
      })();
    },
  };
}


const completed = (u: Usage = usage(10, 0, 5)): StreamPart => ({ type: "completed", responseId: "resp", usage: u });

const assistant = (text: string): ResponseItem => ({
  type: "message",
  role: "assistant",
  id: `msg_${text.length}`,
  content: [{ type: "output_text", text }],
});

const reasoning = (summary: string[], extra: Record<string, unknown> = {}): ResponseItem => ({
  type: "reasoning",
  id: "rs_1",
  summary: summary.map((text) => ({ type: "summary_text", text })),
  encrypted_content: "opaque",
  ...extra,
});

const call = (callId: string, name: string, args: unknown): ResponseItem => ({
  type: "function_call",
  id: `fc_${callId}`,
  call_id: callId,
  name,
  arguments: typeof args === "string" ? args : JSON.stringify(args),
});

const done = (item: ResponseItem): StreamPart => ({ type: "item-done", item });

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * A tool whose calls log when they start and end, and finish when the test opens their gate
 * (or after `ms` milliseconds when given).
 */
function gatedTool(name = "work") {
  const log: string[] = [];
  const gates = new Map<string, Deferred>();
  const startedGate = new Map<string, Deferred>();
  const gate = (id: string) => {
    if (!gates.has(id)) gates.set(id, deferred());
    return gates.get(id)!;
  };
  const started = (id: string) => {
    if (!startedGate.has(id)) startedGate.set(id, deferred());
    return startedGate.get(id)!;
  };
  const tool = defineTool({
    name,
    description: "does some work",
    parameters: () => v.object({ id: v.string(), ms: v.optional(v.number()) }),
    jsonSchema: {
      type: "object",
      properties: { id: { type: "string" }, ms: { type: "number" } },
      required: ["id"],
      additionalProperties: false,
    },
    async execute({ id, ms }) {
      log.push(`start ${id}`);
      started(id).resolve();
      if (ms !== undefined) await new Promise((r) => setTimeout(r, ms));
      else await gate(id).promise;
      log.push(`end ${id}`);
      return `done ${id}`;
    },
  });
  return { tool, log, open: (id: string) => gate(id).resolve(), started: (id: string) => started(id).promise };
}

/** A custom tool "apply_patch" that records the raw input it was given and answers "patched". */
function recordingCustomTool() {
  let raw: string | undefined;
  const tool: Tool = {
    name: "apply_patch",
    spec: { type: "custom", name: "apply_patch", description: "patch" },
    async run(input) {
      raw = input;
      return "patched";
    },
  };
  return { tool, got: () => raw };
}

/** A tool whose execute runs the given function. */
function fnTool(name: string, fn: () => Promise<string>): Tool {
  return defineTool({
    name,
    description: name,
    parameters: () => v.object({}),
    jsonSchema: { type: "object", properties: {}, additionalProperties: false },
    execute: fn,
  });
}

const SANDBOX: SandboxPolicy = { mode: "read-only", writableRoots: [], networkAccess: false, bypass: false };
const PROMPT: ResponseItem = { type: "message", role: "user", content: [{ type: "input_text", text: "do it" }] };

interface Harness {
  opts: TurnOptions;
  client: FakeClient;
  events: ThreadEvent[];
  history: ResponseItem[];
  terminateCalls: () => number;
  abort: AbortController;
}

function harness(scripts: Script[], overrides: Partial<TurnOptions> = {}): Harness {
  const client = fakeClient(scripts);
  const events: ThreadEvent[] = [];
  const history: ResponseItem[] = [];
  let terminated = 0;
  const processes = {
    terminateAll: async () => {
      terminated++;
    },
  } as unknown as ProcessManager;
  const abort = new AbortController();
  let n = 0;
  const opts: TurnOptions = {
    runtime: { monotonic: () => performance.now() } as Runtime,
    client,
    model: "gpt-test",
    instructions: "be helpful",
    threadId: "thread-1",
    input: [PROMPT],
    tools: [],
    streamMaxRetries: 3,
    cwd: "/ws",
    shell: "/bin/sh",
    sandbox: SANDBOX,
    env: {},
    processes,
    emit: (e) => events.push(e),
    signal: abort.signal,
    nextItemId: () => `item_${n++}`,
    onHistoryItem: (item) => history.push(item),
    ...overrides,
  };
  return { opts, client, events, history, terminateCalls: () => terminated, abort };
}

const types = (events: ThreadEvent[]) => events.map((e) => e.type);
const outputsOf = (input: ResponseItem[]) =>
  input.filter((i) => i.type === "function_call_output" || i.type === "custom_tool_call_output");
const errorMessages = (events: ThreadEvent[]) =>
  events.flatMap((e) => (e.type === "error" ? [e.message] : []));

function expectFailed(h: Harness, result: TurnResult, exitCode: number, code: string, message: string) {
  expect(result.ok).toBe(false);
  expect(result.error).toBeInstanceOf(OcxError);
  expect(result.error!.exitCode).toBe(exitCode);
  expect(result.error!.message).toBe(message);
  const tail = h.events.slice(-2);
  expect(tail).toEqual([
    { type: "error", message },
    { type: "turn.failed", error: { message, code: code as never } },
  ]);
  expect(types(h.events)).not.toContain("turn.completed");
  expect(h.terminateCalls()).toBe(1);
}

// ---------------------------------------------------------------------------------------------

describe("runTurn: messages and items", () => {
  test("a plain answer: turn.started, agent_message, turn.completed; request carries the turn options", async () => {
    const h = harness([[{ type: "created", responseId: "r1" }, done(assistant("Hi there")), completed(usage(100, 40, 7, 3))]], {
      reasoning: { effort: "low", summary: "auto" },
      textFormat: { type: "json_schema", name: "out" },
    });
    const tool = gatedTool().tool;
    h.opts.tools = [tool];
    const result = await runTurn(h.opts);

    expect(result).toEqual({ ok: true, usage: usage(100, 40, 7, 3), lastAgentMessage: "Hi there" });
    expect(h.events).toEqual([
      { type: "turn.started" },
      { type: "item.completed", item: { id: "item_0", type: "agent_message", text: "Hi there" } },
      { type: "turn.completed", usage: usage(100, 40, 7, 3) },
    ]);
    expect(h.terminateCalls()).toBe(1);
    expect(h.client.requests).toHaveLength(1);
    const req = h.client.requests[0];
    expect(req.model).toBe("gpt-test");
    expect(req.instructions).toBe("be helpful");
    expect(req.threadId).toBe("thread-1");
    expect(req.parallelToolCalls).toBe(true);
    expect(req.input).toEqual([PROMPT]);
    expect(req.tools).toEqual([tool.spec]);
    expect(req.reasoning).toEqual({ effort: "low", summary: "auto" });
    expect(req.textFormat).toEqual({ type: "json_schema", name: "out" });
  });

  test("the caller's input array is not mutated; onHistoryItem sees every appended item", async () => {
    const { tool } = gatedTool();
    const input = [PROMPT];
    const h = harness(
      [[done(call("c1", "work", { id: "a", ms: 1 })), completed()], [done(assistant("ok")), completed()]],
      { tools: [tool], input },
    );
    await runTurn(h.opts);
    expect(input).toEqual([PROMPT]);
    expect(h.history.map((i) => i.type)).toEqual(["function_call", "function_call_output", "message"]);
  });

  test("each assistant message becomes an agent_message with the next item id; lastAgentMessage is the last", async () => {
    const { tool } = gatedTool();
    const h = harness(
      [
        [done(assistant("first")), done(call("c1", "work", { id: "a", ms: 1 })), completed()],
        [done(assistant("second")), done(assistant("third")), completed()],
      ],
      { tools: [tool] },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(result.lastAgentMessage).toBe("third");
    const items = h.events.flatMap((e) => (e.type === "item.completed" ? [e.item] : []));
    expect(items).toEqual([
      { id: "item_0", type: "agent_message", text: "first" },
      { id: "item_1", type: "agent_message", text: "second" },
      { id: "item_2", type: "agent_message", text: "third" },
    ]);
  });

  test("message text joins all text parts", async () => {
    const item: ResponseItem = {
      type: "message",
      role: "assistant",
      content: [
        { type: "output_text", text: "one " },
        { type: "refusal" },
        { type: "output_text", text: "two" },
      ],
    };
    const h = harness([[done(item), completed()]]);
    const result = await runTurn(h.opts);
    expect(result.lastAgentMessage).toBe("one two");
  });

  test("no assistant message: ok with lastAgentMessage undefined", async () => {
    const h = harness([[completed()]]);
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(result.lastAgentMessage).toBeUndefined();
    expect(types(h.events)).toEqual(["turn.started", "turn.completed"]);
  });

  test("a reasoning item with summary text becomes a reasoning item; an empty one emits nothing and takes no id", async () => {
    const h = harness([
      [
        done(reasoning([])),
        done(reasoning(["**Planning** the run", "then acting"])),
        done(reasoning([""])),
        done(assistant("done")),
        completed(),
      ],
    ]);
    const result = await runTurn(h.opts);
    expect(result.lastAgentMessage).toBe("done");
    expect(h.events).toEqual([
      { type: "turn.started" },
      { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Planning** the run\n\nthen acting" } },
      { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "done" } },
      { type: "turn.completed", usage: usage(10, 0, 5) },
    ]);
  });

  test("reasoning without a summary falls back to raw reasoning content", async () => {
    const h = harness([[done(reasoning([], { content: [{ type: "reasoning_text", text: "raw thoughts" }] })), completed()]]);
    await runTurn(h.opts);
    expect(h.events[1]).toEqual({ type: "item.completed", item: { id: "item_0", type: "reasoning", text: "raw thoughts" } });
  });

  test("usage is summed over every request of the turn", async () => {
    const { tool } = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", { id: "a", ms: 1 })), completed(usage(100, 40, 14, 6))],
        [done(call("c2", "work", { id: "b", ms: 1 })), completed(usage(200, 100, 10, 2))],
        [done(assistant("ok")), completed(usage(300, 250, 5, 1))],
      ],
      { tools: [tool] },
    );
    const result = await runTurn(h.opts);
    const total = usage(600, 390, 29, 9);
    expect(result.usage).toEqual(total);
    expect(h.events.at(-1)).toEqual({ type: "turn.completed", usage: total });
  });
});

describe("runTurn: tool calls", () => {
  test("parallel calls start in arrival order, run concurrently, and outputs go back in call order", async () => {
    const g = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", { id: "a" })), done(call("c2", "work", { id: "b" })), completed()],
        [done(assistant("both done")), completed()],
      ],
      { tools: [g.tool] },
    );
    const running = runTurn(h.opts);
    await Promise.all([g.started("a"), g.started("b")]);
    expect(g.log).toEqual(["start a", "start b"]); // both running, neither finished

    g.open("b"); // the second call finishes first
    await tick();
    await tick();
    expect(g.log).toEqual(["start a", "start b", "end b"]);
    // b's output is held back until a's is appended.
    expect(h.history.map((i) => i.type)).toEqual(["function_call", "function_call"]);
    expect(h.client.requests).toHaveLength(1);

    g.open("a");
    const result = await running;
    expect(result.ok).toBe(true);
    expect(result.lastAgentMessage).toBe("both done");
    expect(g.log).toEqual(["start a", "start b", "end b", "end a"]);

    expect(h.client.requests).toHaveLength(2);
    const second = h.client.requests[1].input;
    expect(second.map((i) => [i.type, i.call_id])).toEqual([
      ["message", undefined],
      ["function_call", "c1"],
      ["function_call", "c2"],
      ["function_call_output", "c1"],
      ["function_call_output", "c2"],
    ]);
    expect(outputsOf(second)).toEqual([
      { type: "function_call_output", call_id: "c1", output: "done a" },
      { type: "function_call_output", call_id: "c2", output: "done b" },
    ]);
    expect(h.terminateCalls()).toBe(1);
  });

  test("maxConcurrentCalls bounds the calls running at once; they start in call order and answer in call order", async () => {
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const tool = defineTool({
      name: "work",
      description: "work",
      parameters: () => v.object({ id: v.string() }),
      jsonSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"], additionalProperties: false },
      async execute({ id }) {
        order.push(id);
        running++;
        peak = Math.max(peak, running);
        // Later calls finish first: outputs still go back in call order.
        await new Promise((r) => setTimeout(r, 20 - Number(id) % 5));
        running--;
        return `done ${id}`;
      },
    });
    const ids = Array.from({ length: 20 }, (_, i) => String(i));
    const h = harness(
      [[...ids.map((id) => done(call(`c${id}`, "work", { id }))), completed()], [done(assistant("ok")), completed()]],
      { tools: [tool], maxConcurrentCalls: 3 },
    );
    expect((await runTurn(h.opts)).ok).toBe(true);
    expect(peak).toBe(3);
    expect(order).toEqual(ids);
    expect(outputsOf(h.client.requests[1].input).map((o) => [o.call_id, o.output])).toEqual(ids.map((id) => [`c${id}`, `done ${id}`]));
  });

  test("an exclusive tool (an edit) runs after every earlier call and before every later one", async () => {
    const g = gatedTool();
    const log = g.log;
    const edit = defineTool({
      name: "edit",
      description: "edit",
      parameters: () => v.object({}),
      jsonSchema: { type: "object", properties: {}, additionalProperties: false },
      kind: "exclusive",
      async execute() {
        log.push("edit");
        return "edited";
      },
    });
    const h = harness(
      [
        [
          done(call("c1", "work", { id: "a" })),
          done(call("c2", "work", { id: "b" })),
          done(call("c3", "edit", {})),
          done(call("c4", "work", { id: "c", ms: 1 })),
          completed(),
        ],
        [done(assistant("ok")), completed()],
      ],
      { tools: [g.tool, edit] },
    );
    const running = runTurn(h.opts);
    await Promise.all([g.started("a"), g.started("b")]);
    await tick();
    expect(log).toEqual(["start a", "start b"]);
    g.open("a");
    await tick();
    await tick();
    expect(log).toEqual(["start a", "start b", "end a"]);
    g.open("b");
    expect((await running).ok).toBe(true);
    expect(log).toEqual(["start a", "start b", "end a", "end b", "edit", "start c", "end c"]);
    expect(outputsOf(h.client.requests[1].input).map((o) => o.call_id)).toEqual(["c1", "c2", "c3", "c4"]);
  });

  test("when a call fails the turn, calls still queued never start", async () => {
    const started: string[] = [];
    const tool = defineTool({
      name: "work",
      description: "work",
      parameters: () => v.object({ id: v.string() }),
      jsonSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"], additionalProperties: false },
      async execute({ id }) {
        started.push(id);
        if (id === "0") throw new OcxError("sandbox", "cannot enforce");
        return "ok";
      },
    });
    const h = harness([[...["0", "1", "2", "3"].map((id) => done(call(`c${id}`, "work", { id }))), completed()]], {
      tools: [tool],
      maxConcurrentCalls: 1,
    });
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(false);
    expect(result.error!.exitCode).toBe(5);
    expect(started).toEqual(["0"]);
  });

  test("timer-driven: the slower first call still gets its output appended first", async () => {
    const g = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", { id: "slow", ms: 40 })), done(call("c2", "work", { id: "fast", ms: 1 })), completed()],
        [done(assistant("ok")), completed()],
      ],
      { tools: [g.tool] },
    );
    const t0 = performance.now();
    await runTurn(h.opts);
    const elapsed = performance.now() - t0;
    expect(g.log).toEqual(["start slow", "start fast", "end fast", "end slow"]);
    expect(elapsed).toBeLessThan(40 + 1 + 500); // concurrent, not 41 ms sequentially plus anything big
    expect(outputsOf(h.client.requests[1].input).map((o) => o.call_id)).toEqual(["c1", "c2"]);
  });

  test("a tool call starts while the response is still streaming", async () => {
    const g = gatedTool();
    const gate = deferred();
    const h = harness(
      [
        [done(call("c1", "work", { id: "a", ms: 1 })), { wait: gate.promise }, completed()],
        [done(assistant("ok")), completed()],
      ],
      { tools: [g.tool] },
    );
    const running = runTurn(h.opts);
    await g.started("a");
    expect(g.log).toEqual(["start a"]);
    gate.resolve();
    expect((await running).ok).toBe(true);
  });

  test("an unknown tool is answered `unsupported call: NAME` and the loop continues", async () => {
    const h = harness([
      [done(call("c1", "update_plan", { plan: [] })), completed()],
      [done(assistant("fine")), completed()],
    ]);
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(result.lastAgentMessage).toBe("fine");
    expect(outputsOf(h.client.requests[1].input)).toEqual([
      { type: "function_call_output", call_id: "c1", output: "unsupported call: update_plan" },
    ]);
  });

  test("an unknown custom tool call is answered with a custom_tool_call_output", async () => {
    const h = harness([
      [done({ type: "custom_tool_call", call_id: "c9", name: "apply_patch", input: "*** Begin Patch" }), completed()],
      [done(assistant("ok")), completed()],
    ]);
    await runTurn(h.opts);
    expect(outputsOf(h.client.requests[1].input)).toEqual([
      { type: "custom_tool_call_output", call_id: "c9", output: "unsupported call: apply_patch" },
    ]);
  });

  test("a custom tool gets its raw input, not JSON arguments", async () => {
    const { tool: custom, got } = recordingCustomTool();
    const h = harness(
      [
        [done({ type: "custom_tool_call", call_id: "c9", name: "apply_patch", input: "*** Begin Patch\n" }), completed()],
        [done(assistant("ok")), completed()],
      ],
      { tools: [custom] },
    );
    await runTurn(h.opts);
    expect(got()).toBe("*** Begin Patch\n");
    expect(outputsOf(h.client.requests[1].input)).toEqual([
      { type: "custom_tool_call_output", call_id: "c9", output: "patched" },
    ]);
  });

  test("invalid JSON arguments give a model-readable error output and the loop continues", async () => {
    const g = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", "{not json")), completed()],
        [done(assistant("sorry")), completed()],
      ],
      { tools: [g.tool] },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(g.log).toEqual([]); // execute never ran
    const [out] = outputsOf(h.client.requests[1].input);
    expect(out.call_id).toBe("c1");
    expect(String(out.output)).toStartWith("failed to parse function arguments: ");
  });

  test("arguments failing the schema name the offending field", async () => {
    const g = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", { id: 42 })), completed()],
        [done(assistant("sorry")), completed()],
      ],
      { tools: [g.tool] },
    );
    await runTurn(h.opts);
    expect(g.log).toEqual([]);
    const [out] = outputsOf(h.client.requests[1].input);
    expect(String(out.output)).toStartWith("failed to parse function arguments: id: ");
  });

  test("a ToolError becomes the output verbatim; any other throw becomes `tool NAME failed: msg`", async () => {
    const h = harness(
      [
        [done(call("c1", "refuse", {})), done(call("c2", "crash", {})), completed()],
        [done(assistant("ok")), completed()],
      ],
      {
        tools: [
          fnTool("refuse", async () => {
            throw new ToolError("option not allowed");
          }),
          fnTool("crash", async () => {
            throw new TypeError("boom");
          }),
        ],
      },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(outputsOf(h.client.requests[1].input)).toEqual([
      { type: "function_call_output", call_id: "c1", output: "option not allowed" },
      { type: "function_call_output", call_id: "c2", output: "tool crash failed: boom" },
    ]);
  });

  test("a custom tool called as a JSON function gets the `input` argument", async () => {
    const { tool: custom, got } = recordingCustomTool();
    const h = harness(
      [[done(call("c8", "apply_patch", { input: "*** Begin Patch\n" })), completed()], [done(assistant("ok")), completed()]],
      { tools: [custom] },
    );
    await runTurn(h.opts);
    expect(got()).toBe("*** Begin Patch\n");
    expect(outputsOf(h.client.requests[1].input)).toEqual([{ type: "function_call_output", call_id: "c8", output: "patched" }]);
  });

  test("a tool output of content parts (an image) goes back as the call's output array", async () => {
    const image = [{ type: "input_image" as const, image_url: "data:image/png;base64,AAAA", detail: "high" as const }];
    const tool: Tool = { ...fnTool("look", async () => ""), run: async () => image };
    const h = harness([[done(call("c7", "look", {})), completed()], [done(assistant("seen")), completed()]], { tools: [tool] });
    await runTurn(h.opts);
    expect(outputsOf(h.client.requests[1].input)).toEqual([{ type: "function_call_output", call_id: "c7", output: image }]);
  });

  test("turn-end hooks run once, after the last item and before turn.completed or turn.failed", async () => {
    const hookTool = (name: string): Tool => ({
      ...fnTool(name, async () => ""),
      async run(_raw, ctx) {
        if (!ctx.turn.state.has("seen")) {
          ctx.turn.state.set("seen", true);
          ctx.turn.atEnd(() => ctx.emit({ type: "error", message: "hook" }));
        }
        return "ok";
      },
    });
    const ok = harness(
      [[done(call("c1", "mark", {})), done(call("c2", "mark", {})), completed()], [done(assistant("fine")), completed()]],
      { tools: [hookTool("mark")] },
    );
    await runTurn(ok.opts);
    expect(types(ok.events).slice(-3)).toEqual(["item.completed", "error", "turn.completed"]);
    expect(errorMessages(ok.events)).toEqual(["hook"]);

    const failing = harness(
      [[done(call("c1", "mark", {})), done(call("c2", "boom", {})), completed()]],
      {
        tools: [
          hookTool("mark"),
          fnTool("boom", async () => {
            throw new OcxError("sandbox", "no sandbox");
          }),
        ],
      },
    );
    await runTurn(failing.opts);
    expect(types(failing.events).slice(-3)).toEqual(["error", "error", "turn.failed"]);
    expect(errorMessages(failing.events)).toEqual(["hook", "no sandbox"]);
  });

  test("a tool throwing OcxError('sandbox') fails the turn with exit code 5 and code sandbox_unavailable", async () => {
    const message = "the read-only sandbox is not available in this build of ocx yet";
    const h = harness(
      [[done(call("c1", "exec_command", {})), completed()], [done(assistant("never")), completed()]],
      {
        tools: [
          fnTool("exec_command", async () => {
            throw new OcxError("sandbox", message);
          }),
        ],
      },
    );
    const result = await runTurn(h.opts);
    expectFailed(h, result, 5, "sandbox_unavailable", message);
    expect(result.error!.kind).toBe("sandbox");
    expect(h.client.requests).toHaveLength(1);
    expect(result.usage).toEqual(usage(10, 0, 5));
  });

  test("when one call fails the turn, calls still running are stopped and close their items before turn.failed", async () => {
    const message = "no sandbox here";
    let sawAbort = false;
    const slow = defineTool({
      name: "slow",
      description: "slow",
      parameters: () => v.object({}),
      jsonSchema: { type: "object", properties: {}, additionalProperties: false },
      async execute(_args, ctx) {
        const id = ctx.nextItemId();
        const item = { id, type: "command_execution" as const, command: "sleep", aggregated_output: "", exit_code: null, status: "in_progress" as const };
        ctx.itemStarted(item);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          setTimeout(resolve, 5_000);
        });
        sawAbort = ctx.signal.aborted;
        ctx.itemCompleted({ ...item, exit_code: 143, status: "failed" });
        return "stopped";
      },
    });
    const h = harness([[done(call("c1", "slow", {})), done(call("c2", "deny", {})), completed()]], {
      tools: [
        slow,
        fnTool("deny", async () => {
          throw new OcxError("sandbox", message);
        }),
      ],
    });
    const result = await runTurn(h.opts);
    expectFailed(h, result, 5, "sandbox_unavailable", message);
    expect(sawAbort).toBe(true);
    expect(types(h.events)).toEqual(["turn.started", "item.started", "item.completed", "error", "turn.failed"]);
  });

  test("an interrupt that lands while the final answer completes still fails the turn", async () => {
    const h = harness([[done(assistant("answer")), { wait: Promise.resolve() }, completed()]]);
    h.opts.emit = (e) => {
      h.events.push(e);
      if (e.type === "item.completed") h.abort.abort(new OcxError("sigint", "interrupted by SIGINT"));
    };
    const client = h.opts.client;
    // The fake client ignores the abort once it has started yielding, like a server finishing.
    h.opts.client = {
      stream: (req, _signal) => client.stream(req, new AbortController().signal),
    };
    const result = await runTurn(h.opts);
    expectFailed(h, result, 130, "interrupted", "interrupted by SIGINT");
  });

  test("tools get the turn's context", async () => {
    let seen: Record<string, unknown> | undefined;
    const h = harness([[done(call("c7", "ctx", {})), completed()], [done(assistant("ok")), completed()]], {
      env: { PATH: "/bin" },
    });
    h.opts.tools = [
      defineTool({
        name: "ctx",
        description: "ctx",
        parameters: () => v.object({}),
        jsonSchema: { type: "object" },
        async execute(_args, ctx) {
          seen = { cwd: ctx.cwd, callId: ctx.callId, sandbox: ctx.sandbox, env: ctx.env, signal: ctx.signal };
          ctx.itemStarted({ id: ctx.nextItemId(), type: "command_execution", command: "x", aggregated_output: "", exit_code: null, status: "in_progress" });
          return "ok";
        },
      }),
    ];
    await runTurn(h.opts);
    expect(seen).toEqual({ cwd: "/ws", callId: "c7", sandbox: SANDBOX, env: { PATH: "/bin" }, signal: h.abort.signal });
    expect(h.events[1]).toEqual({
      type: "item.started",
      item: { id: "item_0", type: "command_execution", command: "x", aggregated_output: "", exit_code: null, status: "in_progress" },
    });
    // The agent message after it takes the next id from the same counter.
    expect(h.events.at(-2)).toEqual({ type: "item.completed", item: { id: "item_1", type: "agent_message", text: "ok" } });
  });
});

describe("runTurn: model errors and retries", () => {
  const DISCONNECT = "stream disconnected before completion: stream closed before response.completed";

  test("a retryable error mid-stream after a reasoning item: Reconnecting notice, the item is kept and re-sent, then completes", async () => {
    const kept = reasoning(["**Planning** the run"]);
    const h = harness([
      [done(kept), new ModelError("retryable", DISCONNECT, { retryAfterMs: 1 })],
      [done(assistant("recovered")), completed()],
    ]);
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(result.lastAgentMessage).toBe("recovered");
    expect(h.events).toEqual([
      { type: "turn.started" },
      { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Planning** the run" } },
      { type: "error", message: `Reconnecting... 1/3 (${DISCONNECT}); next attempt in 1 ms` },
      { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "recovered" } },
      { type: "turn.completed", usage: usage(10, 0, 5) },
    ]);
    expect(h.client.requests).toHaveLength(2);
    expect(h.client.requests[1].input).toEqual([PROMPT, kept]);
    expect(h.terminateCalls()).toBe(1);
  });

  test("a call that arrived before a disconnect still runs; its output is re-sent on the retry", async () => {
    const g = gatedTool();
    const h = harness(
      [
        [done(call("c1", "work", { id: "a", ms: 1 })), new ModelError("retryable", "reset", { retryAfterMs: 1 })],
        [done(assistant("ok")), completed()],
      ],
      { tools: [g.tool] },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(g.log).toEqual(["start a", "end a"]);
    expect(h.client.requests[1].input).toEqual([
      PROMPT,
      call("c1", "work", { id: "a", ms: 1 }),
      { type: "function_call_output", call_id: "c1", output: "done a" },
    ]);
  });

  test("retries exhausted: one notice per retry, then error + turn.failed with the last message", async () => {
    const h = harness(
      [
        new ModelError("retryable", "drop 1", { retryAfterMs: 1 }),
        [new ModelError("retryable", "drop 2", { retryAfterMs: 1 })],
        [{ type: "created" }, new ModelError("retryable", "drop 3", { retryAfterMs: 1 })],
      ],
      { streamMaxRetries: 2 },
    );
    const result = await runTurn(h.opts);
    expect(h.client.requests).toHaveLength(3);
    const final = /^the model provider kept failing: 3 requests over \d+ ms, the last one: drop 3; the service may be busy or down, try again later/;
    expect(errorMessages(h.events)).toEqual([
      "Reconnecting... 1/2 (drop 1); next attempt in 1 ms",
      "Reconnecting... 2/2 (drop 2); next attempt in 1 ms",
      expect.stringMatching(final),
    ]);
    expect(result.error?.message).toMatch(final);
    expect([result.error?.exitCode, result.error?.failureCode]).toEqual([1, "model_error"]);
  });

  test("streamMaxRetries 0 means no retry at all", async () => {
    const h = harness([new ModelError("retryable", "drop", { retryAfterMs: 1 })], { streamMaxRetries: 0 });
    const result = await runTurn(h.opts);
    expect(h.client.requests).toHaveLength(1);
    expectFailed(h, result, 1, "model_error", "drop");
  });

  test("the retry budget starts over after a response completes", async () => {
    const { tool } = gatedTool();
    const h = harness(
      [
        [new ModelError("retryable", "drop 1", { retryAfterMs: 1 })],
        [done(call("c1", "work", { id: "a", ms: 1 })), completed()],
        [new ModelError("retryable", "drop 2", { retryAfterMs: 1 })],
        [done(assistant("ok")), completed()],
      ],
      { streamMaxRetries: 1, tools: [tool] },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    expect(errorMessages(h.events)).toEqual(["Reconnecting... 1/1 (drop 1); next attempt in 1 ms", "Reconnecting... 1/1 (drop 2); next attempt in 1 ms"]);
  });

  test("a fatal error fails at once, with no retry", async () => {
    const h = harness([new ModelError("fatal", "Bad prompt here", { status: 400 }), [done(assistant("never")), completed()]]);
    const result = await runTurn(h.opts);
    expect(h.client.requests).toHaveLength(1);
    expect(errorMessages(h.events)).toEqual(["Bad prompt here"]);
    expectFailed(h, result, 1, "model_error", "Bad prompt here");
    expect(result.error!.cause).toBeInstanceOf(ModelError);
  });

  test("a fatal error mid-stream keeps earlier items and lastAgentMessage but fails", async () => {
    const h = harness([[done(assistant("partial")), new ModelError("fatal", "context_length_exceeded")]]);
    const result = await runTurn(h.opts);
    expect(result.lastAgentMessage).toBe("partial");
    expectFailed(h, result, 1, "model_error", "context_length_exceeded");
  });

  test("an auth error maps to exit code 4 and code auth, with no retry", async () => {
    const h = harness([new ModelError("auth", "401 Unauthorized: invalid api key", { status: 401 })]);
    const result = await runTurn(h.opts);
    expect(h.client.requests).toHaveLength(1);
    expectFailed(h, result, 4, "auth", "401 Unauthorized: invalid api key");
    expect(result.error!.kind).toBe("auth");
  });

  test("retryAfterMs is honoured before the next attempt", async () => {
    const h = harness([
      [new ModelError("retryable", "rate limited", { status: 429, retryAfterMs: 30 })],
      [done(assistant("ok")), completed()],
    ]);
    const t0 = performance.now();
    const result = await runTurn(h.opts);
    const elapsed = performance.now() - t0;
    expect(result.ok).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(170); // the server's delay, not the ~200 ms default backoff
  });

  test("a non-ModelError thrown by the client is an internal error: exit 1, code internal", async () => {
    const client: ModelClient = {
      stream() {
        return (async function* () {
          throw new TypeError("kaboom");
        })();
      },
    };
    const h = harness([], { client });
    const result = await runTurn(h.opts);
    expectFailed(h, result, 1, "internal", "internal error: kaboom");
  });
});

describe("runTurn: interrupt", () => {
  test("aborting mid-stream with an OcxError('sigint') ends the turn with exit 130 and code interrupted", async () => {
    const h = harness([[done(assistant("working on it")), { waitForAbort: true }, completed()]]);
    const running = runTurn(h.opts);
    await tick();
    h.abort.abort(new OcxError("sigint", "interrupted by Ctrl-C"));
    const result = await running;
    expectFailed(h, result, 130, "interrupted", "interrupted by Ctrl-C");
    expect(result.lastAgentMessage).toBe("working on it");
    expect(h.client.requests).toHaveLength(1);
  });

  test("an abort that surfaces as a ModelError is not retried and still reports the interrupt", async () => {
    const abortedStream: ModelClient = {
      stream(_req, signal) {
        return (async function* () {
          await new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(new ModelError("retryable", "stream closed")), { once: true }),
          );
        })();
      },
    };
    const h = harness([], { client: abortedStream });
    const running = runTurn(h.opts);
    await tick();
    h.abort.abort(new OcxError("sigint", "interrupted"));
    const result = await running;
    expect(errorMessages(h.events)).toEqual(["interrupted"]);
    expectFailed(h, result, 130, "interrupted", "interrupted");
  });

  test("aborting during the retry sleep ends the turn at once", async () => {
    const h = harness([[new ModelError("retryable", "drop", { retryAfterMs: 10_000 })], [done(assistant("never")), completed()]]);
    const t0 = performance.now();
    const running = runTurn(h.opts);
    await new Promise((r) => setTimeout(r, 20));
    h.abort.abort(new OcxError("sigterm", "terminated"));
    const result = await running;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(errorMessages(h.events)).toEqual(["Reconnecting... 1/3 (drop); next attempt in 10 s", "terminated"]);
    expectFailed(h, result, 143, "interrupted", "terminated");
    expect(h.client.requests).toHaveLength(1);
  });

  test("aborting while a tool runs (the tool honours the signal) fails with the interrupt", async () => {
    const h = harness([[done(call("c1", "wait", {})), completed()], [done(assistant("never")), completed()]]);
    const toolStarted = deferred();
    h.opts.tools = [
      defineTool({
        name: "wait",
        description: "waits for abort",
        parameters: () => v.object({}),
        jsonSchema: { type: "object" },
        execute: (_args, ctx) =>
          new Promise<string>((_, reject) => {
            toolStarted.resolve();
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
          }),
      }),
    ];
    const running = runTurn(h.opts);
    await toolStarted.promise;
    h.abort.abort(new OcxError("sigint", "interrupted"));
    const result = await running;
    expectFailed(h, result, 130, "interrupted", "interrupted");
    expect(h.client.requests).toHaveLength(1);
  });
});

describe("compaction in the turn loop", () => {
  const records: unknown[] = [];
  const compaction = (limit?: number) => ({ limit, remote: false, newItems: 1, onCompacted: (c: unknown) => void records.push(c) });

  test("over the limit after a response: one summarisation request (no tools), then the request goes out even if still large; once per response", async () => {
    records.length = 0;
    const h = harness(
      [
        [done(call("a", "work", {})), completed(usage(1000, 0, 5))],
        [done(assistant("NOTE one")), completed(usage(50, 0, 5))],
        [done(call("b", "work", {})), completed(usage(1000, 0, 5))],
        [done(assistant("NOTE two")), completed(usage(50, 0, 5))],
        [done(assistant("finished")), completed(usage(20, 0, 5))],
      ],
      { tools: [fnTool("work", async () => "ok")], compaction: compaction(100) },
    );
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(true);
    const reqs = h.client.requests;
    expect(reqs.map((r) => r.tools.length)).toEqual([1, 0, 1, 0, 1]);
    expect(reqs[1]!.parallelToolCalls).toBe(false);
    expect(JSON.stringify(reqs[2]!.input)).toContain("NOTE one");
    expect(JSON.stringify(reqs[4]!.input)).toContain("NOTE two");
    expect(JSON.stringify(reqs[4]!.input)).not.toContain("NOTE one");
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ phase: "mid_turn", reason: "context_limit" });
    // Summaries are not items: only the answer is shown.
    expect(h.events.filter((e) => e.type === "item.completed").length).toBe(1);
    expect(result.usage.input_tokens).toBe(1000 + 50 + 1000 + 50 + 20);
  });

  test("without compaction options a context-window error fails the turn as before", async () => {
    const h = harness([[done(call("a", "work", {})), completed()], new ModelError("fatal", "too long", { contextWindow: true })], { tools: [fnTool("work", async () => "ok")] });
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe("too long");
  });

  test("a context-window error with nothing to compact (only the prompt) fails with a clear message", async () => {
    const h = harness([new ModelError("fatal", "too long", { contextWindow: true })], { compaction: compaction() });
    const result = await runTurn(h.opts);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toContain("does not fit the model's context window, and there is nothing ocx can compact");
    expect(h.client.requests).toHaveLength(1);
  });
});
