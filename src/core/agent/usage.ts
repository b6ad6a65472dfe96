// Usage and cost of a run (ocx-extensions.md "Usage and cost"): the thread's running total read
// back from a rollout, the price of a model (config's model_prices over built-in defaults) and
// what this run cost, and the fields ocx adds to turn.completed and turn.failed.
import type { Config } from "../config/schema.ts";
import type { ThreadEvent, Usage } from "../events.ts";
import { addUsage, emptyUsage } from "./usage-totals.ts";

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  /** Cached input tokens; the input price when not given. */
  cached_input?: number;
  output: number;
}

/**
 * List prices of OpenAI models (USD per million tokens) used when config names none; only for
 * the built-in `openai` provider (the same name elsewhere may cost something else). Defaults, to
 * be overridden with `[model_prices."<model>"]` when they change; a model not listed has no cost.
 */
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = {
  "gpt-5": { input: 1.25, cached_input: 0.125, output: 10 },
  "gpt-5-mini": { input: 0.25, cached_input: 0.025, output: 2 },
  "gpt-5-nano": { input: 0.05, cached_input: 0.005, output: 0.4 },
  "gpt-4.1": { input: 2, cached_input: 0.5, output: 8 },
  "gpt-4.1-mini": { input: 0.4, cached_input: 0.1, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, cached_input: 0.025, output: 0.4 },
  "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 },
  "gpt-4o-mini": { input: 0.15, cached_input: 0.075, output: 0.6 },
  "o4-mini": { input: 1.1, cached_input: 0.275, output: 4.4 },
};

/** The price of `model`: config's model_prices first, then the built-in table (openai provider only). */
export function resolvePrice(config: Config, model: string, providerId: string): ModelPrice | undefined {
  const own = config.model_prices?.[model];
  if (own) return own;
  return providerId === "openai" && Object.hasOwn(BUILTIN_PRICES, model) ? BUILTIN_PRICES[model] : undefined;
}

/** USD for `u`: (input − cached) × input + cached × cached_input + output × output (reasoning is output). */
export function costUsd(u: Usage, p: ModelPrice): number {
  const cached = Math.min(u.cached_input_tokens, u.input_tokens);
  const micro = (u.input_tokens - cached) * p.input + cached * (p.cached_input ?? p.input) + u.output_tokens * p.output;
  return micro / 1_000_000;
}

/** `1,234,567` */
export function formatTokens(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `$3.25`; amounts under a cent keep their first significant digits (`$0.0042`). */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${Number(usd.toPrecision(2)).toFixed(Math.min(20, Math.max(2, 1 - Math.floor(Math.log10(usd)))))}`;
}

/** The reference's blended total for `tokens used`: input − cached + output. */
export function blendedTokens(u: Usage): number {
  return u.input_tokens - u.cached_input_tokens + u.output_tokens;
}

/** A usage record as written in a rollout's token_count (missing or bad fields count 0). */
export function usageFromRecord(value: unknown): Usage | undefined {
  if (!value || typeof value !== "object") return undefined;
  const r = value as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === "number" && Number.isFinite(r[k]) && (r[k] as number) >= 0 ? (r[k] as number) : 0);
  return {
    input_tokens: n("input_tokens"),
    cached_input_tokens: n("cached_input_tokens"),
    cache_write_input_tokens: n("cache_write_input_tokens"),
    output_tokens: n("output_tokens"),
    reasoning_output_tokens: n("reasoning_output_tokens"),
  };
}

/** A usage as the reference records it in token_count (plus total_tokens). */
export function usageRecord(u: Usage): Usage & { total_tokens: number } {
  return { ...u, total_tokens: u.input_tokens + u.output_tokens };
}

/**
 * What one run used: the thread's total before it (from the rollout), each model response's
 * usage as it arrives, and the requests and tool calls made. It writes each response's
 * token_count through `record` and adds ocx's fields to the turn's last event.
 */
export class UsageMeter {
  private run = emptyUsage();

  constructor(
    private readonly prior: Usage,
    private readonly price: ModelPrice | undefined,
    private readonly record: (info: { total_token_usage: Usage; last_token_usage: Usage }) => void = () => {},
  ) {}

  /** A model response completed with `u`. */
  response(u: Usage): void {
    this.run = addUsage(this.run, u);
    this.record({ total_token_usage: usageRecord(this.total()), last_token_usage: usageRecord(u) });
  }

  total(): Usage {
    return addUsage(this.prior, this.run);
  }

  cost(): number | undefined {
    return this.price ? costUsd(this.run, this.price) : undefined;
  }

  /**
   * turn.completed: `usage` becomes the thread's total (the reference's meaning); both events get
   * this run's usage, counts and cost (when the model has a price).
   */
  decorate(e: ThreadEvent, counts: { modelRequests: number; toolCalls: number }): ThreadEvent {
    if (e.type !== "turn.completed" && e.type !== "turn.failed") return e;
    const cost = this.cost();
    const extra = {
      run_usage: this.run,
      model_requests: counts.modelRequests,
      tool_calls: counts.toolCalls,
      ...(cost === undefined ? {} : { cost_usd: cost }),
    };
    return e.type === "turn.completed" ? { type: e.type, usage: this.total(), ...extra } : { ...e, ...extra };
  }
}
