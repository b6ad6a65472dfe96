// What a resumed history last sent of the AGENTS.md and environment messages (latestSent in
// src/core/run/input.ts): found without serialising every user message, with the same result as
// serialising each one and searching its JSON.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { ResponseItem } from "../../src/core/model/types.ts";
import { ENVIRONMENT_MARKER } from "../../src/core/prompt/environment-context.ts";
import { AGENTS_MARKER } from "../../src/core/prompt/project-docs.ts";
import { latestSent } from "../../src/core/run/input.ts";

const markers = [AGENTS_MARKER, ENVIRONMENT_MARKER];

/** The rule, written plainly: the latest user message whose content's JSON contains each marker. */
function plainly(items: ResponseItem[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.type !== "message" || it.role !== "user") continue;
    const json = JSON.stringify((it as { content?: unknown }).content);
    // (A message without content has no JSON: it holds no marker.)
    for (const m of markers) if (!found.has(m) && json !== undefined && json.includes(m)) found.set(m, json);
  }
  return found;
}

/** Text around, inside and next to a marker: escapes before and after it, cut markers, markers in keys. */
const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(...markers, "<environment_context", "# AGENTS.md", "\n", '"', "\\", "\t", "\u0000", "é", "🚀", "x", " ", "<", ">", "n", "u00"),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(""));
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, text, fc.integer(), fc.constant(null), fc.constant(undefined), fc.array(tie("value"), { maxLength: 3 }), fc.dictionary(text, tie("value"), { maxKeys: 3 })),
})).value;
const item: fc.Arbitrary<ResponseItem> = fc.oneof(
  fc.record({ type: fc.constant("message"), role: fc.constantFrom("user", "assistant", "developer"), content: fc.oneof(json, fc.array(fc.record({ type: fc.constant("input_text"), text }), { maxLength: 3 })) }),
  fc.record({ type: fc.constant("function_call_output"), call_id: fc.constant("c"), output: text }),
) as fc.Arbitrary<ResponseItem>;

describe("latestSent", () => {
  test("finds what searching every user message's JSON finds", () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), (items) => {
        const expected = plainly(items);
        expect(latestSent(items, markers)).toEqual(expected);
        hits += expected.size;
      }),
      { numRuns: 3000 },
    );
    expect(hits).toBeGreaterThan(200); // markers are found, not only missed
  });

  test("a marker split by an escape, or only in a key whose value JSON leaves out, is not found", () => {
    const user = (content: unknown) => ({ type: "message", role: "user", content }) as ResponseItem;
    expect(latestSent([user([{ type: "input_text", text: "<environment\ncontext>" }])], markers).size).toBe(0);
    expect(latestSent([user({ [ENVIRONMENT_MARKER]: undefined })], markers).size).toBe(0);
    const sent = latestSent([user({ [ENVIRONMENT_MARKER]: 1 }), user([{ type: "input_text", text: `${AGENTS_MARKER}/w` }])], markers);
    expect([...sent.keys()].sort()).toEqual([...markers].sort());
  });
});
