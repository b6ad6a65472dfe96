// Local calendar dates and times of an instant in the host's zone. The Runtime may know the
// zone's offset itself (utcOffsetMs: no ICU, which costs ~16 ms to start); else Intl answers.

/** The host's zone as the Runtime tells it; or a zone name alone (Intl then). */
export type ZoneSource = string | { timeZone(): string; utcOffsetMs?(ms: number): number | undefined };

export type LocalParts = Record<"year" | "month" | "day" | "hour" | "minute" | "second", string>;

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * Year, month, day, hour (00-23), minute and second of `ms` in the zone, as Intl's en-CA
 * numeric/2-digit parts give them; an unknown zone name counts as UTC.
 */
export function localParts(ms: number, zone: ZoneSource): LocalParts {
  if (typeof zone !== "string") {
    const offset = zone.utcOffsetMs?.(ms);
    if (offset !== undefined) {
      const d = new Date(ms + offset);
      return {
        year: String(d.getUTCFullYear()),
        month: pad(d.getUTCMonth() + 1),
        day: pad(d.getUTCDate()),
        hour: pad(d.getUTCHours()),
        minute: pad(d.getUTCMinutes()),
        second: pad(d.getUTCSeconds()),
      };
    }
    zone = zone.timeZone();
  }
  const options = { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" } as const;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat("en-CA", { timeZone: zone, ...options });
  } catch {
    fmt = new Intl.DateTimeFormat("en-CA", { timeZone: "UTC", ...options });
  }
  const out: Record<string, string> = {};
  for (const p of fmt.formatToParts(ms)) out[p.type] = p.value;
  return out as LocalParts;
}
