// Budgets of one run (--max-turns, --max-tool-calls, --max-tokens, --max-cost-usd, --timeout, or the same keys in
// config): a budget that runs out fails the turn with kind "budget" (exit 6, turn.failed code
// budget_exceeded); the session stays resumable.
import type { Config } from "../config/schema.ts";
import { OcxError } from "../errors.ts";
import type { Usage } from "../events.ts";
import { formatDuration, parseDuration, timerDelay } from "../util/duration.ts";
import { formatUsd } from "./usage.ts";

/** Budgets given as flags (already validated: positive). */
export interface BudgetFlags {
  maxTurns?: number;
  maxToolCalls?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  timeoutMs?: number;
}

export interface Budget {
  limit: number;
  /** How the user set it, for messages: `--max-turns 3` or `max_turns = 3 (config)`. */
  label: string;
}

export interface Budgets {
  maxTurns?: Budget;
  maxToolCalls?: Budget;
  maxTokens?: Budget;
  /** USD of this run's model requests (needs a price for the model). */
  maxCostUsd?: Budget;
  /** Wall clock of the run, in ms. */
  timeout?: Budget;
}

/** The run's budgets: a flag wins over config (config.toml, -p, -c). */
export function resolveBudgets(flags: BudgetFlags, config: Config): Budgets {
  const pick = (flag: string, key: string, fromFlag: number | undefined, fromConfig: number | undefined, show: (n: number) => string = String): Budget | undefined => {
    if (fromFlag !== undefined) return { limit: fromFlag, label: `--${flag} ${show(fromFlag)}` };
    if (fromConfig !== undefined) return { limit: fromConfig, label: `${key} = ${show(fromConfig)} (config)` };
    return undefined;
  };
  const timeout = config.timeout === undefined ? undefined : configDurationMs(config.timeout);
  return {
    maxTurns: pick("max-turns", "max_turns", flags.maxTurns, config.max_turns),
    maxToolCalls: pick("max-tool-calls", "max_tool_calls", flags.maxToolCalls, config.max_tool_calls),
    maxTokens: pick("max-tokens", "max_tokens", flags.maxTokens, config.max_tokens),
    maxCostUsd: pick("max-cost-usd", "max_cost_usd", flags.maxCostUsd, config.max_cost_usd),
    timeout: pick("timeout", "timeout", flags.timeoutMs, timeout, formatDuration),
  };
}

/** `timeout` in config: a duration string ("15m") or a number of seconds; validated by the schema. */
export function configDurationMs(value: string | number): number | undefined {
  const ms = typeof value === "number" ? Math.round(value * 1000) : parseDuration(value, "s");
  return ms !== undefined && ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

export function budgetExceeded(budget: Budget, what: string): OcxError {
  return new OcxError("budget", `budget exceeded: ${budget.label} (${what})`);
}

/** What the turn loop asks before spending: each throws the budget error when one ran out. */
export interface TurnBudget {
  /** Before each new model request (a retry of the same request does not count). */
  beforeRequest(usage: Usage): void;
  /** Before each tool call is run. */
  beforeToolCall(): void;
  /** What the run made so far: model requests (retries not counted) and tool calls run. */
  counts(): { modelRequests: number; toolCalls: number };
}

/** `cost` prices the run's usage; given whenever the model has a price (needed by maxCostUsd). */
export function turnBudget(b: Budgets, cost?: (usage: Usage) => number): TurnBudget {
  let requests = 0;
  let toolCalls = 0;
  return {
    beforeRequest(usage) {
      if (b.maxTurns && requests >= b.maxTurns.limit) {
        throw budgetExceeded(b.maxTurns, `${requests} model request${requests === 1 ? "" : "s"} made`);
      }
      const used = usage.input_tokens + usage.output_tokens;
      if (b.maxTokens && used >= b.maxTokens.limit) throw budgetExceeded(b.maxTokens, `${used} tokens used`);
      if (b.maxCostUsd && cost) {
        const usd = cost(usage);
        if (usd >= b.maxCostUsd.limit) throw budgetExceeded(b.maxCostUsd, `${formatUsd(usd)} spent`);
      }
      requests++;
    },
    beforeToolCall() {
      if (b.maxToolCalls && toolCalls >= b.maxToolCalls.limit) {
        throw budgetExceeded(b.maxToolCalls, `${toolCalls} tool call${toolCalls === 1 ? "" : "s"} made, the model asked for another`);
      }
      toolCalls++;
    },
    counts: () => ({ modelRequests: requests, toolCalls }),
  };
}

/**
 * Aborts `controller` with the --timeout budget error once the run has lasted `budget.limit` ms
 * (`elapsedMs` of it are already gone); returns the function that disarms it.
 */
export function abortOnTimeout(controller: AbortController, budget: Budget | undefined, elapsedMs: number): () => void {
  if (!budget) return () => {};
  const fire = () => controller.abort(budgetExceeded(budget, `the run was stopped after ${formatDuration(budget.limit)}`));
  const timer = setTimeout(fire, timerDelay(budget.limit - elapsedMs));
  return () => clearTimeout(timer);
}
