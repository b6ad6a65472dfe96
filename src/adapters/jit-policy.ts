// The compiled binary starts with JavaScriptCore's JIT tier-up thresholds scaled up
// (scripts/build-common.ts, --compile-jit-policy); this sets the normal policy back. Elsewhere
// (Deno, a Bun without setJITPolicy) nothing happens.

type BunUnsafe = { Bun?: { unsafe?: { setJITPolicy?(scale: number): void } } };

/** The normal JIT policy from now on. */
export function normalJitPolicy(): void {
  (globalThis as BunUnsafe).Bun?.unsafe?.setJITPolicy?.(1);
}
