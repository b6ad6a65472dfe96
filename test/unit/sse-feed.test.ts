// The body reader behind both wire APIs (openEvents: one read per chunk, one timer, one abort
// listener) and what the Responses client makes of it (items as they finish; the deltas are not
// parts). The events and the parts must not depend on how the body is cut into chunks.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readChatParts } from "../../src/core/model/chat.ts";
import { createResponsesClient, type EventFeed, openEvents } from "../../src/core/model/responses.ts";
import type { SseEvent } from "../../src/core/model/sse.ts";
import { ModelError, type ModelRequest, type ProviderInfo, type StreamPart } from "../../src/core/model/types.ts";
import { cut, cutPoints } from "../support/chunks.ts";

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const provider = (over: Partial<ProviderInfo> = {}) =>
  ({ id: "p", name: "P", baseUrl: "http://127.0.0.1:9/v1", wireApi: "responses", headers: {}, queryParams: {}, requestMaxRetries: 0, streamMaxRetries: 0, streamIdleTimeoutMs: 5000, ...over }) as ProviderInfo;
const request: ModelRequest = { model: "m", instructions: "", input: [], tools: [], parallelToolCalls: true, threadId: "t" };

function streamOf(chunks: Uint8Array[], close = true): ReadableStream<Uint8Array> & { cancelled: () => boolean } {
  let i = 0;
  let cancelled = false;
  const s = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else if (close) c.close();
      else return new Promise<void>(() => {});
    },
    cancel() {
      cancelled = true;
    },
  });
  return Object.assign(s, { cancelled: () => cancelled });
}

async function allEvents(feed: EventFeed): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for (let ev = await feed.next(); ev !== undefined; ev = await feed.next()) out.push(ev);
  return out;
}

const signal = new AbortController().signal;

describe("openEvents: chunk boundaries anywhere", () => {
  // Comments, CR / LF / CRLF endings, a multi-line data, an id, characters of 2, 3 and 4 bytes.
  const sample =
    "\uFEFF: ping\r\n" +
    "event: response.output_text.delta\r\n" +
    'data: {"delta":"é€😀"}\r\n' +
    "\r\n" +
    "data: one\n" +
    "data: twö\r" +
    "id: 7\r" +
    "\r" +
    ": pong\n\n" +
    "event: x\n" +
    "data:\n" +
    "\n" +
    "data: tail without its blank line";
  const expected: SseEvent[] = [
    { event: "response.output_text.delta", data: '{"delta":"é€😀"}' },
    { data: "one\ntwö", id: "7" },
    { event: "x", data: "", id: "7" },
  ];
  const bytes = enc.encode(sample);

  test("every single split point", async () => {
    for (let i = 0; i <= bytes.length; i++) {
      const events = await allEvents(openEvents(streamOf(cut(bytes, [i])), signal, { provider: provider() }));
      if (!Bun.deepEquals(events, expected)) expect({ i, events }).toEqual({ i, events: expected });
    }
  });

  test("every pair of split points, read with take and fill", async () => {
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const feed = openEvents(streamOf(cut(bytes, [i, j])), signal, { provider: provider() });
        const events: SseEvent[] = [];
        for (;;) {
          const ev = feed.take();
          if (ev !== undefined) events.push(ev);
          else if (!(await feed.fill())) break;
        }
        if (!Bun.deepEquals(events, expected)) expect({ i, j, events }).toEqual({ i, j, events: expected });
      }
    }
  });

  test("one byte per chunk", async () => {
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(await allEvents(openEvents(streamOf(chunks), signal, { provider: provider() }))).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// The Responses client over random streams

const frame = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

function client(chunks: Uint8Array[]) {
  const fetch = (async () => new Response(streamOf(chunks), { status: 200, headers: { "content-type": "text/event-stream" } })) as unknown as typeof globalThis.fetch;
  return createResponsesClient({ fetch, provider: provider(), headers: {} });
}

async function parts(c: ReturnType<typeof createResponsesClient>): Promise<{ parts: StreamPart[]; error?: unknown }> {
  const out: StreamPart[] = [];
  try {
    for await (const p of c.stream(request, new AbortController().signal)) out.push(p);
    return { parts: out };
  } catch (error) {
    return { parts: out, error };
  }
}

describe("Responses client: the parts do not depend on the chunking", () => {
  const text = fc.string({ unit: "grapheme", maxLength: 12 });
  const ev = fc.oneof(
    text.map((delta) => frame({ type: "response.output_text.delta", item_id: "m", delta }, "response.output_text.delta")),
    text.map((delta) => frame({ type: "response.reasoning_summary_text.delta", delta })),
    text.map((delta) => frame({ type: "response.output_item.done", item: { type: "message", role: "assistant", content: [{ type: "output_text", text: delta }] } })),
    fc.constant(": keepalive\n\n"),
    fc.constant("data: {not json\n\n"),
    fc.constant(frame({ type: "response.in_progress" })),
  );
  const end = fc.constantFrom(
    frame({ type: "response.completed", response: { id: "r" } }),
    frame({ type: "response.failed", response: { error: { code: "server_error", message: "boom" } } }),
    "", // the body just ends
  );

  test("random events, random cuts: the same parts and the same error as one event per chunk", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ev, { maxLength: 12 }), end, fc.array(fc.nat(), { maxLength: 10 }), async (events, last, cuts) => {
        const all = [frame({ type: "response.created", response: { id: "r" } }), ...events, last];
        const reference = await parts(client(all.map((s) => enc.encode(s))));
        const bytes = enc.encode(all.join(""));
        const got = await parts(client(cut(bytes, cutPoints(bytes, cuts))));
        expect(got.parts).toEqual(reference.parts);
        expect(String(got.error)).toEqual(String(reference.error));
      }),
      { numRuns: 200 },
    );
  });

  test("deltas are not parts, even when their data is not JSON: the items are, in order, before the failure", async () => {
    const body = [
      frame({ type: "response.created", response: { id: "r" } }),
      frame({ type: "response.output_text.delta", delta: "He" }, "response.output_text.delta"),
      "event: response.output_text.delta\ndata: {not json\n\n",
      frame({ type: "response.reasoning_text.delta", delta: "hm" }, "response.reasoning_text.delta"),
      frame({ type: "response.reasoning_summary_text.delta", delta: "m" }, "response.reasoning_summary_text.delta"),
      frame({ type: "response.output_item.done", item: { type: "message", id: "m1" } }, "response.output_item.done"),
      frame({ type: "response.output_text.delta", delta: "!" }),
      frame({ type: "response.failed", response: { error: { code: "server_error", message: "boom" } } }),
    ].join("");
    const { parts: ps, error } = await parts(client([enc.encode(body)]));
    expect(ps).toEqual([
      { type: "created", responseId: "r" },
      { type: "item-done", item: { type: "message", id: "m1" } },
    ]);
    expect((error as ModelError).message).toBe("stream disconnected before completion: boom");
  });

  test("a finished item is handed out before the reader waits for more bytes", async () => {
    let release!: () => void;
    const more = new Promise<void>((r) => (release = r));
    let i = 0;
    const chunks = [
      frame({ type: "response.created", response: { id: "r" } }) +
        frame({ type: "response.output_text.delta", delta: "a" }, "response.output_text.delta") +
        frame({ type: "response.output_item.done", item: { type: "message", id: "m1" } }),
      frame({ type: "response.completed", response: { id: "r" } }),
    ];
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i === 1) await more;
        if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]!));
        else c.close();
      },
    });
    const fetch = (async () => new Response(body, { status: 200 })) as unknown as typeof globalThis.fetch;
    const it = createResponsesClient({ fetch, provider: provider(), headers: {} }).stream(request, signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ type: "created", responseId: "r" });
    expect((await it.next()).value).toEqual({ type: "item-done", item: { type: "message", id: "m1" } }); // the second chunk is still held back
    release();
    expect((await it.next()).value).toMatchObject({ type: "completed" });
  });

  test("skipped delta events are progress: a stream of only deltas, each sooner than the idle timeout, is not idle", async () => {
    // 6 deltas 40 ms apart with a 100 ms idle timeout: 240 ms without any other event.
    const frames = [
      frame({ type: "response.created", response: { id: "r" } }),
      ...Array.from({ length: 6 }, () => frame({ type: "response.output_text.delta", delta: "x" }, "response.output_text.delta")),
      frame({ type: "response.completed", response: { id: "r" } }),
    ];
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i > 0) await sleep(40);
        if (i < frames.length) c.enqueue(enc.encode(frames[i++]!));
        else c.close();
      },
    });
    const fetch = (async () => new Response(body, { status: 200 })) as unknown as typeof globalThis.fetch;
    const { parts: ps, error } = await parts(createResponsesClient({ fetch, provider: provider({ streamIdleTimeoutMs: 100 }), headers: {} }));
    expect(error).toBeUndefined();
    expect(ps.map((p) => p.type)).toEqual(["created", "completed"]);
  });

  test("chat: the deltas of a response gathered into its items, the text whole", async () => {
    const chunk = (d: object, finish: string | null = null) => `data: ${JSON.stringify({ id: "c", choices: [{ index: 0, delta: d, finish_reason: finish }] })}\n\n`;
    const all = [chunk({ role: "assistant", content: "" }), chunk({ reasoning_content: "t" }), chunk({ reasoning_content: "u" }), chunk({ content: "Hel" }), chunk({ content: "lo" }), chunk({}, "stop"), "data: [DONE]\n\n"];
    const bytes = enc.encode(all.join(""));
    for (const chunks of [[bytes], all.map((s) => enc.encode(s))]) {
      const out: StreamPart[] = [];
      for await (const p of readChatParts(openEvents(streamOf(chunks), signal, { provider: provider() }))) out.push(p);
      expect(out).toEqual([
        { type: "created", responseId: "c" },
        { type: "item-done", item: { type: "reasoning", id: "rs_c", summary: [], content: [{ type: "reasoning_text", text: "tu" }] } },
        { type: "item-done", item: { type: "message", id: "msg_c", role: "assistant", content: [{ type: "output_text", text: "Hello" }] } },
        { type: "completed", responseId: "c", usage: { input_tokens: 0, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0 } },
      ]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Timer, deadline and abort

describe("openEvents: one timer and one listener per body", () => {
  test("the idle timeout counts from when a wait begins, not while the consumer holds the events", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        pulls++;
        if (pulls === 1) c.enqueue(enc.encode("data: 1\n\n"));
        else if (pulls === 2) {
          await sleep(100);
          c.enqueue(enc.encode("data: 2\n\n"));
        } else c.close();
      },
    });
    const feed = openEvents(body, signal, { provider: provider({ streamIdleTimeoutMs: 400 }) });
    expect(await feed.next()).toEqual({ data: "1" });
    await sleep(700); // the consumer is busy for longer than the idle timeout
    expect(await feed.next()).toEqual({ data: "2" });
    feed.cancel();
  });

  test("silence past the idle timeout: a retryable disconnect, the body cancelled", async () => {
    const body = streamOf([enc.encode("data: 1\n\n: ping\n\n")], false);
    const feed = openEvents(body, signal, { provider: provider({ streamIdleTimeoutMs: 50 }) });
    expect(await feed.next()).toEqual({ data: "1" });
    const e = await feed.next().catch((x) => x);
    expect([e.kind, e.message]).toEqual(["retryable", "stream disconnected before completion: idle timeout waiting for SSE"]);
    await sleep(0);
    expect(body.cancelled()).toBe(true);
  });

  test("the deadline passing while the consumer holds read events: the next take fails", async () => {
    const feed = openEvents(streamOf([enc.encode("data: 1\n\ndata: 2\n\n")], false), signal, {
      provider: provider({ streamIdleTimeoutMs: 60_000, streamMaxDurationMs: 50 }),
    });
    expect(await feed.next()).toEqual({ data: "1" });
    await sleep(300);
    const e = (() => {
      try {
        return feed.take();
      } catch (x) {
        return x as ModelError;
      }
    })() as ModelError;
    expect([e.kind, e.message]).toEqual(["fatal", "the response did not complete within 50 ms; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)"]);
  });

  test("abort while waiting: rejects with the signal's reason, cancels the body; abort between events: the next take throws it", async () => {
    const ac = new AbortController();
    const body = streamOf([enc.encode("data: 1\n\n")], false);
    const feed = openEvents(body, ac.signal, { provider: provider() });
    expect(await feed.next()).toEqual({ data: "1" });
    const pending = feed.next().catch((x) => x);
    ac.abort(new Error("stop"));
    expect(((await pending) as Error).message).toBe("stop");
    await sleep(0);
    expect(body.cancelled()).toBe(true);

    const ac2 = new AbortController();
    const feed2 = openEvents(streamOf([enc.encode("data: a\n\ndata: b\n\n")]), ac2.signal, { provider: provider() });
    expect(await feed2.next()).toEqual({ data: "a" });
    ac2.abort(new Error("later"));
    expect(() => feed2.take()).toThrow("later");
  });

  test("a long stream adds one abort listener, removed at the end", async () => {
    const ac = new AbortController();
    let added = 0;
    let removed = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (removed++, remove(...a))) as typeof remove;
    const chunks = Array.from({ length: 500 }, (_, i) => enc.encode(`data: ${i}\n\n`));
    const events = await allEvents(openEvents(streamOf(chunks), ac.signal, { provider: provider() }));
    expect(events).toHaveLength(500);
    expect([added, removed]).toEqual([1, 1]);
  });
});
