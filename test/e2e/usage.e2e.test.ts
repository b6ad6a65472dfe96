// Usage and cost end to end: turn.completed.usage is the thread's running total across resumes
// (read back from the rollout), ocx's run_usage / model_requests / tool_calls beside it, cost_usd
// from a configured or built-in price, and the --max-cost-usd budget.
import { afterAll, describe, expect, test } from "bun:test";
import { functionCall, reply, sse, turn, usage } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, makeRepo, runOcx, useMockServers, threadId } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const HUMAN = ["--color", "never"];

const setup = useMockServers();
afterAll(() => cleanupTemp());

const usageOf = (input: number, cached: number, output: number, reasoning: number) => ({
  input_tokens: input,
  cached_input_tokens: cached,
  cache_write_input_tokens: 0,
  output_tokens: output,
  reasoning_output_tokens: reasoning,
});
const plan = (step: string) => functionCall("update_plan", { plan: [{ step, status: "in_progress" }] }, "call_plan");

/** 2.0 / 0.5 / 8.0 USD per million tokens: every cost below is exact in binary. */
const PRICES = `[model_prices."gpt-5.5"]\ninput = 2.0\ncached_input = 0.5\noutput = 8.0\n`;

describe("usage", () => {
  test("turn.completed.usage is the thread's total over two resumes; run_usage is the run's own; human mode prints the blended total", async () => {
    // The reference's observation (notes §2): 1000/100/50/5, then +2000/200/60/6, then two requests +12000/1200/150/15.
    const cwd = makeRepo();
    const { mock, home } = await setup([
      reply("one", usage(1000, 50, 100, 5)),
      reply("two", usage(2000, 60, 200, 6)),
      sse(turn([plan("three")], usage(5000, 100, 500, 10))),
      reply("three", usage(7000, 50, 700, 5)),
    ]);
    const first = await runOcx(["exec", ...JSON_, "first"], { home, cwd });
    expect(first.code).toBe(0);
    expect(first.events!.at(-1)).toEqual({ type: "turn.completed", usage: usageOf(1000, 100, 50, 5), run_usage: usageOf(1000, 100, 50, 5), model_requests: 1, tool_calls: 0 });

    const second = await runOcx(["exec", "resume", threadId(first.events), ...HUMAN, "second"], { home, cwd });
    expect(second.code).toBe(0);
    // (3000 − 300) + 110, with the reference's thousands separator.
    expect(second.stderr).toContain("tokens used\n2,810\n");

    const third = await runOcx(["exec", "resume", "--last", ...JSON_, "third"], { home, cwd });
    expect(third.code).toBe(0);
    expect(checkEventStream(third.events)).toEqual([]);
    expect(threadId(third.events)).toBe(threadId(first.events));
    expect(third.events!.at(-1)).toEqual({
      type: "turn.completed",
      usage: usageOf(15000, 1500, 260, 26),
      run_usage: usageOf(12000, 1200, 150, 15),
      model_requests: 2,
      tool_calls: 1,
    });
    expect(mock.requests).toHaveLength(4);
  }, T);
});

describe("cost", () => {
  // 1,000,000 input of which 500,000 cached, 250,000 output (reasoning is part of it):
  // 500,000 × 2.0 + 500,000 × 0.5 + 250,000 × 8.0 per million = 1.00 + 0.25 + 2.00 = $3.25.
  const costly = () => usage(1_000_000, 250_000, 500_000, 50_000);

  test("a configured price: cost_usd on turn.completed, $ in human mode; none without a price", async () => {
    const { home } = await setup([reply("priced", costly()), reply("priced again", costly()), reply("unpriced", costly())], PRICES);
    const r = await runOcx(["exec", ...JSON_, "--strict-config", "hi"], { home });
    expect(r.code).toBe(0);
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed", run_usage: usageOf(1_000_000, 500_000, 250_000, 50_000), cost_usd: 3.25 });

    const human = await runOcx(["exec", ...HUMAN, "hi"], { home });
    expect(human.code).toBe(0);
    expect(human.stderr).toContain("tokens used\n750,000 ($3.25 this run)\n");

    // Another model: no price, no field.
    const other = await runOcx(["exec", ...JSON_, "-m", "some-model", "hi"], { home });
    expect(other.code).toBe(0);
    expect(other.events!.at(-1).type).toBe("turn.completed");
    expect(other.events!.at(-1)).not.toHaveProperty("cost_usd");
  }, T);

  test("built-in prices apply to the openai provider, config overrides them, other providers get none", async () => {
    const { mock, home } = await setup([reply("a", costly()), reply("b", costly()), reply("c", costly())]);
    const openai = ["-c", 'model_provider="openai"', "-c", `openai_base_url="${mock.url}"`, "-m", "gpt-4.1"];
    // gpt-4.1's list price is 2.0 / 0.5 / 8.0.
    const builtIn = await runOcx(["exec", ...JSON_, ...openai, "hi"], { home, env: { CODEX_API_KEY: "sk-test-e2e" } });
    expect(builtIn.code).toBe(0);
    expect(builtIn.events!.at(-1)).toMatchObject({ type: "turn.completed", cost_usd: 3.25 });

    const overridden = await runOcx(["exec", ...JSON_, ...openai, "-c", 'model_prices={"gpt-4.1"={input=1.0,output=4.0}}', "hi"], { home, env: { CODEX_API_KEY: "sk-test-e2e" } });
    expect(overridden.code).toBe(0);
    // No cached_input price: cached tokens cost the input price. 1.0 + 1.0 = $2.
    expect(overridden.events!.at(-1)).toMatchObject({ type: "turn.completed", cost_usd: 2 });

    const mockProvider = await runOcx(["exec", ...JSON_, "-m", "gpt-4.1", "hi"], { home });
    expect(mockProvider.code).toBe(0);
    expect(mockProvider.events!.at(-1)).not.toHaveProperty("cost_usd");
  }, T);

  test("--max-cost-usd: the run stops after the response that spent it; exit 6, budget_exceeded, the cost so far", async () => {
    const { mock, home } = await setup([sse(turn([plan("expensive")], costly())), reply("should not get here")], PRICES);
    const r = await runOcx(["exec", ...JSON_, "--max-cost-usd", "3", "spend"], { home });
    expect(r.code).toBe(6);
    expect(mock.requests).toHaveLength(1);
    expect(checkEventStream(r.events)).toEqual([]);
    expect(r.events!.at(-1)).toEqual({
      type: "turn.failed",
      error: { message: "budget exceeded: --max-cost-usd 3 ($3.25 spent)", code: "budget_exceeded" },
      run_usage: usageOf(1_000_000, 500_000, 250_000, 50_000),
      model_requests: 1,
      tool_calls: 1,
      cost_usd: 3.25,
    });
  }, T);

  test("max_cost_usd in config, under --strict-config, lets a cheaper run finish", async () => {
    const { mock, home } = await setup([reply("cheap", usage(1000, 100))], PRICES);
    const r = await runOcx(["exec", ...JSON_, "--strict-config", "-c", "max_cost_usd=0.5", "hi"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(1);
    // 1000 × 2.0 + 100 × 8.0 per million.
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed", cost_usd: 0.0028 });
  }, T);

  test("--max-cost-usd for a model without a price: exit 2 before any request; in config: exit 3", async () => {
    const { mock, home } = await setup([reply("should not get here")]);
    const r = await runOcx(["exec", ...JSON_, "--max-cost-usd", "1", "hi"], { home });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      'error: --max-cost-usd 1 needs a price for model gpt-5.5: set [model_prices."gpt-5.5"] input, cached_input and output (USD per million tokens) in config',
    ]);
    const c = await runOcx(["exec", ...JSON_, "-c", "max_cost_usd=1", "hi"], { home });
    expect(c.code).toBe(3);
    expect(c.stderr).toContain("max_cost_usd = 1 (config) needs a price for model gpt-5.5");
    const bad = await runOcx(["exec", ...JSON_, "--max-cost-usd", "free", "hi"], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("error: invalid value 'free' for '--max-cost-usd': expected a number above 0");
    expect(mock.requests).toHaveLength(0);
  }, T);
});
