// Budgets: duration parsing, flag and config validation, and which budget runs out when.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execOptions } from "../../src/cli/exec.ts";
import { resolveBudgets, turnBudget } from "../../src/core/agent/budgets.ts";
import { loadConfig } from "../../src/core/config/load.ts";
import { emptyUsage } from "../../src/core/agent/usage-totals.ts";
import { formatDuration, parseDuration } from "../../src/core/util/duration.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";
import { caught } from "../support/caught.ts";


describe("durations", () => {
  test("units, compounds and plain numbers in the caller's unit", () => {
    expect(parseDuration("500ms", "s")).toBe(500);
    expect(parseDuration("90s", "s")).toBe(90_000);
    expect(parseDuration("15m", "s")).toBe(900_000);
    expect(parseDuration("1h", "s")).toBe(3_600_000);
    expect(parseDuration("1h30m", "s")).toBe(5_400_000);
    expect(parseDuration("2.5s", "s")).toBe(2500);
    expect(parseDuration(" 90 ", "s")).toBe(90_000);
    expect(parseDuration("90", "ms")).toBe(90);
    expect(parseDuration("0", "s")).toBe(0);
  });
  test("anything else is not a duration", () => {
    for (const bad of ["", "abc", "-5s", "5 s", "5d", "1h-30m", "s", "1.s", "Infinity", "1e3"]) {
      expect(parseDuration(bad, "s")).toBeUndefined();
    }
  });
  test("formatting", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(2500)).toBe("2.5s");
  });
});

describe("budget flags", () => {
  const opts = (...argv: string[]) => execOptions(argv, () => {});

  test("parsed before or after resume", () => {
    expect(opts("--max-turns", "3", "--max-tool-calls=5", "--max-tokens", "1000", "--timeout", "1h30m", "hi").budgets).toEqual({
      maxTurns: 3,
      maxToolCalls: 5,
      maxTokens: 1000,
      timeoutMs: 5_400_000,
    });
    const resumed = opts("--max-turns", "2", "resume", "--last", "--timeout", "90", "go on");
    expect(resumed.resume?.last).toBe(true);
    expect(resumed.budgets).toMatchObject({ maxTurns: 2, timeoutMs: 90_000 });
    expect(opts("hi").budgets).toEqual({});
  });

  test("bad values are one-line usage errors (exit 2)", () => {
    for (const [flag, value, expected] of [
      ["--max-turns", "0", "expected a whole number above 0"],
      ["--max-turns", "-1", "expected a whole number above 0"],
      ["--max-tool-calls", "many", "expected a whole number above 0"],
      ["--max-tokens", "1.5", "expected a whole number above 0"],
      ["--max-tokens", "99999999999999999999", "expected a whole number above 0"],
      ["--timeout", "0", "expected more than 0 seconds or a duration like 500ms, 90s, 15m, 1h"],
      ["--timeout", "0s", "expected more than 0 seconds"],
      ["--timeout", "soon", "expected more than 0 seconds"],
      ["--timeout", "5d", "expected more than 0 seconds"],
    ] as const) {
      const e = caught(() => opts(`${flag}=${value}`, "hi"));
      expect(e.exitCode).toBe(2);
      expect(e.message).toStartWith(`error: invalid value '${value}' for '${flag}': ${expected}`);
      expect(e.message).not.toContain("\n");
    }
  });

  test("--stdin-timeout still takes 0 and plain milliseconds", () => {
    expect(opts("--stdin-timeout", "0", "hi").stdinTimeoutMs).toBe(0);
    expect(opts("--stdin-timeout", "300", "hi").stdinTimeoutMs).toBe(300);
    expect(opts("--stdin-timeout", "2s", "hi").stdinTimeoutMs).toBe(2000);
  });
});

describe("budget config keys", () => {
  const withConfig = async (toml: string, overrides: string[] = []) => {
    const home = mkdtempSync(join(tmpdir(), "ocx-budget-cfg-"));
    try {
      writeFileSync(join(home, "config.toml"), toml);
      return await loadConfig(fakeRuntime(), { codexHome: home, overrides, strict: true });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  test("accepted under --strict-config; a flag wins over config", async () => {
    const config = await withConfig('max_turns = 4\nmax_tool_calls = 10\nmax_tokens = 5000\ntimeout = "15m"\n');
    expect(config).toMatchObject({ max_turns: 4, max_tool_calls: 10, max_tokens: 5000, timeout: "15m" });
    const b = resolveBudgets({ maxTurns: 2 }, config);
    expect(b.maxTurns).toEqual({ limit: 2, label: "--max-turns 2" });
    expect(b.maxToolCalls).toEqual({ limit: 10, label: "max_tool_calls = 10 (config)" });
    expect(b.maxTokens).toEqual({ limit: 5000, label: "max_tokens = 5000 (config)" });
    expect(b.timeout).toEqual({ limit: 900_000, label: "timeout = 15m (config)" });
    expect(resolveBudgets({}, await withConfig("timeout = 90\n")).timeout?.limit).toBe(90_000);
    expect(resolveBudgets({}, await withConfig("", ["timeout=2s", "max_turns=3"]))).toMatchObject({ timeout: { limit: 2000 }, maxTurns: { limit: 3 } });
  });

  test("bad values are config errors (exit 3) naming the key", async () => {
    for (const [toml, key] of [
      ["max_turns = 0\n", "max_turns"],
      ["max_tool_calls = -2\n", "max_tool_calls"],
      ["max_tokens = 1.5\n", "max_tokens"],
      ['timeout = "soon"\n', "timeout"],
      ["timeout = 0\n", "timeout"],
      ["timeout = true\n", "timeout"],
    ]) {
      const e = await withConfig(toml!).catch((x) => x);
      expect(e.exitCode).toBe(3);
      expect(e.message).toContain(`:1: invalid value for \`${key}\``);
    }
  });
});

describe("turn budget", () => {
  const used = (input: number, output: number) => ({ ...emptyUsage(), input_tokens: input, output_tokens: output });

  test("--max-turns: the request after the Nth fails, naming the budget", () => {
    const b = turnBudget(resolveBudgets({ maxTurns: 2 }, {}));
    b.beforeRequest(emptyUsage());
    b.beforeRequest(emptyUsage());
    const e = caught(() => b.beforeRequest(emptyUsage()));
    expect(e.exitCode).toBe(6);
    expect(e.failureCode).toBe("budget_exceeded");
    expect(e.message).toBe("budget exceeded: --max-turns 2 (2 model requests made)");
  });

  test("--max-tool-calls: the call after the Nth fails", () => {
    const b = turnBudget(resolveBudgets({ maxToolCalls: 1 }, {}));
    b.beforeToolCall();
    expect(caught(() => b.beforeToolCall()).message).toBe("budget exceeded: --max-tool-calls 1 (1 tool call made, the model asked for another)");
  });

  test("--max-tokens: no further request once input + output reach it", () => {
    const b = turnBudget(resolveBudgets({ maxTokens: 100 }, {}));
    b.beforeRequest(used(0, 0));
    b.beforeRequest(used(60, 39));
    expect(caught(() => b.beforeRequest(used(60, 40))).message).toBe("budget exceeded: --max-tokens 100 (100 tokens used)");
  });

  test("no budgets: nothing runs out", () => {
    const b = turnBudget({});
    for (let i = 0; i < 1000; i++) {
      b.beforeRequest(used(1e6, 1e6));
      b.beforeToolCall();
    }
  });
});
