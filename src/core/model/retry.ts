// Retry timing: exponential backoff, server-requested delays (capped), the stream-level retry
// schedule, and an abortable sleep.
import { ModelError } from "./types.ts";
import { timerDelay } from "../util/duration.ts";

export { formatBytes } from "../util/format.ts";

const INITIAL_DELAY_MS = 200;
const JITTER = 0.1;
/** No single backoff delay grows past this (before jitter), however many retries are allowed. */
export const MAX_BACKOFF_MS = 30_000;
/** Default cap on a server-requested delay (Retry-After, retry-after-ms, "try again in"). */
export const DEFAULT_RETRY_AFTER_MAX_MS = 60_000;
/** setTimeout fires at once for delays above 2^31-1 ms, so longer sleeps are clamped. */

/** Delay before retry number `attempt` (1-based): 200 ms × 2^(attempt-1) up to 30 s, ±10% jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(30, Math.max(0, Math.floor(attempt) - 1));
  const base = Math.min(MAX_BACKOFF_MS, INITIAL_DELAY_MS * 2 ** exp);
  const factor = 1 - JITTER + random() * 2 * JITTER;
  return Math.round(base * factor);
}

/**
 * The delay a response asks for, in ms: `retry-after-ms` (milliseconds), then `retry-after`
 * as seconds (decimals accepted) or an HTTP date (relative to `nowMs`; a past date gives 0).
 * Undefined when absent or unparsable.
 */
export function parseRetryAfter(headers: Headers, nowMs: number): number | undefined {
  const ms = parseNonNegative(headers.get("retry-after-ms"));
  if (ms !== undefined) return Math.round(ms);
  const raw = headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  const seconds = parseNonNegative(raw);
  if (seconds !== undefined) return Math.round(seconds * 1000);
  // HTTP dates always name the day and month; this keeps Date.parse from reading "-1" as a year.
  const date = /[a-z]/i.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function parseNonNegative(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  const text = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

const TRY_AGAIN_RE = /try again in\s*(\d+(?:\.\d+)?)\s*(ms|seconds?|s)/i;

/** Parses "try again in 1.5s" / "try again in 250ms" / "try again in 2 seconds" into ms. */
export function parseTryAgainIn(message: string): number | undefined {
  const m = TRY_AGAIN_RE.exec(message);
  if (!m) return undefined;
  const value = Number(m[1]);
  return m[2].toLowerCase() === "ms" ? Math.floor(value) : Math.round(value * 1000);
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      timerDelay(ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A server-requested delay longer than the cap is not waited for: the error that ends the
 * attempt for good (the server said it will not be ready in time). Undefined when within the cap.
 */
export function retryAfterRefusal(delayMs: number | undefined, capMs: number, cause: string): ModelError | undefined {
  if (delayMs === undefined || delayMs <= capMs) return undefined;
  return new ModelError(
    "fatal",
    `the model server asked to wait ${formatDuration(delayMs)} before retrying, longer than ocx waits (retry_after_max_ms = ${capMs}); giving up (${cause})`,
  );
}

export interface StreamRetryOptions {
  /** Retries allowed after the first attempt (stream_max_retries). */
  maxRetries: number;
  retryAfterMaxMs?: number;
  /** Monotonic milliseconds. */
  now: () => number;
  random?: () => number;
}

/**
 * The stream-level retry schedule of one model request (the reference's "Reconnecting... n/N"):
 * after each failed attempt, `next` gives the delay and the notice, or throws the error that ends
 * the turn: the failure itself when it is not retryable, else one saying the provider kept
 * failing, with the number of requests and the time spent. `reset` after a success.
 */
export class StreamRetries {
  private retries = 0;
  private requests = 0;
  private started: number;
  constructor(private readonly opts: StreamRetryOptions) {
    this.started = opts.now();
  }

  /** Whether the next request repeats a failed one (a budget counts a request once). */
  get retrying(): boolean {
    return this.retries > 0;
  }

  reset(): void {
    this.retries = 0;
    this.requests = 0;
    this.started = this.opts.now();
  }

  next(failure: ModelError): { delayMs: number; notice: string } {
    this.requests += failure.requests ?? 1;
    if (failure.kind !== "retryable") throw failure;
    const cap = this.opts.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;
    const refusal = retryAfterRefusal(failure.retryAfterMs, cap, failure.message);
    if (refusal) throw refusal;
    if (this.retries >= this.opts.maxRetries) {
      if (this.requests <= 1) throw failure;
      const spent = formatDuration(this.opts.now() - this.started);
      throw new ModelError(
        "retryable",
        `the model provider kept failing: ${this.requests} requests over ${spent}, the last one: ${failure.message}; the service may be busy or down, try again later (request_max_retries and stream_max_retries allow more attempts)`,
        { status: failure.status, cause: failure },
      );
    }
    this.retries++;
    const delayMs = failure.retryAfterMs ?? backoffMs(this.retries, this.opts.random);
    return {
      delayMs,
      notice: `Reconnecting... ${this.retries}/${this.opts.maxRetries} (${failure.message}); next attempt in ${formatDuration(delayMs)}`,
    };
  }
}

/** 200 ms, 3.2 s, 45 s, 2 min 5 s, 24 h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    const s = Math.round((ms % 60_000) / 1000);
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return m ? `${h} h ${m} min` : `${h} h`;
}
