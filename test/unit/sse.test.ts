import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { concatBytes } from "../../src/core/util/bytes.ts";
import { byteLoops } from "../../src/adapters/byte-loops.ts";
import { SseDecoder, type SseEvent, sseEvents, type SseLimits, sseParser } from "../../src/core/model/sse.ts";
import { cut, cutPoints } from "../support/chunks.ts";

/** The C pass over skipped events (byte-loops.c), compiled here by TinyCC; null where it cannot be. */
const native = byteLoops()?.skipEvents;
if (!native) console.log("sse.test.ts: the C pass over skipped events could not be loaded here; only the JavaScript one is tested");

/** Every event the chunks make, and how many skipped ones ended. */
function decodeAll(chunks: Uint8Array[], limits: SseLimits): { events: SseEvent[]; skipped: number } {
  const decoder = new SseDecoder(limits);
  const events: SseEvent[] = [];
  for (const chunk of chunks) decoder.push(chunk, events);
  return { events, skipped: decoder.skippedEvents };
}

/** decodeAll in JavaScript, and with the C pass over skipped events: the same answer (returned). */
function decodeBoth(chunks: Uint8Array[], limits: SseLimits): { events: SseEvent[]; skipped: number } {
  const js = decodeAll(chunks, limits);
  if (native) expect(decodeAll(chunks, { ...limits, skipEvents: native })).toEqual(js);
  return js;
}

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
          // Skipped types (here: those starting with "s") do not come out; they are counted.
          const skip = new Set(events.map(([ev]) => ev.event).filter((e): e is string => e?.startsWith("s") === true));
          const kept = expected.filter((e) => e.event === undefined || !skip.has(e.event));
          expect(await collect(sseEvents(streamOf(chunks), { skip }))).toEqual(kept);
          expect(decodeBoth(chunks, { skip })).toEqual({ events: kept, skipped: expected.length - kept.length });
        },
      ),
      { numRuns: 300 },
    );
  });

  test("runs of skipped events among any other lines: the events not skipped, in order, and the count of the others", async () => {
    // A few names, so that skipped events come in runs (as deltas do), with what may interrupt a
    // run anywhere: ids, comments, unknown fields, events without data, a second event line, a
    // data line before the event line, another line ending. Without `skip`, the decoder gives
    // every event: with it, the same events less the skipped ones. (A skipped type named in an
    // event that a later event line renames loses the data read in between, by design: skipped
    // data is never kept. So a skipped name only comes here as the last event line of its event.)
    const piece = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fc.constantFrom("s.delta", "s.deltb", "s.delt", "keep"), fc.array(lineText, { minLength: 0, maxLength: 2 })).map(([n, lines]) => `event: ${n}\n${lines.map((l) => `data: ${l}\n`).join("")}\n`) },
      { weight: 1, arbitrary: fc.constantFrom("id: 9\n", "id\n", ": c\n", "retry: 5\n", "data: x\n", "event: keep\n", "event:keep\n", "\n", "\r\n", "\r", "data\n", "datum: y\n", "event: s.deltb\r\n", "event: s.delta\r\ndata: z\r\n\r\n") },
    );
    await fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (pieces, cuts) => {
        const bytes = new TextEncoder().encode(pieces.join(""));
        const chunks = cut(bytes, cutPoints(bytes, cuts));
        const all = decodeAll(chunks, {}).events;
        const skip = new Set(["s.delta", "s.delt"]);
        const kept = all.filter((e) => e.event === undefined || !skip.has(e.event));
        expect(decodeBoth(chunks, { skip })).toEqual({ events: kept, skipped: all.length - kept.length });
        // Raw types: the same events, those of a raw type with their data as bytes (and only those).
        const raw = decodeBoth(chunks, { skip, raw: new Set(["keep"]) });
        const decoded = raw.events.map(({ bytes, ...e }) => {
          if (bytes === undefined) return e;
          expect([e.event, e.data]).toEqual(["keep", ""]);
          return { ...e, data: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes) };
        });
        expect(decoded).toEqual(kept);
      }),
      { numRuns: 1000 },
    );
  });

  test("raw types: data lines read once the type is known come as their bytes, joined by LF; data read before, decoded", () => {
    const text = "event: big\ndata: a\ndata: é\n\ndata: b\nevent: big\n\nevent: big\ndata: c\nevent: other\n\n";
    const { events } = decodeBoth([new TextEncoder().encode(text)], { raw: new Set(["big"]) });
    expect(events).toEqual([
      { event: "big", data: "", bytes: new TextEncoder().encode("a\né") },
      { event: "big", data: "b" },
      { event: "other", data: "c" },
    ]);
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
      const expected = { events: [{ event: "keep", data: "ü😀 ✓" }, { data: "é" }], skipped: 1 };
      const bytes = new TextEncoder().encode(text);
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
          const got = decodeBoth(chunks, { skip: new Set(["s.done"]) });
          if (!Bun.deepEquals(got, expected)) expect({ nl, i, j, got }).toEqual({ nl, i, j, got: expected });
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
    const events = decodeBoth(chunks, { skip: new Set(["big.done"]), maxEventBytes: 100_010 });
    expect(events).toEqual({ events: [{ event: "keep", data: long }], skipped: 2 });
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
    const events = decodeBoth([enc.encode(text)], { skip: new Set(["s.done"]) });
    expect(events).toEqual({
      events: [
        { event: "s.don", data: "2" },
        { event: "s.donf", data: "4" },
        { event: "s.done2", data: "6" },
      ],
      skipped: 3,
    });
  });

  test("a long line sent a byte per chunk is held in one growing buffer, not a view per byte; large chunks are viewed, not copied", () => {
    // A server (or a proxy) that trickles a line must not make memory grow by an object per byte.
    const value = "é😀 x".repeat(40_000);
    const line = enc.encode(`event: big\ndata: ${value}\n\n`);
    const decoder = new SseDecoder({ raw: new Set(["big"]) });
    const events: SseEvent[] = [];
    let most = 0;
    for (let i = 0; i < line.length; i++) {
      decoder.push(line.subarray(i, i + 1), events);
      most = Math.max(most, (decoder as unknown as { pieces: unknown[] }).pieces.length);
    }
    expect(most).toBeLessThanOrEqual(1);
    expect(events.map((e) => new TextDecoder().decode(e.bytes))).toEqual([value]);
    // In two large chunks: each part a view of its chunk.
    const big = new SseDecoder({ raw: new Set(["big"]) });
    const half = line.length >> 1;
    const out: SseEvent[] = [];
    big.push(line.subarray(0, half), out);
    big.push(line.subarray(half), out);
    expect(new TextDecoder().decode(out[0]!.bytes)).toBe(value);
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
