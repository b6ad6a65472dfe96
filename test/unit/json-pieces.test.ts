// JSON text in pieces (util/json-pieces.ts): joined, always exactly JSON.stringify's text; a long
// string is its own piece, escaped once for every line that holds it. The session file and the
// JSONL stream written from pieces are byte for byte what the whole text gives.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { createRedactor } from "../../src/core/redact.ts";
import { RolloutWriter } from "../../src/core/session/rollout.ts";
import { LONG_PIECE, stringifyPieces } from "../../src/core/util/json-pieces.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();
const joined = (p: string | string[]) => (typeof p === "string" ? p : p.join(""));
const long = (seed: string) => `${seed} é "q" \\ \n\t😀 \u0000 `.repeat(Math.ceil(LONG_PIECE / 20) + 1);
const MARK = "\u0000ocx:long\u0000";

describe("stringifyPieces", () => {
  test("joined, the pieces are JSON.stringify's text, for any value (long strings, the mark itself, toJSON, undefined members)", () => {
    const str = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(MARK, `${MARK}x`, "\\u0000ocx:long\\u0000"), fc.constantFrom("a", "é😀").map(long));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, str, fc.integer(), fc.constant(null), fc.constant(undefined), fc.constant(new Date(0)), fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(str, tie("node"), { maxKeys: 4 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("type", "payload", "text", MARK), value, { maxKeys: 4 }), (v) => {
        expect(joined(stringifyPieces(v))).toBe(JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
  });

  test("a long string is a piece of its own, the same string for every line that holds it; short lines stay one string", () => {
    const answer = long("answer");
    const a = stringifyPieces({ type: "agent_message", message: answer });
    const b = stringifyPieces({ type: "task_complete", last_agent_message: answer, n: 1 });
    expect(Array.isArray(a) && Array.isArray(b)).toBe(true);
    expect(a).toEqual(['{"type":"agent_message","message":', JSON.stringify(answer), "}"]);
    expect((a as string[])[1]).toBe((b as string[])[1]!);
    expect(stringifyPieces({ type: "x", text: "short" })).toBe('{"type":"x","text":"short"}');
  });
});

describe("written from pieces", () => {
  test("the session file holds exactly the lines JSON.stringify makes, a secret inside a long string redacted", () => {
    const dir = tempDir("ocx-json-pieces-");
    const path = join(dir, "rollout.jsonl");
    const secret = "sk-test-0123456789abcdef";
    const redactor = createRedactor(() => [secret]);
    const writer = new RolloutWriter(bunRuntime(), path, redactor);
    const answer = long("answer");
    const withSecret = `${long("x")}${secret}${long("y")}`;
    const payloads = [
      { type: "agent_message", message: answer },
      { type: "item_completed", item: { type: "AgentMessage", text: answer } },
      { type: "function_call_output", output: withSecret },
      { type: "task_complete", last_agent_message: answer },
    ];
    for (const p of payloads) writer.event(p);
    writer.close();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => JSON.parse(l).payload)).toEqual(payloads.map((p) => JSON.parse(JSON.stringify(p).replace(secret, "[REDACTED]"))));
    expect(lines.every((l, i) => l === JSON.stringify({ ...JSON.parse(l), payload: JSON.parse(JSON.stringify(payloads[i]).replace(secret, "[REDACTED]")) }))).toBe(true);
    expect(readFileSync(path, "utf8").includes(secret)).toBe(false);
  });
});
