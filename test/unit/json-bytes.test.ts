// JSON read as bytes (src/core/model/json-bytes.ts): a string token's contents are canonical
// exactly when JSON.stringify writes them so, and a large history line read without decoding its
// long strings gives what reading it whole gives (src/core/session/rollout.ts).
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { byteLoops } from "../../src/adapters/byte-loops.ts";
import { cutLongStrings, scanString, type StringScan } from "../../src/core/model/json-bytes.ts";
import { itemJsonByteLength, itemJsonBytes, itemJsonLength } from "../../src/core/model/item-json.ts";
import { readRollout } from "../../src/core/session/resume.ts";
import { parseRollout, RESPONSE_ITEM_LINE, responseItemHead } from "../../src/core/session/rollout.ts";
import { wordsOf } from "../../src/core/util/bytes.ts";

const enc = new TextEncoder();
/** No lone surrogate (String#isWellFormed, which the project's TypeScript lib does not declare). */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Characters that exercise every branch: runs of plain ASCII, escapes, multi-byte, surrogates. */
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(..."abcxyz /:{}[],0129~\x7f"), maxLength: 70 }) },
  { weight: 2, arbitrary: fc.constantFrom('"', "\\", "\n", "\t", "\b", "\f", "\r", "\u0000", "\u0007", "\u000b", "\u000e", "\u001b", "\u001f") },
  { weight: 2, arbitrary: fc.constantFrom("é", "€", "漢", "🚀", "\u0080", "\u07ff", "\u0800", "\uffff", "\u2028", "\u{10ffff}") },
  { weight: 1, arbitrary: fc.constantFrom("\ud800", "\udc00", "\udbff", "\udfff") },
);
const soup = fc.array(piece, { maxLength: 40 }).map((ps) => ps.join(""));

/** How a character may be written in a JSON string other than the way JSON.stringify writes it. */
function writeOtherwise(ch: string, how: number): string {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).padStart(4, "0");
  switch (how % 6) {
    case 0:
      return `\\u${hex}`;
    case 1:
      return `\\u${hex.toUpperCase()}`;
    case 2:
      return ch === "/" ? "\\/" : ch;
    case 3:
      return code < 0x20 ? ch : JSON.stringify(ch).slice(1, -1); // a raw control character
    default:
      return JSON.stringify(ch).slice(1, -1);
  }
}

/** Byte sequences no well-formed UTF-8 holds (overlong, surrogates, out of range, cut short, stray). */
const badUtf8 = fc.constantFrom([0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8], [0xff], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x9a]);

/** `token`'s bytes at offset `pad` of a larger buffer (the word reads see every alignment), junk after. */
function placed(token: Uint8Array, pad: number): { b: Uint8Array; from: number; to: number } {
  const b = new Uint8Array(pad + token.length + 9).fill(0x41);
  b.set(token, pad);
  return { b, from: pad, to: pad + token.length };
}

/** The truth for a token's bytes: whether it is valid JSON and exactly what JSON.stringify writes (for a well-formed string). */
function truth(token: Uint8Array): { valid: boolean; canonical: boolean; text?: string } {
  let text: string;
  try {
    text = strict.decode(token);
  } catch {
    return { valid: false, canonical: false };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false, canonical: false };
  }
  const s = value as string;
  return { valid: true, canonical: JSON.stringify(s) === text && wellFormed(s), text };
}

/** One scan for every call, as cutLongStrings keeps one for a text's tokens: what it caches of one text must not mislead it in another. */
const shared: StringScan = { length: -1, canonical: false };
function scanned(b: Uint8Array, from: number, to: number): { end: number; scan: StringScan } {
  shared.length = -1;
  shared.canonical = false;
  const end = scanString(b, wordsOf(b), from + 1, to + 9, shared);
  return { end, scan: { length: shared.length, canonical: shared.canonical } };
}

describe("scanString", () => {
  test("JSON.stringify of any string: canonical when well-formed, with the text's UTF-16 length; the token ends at its quote", () => {
    fc.assert(
      fc.property(soup, fc.integer({ min: 0, max: 3 }), (s, pad) => {
        const json = JSON.stringify(s);
        const { b, from, to } = placed(enc.encode(json), pad);
        const { end, scan } = scanned(b, from, to);
        expect(end).toBe(to - 1);
        expect(scan.canonical).toBe(wellFormed(s));
        if (scan.canonical) expect(scan.length).toBe(json.length - 2);
      }),
      { numRuns: 3000 },
    );
  });

  test("the same strings written otherwise (escapes, case, raw control characters): canonical exactly when JSON.stringify writes that text", () => {
    fc.assert(
      fc.property(soup.filter((s) => wellFormed(s)), fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 3 }), (s, hows, pad) => {
        let k = 0;
        const body = [...s].map((ch) => writeOtherwise(ch, hows[k++ % hows.length]!)).join("");
        const token = enc.encode(`"${body}"`);
        const t = truth(token);
        const { b, from, to } = placed(token, pad);
        const { end, scan } = scanned(b, from, to);
        expect(scan.canonical && end === to - 1).toBe(t.canonical);
        if (t.valid) expect(end).toBe(to - 1);
        if (t.canonical) expect(scan.length).toBe(t.text!.length - 2);
      }),
      { numRuns: 3000 },
    );
  });

  test("bytes that are not UTF-8 inside a string are never canonical, and the token still ends at its quote", () => {
    fc.assert(
      fc.property(soup.filter((s) => wellFormed(s)), badUtf8, fc.nat(), fc.integer({ min: 0, max: 3 }), (s, bad, at, pad) => {
        const good = enc.encode(JSON.stringify(s).slice(1, -1));
        // Cut only between characters (not inside one, nor inside an escape): at a plain ASCII byte.
        let cutAt = good.length === 0 ? 0 : at % good.length;
        while (cutAt > 0 && (good[cutAt - 1]! >= 0x80 || good[cutAt - 1] === 0x5c)) cutAt--;
        const token = new Uint8Array([0x22, ...good.subarray(0, cutAt), ...bad, ...good.subarray(cutAt), 0x22]);
        expect(truth(token).valid).toBe(false);
        const { b, from, to } = placed(token, pad);
        const { end, scan } = scanned(b, from, to);
        expect(scan.canonical).toBe(false);
        expect(end).toBe(to - 1);
      }),
      { numRuns: 2000 },
    );
  });

  test("a token cut off before its closing quote is not read as one", () => {
    const token = enc.encode(JSON.stringify("abc\\def 🚀 ".repeat(40)).slice(0, -1));
    const b = new Uint8Array(token);
    expect(scanString(b, wordsOf(b), 1, b.length, { length: 0, canonical: false })).toBe(-1);
    const escapeAtEnd = enc.encode('"abc\\');
    expect(scanString(escapeAtEnd, wordsOf(escapeAtEnd), 1, escapeAtEnd.length, { length: 0, canonical: false })).toBe(-1);
  });
});

const long = (seed: string, n: number) => `${seed} ${"0123456789 é \"quoted\" \\ tab\t ✓ line\n".repeat(Math.ceil(n / 40))}`.slice(0, n);

/** Payload objects of history items with long strings: top-level, nested, in arrays, among integer keys. */
const payload = fc
  .record({
    kind: fc.constantFrom("function_call_output", "message", "custom_tool_call_output", "other"),
    text: soup,
    size: fc.integer({ min: 1024, max: 9000 }),
    where: fc.constantFrom("top", "nested", "array", "two", "short"),
    extra: fc.dictionary(fc.constantFrom("a", "b", "1", "0", "10", "zz", "__x"), fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), soup), { maxKeys: 4 }),
  })
  .map(({ kind, text, size, where, extra }) => {
    const big = long(text, size);
    const item: Record<string, unknown> = { type: kind, call_id: "call_1", ...extra };
    if (where === "top") item.output = big;
    else if (where === "nested") item.output = { content: big, more: { deeper: [big, 1] } };
    else if (where === "array") item.content = [{ type: "output_text", text: big }, { type: "input_text", text }];
    else if (where === "two") Object.assign(item, { output: big, second: `${big}2`, tail: "t" });
    else item.output = text.slice(0, 100);
    return item;
  });

/** JSON texts of the payload that JSON.stringify would not write: each a small change of its text. */
function variants(json: string): string[] {
  const out = [
    json.replace(",", ", "),
    json.replace(":", ": "),
    ` ${json}`,
    json.replace(/"call_id":"call_1"/, '"call_id":"call_1","call_id":"call_1"'),
    json.replace("0123456789", "\\u0030123456789"),
    json.replace("0123456789", "0123456789\\/"),
    json.replace("\\t", "\\u0009"),
    json.replace("\\n", "\\u000A"),
    json.replace('"type":', '"9":1,"type":'),
  ];
  return out.filter((v) => v !== json);
}

const dir = mkdtempSync(join(tmpdir(), "ocx-json-bytes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runtime = bunRuntime();
let files = 0;

/** A rollout of the payload texts (the line's head as ocx writes it), read back both ways. */
async function bothWays(payloads: string[]) {
  const lines = [
    JSON.stringify({ timestamp: "2026-11-20T10:00:00.000Z", type: "session_meta", payload: { id: "019a9f3c-1c00-7abc-8def-0123456789ab", cwd: "/w" } }),
    ...payloads.map((p, i) => `{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":${i + 1},"type":"response_item","payload":${p}}`),
  ];
  const path = join(dir, `r${files++}.jsonl`);
  const text = `${lines.join("\n")}\n`;
  writeFileSync(path, text);
  return { read: (await readRollout(runtime, path)).items, parsed: parseRollout(text).items };
}

const isCanonical = (json: string) => {
  try {
    return JSON.stringify(JSON.parse(json)) === json;
  } catch {
    return false;
  }
};

describe("a large history line read without decoding its long strings", () => {
  test("reads as the line parsed whole: values, keys, lengths; it stays in the file exactly when JSON.stringify writes it and it is large", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 4 }), fc.nat(), async (items, pick) => {
        const texts = items.flatMap((it) => {
          const json = JSON.stringify(it);
          const vs = variants(json);
          return vs.length === 0 ? [json] : [json, vs[pick % vs.length]!];
        });
        const { read, parsed } = await bothWays(texts);
        expect(read.length).toBe(parsed.length);
        for (let i = 0; i < read.length; i++) {
          const item = read[i]!;
          expect(JSON.stringify(item)).toBe(JSON.stringify(parsed[i]));
          expect(Object.keys(item)).toEqual(Object.keys(parsed[i]!));
          const inFile = isCanonical(texts[i]!) && enc.encode(texts[i]!).length >= 4096;
          expect(itemJsonBytes(item) !== undefined).toBe(inFile);
          if (inFile) {
            expect(itemJsonLength(item)).toBe(texts[i]!.length);
            expect(itemJsonByteLength(item)).toBe(enc.encode(texts[i]!).length);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  test("a line's head is found on its bytes exactly where the pattern finds it in the text of its first 512 bytes", () => {
    const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
    let found = 0;
    /** The part as ocx writes it, mostly; else one of the ways it can differ. */
    const part = (good: string, ...others: string[]) => fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
    const printable = fc.string({ unit: fc.constantFrom(..."0123456789-T:.Z azAZ!#[]~{}"), maxLength: 30 });
    const head = fc.record({
      open: part('{"timestamp":"', '{"timestamp": "', '{"timestamp":', '{"Timestamp":"', ' {"timestamp":"'),
      ts: fc.oneof(
        { weight: 2, arbitrary: printable },
        { weight: 2, arbitrary: fc.tuple(printable, fc.constantFrom('"', "\\", "é", "\u0000", "\u001f", "\u007f", "🚀"), printable).map((p) => p.join("")) },
        { weight: 1, arbitrary: fc.integer({ min: 440, max: 520 }).map((n) => "2".repeat(n)) },
      ),
      close: part('",', '" ,', '"', ",", '";', '""'),
      ordinal: fc.oneof(fc.constant(""), part("12", "0", "01", "7", "-1", "", "1a", "00", "9".repeat(480)).map((d) => `"ordinal":${d},`), fc.constant('"ordinal":3')),
      type: part('"type":"response_item","payload":', '"type":"response_item","payload" :', '"type":"event_msg","payload":', '"type":"response_item"', ""),
      rest: fc.constantFrom('{"type":"message"}}', "", "é}"),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(head, ({ open, ts, close, ordinal, type, rest, cut }) => {
        let bytes = enc.encode(open + ts + close + ordinal + type + rest);
        if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
        const match = RESPONSE_ITEM_LINE.exec(lenient.decode(bytes.subarray(0, 512)));
        expect(responseItemHead(bytes)).toBe(match ? match[0].length : -1);
        found += match ? 1 : 0;
      }),
      { numRuns: 3000 },
    );
    expect(found).toBeGreaterThan(40); // the generator makes heads that match, not only ones that do not
  });

  test("cutLongStrings takes out exactly the long string values: the skeleton is the item with them empty, the keys are its own members'", () => {
    fc.assert(
      fc.property(payload, fc.integer({ min: 0, max: 3 }), (item, pad) => {
        const json = JSON.stringify(item);
        const { b, from, to } = placed(enc.encode(json), pad);
        const cut = cutLongStrings(b, from, to, 1024);
        let loneSurrogate = false;
        const emptied = JSON.parse(json, (_key, v) => {
          if (typeof v !== "string" || enc.encode(JSON.stringify(v)).length - 2 < 1024) return v;
          loneSurrogate ||= !wellFormed(v);
          return "";
        });
        const skeleton = JSON.stringify(emptied);
        // (A lone surrogate's escape is left to the whole line's reading.)
        if (skeleton === json || loneSurrogate) {
          expect(cut).toBeNull();
          return;
        }
        expect(cut).not.toBeNull();
        expect(strict.decode(cut!.skeleton)).toBe(skeleton);
        expect(cut!.cutLength).toBe(json.length - skeleton.length);
        const keys = cut!.cutKeys.map(([k0, k1]) => JSON.parse(strict.decode(cut!.skeleton.subarray(k0, k1))));
        expect(keys).toEqual(Object.keys(item).filter((k) => typeof item[k] === "string" && emptied[k] === "" && item[k] !== ""));
      }),
      { numRuns: 1000 },
    );
  });

  test("a long string that is not canonical, a long key, or a text that is no object is not cut", () => {
    const canonical = JSON.stringify({ type: "x", output: "y".repeat(2000) });
    const cut = (s: string) => {
      const b = enc.encode(s);
      return cutLongStrings(b, 0, b.length, 1024);
    };
    expect(cut(canonical)).not.toBeNull();
    expect(cut(canonical.replace("yyy", "y\\u0079y"))).toBeNull();
    expect(cut(JSON.stringify({ ["k".repeat(2000)]: 1, type: "x" }))).toBeNull();
    expect(cut(JSON.stringify(["y".repeat(2000)]))).toBeNull();
    expect(cut(canonical.slice(0, -3))).toBeNull();
  });
});
