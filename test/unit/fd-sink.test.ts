// The stdout/stderr sink of the adapters (src/adapters/common.ts fdSink): everything written
// arrives once and in order through short writes, EAGAIN and writes that complete later; a
// closed reader (EPIPE) drops the rest quietly, and flush() always settles.
import { describe, expect, test } from "bun:test";
import { fdSink, type WriteSome } from "../../src/adapters/common.ts";

const decoder = new TextDecoder();
const text = (c: string | Uint8Array) => (typeof c === "string" ? c : decoder.decode(c));
const errno = (code: string) => Object.assign(new Error(code), { code });

/** A fake fd: takes at most `max` bytes a call, and fails as `script` says for each call. */
function fakeFd(opts: { max?: number; script?: Array<"EAGAIN" | "EPIPE" | "later" | undefined> } = {}) {
  const out: string[] = [];
  let call = 0;
  const writeSome: WriteSome = (chunk) => {
    const step = (opts.script ?? [])[call++];
    if (step === "EAGAIN" || step === "EPIPE") throw errno(step);
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const n = Math.min(bytes.length, opts.max ?? Infinity);
    if (step === "later") {
      return new Promise((resolve) => setTimeout(() => {
        out.push(text(bytes));
        resolve(null);
      }, 5));
    }
    out.push(text(bytes.subarray(0, n)));
    return n < bytes.length ? bytes.subarray(n) : null;
  };
  return { out, writeSome, calls: () => call };
}

describe("fdSink", () => {
  test("writes at once, in order, strings and bytes", async () => {
    const fd = fakeFd();
    const sink = fdSink(fd.writeSome, () => false);
    sink.write("a");
    sink.write(new TextEncoder().encode("b"));
    sink.write("");
    expect(fd.out.join("")).toBe("ab"); // synchronous: on the fd before write() returns
    await sink.flush();
    expect(fd.calls()).toBe(2);
  });

  test("a short write goes on with the rest", async () => {
    const fd = fakeFd({ max: 3 });
    const sink = fdSink(fd.writeSome, () => false);
    sink.write("hello, world");
    sink.write("!");
    await sink.flush();
    expect(fd.out.join("")).toBe("hello, world!");
    expect(fd.out[0]).toBe("hel");
  });

  test("EAGAIN keeps the chunk and what follows queued, then writes them in order", async () => {
    const fd = fakeFd({ script: [undefined, "EAGAIN", "EAGAIN", undefined, undefined] });
    const sink = fdSink(fd.writeSome, () => false);
    sink.write("1");
    sink.write("2");
    sink.write("3");
    expect(fd.out.join("")).toBe("1");
    await sink.flush();
    expect(fd.out.join("")).toBe("123");
  });

  test("a write that completes later holds back the next ones", async () => {
    const fd = fakeFd({ script: ["later", undefined] });
    const sink = fdSink(fd.writeSome, () => false);
    sink.write("first ");
    sink.write("second");
    expect(fd.out).toEqual([]);
    await sink.flush();
    expect(fd.out.join("")).toBe("first second");
  });

  test("EPIPE drops this and later output without throwing; flush settles", async () => {
    const fd = fakeFd({ script: [undefined, "EPIPE"] });
    const sink = fdSink(fd.writeSome, () => false);
    sink.write("kept\n");
    expect(() => sink.write("lost\n")).not.toThrow();
    sink.write("also lost\n");
    await sink.flush();
    expect(fd.out.join("")).toBe("kept\n");
    expect(fd.calls()).toBe(2);
  });

  test("isTTY is asked once, when first read", () => {
    let asked = 0;
    const sink = fdSink(fakeFd().writeSome, () => (asked++, true));
    expect(asked).toBe(0);
    expect(sink.isTTY).toBe(true);
    expect(sink.isTTY).toBe(true);
    expect(asked).toBe(1);
  });
});

describe("writeLinesSync (the rollout's appends) and the pieces of long strings", () => {
  /** What `write(fd)` put in a fresh file, as bytes. */
  async function written(write: (fd: number) => void): Promise<Buffer> {
    const { closeSync, mkdtempSync, openSync, readFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "ocx-lines-"));
    try {
      const path = join(dir, "f");
      const fd = openSync(path, "a", 0o600);
      try {
        write(fd);
      } finally {
        closeSync(fd);
      }
      return readFileSync(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("each line and a newline as UTF-8, the same bytes as TextEncoder makes of the joined text, call after call", async () => {
    const fc = (await import("fast-check")).default;
    const { writeLinesSync } = await import("../../src/adapters/common.ts");
    const enc = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 3 }).map((s) => s.repeat(30_000))), { maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        async (calls) => {
          const got = await written((fd) => {
            for (const lines of calls) writeLinesSync(fd, lines);
          });
          const want = enc.encode(calls.flat().map((l) => `${l}\n`).join(""));
          expect(got.equals(Buffer.from(want))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  test("lines far larger than the scratch, characters of 1 to 4 bytes and lone surrogates astride every cut", async () => {
    const { PIECE_CHARS, writeLinesSync } = await import("../../src/adapters/common.ts");
    const enc = new TextEncoder();
    // The scratch holds 3 * PIECE_CHARS bytes: shift where each kind of character meets its end.
    const lines: string[] = [];
    for (const unit of ["a", "é", "€", "😀", "\ud800", "\udc00x"]) {
      for (const shift of [0, 1, 2, 3]) lines.push("a".repeat(shift) + unit.repeat(Math.ceil((7 * PIECE_CHARS) / unit.length)));
    }
    lines.push("", "end");
    const got = await written((fd) => writeLinesSync(fd, lines));
    expect(got.equals(Buffer.from(enc.encode(lines.map((l) => `${l}\n`).join(""))))).toBe(true);
  });

  test("pieces: at most PIECE_CHARS units each, a surrogate pair never cut, the text whole again when joined", async () => {
    const { PIECE_CHARS, pieces } = await import("../../src/adapters/common.ts");
    for (const shift of [0, 1, 2]) {
      const text = "x".repeat(shift) + "😀".repeat(PIECE_CHARS + 7) + "\ud800" + "é".repeat(PIECE_CHARS);
      const ps = pieces(text);
      expect(ps.join("")).toBe(text);
      for (const [k, p] of ps.entries()) {
        expect(p.length).toBeLessThanOrEqual(PIECE_CHARS);
        if (k < ps.length - 1) {
          const last = p.charCodeAt(p.length - 1);
          expect(last >= 0xd800 && last <= 0xdbff && ps[k + 1]!.charCodeAt(0) >= 0xdc00 && ps[k + 1]!.charCodeAt(0) <= 0xdfff).toBe(false);
        }
      }
    }
  });

  test("a sink over a real descriptor: a long string of mixed characters arrives as TextEncoder makes it", async () => {
    const { nodeFdSink, PIECE_CHARS } = await import("../../src/adapters/common.ts");
    const text = `${"a".repeat(PIECE_CHARS - 1)}😀${"é€😀\udfff".repeat(PIECE_CHARS)}\n`;
    const got = await written((fd) => {
      const sink = nodeFdSink(fd);
      sink.write(text);
      sink.write("after\n");
    });
    expect(got.equals(Buffer.from(new TextEncoder().encode(`${text}after\n`)))).toBe(true);
  });

  test("a rollout writer's lines reach the file whole, held ones and later ones", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { bunRuntime } = await import("../../src/adapters/bun.ts");
    const { RolloutWriter } = await import("../../src/core/session/rollout.ts");
    const { createRedactor } = await import("../../src/core/redact.ts");
    const dir = mkdtempSync(join(tmpdir(), "ocx-lines-"));
    try {
      const path = join(dir, "r.jsonl");
      const w = new RolloutWriter(bunRuntime(), path, createRedactor(() => []), 0, undefined, { held: true });
      const long = "lïne ✓ 🚀 ".repeat(200_000);
      w.event({ type: "agent_message", message: long });
      w.event({ type: "agent_message", message: "short" });
      w.release();
      w.event({ type: "agent_message", message: `${long}2` });
      w.close();
      const lines = readFileSync(path, "utf8").split("\n");
      expect(lines.length).toBe(4);
      expect(lines[3]).toBe("");
      expect(lines.slice(0, 3).map((l) => JSON.parse(l).payload.message)).toEqual([long, "short", `${long}2`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
