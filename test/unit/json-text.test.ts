import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { withoutLongStrings } from "../../src/core/model/json-text.ts";

/** The value `withoutLongStrings(JSON.stringify(v), min)` should parse to, written plainly. */
function emptied(v: unknown, min: number): unknown {
  const cut = (s: string) => (JSON.stringify(s).length - 2 > min ? "" : s);
  if (typeof v === "string") return cut(v);
  if (Array.isArray(v)) return v.map((x) => emptied(x, min));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    // As JSON.parse does: own properties (even `__proto__`), the last of equal keys wins.
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, cut(k), { value: emptied(x, min), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

describe("withoutLongStrings", () => {
  test("empties exactly the strings (and keys) longer than the bound, escapes counted as written", () => {
    // Strings full of what is escaped: quotes, backslashes (runs of them before a quote), controls, non-ASCII.
    const unit = fc.constantFrom("a", '"', "\\", "\\\\", '\\"', "\n", "\u0001", "é", "😀", "\ud800", " ", "}", "[", ":");
    const str = fc.array(unit, { maxLength: 30 }).map((parts) => parts.join(""));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, str, fc.integer(), fc.constant(null), fc.boolean(), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(str, tie("v"), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(value, fc.nat({ max: 40 }), (v, min) => {
        const text = JSON.stringify(v);
        const out = withoutLongStrings(text, min);
        expect(JSON.parse(out)).toEqual(emptied(v, min) as never);
        // Nothing to empty: the text itself.
        if (JSON.stringify(emptied(v, min)) === text) expect(out).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  test("an unterminated string leaves the text as it is", () => {
    expect(withoutLongStrings('{"a":"xxxxxxxx', 2)).toBe('{"a":"xxxxxxxx');
    expect(withoutLongStrings('{"a":"xxxx\\"', 2)).toBe('{"a":"xxxx\\"');
    expect(withoutLongStrings('{"a":"xxxx","b":"yy', 2)).toBe('{"a":"xxxx","b":"yy');
  });

  test("whitespace between tokens stays", () => {
    expect(withoutLongStrings('{ "a" : "long long" ,\n "b":[ "x" ] }', 3)).toBe('{ "a" : "" ,\n "b":[ "x" ] }');
  });
});
