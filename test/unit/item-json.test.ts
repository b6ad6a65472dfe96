import { describe, expect, test } from "bun:test";
import { isStringifyOf, itemJsonByteLength, itemJsonLength, walksAsStringifyOf } from "../../src/core/model/item-json.ts";
import { concatBytes } from "../../src/core/util/bytes.ts";
import { buildResponsesBody, responsesBody } from "../../src/core/model/responses.ts";
import type { ModelRequest, ResponseItem } from "../../src/core/model/types.ts";
import { estimateTokens } from "../../src/core/agent/compaction.ts";
import { parseRolloutBytes } from "../../src/core/session/rollout.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Payload texts, each parsed and compared with JSON.stringify of the result. */
const texts = [
  `{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}`,
  `{"type":"function_call_output","call_id":"c","output":"line 1\\nline 2\\t\\"quoted\\" \\\\ back"}`,
  `{"a":"\\u001b[31mred\\u001b[0m","b":"\\u0000\\u001f\\b\\f\\n\\r\\t"}`,
  `{"a":"h\u00e9llo \u20ac \ud83d\ude80 \u2028 \u007f"}`,
  `{"a":1,"b":-2.5,"c":1e+21,"d":0.000001,"e":true,"f":false,"g":null,"h":[],"i":{}}`,
  `{"a":[1,[2,[3,{"b":[]}]]],"c":"x"}`,
  `{"__proto__":{"x":1},"constructor":"c"}`,
  // Not what JSON.stringify writes:
  `{"a":"\\/"}`,
  `{"a":"\\u0041"}`,
  `{"a":"\\u001B"}`,
  `{"a":"\\u000a"}`,
  `{"a":"\\u007f"}`,
  `{"a":"\\ud83d\\ude80"}`,
  `{"a":"\\ud800"}`,
  `{"a":"\\uD800"}`,
  `{"a":"\\ud800x","b":"\\udc00"}`,
  `{"a": "x"}`,
  ` {"a":"x"}`,
  `{"a":"x"} `,
  `{"a":"x" ,"b":1}`,
  `[ 1,2]`,
  `{"a":1.0}`,
  `{"a":1.50}`,
  `{"a":1E21}`,
  `{"a":1e21}`,
  `{"a":-0}`,
  `{"a":0.0000001}`,
  `{"a":1e-7}`,
  `{"a":100}`,
  `{"a":1e2}`,
  `{"a":"x","a":"x"}`,
  `{"a":"x","b":"y","a":"x"}`,
  `{"a":"long long","a":"y"}`,
  `{"b":1,"1":1}`,
  `{"1":1,"b":1}`,
  `{"2":"x","1":"y"}`,
  `{"a":"\\\\u0041"}`,
  `{"a":"\\\\/"}`,
  `"just a string"`,
  `"just a \\"string\\""`,
  `12`,
  `null`,
  `{"emoji":"😀","cjk":"漢字","text":"a\\\\b"}`,
  `{"a":"\\ud83dx\\ude00"}`,
  `{"a":"\\ude00\\ud83d"}`,
  `{"a":"\\ud83d\\\\ude00"}`,
  `{"a":"\\\\ud83d\\ude00"}`,
  `{"a":"x\\udfff","b":"\\udbff"}`,
  `{"a":"\\ud83d\\ud83d"}`,
  `{"a":"\\\\"}`,
  `{"a":"\\"\\\\\\b\\f\\n\\r\\t\\u0007\\u000b\\u000e\\u001f"}`,
  `{"a":"\\u0008"}`,
  `{"a":"\\u0009"}`,
  `{"a":"\\u000c"}`,
  `{"a":"\\u000d"}`,
  `{"a":"\\u0020"}`,
  `{"a":"\\u0022"}`,
  `{"a":"\\u005c"}`,
];

// Both ways isStringifyOf decides: a fresh JSON.stringify (texts up to 2 KB) and the walk (past
// that, and at every length here through walksAsStringifyOf).
for (const [name, check] of [
  ["isStringifyOf", isStringifyOf],
  ["the walk (walksAsStringifyOf)", walksAsStringifyOf],
] as const) describe(name, () => {
  for (const text of texts) {
    test(`agrees with JSON.stringify: ${text}`, () => {
      const value = JSON.parse(text);
      expect(check(value, text)).toBe(JSON.stringify(value) === text);
      // Inside a longer text, as a slice.
      const line = `{"payload":${text}}`;
      expect(check(value, line, 11, line.length - 1)).toBe(JSON.stringify(value) === text);
    });
  }

  test("agrees with JSON.stringify on generated texts (canonical ones and small changes to them)", () => {
    // A small deterministic generator (xorshift), no dependency.
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pieces = ["a", "é", "\u20ac", "😀", "\n", '"', "\\", "\u0001", "\u001b", "\u007f", "\u2028", "\ud800", "\udc00", "/", "u", "0", " "];
    const str = () => Array.from({ length: rnd(6) }, () => pieces[rnd(pieces.length)]).join("");
    const value = (depth: number): unknown => {
      switch (rnd(depth > 2 ? 4 : 6)) {
        case 0: return str();
        case 1: return [0, 1, -1, 1.5, 1e21, 1e-7, 123456789, -0.25][rnd(8)];
        case 2: return [true, false, null][rnd(3)];
        case 3: return str();
        case 4: return Array.from({ length: rnd(4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [[str(), "1", "type", "a"][rnd(4)], value(depth + 1)]));
      }
    };
    const edits: Array<(t: string) => string> = [
      (t) => t,
      (t) => t.replace(":", ": "),
      (t) => t.replace(",", " ,"),
      (t) => t.replace("\\u001b", "\\u001B"),
      (t) => t.replace("\\n", "\\u000a"),
      (t) => t.replace("/", "\\/"),
      (t) => t.replace("a", "\\u0061"),
      (t) => t.replace("😀", "\\ud83d\\ude00"),
      (t) => t.replace("\\ud800", "\\uD800"),
      (t) => t.replace("1.5", "1.50"),
      (t) => t.replace("1e+21", "1E21"),
    ];
    for (let i = 0; i < 3000; i++) {
      const canonical = JSON.stringify({ type: "x", v: value(0) });
      const text = edits[rnd(edits.length)]!(canonical);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      expect(check(parsed, text)).toBe(JSON.stringify(parsed) === text);
    }
  });

  test("a lone surrogate in the text itself goes to the exact comparison", () => {
    const text = `{"a":"\ud800"}`;
    expect(check(JSON.parse(text), text)).toBe(false);
    const escaped = `{"a":"\\ud800"}`;
    expect(check(JSON.parse(escaped), escaped)).toBe(true);
  });

  test("a slice out of range or of another length never matches", () => {
    const text = `{"a":"x"}`;
    expect(check(JSON.parse(text), text, 0, text.length + 1)).toBe(false);
    expect(check(JSON.parse(text), text, 1, text.length)).toBe(false);
    expect(check(JSON.parse(text), text, 0, text.length - 1)).toBe(false);
  });
});

test("isStringifyOf past 2 KB (the walk) agrees with JSON.stringify too", () => {
  const value = { type: "x", a: "x".repeat(3000), b: ["é\n", 1.5, null], c: { d: "\u001b\ud800" } };
  const text = JSON.stringify(value);
  expect(text.length).toBeGreaterThan(2048);
  expect(isStringifyOf(JSON.parse(text), text)).toBe(true);
  for (const changed of [text.replace(":", ": "), text.replace("1.5", "1.50"), text.replace("\\u001b", "\\u001B"), text.replace("\\n", "\\u000a")]) {
    expect(changed).not.toBe(text);
    expect(isStringifyOf(JSON.parse(changed), changed)).toBe(false);
  }
});

const rolloutLine = (payloadText: string, head = `{"timestamp":"2026-11-20T10:00:00.000Z","ordinal":3,"type":"response_item","payload":`) =>
  `${head}${payloadText}}`;

describe("restored items know their JSON's length only when they are JSON.stringify's", () => {
  const meta = JSON.stringify({ timestamp: "t", type: "session_meta", payload: { id: "0199a213-81c0-7800-8aa1-bbab2a035a53", cwd: "/w" } });
  for (const text of texts.filter((t) => t.startsWith("{"))) {
    test(text, () => {
      const file = enc.encode(`${meta}\n${rolloutLine(text)}\n`);
      const [item] = parseRolloutBytes(file).items;
      const canonical = JSON.stringify(item) === text;
      const size = itemJsonByteLength(item!);
      expect(size !== undefined).toBe(canonical);
      if (size !== undefined) expect(size).toBe(enc.encode(JSON.stringify(item)).length);
      expect(itemJsonLength(item!)).toBe(JSON.stringify(item).length);
    });
  }

  const payload = `{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}`;
  const odd: Array<[string, string]> = [
    ["the reference's line (no ordinal)", rolloutLine(payload, `{"timestamp":"2026-11-20T10:00:00.000Z","type":"response_item","payload":`)],
    ["keys in another order", `{"type":"response_item","timestamp":"t","payload":${payload}}`],
    ["a second payload key", rolloutLine(`${payload},"payload":${payload}`)],
    ["a second payload with other text", rolloutLine(`{"type":"message","role":"user","content":[{"type":"input_text","text":"no"}]},"payload":${payload}`)],
    ["a payload key inside a key", `{"timestamp":"t","x\\"payload":${payload.replace("hi", "no")},"type":"response_item","payload":${payload}}`],
    ["a key after the payload", `${rolloutLine(payload).slice(0, -1)},"type":"response_item"}`],
    ["whitespace", `{"timestamp":"t", "type":"response_item","payload":${payload}}`],
    ["a timestamp with an escape", `{"timestamp":"t\\"","type":"response_item","payload":${payload}}`],
    ["a timestamp that is not ASCII", `{"timestamp":"té","type":"response_item","payload":${payload}}`],
    ["CRLF", `${rolloutLine(payload)}\r`],
    ["a trailing space", `${rolloutLine(payload)} `],
  ];
  for (const [name, line] of odd) {
    test(`${name}: the length known (if any) is that of JSON.stringify of the item`, () => {
      const [item] = parseRolloutBytes(enc.encode(`${meta}\n${line}\n`)).items;
      expect(item).toBeDefined();
      const size = itemJsonByteLength(item!);
      if (size !== undefined) expect(size).toBe(enc.encode(JSON.stringify(item)).length);
    });
  }
  test("the reference's line knows its length", () => {
    const [item] = parseRolloutBytes(enc.encode(`${meta}\n${odd[0]![1]}\n`)).items;
    expect(itemJsonByteLength(item!)).toBeDefined();
  });

  test("lines read among others (a run of small lines is decoded at once) know what each knows alone, also with a line of invalid UTF-8 among them", () => {
    const lines = [...texts.filter((t) => t.startsWith("{")).map((t) => enc.encode(rolloutLine(t))), ...odd.map(([, l]) => enc.encode(l))];
    const alone = (l: Uint8Array) => parseRolloutBytes(concatBytes([enc.encode(`${meta}\n`), l, enc.encode("\n")])).items;
    const bad = enc.encode(rolloutLine(`{"type":"message","role":"user","content":[{"type":"input_text","text":"ab"}]}`));
    const invalid = concatBytes([bad.subarray(0, 60), new Uint8Array([0xff]), bad.subarray(60)]);
    for (const at of [-1, 0, 5, lines.length]) {
      const body = lines.flatMap((l, i) => (i === at ? [invalid, l] : [l]));
      if (at === lines.length) body.push(invalid);
      const file = concatBytes([enc.encode(`${meta}\n`), ...body.flatMap((l) => [l, enc.encode("\n")]), enc.encode(`${meta}\n`)]);
      const items = parseRolloutBytes(file).items;
      const expected = body.flatMap(alone);
      expect(items.map((i) => JSON.stringify(i))).toEqual(expected.map((i) => JSON.stringify(i)));
      expect(items.map((i) => itemJsonByteLength(i) ?? null)).toEqual(expected.map((i) => itemJsonByteLength(i) ?? null));
      expect(items.filter((i) => itemJsonByteLength(i) !== undefined).length).toBeGreaterThan(texts.length / 4);
    }
  });

  test("invalid UTF-8 in the line: nothing kept (its text is not those bytes)", () => {
    const line = enc.encode(rolloutLine(`{"type":"message","role":"user","content":[{"type":"input_text","text":"ab"}]}`));
    const at = line.indexOf("a".charCodeAt(0), line.indexOf(enc.encode("input_text")[0]!) + 20);
    const bad = new Uint8Array([...line.subarray(0, at), 0xff, ...line.subarray(at)]);
    const [item] = parseRolloutBytes(new Uint8Array([...enc.encode(`${meta}\n`), ...bad, 10])).items;
    expect(itemJsonByteLength(item!)).toBeUndefined();
  });
});

function* iterate<T>(it: Iterator<T>): Generator<T> {
  for (let n = it.next(); !n.done; n = it.next()) yield n.value;
}

describe("responsesBody", () => {
  const request = (input: ResponseItem[], extra: Partial<ModelRequest> = {}): ModelRequest => ({
    model: "gpt-x",
    instructions: "be brief \u2028 \"quoted\"",
    input,
    tools: [{ type: "function", name: "t", parameters: { type: "object", properties: { input: { type: "string" } } } }] as never,
    parallelToolCalls: true,
    threadId: "th",
    ...extra,
  });
  const file = [
    JSON.stringify({ timestamp: "t", type: "session_meta", payload: { id: "0199a213-81c0-7800-8aa1-bbab2a035a53", cwd: "/w" } }),
    ...texts.filter((t) => t.startsWith("{")).map((t) => rolloutLine(t)),
    rolloutLine(`{"type":"function_call","name":"exec","arguments":"{\\"cmd\\":\\"ls\\"}","call_id":"c1"}`),
  ].join("\n");
  const restored = parseRolloutBytes(enc.encode(`${file}\n`)).items;

  test("is JSON.stringify(buildResponsesBody(request)), whatever mix of restored and new items", async () => {
    expect(restored.some((i) => itemJsonByteLength(i) !== undefined)).toBe(true);
    expect(restored.some((i) => itemJsonByteLength(i) === undefined)).toBe(true);
    const fresh: ResponseItem = { type: "message", role: "user", content: [{ type: "input_text", text: "next ✓" }] };
    for (const input of [restored, [...restored, fresh], [fresh, ...restored], [restored[0]!], [fresh], []]) {
      for (const extra of [{}, { instructions: "" }, { reasoning: { effort: "high" } }, { verbosity: "low", textFormat: { type: "json_schema" } }] as Array<Partial<ModelRequest>>) {
        const body = responsesBody(request(input, extra));
        const expected = JSON.stringify(buildResponsesBody(request(input, extra)));
        if (typeof body === "string") expect(body).toBe(expected);
        else {
          // Twice: a retry sends the body anew. Its announced length is its length.
          for (let n = 0; n < 2; n++) {
            const pieces = [...iterate(body.chunks())];
            const bytes = concatBytes(pieces);
            expect(dec.decode(bytes)).toBe(expected);
            expect(body.byteLength).toBe(bytes.length);
            // A body this small is one array of its own size (not a chunk of 256 KB).
            expect(pieces.map((p) => [p.length, p.buffer.byteLength])).toEqual([[bytes.length, bytes.length]]);
          }
        }
      }
    }
  });

  test("a restored item changed after it was read fails the body instead of sending other bytes", () => {
    const copy = parseRolloutBytes(enc.encode(`${file}\n`)).items;
    const item = copy.find((i) => itemJsonByteLength(i) !== undefined) as { type: string; extra?: string };
    item.extra = "changed";
    const body = responsesBody(request(copy));
    expect(typeof body).toBe("object");
    expect(() => [...iterate((body as Exclude<typeof body, string>).chunks())]).toThrow("changed after it was read");
  });

  test("is plain text when no item knows its length", () => {
    expect(typeof responsesBody(request([{ type: "message", role: "user", content: [] }]))).toBe("string");
  });

  test("token estimates are the same with and without known lengths", () => {
    const copies = restored.map((i) => JSON.parse(JSON.stringify(i)) as ResponseItem);
    expect(estimateTokens(restored)).toBe(estimateTokens(copies));
    expect(estimateTokens(restored)).toBe(Math.ceil(copies.reduce((n, i) => n + JSON.stringify(i).length, 0) / 4));
  });
});
