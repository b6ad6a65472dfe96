// Retry timing: exponential backoff, server-requested delays, and an abortable sleep.

const INITIAL_DELAY_MS = 200;
const JITTER = 0.1;
/** setTimeout fires at once for delays above 2^31-1 ms, so longer sleeps are clamped. */
const MAX_TIMER_MS = 2_147_483_647;

/** Delay before retry number `attempt` (1-based): 200 ms × 2^(attempt-1), ±10% jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const exp = Math.max(0, Math.floor(attempt) - 1);
  const base = INITIAL_DELAY_MS * 2 ** exp;
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
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
