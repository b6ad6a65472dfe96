// Runtime.keepBelowTopTier: what reading a large session runs hot is kept out of the JIT's top
// tier, whose compiling took a core (and memory first touched) for longer than the reading
// itself; a small session's read, and a short history's first turn, ask nothing of it.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { ITEM_JSON_LOOPS } from "../../src/core/model/item-json.ts";
import { JSON_BYTES_LOOPS } from "../../src/core/model/json-bytes.ts";
import type { ResponseItem } from "../../src/core/model/types.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { latestSent } from "../../src/core/run/input.ts";
import { readRollout } from "../../src/core/session/resume.ts";
import { ROLLOUT_LOOPS } from "../../src/core/session/rollout.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();

type Fns = readonly ((...args: never[]) => unknown)[];

/** The Bun runtime, recording what it is asked to keep below the top tier (and doing it). */
function recording(): { runtime: Runtime; held: Fns[] } {
  const base = bunRuntime();
  const held: Fns[] = [];
  return { runtime: { ...base, keepBelowTopTier: (fns) => (held.push(fns), base.keepBelowTopTier?.(fns)) }, held };
}

/** A rollout of `turns` turns, each with an output of `outputBytes` bytes. */
function rollout(dir: string, turns: number, outputBytes: number): string {
  const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: "2026-11-20T10:00:00.000Z", type, payload })}\n`;
  const parts = [line("session_meta", { id: "019a9f3c-1c00-7abc-8def-0123456789ab", timestamp: "2026-11-20T10:00:00.000Z", cwd: "/w", originator: "ocx_exec", cli_version: "0.1.0", source: "exec" })];
  for (let t = 0; t < turns; t++) {
    parts.push(
      line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: `step ${t}` }] }),
      line("response_item", { type: "function_call", name: "exec_command", arguments: `{"cmd":"make ${t}"}`, call_id: `call_${t}` }),
      line("response_item", { type: "function_call_output", call_id: `call_${t}`, output: "x".repeat(outputBytes) }),
    );
  }
  const path = join(dir, "rollout.jsonl");
  writeFileSync(path, parts.join(""));
  return path;
}

describe("keeping hot loops below the JIT's top tier", () => {
  test("on Bun, a function held back is never compiled at the top tier, while its twin is", () => {
    const dir = tempDir("ocx-jit-hold-");
    const script = join(dir, "hot.ts");
    const twin = (name: string) => `function ${name}(a: Uint8Array): number { let s = 0; for (let i = 0; i < a.length; i++) s = (s + a[i]!) | 0; return s; }`;
    writeFileSync(
      script,
      [
        `import { bunRuntime } from ${JSON.stringify(resolve("src/adapters/bun.ts"))};`,
        twin("heldLoop"),
        twin("freeLoop"),
        "bunRuntime().keepBelowTopTier!([heldLoop]);",
        "const a = new Uint8Array(100_000).fill(1);",
        "let sum = 0;",
        "for (let k = 0; k < 2000; k++) sum += heldLoop(a) + freeLoop(a);",
        "console.log(sum);",
      ].join("\n"),
    );
    const run = Bun.spawnSync([process.execPath, script], { env: { ...process.env, BUN_JSC_reportFTLCompileTimes: "1" }, stdout: "pipe", stderr: "pipe" });
    const err = run.stderr.toString();
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString().trim()).toBe(String(2000 * 2 * 100_000));
    expect(err).toMatch(/Optimized freeLoop#.*using FTL/);
    expect(err).not.toMatch(/Optimized heldLoop#.*using FTL/);
  });

  test("a large session's read holds back its loops; a small one's asks nothing", async () => {
    const dir = tempDir("ocx-jit-hold-");
    const large = recording();
    const loaded = await readRollout(large.runtime, rollout(dir, 100, 20_000));
    expect(loaded.items.length).toBe(300);
    expect(large.held.length).toBe(1);
    expect(new Set(large.held[0])).toEqual(new Set([...JSON_BYTES_LOOPS, ...ITEM_JSON_LOOPS, ...ROLLOUT_LOOPS]));
    // Each is a function of its own (a method's prototype entry, not undefined).
    for (const fn of large.held[0]!) expect(typeof fn).toBe("function");

    const small = recording();
    expect((await readRollout(small.runtime, rollout(tempDir("ocx-jit-hold-"), 3, 100))).items.length).toBe(9);
    expect(small.held).toEqual([]);
  });

  test("the first turn of a long history holds back the search for what it last sent; a short one's does not", () => {
    const history = (n: number): ResponseItem[] => Array.from({ length: n }, (_, i) => ({ type: "message", role: "user", content: [{ type: "input_text", text: `m${i}` }] }));
    const long = recording();
    expect(latestSent(history(1000), ["<environment_context>"], long.runtime).size).toBe(0);
    expect(long.held.length).toBe(1);
    expect(long.held[0]!.length).toBe(1);
    expect(typeof long.held[0]![0]).toBe("function");
    const short = recording();
    latestSent(history(999), ["<environment_context>"], short.runtime);
    expect(short.held).toEqual([]);
  });
});
