import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  backoffMs,
  formatBytes,
  formatDuration,
  parseRetryAfter,
  parseTryAgainIn,
  retryAfterRefusal,
  sleep,
  StreamRetries,
} from "../../src/core/model/retry.ts";
import { ModelError } from "../../src/core/model/types.ts";

describe("backoffMs", () => {
  test("200 ms doubling, without jitter at random = 0.5", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, mid))).toEqual([200, 400, 800, 1600, 3200]);
  });

  test("jitter is ±10%", () => {
    expect(backoffMs(1, () => 0)).toBe(180);
    expect(backoffMs(1, () => 0.999999)).toBe(220);
    expect(backoffMs(3, () => 0)).toBe(720);
  });

  test("attempt 0 or below behaves as attempt 1", () => {
    expect(backoffMs(0, () => 0.5)).toBe(200);
  });

  test("property: always within ±10% of 200 × 2^(n-1), capped at 30 s", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        const base = Math.min(30_000, 200 * 2 ** (n - 1));
        const ms = backoffMs(n, () => r);
        expect(ms).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
        expect(ms).toBeLessThanOrEqual(Math.ceil(base * 1.1));
      }),
    );
  });

  test("uses Math.random by default", () => {
    const ms = backoffMs(2);
    expect(ms).toBeGreaterThanOrEqual(360);
    expect(ms).toBeLessThanOrEqual(440);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  const h = (init: Record<string, string>) => new Headers(init);

  test("seconds", () => {
    expect(parseRetryAfter(h({ "retry-after": "1" }), now)).toBe(1000);
    expect(parseRetryAfter(h({ "retry-after": " 120 " }), now)).toBe(120_000);
    expect(parseRetryAfter(h({ "retry-after": "1.5" }), now)).toBe(1500);
    expect(parseRetryAfter(h({ "retry-after": "0" }), now)).toBe(0);
  });

  test("retry-after-ms wins over retry-after", () => {
    expect(parseRetryAfter(h({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(parseRetryAfter(h({ "retry-after-ms": "12.6" }), now)).toBe(13);
  });

  test("an unparsable retry-after-ms falls back to retry-after", () => {
    expect(parseRetryAfter(h({ "retry-after-ms": "soon", "retry-after": "2" }), now)).toBe(2000);
  });

  test("HTTP date, relative to now; a past date gives 0", () => {
    expect(parseRetryAfter(h({ "retry-after": "Wed, 21 Oct 2015 07:28:03 GMT" }), now)).toBe(3000);
    expect(parseRetryAfter(h({ "retry-after": "Wed, 21 Oct 2015 07:27:00 GMT" }), now)).toBe(0);
  });

  test("absent, negative or garbage gives undefined", () => {
    expect(parseRetryAfter(h({}), now)).toBeUndefined();
    expect(parseRetryAfter(h({ "retry-after": "-1" }), now)).toBeUndefined();
    expect(parseRetryAfter(h({ "retry-after": "whenever" }), now)).toBeUndefined();
    expect(parseRetryAfter(h({ "retry-after": "" }), now)).toBeUndefined();
  });
});

describe("parseTryAgainIn", () => {
  test("seconds and milliseconds", () => {
    expect(
      parseTryAgainIn("Rate limit reached for gpt-5 on tokens per min. Please try again in 1.5s. Visit ..."),
    ).toBe(1500);
    expect(parseTryAgainIn("try again in 250ms")).toBe(250);
    expect(parseTryAgainIn("Try again in 20s")).toBe(20_000);
    expect(parseTryAgainIn("please TRY AGAIN IN 2 seconds")).toBe(2000);
    expect(parseTryAgainIn("try again in 1 second")).toBe(1000);
    expect(parseTryAgainIn("try again in 0.5 ms")).toBe(0);
  });

  test("no delay in the message", () => {
    expect(parseTryAgainIn("Rate limit reached")).toBeUndefined();
    expect(parseTryAgainIn("try again in a bit")).toBeUndefined();
    expect(parseTryAgainIn("try again in 5 minutes")).toBeUndefined();
    expect(parseTryAgainIn("")).toBeUndefined();
  });
});

describe("sleep", () => {
  test("resolves after the delay", async () => {
    const start = performance.now();
    await sleep(20, new AbortController().signal);
    expect(performance.now() - start).toBeGreaterThanOrEqual(15);
  });

  test("works without a signal", async () => {
    await sleep(1);
  });

  test("rejects with the reason as soon as the signal aborts", async () => {
    const ac = new AbortController();
    const start = performance.now();
    const p = sleep(10_000, ac.signal);
    setTimeout(() => ac.abort(new Error("stop")), 5);
    await expect(p).rejects.toThrow("stop");
    expect(performance.now() - start).toBeLessThan(1000);
  });

  test("rejects at once when already aborted, with an AbortError by default", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await sleep(10_000, ac.signal).catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
  });
});

describe("StreamRetries (fake clock)", () => {
  function schedule(maxRetries: number, opts: { retryAfterMaxMs?: number; random?: () => number } = {}) {
    let clock = 1000;
    const retries = new StreamRetries({ maxRetries, now: () => clock, random: opts.random ?? (() => 0.5), retryAfterMaxMs: opts.retryAfterMaxMs });
    return { retries, advance: (ms: number) => (clock += ms) };
  }
  const http500 = (requests: number) => new ModelError("retryable", "unexpected status 500 Internal Server Error: boom", { status: 500, requests });

  test("the reference's counts: 5 × 6 = 30 requests for a persistent 500 with the defaults, about 24 s", () => {
    const { retries, advance } = schedule(5);
    const delays: number[] = [];
    let final: unknown;
    for (let attempt = 0; ; attempt++) {
      advance(200 + 400 + 800 + 1600); // the request-level backoff inside one attempt (request_max_retries = 4)
      try {
        const next = retries.next(http500(5));
        delays.push(next.delayMs);
        advance(next.delayMs);
      } catch (e) {
        final = e;
        break;
      }
    }
    expect(delays).toEqual([200, 400, 800, 1600, 3200]);
    expect(final).toBeInstanceOf(ModelError);
    expect((final as ModelError).message).toStartWith(
      "the model provider kept failing: 30 requests over 24 s, the last one: unexpected status 500 Internal Server Error: boom; the service may be busy or down",
    );
    expect((final as ModelError).status).toBe(500);
  });

  test("each notice says the attempt, the reason and the delay", () => {
    const { retries } = schedule(3);
    expect(retries.next(http500(1)).notice).toBe("Reconnecting... 1/3 (unexpected status 500 Internal Server Error: boom); next attempt in 200 ms");
    expect(retries.next(http500(1)).notice).toBe("Reconnecting... 2/3 (unexpected status 500 Internal Server Error: boom); next attempt in 400 ms");
  });

  test("jitter stays within ±10% of the backoff", () => {
    const low = schedule(5, { random: () => 0 }).retries;
    const high = schedule(5, { random: () => 0.999999 }).retries;
    const lows = [1, 2, 3].map(() => low.next(http500(1)).delayMs);
    const highs = [1, 2, 3].map(() => high.next(http500(1)).delayMs);
    expect(lows).toEqual([180, 360, 720]);
    expect(highs).toEqual([220, 440, 880]);
  });

  test("a server-requested delay is used as is up to the cap, and ends the turn beyond it", () => {
    const { retries } = schedule(5, { retryAfterMaxMs: 60_000 });
    expect(retries.next(new ModelError("retryable", "slow down", { status: 429, retryAfterMs: 60_000 })).delayMs).toBe(60_000);
    expect(() => retries.next(new ModelError("retryable", "slow down", { status: 429, retryAfterMs: 86_400_000 }))).toThrow(
      "the model server asked to wait 24 h before retrying, longer than ocx waits (retry_after_max_ms = 60000); giving up (slow down)",
    );
  });

  test("non-retryable failures end at once, as they are; one request without retries stays as it is", () => {
    const fatal = new ModelError("fatal", "bad request");
    expect(() => schedule(5).retries.next(fatal)).toThrow(fatal);
    const drop = new ModelError("retryable", "drop");
    expect(() => schedule(0).retries.next(drop)).toThrow(drop);
  });

  test("reset starts the count and the clock over", () => {
    const { retries, advance } = schedule(1);
    retries.next(http500(1));
    advance(5000);
    retries.reset();
    expect(retries.next(http500(1)).notice).toStartWith("Reconnecting... 1/1");
    advance(700);
    expect(() => retries.next(http500(2))).toThrow("the model provider kept failing: 3 requests over 700 ms");
  });
});

describe("retryAfterRefusal", () => {
  test("within the cap, or no delay: no refusal", () => {
    expect(retryAfterRefusal(undefined, 1000, "x")).toBeUndefined();
    expect(retryAfterRefusal(1000, 1000, "x")).toBeUndefined();
    expect(retryAfterRefusal(1001, 1000, "x")?.kind).toBe("fatal");
  });
});

describe("formatting", () => {
  test("durations and sizes", () => {
    expect([0, 200, 3200, 24_300, 125_000, 1_800_000, 86_400_000].map(formatDuration)).toEqual([
      "0 ms", "200 ms", "3.2 s", "24 s", "2 min 5 s", "30 min", "24 h",
    ]);
    expect([512, 65_536, 1_500, 16 * 1024 * 1024, 1_572_864].map(formatBytes)).toEqual(["512 bytes", "64 KiB", "1.5 KiB", "16 MiB", "1.5 MiB"]);
  });
});
