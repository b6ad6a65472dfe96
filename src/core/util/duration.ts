// Durations as people write them (and as timers take them): "500ms", "90s", "15m", "1h", "1h30m", "2.5s", or a plain number
// in a unit the caller picks (seconds for --timeout, milliseconds for --stdin-timeout).

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

const PLAIN = /^\d+(?:\.\d+)?$/;
const WITH_UNITS = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds (rounded), or undefined when `text` is not a duration. */
export function parseDuration(text: string, plainUnit: Unit): number | undefined {
  const t = text.trim();
  if (PLAIN.test(t)) return Math.round(Number(t) * UNIT_MS[plainUnit]);
  if (!WITH_UNITS.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2] as Unit];
  return Math.round(ms);
}

/** A duration as text: "250ms", "90s", "15m", "1h30m", "1m2.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const parts = [h ? `${h}h` : "", m ? `${m}m` : "", s ? `${Number(s.toFixed(3))}s` : ""];
  return parts.join("");
}

/** The longest delay setTimeout takes (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a setTimeout delay: not below 0, not above what setTimeout can wait. */
export const timerDelay = (ms: number): number => Math.min(Math.max(0, ms), MAX_TIMER_MS);
