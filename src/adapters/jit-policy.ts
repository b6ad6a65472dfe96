// The binary starts with JavaScriptCore's JIT tier-up thresholds scaled up
// (scripts/build-common.ts, --compile-jit-policy); normalJitPolicy sets the normal policy back.
// keepBelowTopTier holds given functions back from the top tier (FTL). Elsewhere (Deno, a Bun
// without these) nothing happens.

type BunUnsafe = { Bun?: { unsafe?: { setJITPolicy?(scale: number): void } } };
type BunJsc = { noFTL?(fn: unknown): unknown };

/** The normal JIT policy from now on. */
export function normalJitPolicy(): void {
  (globalThis as BunUnsafe).Bun?.unsafe?.setJITPolicy?.(1);
}

/** Runtime.keepBelowTopTier on Bun: bun:jsc's noFTL for each (loaded when first asked: 0.2 ms). */
export function keepBelowTopTier(fns: readonly ((...args: never[]) => unknown)[]): void {
  let jsc: BunJsc | undefined;
  try {
    jsc = process.getBuiltinModule("bun:jsc") as BunJsc | undefined;
  } catch {
    return; // not Bun
  }
  if (typeof jsc?.noFTL !== "function") return;
  for (const fn of fns) jsc.noFTL(fn);
}
