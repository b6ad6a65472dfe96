import { describe, expect, test } from "bun:test";
import { openEvents } from "../../src/core/model/responses.ts";
import { BodyTooLargeError, byteLimit, EventTooLargeError, sseParser } from "../../src/core/model/sse.ts";
import { ModelError, type ProviderInfo } from "../../src/core/model/types.ts";

const enc = new TextEncoder();
function streamOf<T>(chunks: T[], close = true): ReadableStream<T> {
  return new ReadableStream<T>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      if (close) c.close();
    },
  });
}
async function drain<T>(stream: ReadableStream<T>): Promise<{ out: T[]; error?: unknown }> {
  const out: T[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { out };
      out.push(value);
    }
  } catch (error) {
    return { out, error };
  }
}

describe("sseParser maxEventBytes", () => {
  test("events up to the cap pass; the cap counts the open line and the data so far, across chunks", async () => {
    const ok = await drain(streamOf(["data: 12", "345\n\n"]).pipeThrough(sseParser({ maxEventBytes: 11 })));
    expect(ok).toEqual({ out: [{ data: "12345" }] });
    const lines = await drain(streamOf(["data: 123456\n", "data: 123456\n", "\n"]).pipeThrough(sseParser({ maxEventBytes: 12 })));
    expect(lines.error).toBeInstanceOf(EventTooLargeError);
  });

  test("a line that never ends errors the stream once past the cap", async () => {
    const r = await drain(streamOf(["data: ", ...Array(100).fill("x".repeat(100))], false).pipeThrough(sseParser({ maxEventBytes: 1000 })));
    expect(r.out).toEqual([]);
    expect(r.error).toBeInstanceOf(EventTooLargeError);
  });

  test("many small events never add up to the per-event cap", async () => {
    const r = await drain(streamOf(Array(200).fill("data: abcdefgh\n\n")).pipeThrough(sseParser({ maxEventBytes: 20 })));
    expect(r.error).toBeUndefined();
    expect(r.out).toHaveLength(200);
  });
});

describe("byteLimit", () => {
  test("passes up to the cap, errors past it", async () => {
    expect((await drain(streamOf([new Uint8Array(5), new Uint8Array(5)]).pipeThrough(byteLimit(10)))).error).toBeUndefined();
    const over = await drain(streamOf([new Uint8Array(5), new Uint8Array(6)]).pipeThrough(byteLimit(10)));
    expect(over.out).toHaveLength(1);
    expect(over.error).toBeInstanceOf(BodyTooLargeError);
  });
});

describe("openEvents bounds", () => {
  const provider = (over: Partial<ProviderInfo>) => ({ streamIdleTimeoutMs: 5000, ...over }) as ProviderInfo;
  const signal = new AbortController().signal;

  test("past stream_max_duration_ms (fake clock): the next read fails the turn, however lively the stream", async () => {
    let clock = 0;
    const events = openEvents(streamOf([enc.encode("data: {}\n\n"), enc.encode("data: {}\n\n")], false), signal, {
      provider: provider({ streamMaxDurationMs: 60_000 }),
      now: () => clock,
    });
    expect(await events.next()).toEqual({ data: "{}" });
    clock = 60_001;
    const e = await events.next().catch((x) => x);
    expect(e).toBeInstanceOf(ModelError);
    expect([e.kind, e.message]).toEqual(["fatal", "the response did not complete within 1 min; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)"]);
  });

  test("the deadline also cuts a silent wait shorter than the idle timeout", async () => {
    const events = openEvents(streamOf<Uint8Array>([], false), signal, { provider: provider({ streamIdleTimeoutMs: 60_000, streamMaxDurationMs: 30 }) });
    const e = await events.next().catch((x) => x);
    expect([e.kind, e.message]).toEqual(["fatal", "the response did not complete within 30 ms; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)"]);
  });

  test("an oversized event and an oversized body are fatal, with the key to raise", async () => {
    const big = openEvents(streamOf([enc.encode(`data: ${"x".repeat(2000)}\n\n`)]), signal, { provider: provider({ streamMaxEventBytes: 1024 }) });
    const e1 = await big.next().catch((x) => x);
    expect([e1.kind, e1.message]).toEqual([
      "fatal",
      "the model server sent one event larger than 1 KiB; ocx stopped reading the response (raise stream_max_event_bytes to allow larger events)",
    ]);
    const many = openEvents(streamOf(Array(50).fill(enc.encode("data: {}\n\n"))), signal, { provider: provider({ streamMaxBytes: 100 }) });
    let e2: any;
    try {
      while (await many.next());
    } catch (x) {
      e2 = x;
    }
    expect([e2.kind, e2.message]).toEqual([
      "fatal",
      "the model server sent more than 100 bytes without completing the response; ocx stopped reading it (raise stream_max_bytes to allow larger responses)",
    ]);
  });
});
