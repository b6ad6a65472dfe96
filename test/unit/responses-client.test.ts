import { describe, expect, test } from "bun:test";
import { createResponsesClient, IGNORED_EVENTS, toStreamPart, type ResponsesClientOptions } from "../../src/core/model/responses.ts";
import { bearer } from "../../src/core/auth/credentials.ts";
import { ModelError, type ModelRequest, type ProviderInfo, type StreamPart } from "../../src/core/model/types.ts";

// ---------------------------------------------------------------------------------------------
// fixtures

const API_KEY = "sk-test-SECRET-123";

const provider = (over: Partial<ProviderInfo> = {}): ProviderInfo => ({
  id: "mock",
  name: "Mock",
  baseUrl: "http://127.0.0.1:9/v1",
  wireApi: "responses",
  auth: bearer(API_KEY),
  headers: { "x-provider": "p", "x-both": "provider" },
  queryParams: {},
  requestMaxRetries: 4,
  streamMaxRetries: 5,
  streamIdleTimeoutMs: 2000,
  ...over,
});

const URL_ = "http://127.0.0.1:9/v1/responses";

const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
  model: "gpt-5.5",
  instructions: "",
  input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "say hi" }] }],
  tools: [{ type: "function", name: "exec_command", description: "run", strict: false, parameters: { type: "object" } }],
  parallelToolCalls: true,
  threadId: "thread-1",
  reasoning: { effort: "medium" },
  ...over,
});

interface Call {
  url: string;
  method?: string;
  headers: Headers;
  body: Record<string, unknown>;
  signal?: AbortSignal | null;
}

type Responder = (call: Call) => Response | Promise<Response>;

/** A fake fetch: each call takes the next responder (the last one repeats). */
function fakeFetch(...responders: Responder[]) {
  const calls: Call[] = [];
  const fn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method,
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)),
      signal: init?.signal,
    };
    calls.push(call);
    const responder = responders[Math.min(calls.length - 1, responders.length - 1)];
    return responder(call);
  };
  return { fetch: fn as unknown as typeof fetch, calls };
}

const enc = new TextEncoder();
const frame = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

interface BodyControl {
  cancelled: boolean;
  stream: ReadableStream<Uint8Array>;
}

/** An SSE body: the given chunks, then close / hang / error. */
function sseBody(chunks: string[], end: "close" | "hang" | Error = "close"): BodyControl {
  const ctl: BodyControl = { cancelled: false, stream: undefined as unknown as ReadableStream<Uint8Array> };
  let i = 0;
  ctl.stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        controller.enqueue(enc.encode(chunks[i++]));
        return;
      }
      if (end === "close") controller.close();
      else if (end instanceof Error) controller.error(end);
      else return new Promise<void>(() => {}); // never more bytes
    },
    cancel() {
      ctl.cancelled = true;
    },
  });
  return ctl;
}

const sseResponse = (body: BodyControl | string[]) =>
  new Response(Array.isArray(body) ? sseBody(body).stream : body.stream, {
    status: 200,
    headers: { "content-type": "text/event-stream" },
  });

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

const created = frame({ type: "response.created", response: { id: "resp_1" } });
const completed = (usage?: unknown) =>
  frame({ type: "response.completed", response: { id: "resp_1", ...(usage ? { usage } : {}) } });
const failed = (error: unknown) => frame({ type: "response.failed", response: { id: "resp_1", error } });

function client(fetch: typeof globalThis.fetch, over: Partial<ResponsesClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = createResponsesClient({
    fetch,
    provider: provider(),
    headers: { "x-extra": "e", "x-both": "client" },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...over,
  });
  return { client: c, sleeps };
}

/** Runs one stream to its end: the parts received and the error thrown, if any. */
async function run(c: ReturnType<typeof createResponsesClient>, req = request(), signal = new AbortController().signal) {
  const parts: StreamPart[] = [];
  try {
    for await (const part of c.stream(req, signal)) parts.push(part);
    return { parts, error: undefined as unknown };
  } catch (error) {
    return { parts, error };
  }
}

function modelError(e: unknown): ModelError {
  expect(e).toBeInstanceOf(ModelError);
  return e as ModelError;
}

// ---------------------------------------------------------------------------------------------

describe("request", () => {
  test("body shape and key order", async () => {
    const f = fakeFetch(() => sseResponse([created, completed()]));
    await run(client(f.fetch).client);
    expect(f.calls).toHaveLength(1);
    const body = f.calls[0].body;
    expect(Object.keys(body)).toEqual([
      "model",
      "input",
      "tools",
      "tool_choice",
      "parallel_tool_calls",
      "reasoning",
      "store",
      "stream",
      "include",
      "prompt_cache_key",
    ]);
    expect(body).toEqual({
      model: "gpt-5.5",
      input: request().input,
      tools: request().tools,
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { effort: "medium" },
      store: false,
      stream: true,
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "thread-1",
    });
  });

  test("instructions and text.format when set; no reasoning/include when reasoning is unset", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    const format = { type: "json_schema", strict: true, schema: { type: "object" }, name: "codex_output_schema" };
    await run(
      client(f.fetch).client,
      request({ instructions: "be brief", reasoning: undefined, textFormat: format, parallelToolCalls: false }),
    );
    const body = f.calls[0].body;
    expect(Object.keys(body)).toEqual([
      "model",
      "instructions",
      "input",
      "tools",
      "tool_choice",
      "parallel_tool_calls",
      "store",
      "stream",
      "prompt_cache_key",
      "text",
    ]);
    expect(body.instructions).toBe("be brief");
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.text).toEqual({ format });
  });

  test("model_verbosity goes in text.verbosity, beside a format", () => {
    const { buildResponsesBody } = require("../../src/core/model/responses.ts");
    expect(buildResponsesBody(request({ verbosity: "low" })).text).toEqual({ verbosity: "low" });
    const format = { type: "json_schema", name: "o", strict: true, schema: {} };
    expect(buildResponsesBody(request({ verbosity: "high", textFormat: format })).text).toEqual({ format, verbosity: "high" });
    expect("text" in buildResponsesBody(request())).toBe(false);
  });

  test("URL, method and headers", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    const c = client(f.fetch, { provider: provider({ baseUrl: "http://h/v1/", queryParams: { "api-version": "2025-04-01" } }) });
    await run(c.client);
    const call = f.calls[0];
    expect(call.url).toBe("http://h/v1/responses?api-version=2025-04-01");
    expect(call.method).toBe("POST");
    expect(call.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
    expect(call.headers.get("content-type")).toBe("application/json");
    expect(call.headers.get("accept")).toBe("text/event-stream");
    expect(call.headers.get("x-provider")).toBe("p");
    expect(call.headers.get("x-extra")).toBe("e");
    expect(call.headers.get("x-both")).toBe("client");
  });

  test("no authorization header without an API key", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    await run(client(f.fetch, { provider: provider({ auth: undefined }) }).client);
    expect(f.calls[0].headers.has("authorization")).toBe(false);
  });

  test("a 401 asks the credentials to recover, then resends with the new headers; at most twice", async () => {
    let token = "t0";
    let recoveries = 0;
    const auth = {
      headers: async () => ({ authorization: `Bearer ${token}` }),
      recover: async () => ((token = `t${++recoveries}`), true),
      secrets: () => ["t0-secret-value"],
    };
    const unauthorized = () => new Response(JSON.stringify({ error: { message: "bad token t0-secret-value" } }), { status: 401 });
    const f = fakeFetch(unauthorized, () => sseResponse([completed()]));
    const ok = await run(client(f.fetch, { provider: provider({ auth }) }).client);
    expect(ok.error).toBeUndefined();
    expect(f.calls.map((c) => c.headers.get("authorization"))).toEqual(["Bearer t0", "Bearer t1"]);

    const always = fakeFetch(unauthorized);
    const failed = await run(client(always.fetch, { provider: provider({ auth }) }).client);
    expect(always.calls.length).toBe(3); // the first try and two recoveries
    expect((failed.error as ModelError).kind).toBe("auth");
    expect((failed.error as ModelError).message).not.toContain("t0-secret-value");
    expect((failed.error as ModelError).message).toContain("[REDACTED]");
  });

  test("static keys are not retried on 401", async () => {
    const f = fakeFetch(() => new Response("{}", { status: 401 }));
    const r = await run(client(f.fetch).client);
    expect(f.calls.length).toBe(1);
    expect((r.error as ModelError).kind).toBe("auth");
  });

  test("the caller's signal reaches fetch", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    const ac = new AbortController();
    await run(client(f.fetch).client, request(), ac.signal);
    const seen = f.calls[0].signal as AbortSignal;
    expect(seen.aborted).toBe(false);
    ac.abort(new Error("stop"));
    expect([seen.aborted, (seen.reason as Error).message]).toEqual([true, "stop"]);
  });

  test("response headers are due within the idle timeout: a silent server is a transport error, retried", async () => {
    const f = fakeFetch((call) => new Promise<Response>((_, reject) => call.signal!.addEventListener("abort", () => reject(call.signal!.reason))));
    const c = client(f.fetch, { provider: provider({ requestMaxRetries: 1, streamIdleTimeoutMs: 20 }) });
    const e = modelError((await run(c.client)).error);
    expect(f.calls).toHaveLength(2);
    expect([e.kind, e.requests, e.message]).toEqual(["retryable", 2, `error sending request for url (${URL_}): no response within 20 ms (stream_idle_timeout_ms)`]);
  });
});

describe("stream parts", () => {
  test("maps events to parts, skips what it cannot use, and stops at response.completed", async () => {
    const item = { type: "function_call", id: "fc_1", call_id: "call_1", name: "exec_command", arguments: "{}", extra: 1 };
    const body = sseBody([
      ": keepalive\n\n",
      created,
      frame({ type: "response.in_progress", response: {} }),
      frame({ type: "response.output_text.delta", delta: "Hel" }),
      frame({ type: "response.output_text.delta", delta: "lo" }, "response.output_text.delta"),
      frame("not json"),
      frame({ type: "response.reasoning_summary_text.delta", delta: "think", summary_index: 0 }),
      frame({ type: "response.reasoning_text.delta", delta: "raw", content_index: 0 }),
      frame({ type: "response.output_item.done" }),
      frame({ type: "response.output_item.done", item: "nope" }),
      frame({ type: "response.output_item.done", item: { id: "x" } }),
      frame({ type: "response.output_item.done", item }),
      completed({
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 40 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 120,
      }),
      frame({ type: "response.output_text.delta", delta: "after completed" }),
    ], "hang");
    const f = fakeFetch(() => sseResponse(body));
    const { parts, error } = await run(client(f.fetch).client);
    expect(error).toBeUndefined();
    expect(parts).toEqual([
      { type: "created", responseId: "resp_1" },
      { type: "item-done", item },
      {
        type: "completed",
        responseId: "resp_1",
        usage: {
          input_tokens: 100,
          cached_input_tokens: 40,
          cache_write_input_tokens: 0,
          output_tokens: 20,
          reasoning_output_tokens: 5,
        },
      },
    ]);
    await Bun.sleep(0);
    expect(body.cancelled).toBe(true);
  });

  test("missing usage maps to zeros", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    const { parts } = await run(client(f.fetch).client);
    expect(parts).toEqual([
      {
        type: "completed",
        responseId: "resp_1",
        usage: { input_tokens: 0, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0 },
      },
    ]);
  });

  test("a multi-byte character split across body chunks survives", async () => {
    const item = { type: "message", role: "assistant", content: [{ type: "output_text", text: "héllo 😀" }] };
    const bytes = enc.encode(frame({ type: "response.output_item.done", item }, "response.output_item.done") + completed());
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const f = fakeFetch(() => new Response(stream, { status: 200, headers: { "content-type": "text/event-stream" } }));
    const { parts } = await run(client(f.fetch).client);
    expect(parts[0]).toEqual({ type: "item-done", item });
  });
});

describe("request-level retries", () => {
  test("5xx then success: retried with backoff, one stream", async () => {
    const f = fakeFetch(
      () => jsonResponse(503, { error: { message: "busy" } }),
      () => jsonResponse(502, "bad gateway"),
      () => sseResponse([created, completed()]),
    );
    const c = client(f.fetch);
    const { parts, error } = await run(c.client);
    expect(error).toBeUndefined();
    expect(f.calls).toHaveLength(3);
    expect(c.sleeps).toEqual([200, 400]);
    expect(parts.map((p) => p.type)).toEqual(["created", "completed"]);
  });

  test("5xx exhausted after requestMaxRetries + 1 attempts", async () => {
    const f = fakeFetch(() => jsonResponse(503, { error: { message: "The server is overloaded" } }));
    const c = client(f.fetch, { provider: provider({ requestMaxRetries: 2 }) });
    const { error } = await run(c.client);
    expect(f.calls).toHaveLength(3);
    expect(c.sleeps).toEqual([200, 400]);
    const e = modelError(error);
    // request-level retries spent: the stream level decides, knowing how many requests it took
    expect([e.kind, e.requests]).toEqual(["retryable", 3]);
    expect(e.status).toBe(503);
    expect(e.message).toBe(`unexpected status 503 Service Unavailable: The server is overloaded, url: ${URL_}`);
  });

  test("a non-JSON 5xx body is used raw; 500 reads like any other status", async () => {
    const f = fakeFetch(() => new Response("upstream exploded", { status: 504 }));
    const e = modelError((await run(client(f.fetch, { provider: provider({ requestMaxRetries: 0 }) }).client)).error);
    expect(e.message).toBe(`unexpected status 504 Gateway Timeout: upstream exploded, url: ${URL_}`);

    const f500 = fakeFetch(() => jsonResponse(500, { error: { message: "oops" } }));
    const c500 = client(f500.fetch, { provider: provider({ requestMaxRetries: 1 }) });
    const e500 = modelError((await run(c500.client)).error);
    expect(f500.calls).toHaveLength(2);
    expect(e500.kind).toBe("retryable");
    expect(e500.message).toBe(`unexpected status 500 Internal Server Error: oops, url: ${URL_}`);
  });

  test("transport errors are retried, then reported with the URL and cause", async () => {
    let n = 0;
    const ok = fakeFetch(() => {
      if (n++ < 2) throw new TypeError("connect ECONNREFUSED 127.0.0.1:9");
      return sseResponse([completed()]);
    });
    const c = client(ok.fetch);
    expect((await run(c.client)).error).toBeUndefined();
    expect(ok.calls).toHaveLength(3);
    expect(c.sleeps).toEqual([200, 400]);

    const bad = fakeFetch(() => Promise.reject(new TypeError("connect ECONNREFUSED 127.0.0.1:9")));
    const c2 = client(bad.fetch);
    const e = modelError((await run(c2.client)).error);
    expect(bad.calls).toHaveLength(5);
    expect(c2.sleeps).toEqual([200, 400, 800, 1600]);
    expect([e.kind, e.requests]).toEqual(["retryable", 5]);
    expect(e.message).toBe(`error sending request for url (${URL_}): connect ECONNREFUSED 127.0.0.1:9`);
  });

  test("the default sleep really waits (jittered backoff)", async () => {
    const f = fakeFetch(
      () => jsonResponse(503, {}),
      () => sseResponse([completed()]),
    );
    const c = createResponsesClient({ fetch: f.fetch, provider: provider(), headers: {}, random: () => 0 });
    const start = performance.now();
    expect((await run(c)).error).toBeUndefined();
    expect(performance.now() - start).toBeGreaterThanOrEqual(170);
  });
});

describe("HTTP errors", () => {
  test("429 with Retry-After: not retried here, retryable with the delay", async () => {
    const f = fakeFetch(() => jsonResponse(429, { error: { message: "Rate limit reached" } }, { "retry-after": "1" }));
    const c = client(f.fetch);
    const e = modelError((await run(c.client)).error);
    expect(f.calls).toHaveLength(1);
    expect(c.sleeps).toEqual([]);
    expect(e.kind).toBe("retryable");
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(1000);
    expect(e.message).toBe("exceeded retry limit, last status: 429 Too Many Requests");
  });

  test("429 without Retry-After has no delay", async () => {
    const f = fakeFetch(() => jsonResponse(429, "slow down"));
    const e = modelError((await run(client(f.fetch).client)).error);
    expect(e.retryAfterMs).toBeUndefined();
  });

  test("429 insufficient_quota and usage_limit_reached are fatal", async () => {
    const quota = fakeFetch(() =>
      jsonResponse(429, { error: { code: "insufficient_quota", type: "insufficient_quota", message: "You exceeded your current quota" } }),
    );
    const q = modelError((await run(client(quota.fetch).client)).error);
    expect(q.kind).toBe("fatal");
    expect(q.message).toBe("Quota exceeded. Check your plan and billing details.");

    const usage = fakeFetch(() => jsonResponse(429, { error: { type: "usage_limit_reached", resets_at: 1 } }));
    const u = modelError((await run(client(usage.fetch).client)).error);
    expect(u.kind).toBe("fatal");
    expect(u.message).toBe("You’ve hit your usage limit. Try again later.");
  });

  test("400: fatal, the raw body is the message, not retried", async () => {
    const raw = '{"error":{"message":"Bad prompt here","type":"invalid_request_error"}}';
    const f = fakeFetch(() => jsonResponse(400, raw));
    const c = client(f.fetch);
    const e = modelError((await run(c.client)).error);
    expect(f.calls).toHaveLength(1);
    expect(e.kind).toBe("fatal");
    expect(e.status).toBe(400);
    expect(e.message).toBe(raw);
  });

  test("401/403: auth, never leaking the API key", async () => {
    for (const status of [401, 403]) {
      const f = fakeFetch(() => jsonResponse(status, { error: { message: `Incorrect API key provided: ${API_KEY}.` } }));
      const e = modelError((await run(client(f.fetch).client)).error);
      expect(f.calls).toHaveLength(1);
      expect(e.kind).toBe("auth");
      expect(e.status).toBe(status);
      const reason = status === 401 ? "Unauthorized" : "Forbidden";
      expect(e.message).toBe(`unexpected status ${status} ${reason}: Incorrect API key provided: [REDACTED]., url: ${URL_}`);
      expect(e.message).not.toContain(API_KEY);
    }
  });

  test("404: not retried at request level, unexpected status", async () => {
    const f = fakeFetch(() => new Response("Not Found", { status: 404 }));
    const e = modelError((await run(client(f.fetch).client)).error);
    expect(f.calls).toHaveLength(1);
    expect(e.status).toBe(404);
    expect(e.message).toBe(`unexpected status 404 Not Found: Not Found, url: ${URL_}`);
  });
});

describe("response.failed and error events", () => {
  const cases: Array<[unknown, ModelError["kind"], string, number | undefined]> = [
    [{ code: "context_length_exceeded", message: "Input too long." }, "fatal", "Input too long.", undefined],
    [
      { code: "context_length_exceeded" },
      "fatal",
      "Your input exceeds the context window of this model. Please adjust your input and try again.",
      undefined,
    ],
    [{ code: "insufficient_quota", message: "x" }, "fatal", "Quota exceeded. Check your plan and billing details.", undefined],
    [
      { code: "usage_not_included", message: "x" },
      "fatal",
      "To use Codex with your ChatGPT plan, upgrade to Plus: https://openai.com/chatgpt/pricing.",
      undefined,
    ],
    [{ code: "invalid_prompt", message: "Bad prompt here" }, "fatal", "Bad prompt here", undefined],
    [
      { code: "rate_limit_exceeded", message: "Rate limit reached. Please try again in 1.5s." },
      "retryable",
      "stream disconnected before completion: Rate limit reached. Please try again in 1.5s.",
      1500,
    ],
    [
      { code: "server_error", message: "The server had an error" },
      "retryable",
      "stream disconnected before completion: The server had an error",
      undefined,
    ],
  ];

  for (const [error, kind, message, retryAfterMs] of cases) {
    test(`response.failed ${JSON.stringify(error)}`, async () => {
      const f = fakeFetch(() => sseResponse([created, failed(error)]));
      const { parts, error: thrown } = await run(client(f.fetch).client);
      expect(parts).toEqual([{ type: "created", responseId: "resp_1" }]);
      const e = modelError(thrown);
      expect({ kind: e.kind, message: e.message, retryAfterMs: e.retryAfterMs }).toEqual({ kind, message, retryAfterMs });
    });
  }

  test("response.failed without an error object", async () => {
    const f = fakeFetch(() => sseResponse([frame({ type: "response.failed", response: {} })]));
    const e = modelError((await run(client(f.fetch).client)).error);
    expect(e.kind).toBe("retryable");
    expect(e.message).toBe("stream disconnected before completion: response.failed event received");
  });

  test("a top-level error event", async () => {
    const f = fakeFetch(() =>
      sseResponse([frame({ type: "error", code: "invalid_prompt", message: "Bad prompt here", param: null, sequence_number: 1 })]),
    );
    const e = modelError((await run(client(f.fetch).client)).error);
    expect(e.kind).toBe("fatal");
    expect(e.message).toBe("Bad prompt here");
  });
});

describe("stream failures", () => {
  test("body closes before response.completed: parts kept, then retryable error", async () => {
    const item = { type: "reasoning", id: "rs_1", summary: [] };
    const f = fakeFetch(() => sseResponse([created, frame({ type: "response.output_item.done", item }), frame({ type: "response.output_text.delta", delta: "hi" })]));
    const { parts, error } = await run(client(f.fetch).client);
    expect(parts.map((p) => p.type)).toEqual(["created", "item-done"]);
    const e = modelError(error);
    expect(e.kind).toBe("retryable");
    expect(e.message).toBe("stream disconnected before completion: stream closed before response.completed");
    expect(f.calls).toHaveLength(1); // stream-level retries belong to the agent loop
  });

  test("a trailing event without its blank line does not count", async () => {
    const f = fakeFetch(() => sseResponse([created, completed().trimEnd()]));
    const e = modelError((await run(client(f.fetch).client)).error);
    expect(e.message).toBe("stream disconnected before completion: stream closed before response.completed");
  });

  test("a read error mid-body", async () => {
    const f = fakeFetch(() => sseResponse(sseBody([created], new Error("socket hang up"))));
    const { parts, error } = await run(client(f.fetch).client);
    expect(parts.map((p) => p.type)).toEqual(["created"]);
    const e = modelError(error);
    expect(e.kind).toBe("retryable");
    expect(e.message).toBe("stream disconnected before completion: socket hang up");
  });

  test("idle timeout: no event for streamIdleTimeoutMs", async () => {
    const body = sseBody([created], "hang");
    const f = fakeFetch(() => sseResponse(body));
    const start = performance.now();
    const { parts, error } = await run(client(f.fetch, { provider: provider({ streamIdleTimeoutMs: 50 }) }).client);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(parts.map((p) => p.type)).toEqual(["created"]);
    const e = modelError(error);
    expect(e.kind).toBe("retryable");
    expect(e.message).toBe("stream disconnected before completion: idle timeout waiting for SSE");
    await Bun.sleep(0);
    expect(body.cancelled).toBe(true);
  });

  test("idle timeout: SSE comments do not keep the stream alive", async () => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(enc.encode(created));
        timer = setInterval(() => controller.enqueue(enc.encode(": keepalive\n\n")), 10);
      },
      cancel() {
        clearInterval(timer);
      },
    });
    const f = fakeFetch(() => new Response(stream, { status: 200 }));
    const { error } = await run(client(f.fetch, { provider: provider({ streamIdleTimeoutMs: 60 }) }).client);
    clearInterval(timer);
    expect(modelError(error).message).toBe("stream disconnected before completion: idle timeout waiting for SSE");
  });

  test("idle timeout is per event: a slow but steady stream completes", async () => {
    const frames = [created, frame({ type: "response.output_text.delta", delta: "a" }), completed()];
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await Bun.sleep(25);
        if (i < frames.length) controller.enqueue(enc.encode(frames[i++]));
        else controller.close();
      },
    });
    const f = fakeFetch(() => new Response(stream, { status: 200 }));
    const { parts, error } = await run(client(f.fetch, { provider: provider({ streamIdleTimeoutMs: 60 }) }).client);
    expect(error).toBeUndefined();
    expect(parts.map((p) => p.type)).toEqual(["created", "completed"]);
  });
});

describe("abort", () => {
  const isAbort = (e: unknown) => e instanceof Error && e.name === "AbortError";

  test("mid-stream: rejects promptly with the signal's reason and cancels the body", async () => {
    const body = sseBody([created], "hang");
    const f = fakeFetch(() => sseResponse(body));
    const ac = new AbortController();
    const parts: StreamPart[] = [];
    const start = performance.now();
    let thrown: unknown;
    try {
      for await (const part of client(f.fetch).client.stream(request(), ac.signal)) {
        parts.push(part);
        setTimeout(() => ac.abort(), 5);
      }
    } catch (e) {
      thrown = e;
    }
    expect(performance.now() - start).toBeLessThan(1000);
    expect(parts.map((p) => p.type)).toEqual(["created"]);
    expect(thrown).not.toBeInstanceOf(ModelError);
    expect(isAbort(thrown)).toBe(true);
    await Bun.sleep(0);
    expect(body.cancelled).toBe(true);
  });

  test("a custom reason is thrown as is", async () => {
    const f = fakeFetch(() => sseResponse(sseBody([], "hang")));
    const ac = new AbortController();
    const reason = new Error("user interrupt");
    setTimeout(() => ac.abort(reason), 5);
    expect((await run(client(f.fetch).client, request(), ac.signal)).error).toBe(reason);
  });

  test("already aborted: no request is sent", async () => {
    const f = fakeFetch(() => sseResponse([completed()]));
    const ac = new AbortController();
    ac.abort();
    const { error } = await run(client(f.fetch).client, request(), ac.signal);
    expect(isAbort(error)).toBe(true);
    expect(f.calls).toHaveLength(0);
  });

  test("while fetch is pending (a fetch that honours the signal)", async () => {
    const f = fakeFetch(
      (call) =>
        new Promise<Response>((_, reject) => {
          call.signal?.addEventListener("abort", () => reject(call.signal?.reason));
        }),
    );
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 5);
    const { error } = await run(client(f.fetch).client, request(), ac.signal);
    expect(error).not.toBeInstanceOf(ModelError);
    expect(isAbort(error)).toBe(true);
  });

  test("during the backoff sleep between request attempts", async () => {
    const f = fakeFetch(() => jsonResponse(503, {}));
    const c = createResponsesClient({ fetch: f.fetch, provider: provider(), headers: {}, random: () => 0.5 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const start = performance.now();
    const { error } = await run(c, request(), ac.signal);
    expect(isAbort(error)).toBe(true);
    expect(performance.now() - start).toBeLessThan(150);
    expect(f.calls).toHaveLength(1);
  });

  test("an injected sleep that ignores the signal still stops before the next attempt", async () => {
    const f = fakeFetch(() => jsonResponse(503, {}));
    const ac = new AbortController();
    const c = client(f.fetch, { sleep: async () => ac.abort() });
    const { error } = await run(c.client, request(), ac.signal);
    expect(isAbort(error)).toBe(true);
    expect(f.calls).toHaveLength(1);
  });
});

describe("events that carry nothing for ocx", () => {
  test("are skipped by name unparsed, and each is one toStreamPart ignores when parsed", () => {
    for (const name of IGNORED_EVENTS) {
      // Parsed (no event name), the data's type alone: nothing.
      expect(toStreamPart({ data: JSON.stringify({ type: name, text: "x", delta: "x", item: { type: "message" } }) })).toBeUndefined();
      // Named: not parsed at all (data that is not JSON would otherwise just be dropped too).
      expect(toStreamPart({ event: name, data: "{not json" })).toBeUndefined();
    }
  });

  test("a named event outside the set is parsed as before", () => {
    const item = { type: "message", id: "m1" };
    const data = JSON.stringify({ type: "response.output_item.done", item });
    expect(toStreamPart({ event: "response.output_item.done", data })).toEqual({ type: "item-done", item });
    expect(toStreamPart({ event: "response.output_item.done", data })).toEqual(toStreamPart({ data }));
  });

  test("the deltas are among them: exec shows only finished items", () => {
    for (const name of ["response.output_text.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta"]) {
      expect(IGNORED_EVENTS.has(name)).toBe(true);
      expect(toStreamPart({ event: name, data: JSON.stringify({ type: name, delta: "hi" }) })).toBeUndefined();
    }
  });
});

describe("a large response.completed", () => {
  // Its output repeats the answer; only the id and the usage are read.
  const answer = 'say "hi" to C:\\path\\é 😀\n\t'.repeat(40_000);
  const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 3 }, output_tokens: 345, output_tokens_details: { reasoning_tokens: 7 }, total_tokens: 357 };
  const completed = (response: Record<string, unknown>) => JSON.stringify({ type: "response.completed", sequence_number: 9, response });
  const output = [{ type: "message", role: "assistant", content: [{ type: "output_text", text: answer, annotations: [] }] }];

  test("gives the id and usage a small one gives, named or not", () => {
    const big = completed({ id: "resp_big", object: "response", output, usage, status: "completed" });
    expect(big.length).toBeGreaterThan(1_000_000);
    const small = toStreamPart({ data: completed({ id: "resp_big", usage }) });
    expect(small).toEqual({ type: "completed", responseId: "resp_big", usage: { input_tokens: 12, cached_input_tokens: 3, cache_write_input_tokens: 0, output_tokens: 345, reasoning_output_tokens: 7 } });
    expect(toStreamPart({ event: "response.completed", data: big })).toEqual(small);
    expect(toStreamPart({ data: big })).toEqual(small);
    // The usage after the output, and keys that are themselves long, change nothing.
    const after = completed({ output, [`x${"k".repeat(70_000)}`]: answer, id: "resp_big", usage });
    expect(toStreamPart({ event: "response.completed", data: after })).toEqual(small);
  });

  test("that is not JSON outside its long strings is not a completion", () => {
    const big = completed({ id: "resp_big", output, usage });
    expect(toStreamPart({ event: "response.completed", data: big.slice(0, -1) })).toBeUndefined();
    expect(toStreamPart({ event: "response.completed", data: `${big.slice(0, 200_000)}` })).toBeUndefined();
  });
});
