import { describe, expect, test } from "bun:test";
import { seekSequence } from "../../../src/core/patch/seek.ts";

describe("seekSequence", () => {
  const cases: Array<[string, string[], string[], number, boolean, number | null]> = [
    ["empty pattern matches at start", ["a"], [], 1, false, 1],
    ["pattern longer than input", ["a"], ["a", "b"], 0, false, null],
    ["exact", ["a", "b", "c"], ["b", "c"], 0, false, 1],
    ["at or after start only", ["x", "a", "x"], ["x"], 1, false, 2],
    ["exact wins over an earlier fuzzy match", ["b  ", "b"], ["b"], 0, false, 1],
    ["pass 2: trailing whitespace ignored", ["a", "b \t", "c"], ["b", "c  "], 0, false, 1],
    ["pass 3: surrounding whitespace ignored", ["a", "   b", "\tc "], ["b", "c"], 0, false, 1],
    ["pass 4: dashes", ["x = a \u2013 b \u2014 c \u2212 d \u2010 e"], ["x = a - b - c - d - e"], 0, false, 0],
    ["pass 4: curly quotes", ["say(\u201Chi\u201D, \u2018x\u2019)"], ['say("hi", \'x\')'], 0, false, 0],
    ["pass 4: NBSP and other Unicode spaces", ["a\u00A0b\u2009c\u202Fd\u3000e"], ["a b c d e"], 0, false, 0],
    ["pass 4 also normalises the pattern", ["a - b"], ["a \u2014 b"], 0, false, 0],
    ["no match", ["a", "b"], ["c"], 0, false, null],
    ["eof: the end position is tried first", ["x", "y", "x", "y"], ["x", "y"], 0, true, 2],
    ["eof: falls back to searching from start", ["x", "y", "z"], ["x", "y"], 0, true, 0],
    ["eof: a fuzzy match at the end beats an exact one earlier", ["x", "y", "x "], ["x"], 0, true, 2],
  ];
  for (const [name, lines, pattern, start, eof, want] of cases) {
    test(name, () => expect(seekSequence(lines, pattern, start, eof)).toBe(want));
  }
});
