import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { backoffMs, parseRetryAfter, parseTryAgainIn, sleep } from "../../src/core/model/retry.ts";

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

  test("property: always within ±10% of 200 × 2^(n-1)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        const base = 200 * 2 ** (n - 1);
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
