import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OutputBuffer, approxTokens, countNewlines, countNewlinesScalar, truncationMarker } from "../../src/core/process/output-buffer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function fill(buf: OutputBuffer, bytes: Uint8Array, cuts: number[]): void {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const end = Math.min(bytes.length, c);
    if (end > at) buf.push(bytes.subarray(at, end));
    at = Math.max(at, end);
  }
  buf.push(bytes.subarray(at));
}

describe("OutputBuffer", () => {
  test("keeps everything while under the caps", () => {
    const b = new OutputBuffer(8, 8);
    b.push(enc.encode("hello "));
    b.push(enc.encode("world"));
    expect(b.render()).toBe("hello world");
    expect(b.totalBytes).toBe(11);
    expect(b.omittedBytes).toBe(0);
  });

  test("drops the middle with a token marker", () => {
    const b = new OutputBuffer(4, 4);
    b.push(enc.encode("0123456789abcdef"));
    expect(b.render()).toBe(`0123${truncationMarker(8)}cdef`);
    expect(truncationMarker(8)).toBe("…2 tokens truncated…");
  });

  test("render(maxBytes) splits the budget half and half, like codex", () => {
    // codex's own example: 10 emoji + a line, budget 8 tokens (32 bytes).
    const s = "😀😀😀😀😀😀😀😀😀😀\nsecond line with text\n";
    const b = new OutputBuffer(1024, 1024);
    b.push(enc.encode(s));
    expect(b.render(32)).toBe("😀😀😀😀…8 tokens truncated… line with text\n");
  });

  test("never cuts inside a character", () => {
    const b = new OutputBuffer(5, 5); // 5 is not a multiple of the 4-byte emoji
    b.push(enc.encode("😀😀😀😀😀😀"));
    const out = b.render();
    expect(out).not.toContain("\uFFFD");
    expect(out).toBe(`😀${truncationMarker(16)}😀`);
  });

  test("takeIncompleteEnd holds back a split character", () => {
    const b = new OutputBuffer(64, 64);
    const bytes = enc.encode("ab€"); // € is 3 bytes
    b.push(bytes.subarray(0, 3));
    const carry = b.takeIncompleteEnd();
    expect(carry.length).toBe(1);
    expect(b.render()).toBe("ab");
    b.clear();
    b.push(carry);
    b.push(bytes.subarray(3));
    expect(b.render()).toBe("€");
  });

  test("counts lines like str::lines()", () => {
    const b = new OutputBuffer(4, 4);
    expect(b.lineCount).toBe(0);
    b.push(enc.encode("a\nb\n"));
    expect(b.lineCount).toBe(2);
    b.push(enc.encode("c"));
    expect(b.lineCount).toBe(3);
  });

  test("memory stays bounded for 200 MB of input", () => {
    const b = new OutputBuffer(1024, 1024, { countLines: false });
    const chunk = enc.encode("y\n".repeat(32 * 1024));
    for (let i = 0; i < 3200; i++) b.push(chunk);
    expect(b.totalBytes).toBe(3200 * chunk.length);
    const out = b.render();
    expect(out.length).toBeLessThan(2100);
    expect(out).toContain(`…${approxTokens(3200 * chunk.length - 2048)} tokens truncated…`);
  });

  test("property: head and tail equal the real head and tail", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }).map((a) => a.map((x) => x & 0x7f)), // ASCII: no cut adjustment
        fc.nat(64),
        fc.nat(64),
        fc.array(fc.nat(400), { maxLength: 12 }),
        (bytes, h, t, cuts) => {
          const b = new OutputBuffer(h, t);
          fill(b, bytes, cuts);
          const text = dec.decode(bytes);
          const n = bytes.length;
          expect(b.totalBytes).toBe(n);
          if (n <= h + t) expect(b.render()).toBe(text);
          else expect(b.render()).toBe(text.slice(0, h) + truncationMarker(n - h - t) + text.slice(n - t));
        },
      ),
    );
  });

  test("property: a narrower render budget keeps codex's head/tail split", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }).map((a) => a.map((x) => x & 0x7f)),
        fc.nat(300),
        fc.array(fc.nat(300), { maxLength: 8 }),
        (bytes, budget, cuts) => {
          const b = new OutputBuffer(1000, 1000);
          fill(b, bytes, cuts);
          const text = dec.decode(bytes);
          const n = bytes.length;
          const hb = Math.floor(budget / 2);
          const tb = budget - hb;
          const want = n <= budget ? text : text.slice(0, hb) + truncationMarker(n - budget) + text.slice(n - tb);
          expect(b.render(budget)).toBe(want);
        },
      ),
    );
  });

  test("property: unicode output is a clean prefix and suffix of the input", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 120 }),
        fc.nat(40),
        fc.nat(40),
        fc.array(fc.nat(600), { maxLength: 10 }),
        (s, h, t, cuts) => {
          const bytes = enc.encode(s);
          const b = new OutputBuffer(h, t);
          fill(b, bytes, cuts);
          const out = b.render();
          if (bytes.length <= h + t) {
            expect(out).toBe(s);
            return;
          }
          const [head, tail] = out.split(/…\d+ tokens truncated…/);
          expect(out).not.toContain("\uFFFD");
          expect(s.startsWith(head)).toBe(true);
          expect(s.endsWith(tail)).toBe(true);
          // At most one partial character is dropped at each cut.
          expect(enc.encode(head).length).toBeGreaterThan(h - 4);
          expect(enc.encode(tail).length).toBeGreaterThan(t - 4);
        },
      ),
    );
  });
});

describe("countNewlines", () => {
  const slow = (b: Uint8Array) => b.reduce((c, x) => c + (x === 10 ? 1 : 0), 0);

  test("matches a byte-by-byte count at every alignment and length", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat(7),
        fc.nat(7),
        fc.integer({ min: 0, max: 255 }),
        (raw, from, cut, dense) => {
          // Dense newlines (and bytes near 0x0a, like 0x0b and 0x8a) exercise the lane counters.
          const bytes = raw.map((x) => (x < dense ? 10 : x % 3 === 0 ? 0x8a : x));
          const view = bytes.subarray(Math.min(from, bytes.length), Math.max(Math.min(from, bytes.length), bytes.length - cut));
          expect(countNewlines(view)).toBe(slow(view));
        },
      ),
    );
  });

  test("counts all-newline runs longer than 255 words", () => {
    const bytes = new Uint8Array(70_003).fill(10);
    expect(countNewlines(bytes)).toBe(70_003);
    expect(countNewlines(bytes.subarray(1))).toBe(70_002);
    expect(countNewlines(new Uint8Array(70_000).fill(0x0b))).toBe(0);
  });

  test("the JS count (the fallback without WebAssembly SIMD) matches too", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), (raw, from) => {
        const bytes = raw.map((x) => (x < 80 ? 10 : x));
        const view = bytes.subarray(Math.min(from, bytes.length));
        expect(countNewlinesScalar(view)).toBe(slow(view));
      }),
    );
    expect(countNewlinesScalar(new Uint8Array(70_003).fill(10))).toBe(70_003);
  });

  test("input longer than the SIMD scratch memory (256 KiB), at odd offsets, with blocks of 255 all-newline vectors", () => {
    const size = 256 * 1024 * 2 + 4093;
    const bytes = new Uint8Array(size);
    let seed = 7;
    for (let i = 0; i < size; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      // Stretches of all newlines, of none, and mixed (bytes near 0x0a included).
      const zone = (i >>> 13) % 3;
      bytes[i] = zone === 0 ? 10 : zone === 1 ? 0x0b : seed >>> 24 < 60 ? 10 : (seed >>> 16) & 0xff;
    }
    for (const [from, to] of [
      [0, size],
      [1, size],
      [3, size - 5],
      [262_143, 262_145 + 17],
      [100_000, 100_255],
    ] as const) {
      const view = bytes.subarray(from, to);
      expect(countNewlines(view)).toBe(slow(view));
    }
  });
});
