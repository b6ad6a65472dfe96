import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OutputBuffer } from "../../src/core/process/output-buffer.ts";
import { createRedactor, REDACTED, redactingSink } from "../../src/core/redact.ts";
import { capture } from "../support/fake-runtime.ts";

const KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

describe("redactor", () => {
  test("without secrets every string comes back as it is", () => {
    const r = createRedactor(() => [undefined, null, "short"]);
    const s = "nothing to hide here, not even short";
    expect(r.text(s)).toBe(s);
    expect(r.fragment(s, { before: true, after: true })).toBe(s);
  });

  test("every occurrence, raw or JSON-escaped, becomes [REDACTED]; 7 characters are not a secret", () => {
    const quoted = 'tok"en\\with-escapes';
    const r = createRedactor(() => [KEY, quoted, "1234567"]);
    expect(r.text(`a ${KEY} b ${KEY}`)).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(r.text(JSON.stringify({ v: `x${quoted}y` }))).toBe(`{"v":"x${REDACTED}y"}`);
    expect(r.text(`x${quoted}y`)).toBe(`x${REDACTED}y`);
    expect(r.text("pin 1234567")).toBe("pin 1234567");
  });

  test("values are trimmed; a secret that contains another is replaced whole", () => {
    const r = createRedactor(() => [`  ${KEY}\n`, KEY.slice(0, 12)]);
    expect(r.text(`[${KEY}]`)).toBe(`[${REDACTED}]`);
    expect(r.text(`[${KEY.slice(0, 12)}]`)).toBe(`[${REDACTED}]`);
  });

  test("sources are asked on every use (tokens rotate) and can be added later", () => {
    let token = "access-token-one";
    const r = createRedactor(() => [token]);
    expect(r.text("access-token-one")).toBe(REDACTED);
    token = "access-token-two";
    expect(r.text("access-token-one access-token-two")).toBe(`access-token-one ${REDACTED}`);
    r.add(() => ["later-added-secret"]);
    expect(r.text("later-added-secret")).toBe(REDACTED);
  });

  test("a piece cut through a secret: the part of 8+ characters at the cut is replaced, at either end", () => {
    const r = createRedactor(() => [KEY]);
    expect(r.fragment(`out: ${KEY.slice(0, 20)}`, { before: false, after: true })).toBe(`out: ${REDACTED}`);
    expect(r.fragment(`${KEY.slice(-20)} rest`, { before: true, after: false })).toBe(`${REDACTED} rest`);
    // Not at a cut: a prefix is ordinary text.
    expect(r.fragment(`out: ${KEY.slice(0, 20)}`, { before: false, after: false })).toBe(`out: ${KEY.slice(0, 20)}`);
    // Fewer than 8 characters left at a cut stay (the other side holds the rest and is replaced).
    expect(r.fragment(`out: ${KEY.slice(0, 7)}`, { before: false, after: true })).toBe(`out: ${KEY.slice(0, 7)}`);
    // Both ends, and a whole one in the middle.
    expect(r.fragment(`${KEY.slice(-9)} ${KEY} ${KEY.slice(0, 9)}`, { before: true, after: true })).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
  });

  test("property: wherever a stream is cut, no piece keeps 8 characters of the secret", () => {
    // Distinct characters, as in a random key: no run of 8 can be made up from two occurrences.
    const secretArb = fc.shuffledSubarray([..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"], { minLength: 8 }).map((cs) => cs.join(""));
    const fillerArb = fc.stringMatching(/^[a-z .\n]{0,40}$/);
    fc.assert(
      fc.property(secretArb, fillerArb, fillerArb, fc.nat(), fc.nat(), (secret, pre, post, c1, c2) => {
        const r = createRedactor(() => [secret]);
        const stream = `${pre}${secret}${post}${secret}`;
        const cuts = [...new Set([c1 % (stream.length + 1), c2 % (stream.length + 1)])].sort((a, b) => a - b);
        const bounds = [0, ...cuts, stream.length];
        for (let i = 0; i + 1 < bounds.length; i++) {
          const piece = r.fragment(stream.slice(bounds[i], bounds[i + 1]), { before: bounds[i]! > 0, after: bounds[i + 1]! < stream.length });
          for (let k = 0; k + 8 <= secret.length; k++) expect(piece).not.toContain(secret.slice(k, k + 8));
        }
      }),
      { numRuns: 500 },
    );
  });

  test("a sink redacts every write, text or bytes", () => {
    const out = capture();
    const sink = redactingSink(out, createRedactor(() => [KEY]));
    sink.write(`key=${KEY}\n`);
    sink.write(new TextEncoder().encode(`bytes ${KEY}\n`));
    expect(out.text()).toBe(`key=${REDACTED}\nbytes ${REDACTED}\n`);
  });
});

describe("output truncated through a secret", () => {
  test("the head's and the tail's parts at the marker are replaced", () => {
    const r = createRedactor(() => [KEY]);
    const piece = (t: string, before: boolean, after: boolean) => r.fragment(t, { before, after });
    const buf = new OutputBuffer(1 << 20, 1 << 20);
    // 100 bytes; an 80-byte budget keeps bytes 0-40 and 60-100, and the key (30-74) spans both cuts.
    const text = `${"a".repeat(30)}${KEY}${"b".repeat(100 - 30 - KEY.length)}`;
    buf.push(new TextEncoder().encode(text));
    const plain = buf.render(80);
    expect(plain).toContain(KEY.slice(0, 10)); // the head cuts the key: without redaction its start shows
    const out = buf.render(80, { piece });
    expect(out).toBe(`${"a".repeat(30)}${REDACTED}…5 tokens truncated…${REDACTED}${"b".repeat(100 - 30 - KEY.length)}`);
  });
});
