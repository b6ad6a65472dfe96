// A large event's JSON read from its bytes (event-json.ts): with the C loops (byte-loops.c) and
// without them, the value is exactly what JSON.parse of the decoded bytes gives, for any text the
// server may send: long strings with every escape, characters of every width, invalid UTF-8,
// unpaired surrogates, control characters, strings that read as the marks it puts in their place.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { byteLoops } from "../../src/adapters/byte-loops.ts";
import { LONG_STRING, parseEventJson } from "../../src/core/model/event-json.ts";

const natives = byteLoops() ?? undefined;
if (!natives) console.log("event-json.test.ts: the C loops could not be loaded here; only the JavaScript path is tested");

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { ignoreBOM: true });

/** What JSON.parse of the decoded bytes gives (undefined when it throws). */
function oracle(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch {
    return undefined;
  }
}

/** Both ways (with the C loops where they load, and without) give the oracle's value. */
function expectSame(bytes: Uint8Array): void {
  const want = oracle(bytes);
  expect(parseEventJson(bytes, undefined, "keep")).toEqual(want);
  if (natives) expect(parseEventJson(bytes, natives, "keep")).toEqual(want);
}

/** JSON text of `value` with strings escaped in one of the ways servers do (all valid JSON). */
function serialise(value: unknown, style: number): string {
  const text = JSON.stringify(value);
  if (style === 0) return text;
  // Inside strings only (after a quote not escaped): non-ASCII as \uXXXX, "/" as "\/", upper-case hex.
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString && c === "\\") {
      out += c + text[++i]!;
      continue;
    }
    if (c === '"') inString = !inString;
    const code = c.charCodeAt(0);
    if (inString && code > 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`[style === 2 ? "toUpperCase" : "toString"]();
    else if (inString && c === "/" && style === 1) out += "\\/";
    else out += c;
  }
  return out;
}

// Strings short and long, from pieces that exercise every escape and width.
// (Unpaired surrogates are rare: a long string that holds one is read by JSON.parse alone.)
const piece = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("a", "word ", '"', "\\", "/", "\n", "\t", "\r", "\b", "\f", "\u0000", "\u001f", "é", "€", "😀", "\u2028", "\uFEFF", "x".repeat(500), "ü".repeat(300)) },
  { weight: 1, arbitrary: fc.constantFrom("\ud800", "\udfff") },
);
const text = fc.oneof({ weight: 3, arbitrary: fc.array(piece, { maxLength: 8 }).map((p) => p.join("")) }, { weight: 1, arbitrary: fc.array(piece, { minLength: 20, maxLength: 60 }).map((p) => p.join("").repeat(12)) });
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, text, fc.integer(), fc.constant(null), fc.boolean(), fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(text, tie("node"), { maxKeys: 4 })),
})).node;

describe("parseEventJson: the value JSON.parse gives", () => {
  test("random values with long strings, in three escaping styles", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("type", "item", "text", "__proto__", "0", "a"), value, { maxKeys: 5 }), fc.integer({ min: 0, max: 2 }), (v, style) => {
        expectSame(enc.encode(serialise(v, style)));
      }),
      { numRuns: 300 },
    );
  });

  test("the same texts broken: cut short, a raw control character, a bad escape, a stray byte", () => {
    const long = JSON.stringify({ type: "response.output_item.done", item: { content: [{ text: "é\n\"q\" 😀 ".repeat(1000) }] } });
    const bytes = enc.encode(long);
    const at = long.indexOf("😀");
    const variants = [
      bytes.subarray(0, bytes.length - 3),
      enc.encode(long.replace("\\n", "\n")),
      enc.encode(long.replace("\\n", "\\x")),
      enc.encode(long.replace("\\n", "\\u12")),
      enc.encode(long.replace("\\n", "\\ud83d")),
      enc.encode(long.replace("\\n", "\\ud83d\\u0041")),
      enc.encode(long.replace("\\n", "\\ud83d\\ue000")),
      enc.encode(long.replace("\\n", "\\ude00\\ud83d")),
      enc.encode(`${long.slice(0, at)}\\ud83d\\ude00${long.slice(at + 2)}`),
      Uint8Array.from([...bytes.subarray(0, 200), 0xe2, 0x82, ...bytes.subarray(200)]),
      Uint8Array.from([...bytes.subarray(0, 200), 0xff, ...bytes.subarray(200)]),
      enc.encode(`${long} trailing`),
      enc.encode(`"${"x".repeat(LONG_STRING * 2)}"`),
    ];
    for (const v of variants) expectSame(v);
  });

  test("strings that read as its marks, and a long string held by __proto__", () => {
    const long = "ü😀\\".repeat(LONG_STRING);
    for (const v of [
      { a: "\u00000", b: long },
      { a: long, b: ["\u00001"] },
      { a: "\u00000", b: long, c: long },
      ["\u0000", long, "\u00000x", "\u000000"],
      JSON.parse(`{"__proto__": ${JSON.stringify(long)}, "b": 1}`),
      { nested: { deeper: [{ text: long }, { text: long.slice(7) }] } },
    ]) {
      expectSame(enc.encode(JSON.stringify(v)));
    }
  });

  test("deep nesting around a long string: no stack overflow, the same value or none", () => {
    const depth = 100_000;
    const leaf = "é\n".repeat(LONG_STRING);
    const bytes = enc.encode(`${"[".repeat(depth)}${JSON.stringify(leaf)}${"]".repeat(depth)}`);
    // (compared by walking down: a deep equality of this would overflow the stack itself)
    const innermost = (v: unknown) => {
      let d = 0;
      while (Array.isArray(v)) (v = v[0]), d++;
      return { d, v };
    };
    const want = oracle(bytes) === undefined ? undefined : { d: depth, v: leaf };
    for (const n of natives ? [natives, undefined] : [undefined]) {
      const got = parseEventJson(bytes, n, "keep");
      expect(got === undefined ? undefined : innermost(got)).toEqual(want);
    }
  });
});

describe("the C loops (byte-loops.c) and numbers held as doubles", () => {
  test("a whole number JavaScriptCore holds as a double is the same i32 to them (bun:ffi would read it as 0)", () => {
    if (!natives) return;
    const held = new Float64Array([2, 1024]);
    const text = enc.encode(JSON.stringify({ type: "x", output: "y".repeat(2000) }));
    expect(Array.from(natives.longStrings(text, held[1]!)!)).toEqual(Array.from(natives.longStrings(text, 1024)!));
    expect(Array.from(natives.longStrings(text, 1024)!)).toEqual([22, 2022]);
    const events = enc.encode("xxevent: d\ndata: 1\n\nevent: d\ndata: 2\n\n");
    const counts = new Int32Array(1);
    expect(natives.skipEvents(events, held[0]!, events.length, enc.encode("event: d"), counts)).toBe(events.length);
    expect(counts[0]).toBe(2);
  });
});

describe("parseEventJson, long strings dropped (response.completed: only its id and usage are read)", () => {
  test("the rest of the value is read; each long string is empty", () => {
    const long = "a\"b\\c é😀\n".repeat(LONG_STRING);
    const completed = { type: "response.completed", response: { id: "resp_1", output: [{ type: "message", content: [{ type: "output_text", text: long }] }], usage: { input_tokens: 5, output_tokens: 7 } } };
    const bytes = enc.encode(JSON.stringify(completed));
    const dropped = { ...completed, response: { ...completed.response, output: [{ type: "message", content: [{ type: "output_text", text: "" }] }] } };
    for (const n of natives ? [natives, undefined] : [undefined]) expect(parseEventJson(bytes, n, "drop")).toEqual(dropped);
  });
});
