import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { concatBytes } from "../../src/core/util/bytes.ts";
import { type SseEvent, sseEvents, sseParser } from "../../src/core/model/sse.ts";
import { cut, cutPoints } from "../support/chunks.ts";

function streamOf<T>(chunks: T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

const parseText = (...chunks: string[]) => collect(streamOf(chunks).pipeThrough(sseParser()));
const parseBytes = (chunks: Uint8Array[]) => collect(sseEvents(streamOf(chunks)));

describe("sseParser fields", () => {
  test("event, data and id", async () => {
    expect(await parseText("event: a\ndata: x\nid: 1\n\n")).toEqual([{ event: "a", data: "x", id: "1" }]);
  });

  test("data lines are joined with LF; one leading space is stripped", async () => {
    expect(await parseText("data: a\ndata:b\ndata:  c\n\n")).toEqual([{ data: "a\nb\n c" }]);
  });

  test("a field name without a colon has an empty value", async () => {
    expect(await parseText("data\n\ndata\ndata\n\n")).toEqual([{ data: "" }, { data: "\n" }]);
  });

  test("a value may contain colons", async () => {
    expect(await parseText('data: {"a":"b:c"}\n\n')).toEqual([{ data: '{"a":"b:c"}' }]);
  });

  test("comments are ignored, including comment-only blocks", async () => {
    expect(await parseText(": keepalive\n\n:x\ndata: y\n: mid\n\n")).toEqual([{ data: "y" }]);
  });

  test("an event without data is not dispatched and its type does not leak", async () => {
    expect(await parseText("event: foo\n\ndata: x\n\n")).toEqual([{ data: "x" }]);
  });

  test("the last event id persists across events; an empty id resets it", async () => {
    expect(await parseText("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")).toEqual([
      { data: "a", id: "7" },
      { data: "b", id: "7" },
      { data: "c" },
    ]);
  });

  test("an id containing NUL is ignored", async () => {
    expect(await parseText("id: 1\n\nid: a\0b\ndata: x\n\n")).toEqual([{ data: "x", id: "1" }]);
  });

  test("retry and unknown fields are ignored", async () => {
    expect(await parseText("retry: 100\nfoo: bar\ndata: x\n\n")).toEqual([{ data: "x" }]);
  });

  test("CRLF, CR and LF line endings, mixed", async () => {
    expect(await parseText("data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r")).toEqual([
      { data: "a\nb\nc" },
      { data: "d" },
    ]);
  });

  test("a CR ending one chunk and a LF opening the next are one line break", async () => {
    expect(await parseText("data: a\r", "\ndata: b\r\n\r\n")).toEqual([{ data: "a\nb" }]);
    expect(await parseText("data: a\r", "", "\ndata: b\r\n\r\n")).toEqual([{ data: "a\nb" }]);
  });

  test("a trailing event without its blank line is dropped at close", async () => {
    expect(await parseText("data: a\n\ndata: b\n")).toEqual([{ data: "a" }]);
    expect(await parseText("data: a\n\ndata: b")).toEqual([{ data: "a" }]);
  });

  test("a leading BOM is stripped once", async () => {
    expect(await parseText("\uFEFFdata: a\n\n")).toEqual([{ data: "a" }]);
    expect(await parseText("\uFEFF", "\uFEFFdata: a\n\n")).toEqual([]); // second BOM is part of the field name
  });
});

describe("sseEvents over bytes", () => {
  const payload =
    ": hello\r\n" +
    "event: response.output_text.delta\r\n" +
    'data: {"delta":"héllo 😀 ✓"}\r\n' +
    "\r\n" +
    "data: line one\n" +
    "data: ünïcödé line two\r" +
    "\n" +
    "id: 42\n" +
    "\n" +
    "event: done\rdata: [DONE]\r\r";
  const expected: SseEvent[] = [
    { event: "response.output_text.delta", data: '{"delta":"héllo 😀 ✓"}' },
    { data: "line one\nünïcödé line two", id: "42" },
    { event: "done", data: "[DONE]", id: "42" },
  ];
  const bytes = new TextEncoder().encode(payload);

  test("whole payload", async () => {
    expect(await parseBytes([bytes])).toEqual(expected);
  });

  test("every single split point, including inside multi-byte characters", async () => {
    for (let i = 0; i <= bytes.length; i++) {
      const events = await parseBytes([bytes.subarray(0, i), bytes.subarray(i)]);
      expect({ i, events }).toEqual({ i, events: expected });
    }
  });

  test("every pair of split points", async () => {
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const events = await parseBytes([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        if (!Bun.deepEquals(events, expected)) expect({ i, j, events }).toEqual({ i, j, events: expected });
      }
    }
  });

  test("one byte at a time", async () => {
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(await parseBytes(chunks)).toEqual(expected);
  });
});

describe("property: chunking never changes the events", () => {
  const lineText = fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !/[\r\n\0]/.test(s));
  const name = fc.stringMatching(/^[a-z][a-z._]{0,12}$/);
  const eventArb = fc.record(
    {
      event: name,
      dataLines: fc.array(lineText, { minLength: 1, maxLength: 3 }),
      comment: fc.option(lineText, { nil: undefined }),
    },
    { requiredKeys: ["dataLines"] },
  );
  const eol = fc.constantFrom("\n", "\r\n", "\r");

  test("random events, line endings and byte chunkings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(eventArb, eol), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (events, cuts) => {
          let text = "";
          const expected: SseEvent[] = [];
          for (const [ev, nl] of events) {
            if (ev.comment !== undefined) text += `:${ev.comment}${nl}`;
            if (ev.event !== undefined) text += `event: ${ev.event}${nl}`;
            // A value starting with a space keeps it: "data: " strips exactly one.
            for (const line of ev.dataLines) text += `data: ${line}${nl}`;
            text += nl;
            const out: SseEvent = { data: ev.dataLines.join("\n") };
            if (ev.event !== undefined) out.event = ev.event;
            expected.push(out);
          }
          const bytes = new TextEncoder().encode(text);
          const chunks = cut(bytes, cutPoints(bytes, cuts));
          expect(await parseBytes(chunks)).toEqual(expected);
          // Skipped types (here: those starting with "s") come out with empty data, in place.
          const skip = new Set(events.map(([ev]) => ev.event).filter((e): e is string => e?.startsWith("s") === true));
          const skipped = expected.map((e) => (e.event !== undefined && skip.has(e.event) ? { ...e, data: "" } : e));
          expect(await collect(sseEvents(streamOf(chunks), { skip }))).toEqual(skipped);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("the last event line names the event: a skipped type named first, then another, is not skipped", async () => {
    const text = 'event: big.done\nevent: response.completed\ndata: {"a":1}\n\n';
    const events = await collect(sseEvents(streamOf([new TextEncoder().encode(text)]), { skip: new Set(["big.done"]) }));
    expect(events).toEqual([{ event: "response.completed", data: '{"a":1}' }]);
  });

  test("a skipped data line of multi-byte characters, cut at every pair of points, leaves what follows whole", async () => {
    // The rest of a skipped line is not decoded: a chunk may start, end or lie wholly inside
    // it, cutting characters anywhere, and each line ending ends it.
    for (const nl of ["\n", "\r\n", "\r"]) {
      const text = `event: s.done${nl}data: ${"é😀✓".repeat(8)}${nl}${nl}event: keep${nl}data: ü😀 ✓${nl}${nl}data: é${nl}${nl}`;
      const expected: SseEvent[] = [{ event: "s.done", data: "" }, { event: "keep", data: "ü😀 ✓" }, { data: "é" }];
      const bytes = new TextEncoder().encode(text);
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
          const events = await collect(sseEvents(streamOf(chunks), { skip: new Set(["s.done"]) }));
          if (!Bun.deepEquals(events, expected)) expect({ nl, i, j, events }).toEqual({ nl, i, j, events: expected });
        }
      }
    }
  });

  test("a skipped event's data is never joined: a long data line split over many chunks is dropped as it comes", async () => {
    const long = "x".repeat(100_000);
    const text = `event: big.done\ndata: {"text":"${long}"}\n\nevent: keep\ndata: ${long}\n\ndata: first\nevent: big.done\n\n`;
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 997) chunks.push(bytes.subarray(i, i + 997));
    // A cap below the skipped line's length: only kept data counts against it.
    const events = await collect(sseEvents(streamOf(chunks), { skip: new Set(["big.done"]), maxEventBytes: 100_010 }));
    expect(events).toEqual([{ event: "big.done", data: "" }, { event: "keep", data: long }, { event: "big.done", data: "" }]);
  });
});

describe("bytes: only what is kept is decoded, line by line", () => {
  const enc = new TextEncoder();

  test("invalid UTF-8 in values, cut anywhere: U+FFFD where TextDecoder puts it, line by line", async () => {
    // Any bytes but CR and LF: truncated and overlong sequences, lone continuation bytes, surrogates.
    const value = fc.uint8Array({ maxLength: 12 }).map((b) => b.map((x) => (x === 0x0a || x === 0x0d ? 0xe2 : x)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(value, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), async (events, cuts) => {
        const parts: Uint8Array[] = [];
        for (const lines of events) {
          for (const v of lines) parts.push(enc.encode("data: "), v, enc.encode("\n"));
          parts.push(enc.encode("\n"));
        }
        const bytes = concatBytes(parts);
        const expected = events.map((lines) => ({ data: lines.map((v) => new TextDecoder().decode(v)).join("\n") }));
        expect(await parseBytes(cut(bytes, cutPoints(bytes, cuts)))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  test("one byte order mark opens the stream, cut anywhere; one inside a value is kept", async () => {
    const bytes = enc.encode("\uFEFFdata: a\n\ndata: \uFEFFb\uFEFF\n\n");
    for (let i = 0; i <= bytes.length; i++) {
      const events = await parseBytes(cut(bytes, [i]));
      expect({ i, events }).toEqual({ i, events: [{ data: "a" }, { data: "\uFEFFb\uFEFF" }] });
    }
  });

  test("event names that differ in their last byte or their length are told apart, skipped or not", async () => {
    const text = "event: s.done\ndata: 1\n\nevent: s.don\ndata: 2\n\nevent: s.done\ndata: 3\n\nevent: s.donf\ndata: 4\n\nevent: s.done\ndata: 5\n\nevent: s.done2\ndata: 6\n\n";
    const events = await collect(sseEvents(streamOf([enc.encode(text)]), { skip: new Set(["s.done"]) }));
    expect(events).toEqual([
      { event: "s.done", data: "" },
      { event: "s.don", data: "2" },
      { event: "s.done", data: "" },
      { event: "s.donf", data: "4" },
      { event: "s.done", data: "" },
      { event: "s.done2", data: "6" },
    ]);
  });

  test("a long line of multi-byte characters in chunks of one byte, and the cap counts bytes", async () => {
    const long = "é😀✓".repeat(5_000);
    const bytes = enc.encode(`event: keep\ndata: ${long}\n\n`);
    expect(await parseBytes(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual([{ event: "keep", data: long }]);
    // 5 × "é" is 10 bytes (5 characters): within a cap of 11 bytes; 6 × "é" is not.
    expect(await collect(sseEvents(streamOf([enc.encode(`data: ${"é".repeat(5)}\n\n`)]), { maxEventBytes: 11 }))).toEqual([{ data: "ééééé" }]);
    const over = collect(sseEvents(streamOf([enc.encode(`data: ${"é".repeat(6)}\n\n`)]), { maxEventBytes: 11 }));
    await expect(over).rejects.toThrow("one server-sent event is larger than 11 bytes");
  });
});
