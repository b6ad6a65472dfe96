// Usage and cost: prices, the cost formula, formatting, the thread's total read back from a
// rollout, the fields added to turn events, and the --max-cost-usd budget.
import { describe, expect, test } from "bun:test";
import { resolveBudgets, turnBudget } from "../../src/core/agent/budgets.ts";
import { BUILTIN_PRICES, costUsd, formatTokens, formatUsd, resolvePrice, UsageMeter } from "../../src/core/agent/usage.ts";
import { execOptions } from "../../src/cli/exec.ts";
import { parseRollout } from "../../src/core/session/rollout.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config/load.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";
import { usage } from "../support/usage.ts";
import { caught } from "../support/caught.ts";


describe("cost", () => {
  test("(input − cached) × input + cached × cached_input + output × output, per million; reasoning is in output", () => {
    const price = { input: 2, cached_input: 0.5, output: 8 };
    expect(costUsd(usage(1_000_000, 500_000, 250_000, 100_000), price)).toBe(3.25);
    expect(costUsd(usage(0, 0, 0), price)).toBe(0);
    // No cached_input price: cached tokens cost the input price.
    expect(costUsd(usage(1_000_000, 500_000, 0), { input: 2, output: 8 })).toBe(2);
  });

  test("config's model_prices win over the built-in table, which only applies to the openai provider", () => {
    expect(resolvePrice({}, "gpt-4.1", "openai")).toEqual(BUILTIN_PRICES["gpt-4.1"]);
    expect(resolvePrice({}, "gpt-4.1", "azure")).toBeUndefined();
    expect(resolvePrice({}, "no-such-model", "openai")).toBeUndefined();
    expect(resolvePrice({}, "toString", "openai")).toBeUndefined();
    const own = { input: 1, output: 2 };
    expect(resolvePrice({ model_prices: { "gpt-4.1": own } }, "gpt-4.1", "openai")).toEqual(own);
    expect(resolvePrice({ model_prices: { local: own } }, "local", "ollama")).toEqual(own);
  });

  test("every built-in price is a finite number of 0 or more, output at least input", () => {
    for (const p of Object.values(BUILTIN_PRICES)) {
      for (const v of [p.input, p.cached_input ?? p.input, p.output]) expect(Number.isFinite(v) && v >= 0).toBe(true);
      expect(p.output).toBeGreaterThanOrEqual(p.input);
      expect(p.cached_input ?? p.input).toBeLessThanOrEqual(p.input);
    }
  });

  test("formatting: thousands separators; dollars with cents, small amounts to two significant digits", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(950)).toBe("950");
    expect(formatTokens(2810)).toBe("2,810");
    expect(formatTokens(1234567)).toBe("1,234,567");
    expect(formatUsd(3.25)).toBe("$3.25");
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.0028)).toBe("$0.0028");
    expect(formatUsd(1234.5)).toBe("$1234.50");
  });
});

describe("the thread's total", () => {
  const line = (payload: unknown) => JSON.stringify({ timestamp: "t", type: "event_msg", payload });
  test("the last token_count's total_token_usage; none when the rollout has no token_count", () => {
    const text = [
      JSON.stringify({ type: "session_meta", payload: { id: "x" } }),
      line({ type: "token_count", info: { total_token_usage: { input_tokens: 1000, cached_input_tokens: 100, output_tokens: 50, reasoning_output_tokens: 5, total_tokens: 1050 } } }),
      line({ type: "token_count", info: null }),
      line({ type: "token_count", info: { total_token_usage: { input_tokens: 3000, cached_input_tokens: 300, output_tokens: 110, reasoning_output_tokens: 11, total_tokens: 3110 } } }),
    ].join("\n");
    // The reference's record has no cache_write_input_tokens: it reads as 0.
    expect(parseRollout(text).usage).toEqual(usage(3000, 300, 110, 11));
    expect(parseRollout(JSON.stringify({ type: "session_meta", payload: { id: "x" } })).usage).toBeUndefined();
  });

  test("the meter: usage is prior + this run, run_usage this run alone, a token_count per response", () => {
    const recorded: unknown[] = [];
    const meter = new UsageMeter(usage(1000, 100, 50, 5), { input: 2, cached_input: 0.5, output: 8 }, (info) => recorded.push(info));
    meter.response(usage(500_000, 0, 100_000));
    meter.response(usage(500_000, 500_000, 150_000));
    expect(recorded).toHaveLength(2);
    expect(recorded[1]).toMatchObject({ total_token_usage: { input_tokens: 1_001_000, total_tokens: 1_251_050 }, last_token_usage: { input_tokens: 500_000 } });
    const counts = { modelRequests: 2, toolCalls: 1 };
    expect(meter.decorate({ type: "turn.completed", usage: usage(1, 1, 1) }, counts)).toEqual({
      type: "turn.completed",
      usage: usage(1_001_000, 500_100, 250_050, 5),
      run_usage: usage(1_000_000, 500_000, 250_000),
      model_requests: 2,
      tool_calls: 1,
      cost_usd: 3.25,
    });
    expect(meter.decorate({ type: "turn.failed", error: { message: "m" } }, counts)).toEqual({
      type: "turn.failed",
      error: { message: "m" },
      run_usage: usage(1_000_000, 500_000, 250_000),
      model_requests: 2,
      tool_calls: 1,
      cost_usd: 3.25,
    });
    // Without a price: no cost_usd; other events unchanged.
    const unpriced = new UsageMeter(usage(0, 0, 0), undefined);
    expect(unpriced.decorate({ type: "turn.failed", error: { message: "m" } }, counts)).not.toHaveProperty("cost_usd");
    expect(unpriced.decorate({ type: "turn.started" }, counts)).toEqual({ type: "turn.started" });
  });
});

describe("--max-cost-usd", () => {
  const price = { input: 2, cached_input: 0.5, output: 8 };
  const cost = (u: Parameters<typeof costUsd>[0]) => costUsd(u, price);

  test("no further request once the run's cost reaches it; counts what was made", () => {
    const b = turnBudget(resolveBudgets({ maxCostUsd: 3.25 }, {}), cost);
    b.beforeRequest(usage(0, 0, 0));
    b.beforeRequest(usage(1_000_000, 500_000, 249_999));
    expect(caught(() => b.beforeRequest(usage(1_000_000, 500_000, 250_000))).message).toBe("budget exceeded: --max-cost-usd 3.25 ($3.25 spent)");
    expect(b.counts()).toEqual({ modelRequests: 2, toolCalls: 0 });
  });

  test("from config, labelled as such; the flag wins", () => {
    expect(resolveBudgets({}, { max_cost_usd: 0.5 }).maxCostUsd).toEqual({ limit: 0.5, label: "max_cost_usd = 0.5 (config)" });
    expect(resolveBudgets({ maxCostUsd: 2 }, { max_cost_usd: 0.5 }).maxCostUsd).toEqual({ limit: 2, label: "--max-cost-usd 2" });
  });

  test("the flag takes a number above zero, decimals allowed; anything else is a usage error", () => {
    expect(execOptions(["--max-cost-usd", "0.25", "p"], () => {}).budgets?.maxCostUsd).toBe(0.25);
    expect(execOptions(["--max-cost-usd", "3", "p"], () => {}).budgets?.maxCostUsd).toBe(3);
    for (const bad of ["0", "-1", "abc", "1e3", "", "Infinity"]) {
      const e = caught(() => execOptions(["--max-cost-usd", bad, "p"], () => {}));
      expect(e.exitCode).toBe(2);
    }
  });
});

describe("config", () => {
  const withConfig = async (toml: string) => {
    const home = mkdtempSync(join(tmpdir(), "ocx-usage-"));
    try {
      writeFileSync(join(home, "config.toml"), toml);
      return await loadConfig(fakeRuntime(), { codexHome: home, overrides: [], strict: true });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  test("model_prices (tables or inline) and max_cost_usd pass --strict-config", async () => {
    const inline = await withConfig('max_cost_usd = 2.5\nmodel_prices = { "m" = { input = 2.0, cached_input = 0.5, output = 8 } }\n');
    expect(inline.max_cost_usd).toBe(2.5);
    expect(inline.model_prices).toEqual({ m: { input: 2, cached_input: 0.5, output: 8 } });
    const tables = await withConfig('[model_prices."gpt-4.1"]\ninput = 1\noutput = 4\n\n[model_prices."o4-mini"]\ninput = 1.1\ncached_input = 0.275\noutput = 4.4\n');
    expect(tables.model_prices).toEqual({ "gpt-4.1": { input: 1, output: 4 }, "o4-mini": { input: 1.1, cached_input: 0.275, output: 4.4 } });
  });

  test("a negative price, a missing output price, an unknown price key or a budget of 0 is a config error (exit 3)", async () => {
    for (const toml of [
      '[model_prices."m"]\ninput = -1\noutput = 4\n',
      '[model_prices."m"]\ninput = 1\n',
      '[model_prices."m"]\ninput = 1\noutput = 4\nreasoning = 9\n',
      "max_cost_usd = 0\n",
    ]) {
      const e = await withConfig(toml).then(() => undefined, (e: any) => e);
      expect(e?.exitCode).toBe(3);
    }
  });
});
