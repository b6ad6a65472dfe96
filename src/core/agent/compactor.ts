// The turn loop's compaction hooks: measures the context before each request (the last
// response's reported input tokens plus an estimate of what was appended since; before the
// first response, an estimate of the whole history), compacts at the limit, and once after a
// context-window error. The history array is replaced in place.
import type { Usage } from "../events.ts";
import { emptyUsage } from "./usage-totals.ts";
import { OcxError } from "../errors.ts";
import type { ModelError, ResponseItem } from "../model/types.ts";
import type { CompactRequestOptions } from "./compact-request.ts";
import { estimateTokens, isUserMessage } from "./compaction.ts";

export interface TurnCompaction {
  /** Compact before a request whose context reaches this many tokens; undefined: only after a context-window error. */
  limit?: number;
  /** The server compacts (a provider named OpenAI on the Responses wire); else the model summarises. */
  remote: boolean;
  /** Summarisation instructions replacing ocx's own (compact_prompt). */
  prompt?: string;
  /** How many items at the end of the turn's input are its new input (kept after the summary when compacting before the turn). */
  newItems: number;
  onCompacted(c: CompactionRecord): void;
}

export interface CompactionRecord {
  phase: "pre_turn" | "mid_turn";
  reason: "context_limit" | "context_window_error";
  /** The summary message ("" for a remote compaction). */
  message: string;
  /** The whole history from here on. */
  history: ResponseItem[];
  tokensBefore: number;
  tokensAfter: number;
}

type RequestOptions = Omit<CompactRequestOptions, "remote" | "limit" | "prompt">;

export class Compactor {
  private responses = 0;
  private reported: { tokens: number; at: number } | undefined;
  private sentLength = 0;
  private sinceResponse = false;
  private forError = false;

  constructor(
    private readonly o: TurnCompaction,
    private readonly request: RequestOptions,
  ) {}

  /** The next request re-sends one refused as too long (it counts once against budgets). */
  get resending(): boolean {
    return this.forError;
  }

  /** Before a new request: compacts when the context reached the limit; returns the usage it cost. */
  async beforeRequest(history: ResponseItem[]): Promise<Usage> {
    const limit = this.o.limit;
    if (this.sinceResponse || limit === undefined) return emptyUsage();
    const tokens = this.tokens(history);
    if (tokens < limit) return emptyUsage();
    return (await this.compact(history, "context_limit", tokens)) ?? emptyUsage();
  }

  /** A request goes out with `history`. */
  sent(history: readonly ResponseItem[]): void {
    this.sentLength = history.length;
  }

  /** A response completed; `inputTokens` as the provider reported them (0: unknown, estimate instead). */
  responded(inputTokens: number): void {
    this.responses++;
    this.reported = inputTokens > 0 ? { tokens: inputTokens, at: this.sentLength } : undefined;
    this.sinceResponse = false;
    this.forError = false;
  }

  /** The provider refused the history as too long: compact once; throws when that was done already or is not possible. */
  async afterContextError(history: ResponseItem[], failure: ModelError): Promise<Usage> {
    const usage = this.forError ? undefined : await this.compact(history, "context_window_error");
    if (!usage) {
      throw new OcxError(
        "failed",
        `the conversation does not fit the model's context window${this.forError ? " even after compacting it" : ", and there is nothing ocx can compact"} (${failure.message}); start a new session with a shorter prompt or smaller inputs`,
        { cause: failure },
      );
    }
    this.forError = true;
    return usage;
  }

  private tokens(history: readonly ResponseItem[]): number {
    return this.reported ? this.reported.tokens + estimateTokens(history.slice(this.reported.at)) : estimateTokens(history);
  }

  /** Undefined when there is nothing to compact (only the user's own messages). */
  private async compact(history: ResponseItem[], reason: CompactionRecord["reason"], tokens?: number): Promise<Usage | undefined> {
    const phase = this.responses === 0 ? "pre_turn" : "mid_turn";
    // Before the turn's first response, its new input is not summarised: it follows the summary.
    const fresh = phase === "pre_turn" ? Math.min(this.o.newItems, history.length) : 0;
    const old = history.slice(0, history.length - fresh);
    if (!old.some((i) => !isUserMessage(i))) return undefined;
    const tokensBefore = tokens ?? this.tokens(history);
    // (The summarisation request's code loads when a history is first compacted.)
    const { compactHistory } = await import("./compact-request.ts");
    const done = await compactHistory(old, { ...this.request, remote: this.o.remote, limit: this.o.limit, prompt: this.o.prompt });
    history.splice(0, history.length, ...done.history, ...history.slice(old.length));
    this.reported = undefined;
    this.sinceResponse = true;
    this.o.onCompacted({ phase, reason, message: done.message, history: [...history], tokensBefore, tokensAfter: estimateTokens(history) });
    return done.usage;
  }
}
