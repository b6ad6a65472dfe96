// A scripted, local-only mock of the OpenAI Responses API (POST /v1/responses, SSE).
// Every POST /v1/responses is recorded and answered by the next scripted Step; when the script
// runs out the mock answers 500 "mock: no scripted response left" so a missing step is obvious.
// The event sequences built here were checked against the reference client (codex-cli 0.163.0,
// see drive-reference.ts in this folder).

/** One request the mock received. `body` is the parsed JSON (or the raw text if it was not JSON). */
export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: any;
  /** The body exactly as received (the Responses mock records it). */
  text?: string;
  /** Date.now() when the request's headers arrived (Retry-After checks, start-up benchmarks). */
  at: number;
}

/** One SSE event: `type` is also written as the `event:` line. */
export type SseEvent = { type: string; [key: string]: unknown };

export interface SseOptions {
  /** Milliseconds to wait before each event after the first. */
  delayMs?: number;
  /**
   * End the stream after the events without `response.completed` (any `response.completed` in
   * `events` is dropped). `true` ends the body cleanly (the client sees EOF before completion);
   * `"abort"` errors the stream so the connection is torn down mid-body.
   */
  disconnect?: boolean | "abort";
  /** Send the events, then keep the stream open forever (until the client goes or `close()`). */
  hang?: boolean;
}

export type Step =
  | { kind: "sse"; events: SseEvent[]; opts: SseOptions; check?: (req: RecordedRequest) => void }
  | {
      kind: "http";
      status: number;
      body: unknown;
      headers: Record<string, string>;
      check?: (req: RecordedRequest) => void;
    }
  | { kind: "dynamic"; make: (req: RecordedRequest, mock: Mock) => Step | Promise<Step> };

export interface Mock {
  /** Base URL to put in `base_url`, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  port: number;
  /** Every POST …/responses, in arrival order. */
  requests: RecordedRequest[];
  /** Every other request (404s), for debugging. */
  otherRequests: RecordedRequest[];
  /** Errors thrown by `check` hooks (the request was answered 400 `mock check failed: ...`). */
  checkErrors: Error[];
  push(...steps: Step[]): void;
  /** Resolves once at least `n` model requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Steps

export function sse(events: SseEvent[], opts: SseOptions = {}, check?: (req: RecordedRequest) => void): Step {
  return { kind: "sse", events, opts, check };
}

export function http(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  check?: (req: RecordedRequest) => void,
): Step {
  return { kind: "http", status, body, headers, check };
}

/** A step decided when the request arrives (e.g. to reuse a session id from a tool output). */
export function dynamic(make: (req: RecordedRequest, mock: Mock) => Step | Promise<Step>): Step {
  return { kind: "dynamic", make };
}

/** Attach a `check(request)` hook to a step; if it throws, the mock answers 400 with the message. */
export function withCheck(step: Step, check: (req: RecordedRequest) => void): Step {
  if (step.kind === "dynamic") {
    return dynamic(async (req, mock) => withCheck(await step.make(req, mock), check));
  }
  return { ...step, check };
}

// ---------------------------------------------------------------------------------------------
// Output items and realistic event sequences

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function usage(input = 100, output = 10, cached = 0, reasoning = 0): Usage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

let counter = 0;
const rid = (prefix: string) => `${prefix}_mock${(++counter).toString(16).padStart(6, "0")}${Date.now().toString(16)}`;

export type OutputItem =
  | { type: "message"; id: string; status: string; role: "assistant"; content: { type: "output_text"; text: string; annotations: unknown[] }[] }
  | { type: "reasoning"; id: string; summary: { type: "summary_text"; text: string }[]; encrypted_content: string }
  | { type: "function_call"; id: string; status: string; call_id: string; name: string; arguments: string }
  | { type: "custom_tool_call"; id: string; status: string; call_id: string; name: string; input: string }
  | { type: "web_search_call"; id: string; status: string; action: { type: string; [key: string]: unknown } };

/** A search the provider ran with its hosted web_search tool. */
export function webSearchCall(query: string, id: string = rid("ws")): OutputItem {
  return { type: "web_search_call", id, status: "completed", action: { type: "search", query } };
}

export function message(text: string): OutputItem {
  return {
    type: "message",
    id: rid("msg"),
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

export function reasoning(summaryText: string): OutputItem {
  return {
    type: "reasoning",
    id: rid("rs"),
    summary: [{ type: "summary_text", text: summaryText }],
    encrypted_content: `gAAAAmock-${Buffer.from(summaryText).toString("base64")}`,
  };
}

/** `args` is serialized with JSON.stringify unless it is already a string (for malformed args). */
export function functionCall(name: string, args: unknown, callId: string = rid("call")): OutputItem {
  return {
    type: "function_call",
    id: rid("fc"),
    status: "completed",
    call_id: callId,
    name,
    arguments: typeof args === "string" ? args : JSON.stringify(args),
  };
}

/** A freeform (custom) tool call, e.g. apply_patch with the raw patch as `input`. */
export function customToolCall(name: string, input: string, callId: string = rid("call")): OutputItem {
  return { type: "custom_tool_call", id: rid("ctc"), status: "completed", call_id: callId, name, input };
}

/** Convenience for the common exec_command call. */
export function execCommand(
  cmd: string,
  extra: { yield_time_ms?: number; max_output_tokens?: number; workdir?: string } = {},
  callId?: string,
): OutputItem {
  return functionCall("exec_command", { cmd, ...extra }, callId);
}

/** `text` in three deltas, or in deltas of `size` characters when given. */
function splitText(text: string, parts = 3, deltaChars?: number): string[] {
  if (deltaChars !== undefined && deltaChars > 0) {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += deltaChars) out.push(text.slice(i, i + deltaChars));
    return out.length > 0 ? out : [text];
  }
  if (text.length < parts * 2) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function responseObject(id: string, status: string, output: OutputItem[], u?: Usage, error?: unknown) {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: error ?? null,
    incomplete_details: null,
    model: "gpt-5.5",
    output,
    parallel_tool_calls: true,
    usage: u ?? null,
  };
}

/** Events for one output item at `outputIndex`, from output_item.added to output_item.done. */
function itemEvents(item: OutputItem, outputIndex: number, deltaChars?: number): SseEvent[] {
  const ev: SseEvent[] = [];
  if (item.type === "message") {
    const text = item.content[0]!.text;
    ev.push({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { ...item, status: "in_progress", content: [] },
    });
    ev.push({
      type: "response.content_part.added",
      item_id: item.id,
      output_index: outputIndex,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    for (const delta of splitText(text, 3, deltaChars)) {
      ev.push({ type: "response.output_text.delta", item_id: item.id, output_index: outputIndex, content_index: 0, delta });
    }
    ev.push({ type: "response.output_text.done", item_id: item.id, output_index: outputIndex, content_index: 0, text });
    ev.push({
      type: "response.content_part.done",
      item_id: item.id,
      output_index: outputIndex,
      content_index: 0,
      part: { type: "output_text", text, annotations: [] },
    });
  } else if (item.type === "reasoning") {
    const text = item.summary[0]?.text ?? "";
    ev.push({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { type: "reasoning", id: item.id, summary: [] },
    });
    ev.push({
      type: "response.reasoning_summary_part.added",
      item_id: item.id,
      output_index: outputIndex,
      summary_index: 0,
      part: { type: "summary_text", text: "" },
    });
    for (const delta of splitText(text)) {
      ev.push({ type: "response.reasoning_summary_text.delta", item_id: item.id, output_index: outputIndex, summary_index: 0, delta });
    }
    ev.push({ type: "response.reasoning_summary_text.done", item_id: item.id, output_index: outputIndex, summary_index: 0, text });
    ev.push({
      type: "response.reasoning_summary_part.done",
      item_id: item.id,
      output_index: outputIndex,
      summary_index: 0,
      part: { type: "summary_text", text },
    });
  } else if (item.type === "web_search_call") {
    ev.push({ type: "response.output_item.added", output_index: outputIndex, item: { type: "web_search_call", id: item.id, status: "in_progress" } });
    for (const phase of ["in_progress", "searching", "completed"]) {
      ev.push({ type: `response.web_search_call.${phase}`, item_id: item.id, output_index: outputIndex });
    }
  } else if (item.type === "custom_tool_call") {
    ev.push({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", input: "" } });
    for (const delta of splitText(item.input)) {
      ev.push({ type: "response.custom_tool_call_input.delta", item_id: item.id, output_index: outputIndex, delta });
    }
    ev.push({ type: "response.custom_tool_call_input.done", item_id: item.id, output_index: outputIndex, input: item.input });
  } else {
    ev.push({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { ...item, status: "in_progress", arguments: "" },
    });
    for (const delta of splitText(item.arguments)) {
      ev.push({ type: "response.function_call_arguments.delta", item_id: item.id, output_index: outputIndex, delta });
    }
    ev.push({ type: "response.function_call_arguments.done", item_id: item.id, output_index: outputIndex, arguments: item.arguments });
  }
  ev.push({ type: "response.output_item.done", output_index: outputIndex, item });
  return ev;
}

function numbered(events: SseEvent[]): SseEvent[] {
  return events.map(({ type, ...rest }, i) => ({ type, sequence_number: i, ...rest }));
}

/**
 * A full, successful model response: response.created, response.in_progress, every item's
 * added/delta/done events, then response.completed with `usage` (default usage(100, 10)).
 * A message's text comes in three deltas, or in deltas of `opts.deltaChars` characters.
 */
export function turn(items: OutputItem[], u: Usage = usage(), opts: { deltaChars?: number } = {}): SseEvent[] {
  const id = rid("resp");
  const ev: SseEvent[] = [
    { type: "response.created", response: responseObject(id, "in_progress", []) },
    { type: "response.in_progress", response: responseObject(id, "in_progress", []) },
  ];
  // (a loop, not push(...): a long answer may have more deltas than a call takes arguments)
  items.forEach((item, i) => {
    for (const e of itemEvents(item, i, opts.deltaChars)) ev.push(e);
  });
  ev.push({ type: "response.completed", response: responseObject(id, "completed", items, u) });
  return numbered(ev);
}

/** A `response.failed` stream (response.created, then response.failed with `error{code,message}`). */
export function failed(code: string | undefined, message: string, itemsBefore: OutputItem[] = []): SseEvent[] {
  const id = rid("resp");
  const ev: SseEvent[] = [{ type: "response.created", response: responseObject(id, "in_progress", []) }];
  itemsBefore.forEach((item, i) => ev.push(...itemEvents(item, i)));
  ev.push({ type: "response.failed", response: responseObject(id, "failed", itemsBefore, undefined, { code, message }) });
  return numbered(ev);
}

/** Shorthand: a step answering with one assistant message. */
export function reply(text: string, u?: Usage): Step {
  return sse(turn([message(text)], u));
}

// ---------------------------------------------------------------------------------------------
// Request-body helpers (for assertions)

/** All `input_text` strings of `role` messages in a Responses request body. */
export function messageTexts(body: any, role: "user" | "developer" | "assistant" = "user"): string[] {
  const out: string[] = [];
  for (const item of body?.input ?? []) {
    if (item?.type !== "message" && item?.role === undefined) continue;
    if (item.role !== role) continue;
    const content = item.content;
    if (typeof content === "string") out.push(content);
    else for (const part of content ?? []) if (typeof part?.text === "string") out.push(part.text);
  }
  return out;
}

export function inputItems(body: any, type: string): any[] {
  return (body?.input ?? []).filter((i: any) => i?.type === type);
}

/** The string `output` of the function_call_output for `callId` (arrays of parts are joined). */
export function callOutput(body: any, callId: string): string | undefined {
  const item = inputItems(body, "function_call_output").find((i) => i.call_id === callId);
  if (!item) return undefined;
  const out = item.output;
  if (typeof out === "string") return out;
  if (Array.isArray(out)) return out.map((p: any) => p?.text ?? "").join("");
  if (out && typeof out.content === "string") return out.content;
  return JSON.stringify(out);
}

// ---------------------------------------------------------------------------------------------
// Server

const encoder = new TextEncoder();
// Chat Completions streams (test/mock/chat.ts) are bare `data:` lines, ending in `data: [DONE]`.
const frame = (e: SseEvent) =>
  encoder.encode(
    e.type === "chat.chunk"
      ? `data: ${JSON.stringify(e.chunk)}\n\n`
      : e.type === "chat.done"
        ? "data: [DONE]\n\n"
        : `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `getRoutes`: JSON answers for GET paths (a fake Ollama's /api/tags, LM Studio's /v1/models). */
export async function startMockResponses(script: Step[] = [], getRoutes: Record<string, unknown> = {}): Promise<Mock> {
  const queue: Step[] = [...script];
  const requests: RecordedRequest[] = [];
  const otherRequests: RecordedRequest[] = [];
  const checkErrors: Error[] = [];
  const openStreams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const waiters: { n: number; resolve: () => void }[] = [];
  let closed = false;

  const notify = () => {
    for (const w of [...waiters]) {
      if (requests.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "content-type": typeof body === "string" ? "text/plain" : "application/json", ...headers },
    });

  function streamResponse(events: SseEvent[], opts: SseOptions): Response {
    const list = opts.disconnect ? events.filter((e) => e.type !== "response.completed") : events;
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    let gone = false;
    const produce = async () => {
      try {
        for (let i = 0; i < list.length; i++) {
          if (i > 0 && opts.delayMs) await sleep(opts.delayMs);
          if (gone) return;
          ctrl.enqueue(frame(list[i]!));
        }
        if (opts.hang || gone) return; // stays open until the client leaves or close() ends it
        if (opts.disconnect === "abort") {
          await sleep(20); // let the bytes reach the socket first
          // error(undefined) makes Bun reset the connection without logging a stack trace
          ctrl.error(undefined);
        } else {
          ctrl.close();
        }
        openStreams.delete(ctrl);
      } catch {
        // the client went away; nothing to do
      }
    };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        ctrl = c;
        openStreams.add(c);
        void produce();
      },
      cancel() {
        gone = true;
        openStreams.delete(ctrl);
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
    });
  }

  async function answer(step: Step, req: RecordedRequest, mock: Mock): Promise<Response> {
    if (step.kind === "dynamic") return answer(await step.make(req, mock), req, mock);
    if (step.check) {
      try {
        step.check(req);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        checkErrors.push(err);
        return json(400, { error: { message: `mock check failed: ${err.message}`, type: "invalid_request_error" } });
      }
    }
    if (step.kind === "http") return json(step.status, step.body, step.headers);
    return streamResponse(step.events, step.opts);
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0, // hanging and slow streams must not be cut by Bun's 10 s default
    error(e) {
      // "abort" disconnects error the body stream on purpose; never let that reach the test runner
      return json(500, { error: { message: `mock: ${e.message}` } });
    },
    async fetch(request) {
      const arrived = Date.now(); // headers in; a large body is still on its way
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
      const text = await request.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the raw text
      }
      const rec: RecordedRequest = { method: request.method, path: url.pathname, search: url.search, headers, body, text, at: arrived };
      // /v1/responses for API keys, /backend-api/codex/responses for a ChatGPT sign-in,
      // /v1/chat/completions for wire_api = "chat"
      if (request.method === "GET" && url.pathname in getRoutes) {
        otherRequests.push(rec);
        return json(200, getRoutes[url.pathname]);
      }
      if (request.method !== "POST" || !(url.pathname.endsWith("/responses") || url.pathname.endsWith("/chat/completions"))) {
        otherRequests.push(rec);
        return json(404, { error: { message: `mock: no route for ${request.method} ${url.pathname}` } });
      }
      requests.push(rec);
      notify();
      const step = queue.shift();
      if (!step) return json(500, { error: { message: "mock: no scripted response left" } });
      return answer(step, rec, mock);
    },
  });

  const mock: Mock = {
    url: `http://127.0.0.1:${server.port}/v1`,
    port: server.port!,
    requests,
    otherRequests,
    checkErrors,
    push: (...steps) => void queue.push(...steps),
    waitForRequests(n, timeoutMs = 20_000) {
      if (requests.length >= n) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const w = { n, resolve: () => (clearTimeout(t), resolve(requests)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`mock: waited ${timeoutMs} ms for ${n} requests, got ${requests.length}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of openStreams) {
        try {
          c.close();
        } catch {
          // already closed or errored
        }
      }
      openStreams.clear();
      await server.stop(true);
    },
  };
  return mock;
}
