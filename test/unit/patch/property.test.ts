import { expect, test } from "bun:test";
import fc from "fast-check";
import { parsePatch } from "../../../src/core/patch/parse.ts";
import { planPatch } from "../../../src/core/patch/plan.ts";

const word = fc.string({ maxLength: 8 }).map((s) => s.replace(/[\r\n]/g, ""));
/** Lines made unique by their index, so the intended position is the first match. */
const file = fc.array(word, { maxLength: 30 }).map((ws) => ws.map((w, i) => `${i}:${w}`));

const edit = file.chain((lines) =>
  fc.record({
    lines: fc.constant(lines),
    start: fc.integer({ min: 0, max: lines.length }),
    del: fc.integer({ min: 0, max: 3 }),
    ins: fc.array(word, { maxLength: 3 }),
    eol: fc.constantFrom("\n", "\r\n"),
    finalNewline: fc.boolean(),
  }),
);

test("a patch built from a random edit reproduces the edit", () => {
  fc.assert(
    fc.property(edit, ({ lines, start, del, ins, eol, finalNewline }) => {
      const d = Math.min(del, lines.length - start);
      fc.pre(d + ins.length > 0);
      const before = lines.slice(Math.max(0, start - 3), start);
      const removed = lines.slice(start, start + d);
      const after = lines.slice(start + d, start + d + 3);
      const atEnd = start + d + 3 >= lines.length;
      const patch = [
        "*** Begin Patch",
        "*** Update File: f.txt",
        "@@",
        ...before.map((l) => ` ${l}`),
        ...removed.map((l) => `-${l}`),
        ...ins.map((l) => `+${l}`),
        ...after.map((l) => ` ${l}`),
        ...(atEnd ? ["*** End of File"] : []),
        "*** End Patch",
      ].join("\n");
      const original = lines.join(eol) + (finalNewline && lines.length > 0 ? eol : "");
      const edited = [...lines.slice(0, start), ...ins, ...lines.slice(start + d)];
      const useEol = lines.length > 1 || (lines.length === 1 && finalNewline) ? eol : "\n";
      const want = edited.length > 0 ? edited.join(useEol) + useEol : "";
      const ops = planPatch(parsePatch(patch), (p) => (p === "/w/f.txt" ? original : null), "/w", (c, p) => `${c}/${p}`);
      expect(ops).toEqual([{ kind: "update", path: "/w/f.txt", patchPath: "f.txt", newContent: want }]);
    }),
    { numRuns: 500 },
  );
});
