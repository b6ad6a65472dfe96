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

describe("encodeLines (the rollout's appends)", () => {
  test("each line and a newline as UTF-8, the same bytes as TextEncoder makes of the joined text, call after call on one scratch", async () => {
    const fc = (await import("fast-check")).default;
    const { encodeLines } = await import("../../src/adapters/common.ts");
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 3 }).map((s) => s.repeat(5000))), { maxLength: 4 }), { minLength: 1, maxLength: 4 }), (calls) => {
        for (const lines of calls) {
          const got = encodeLines(lines);
          // Compared before the next call overwrites the scratch.
          expect(Buffer.from(got).equals(Buffer.from(enc.encode(lines.map((l) => `${l}\n`).join(""))))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    // Lines larger than the scratch kept: written from a buffer of their own, then the kept one again.
    const huge = "é".repeat(6 * 1024 * 1024);
    expect(encodeLines([huge, "x"]).length).toBe(12 * 1024 * 1024 + 3);
    expect(new TextDecoder().decode(encodeLines(["a", "ü"]))).toBe("a\nü\n");
  });

  test("a rollout writer's lines reach the file whole, held ones in one write", async () => {
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
