// The host's time zone without ICU (src/adapters/timezone.ts) gives what Intl gives: the same
// zone name, and the same offsets (so the same local dates and times, DST included) for every
// zone Bun knows, from the system's TZif files; what it cannot know for sure goes to Intl.
import { describe, expect, test } from "bun:test";
import { readFileSync, readlinkSync } from "node:fs";
import { canonicalZones, hostZone, offsetAt, parsePosixTz, parseTzif, UTC_ALIASES, type ZoneHost, type ZoneRules } from "../../src/adapters/timezone.ts";
import { localParts } from "../../src/core/util/local-time.ts";
import { localDate } from "../../src/core/prompt/environment-context.ts";
import { rolloutRelativePath } from "../../src/core/session/rollout.ts";

const readTzif = (name: string): Uint8Array | undefined => {
  try {
    return readFileSync(`/usr/share/zoneinfo/${name}`);
  } catch {
    return undefined;
  }
};
const parts = (zone: string) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
/** Intl's offset of `zone` at `ms` (seconds). */
function intlOffset(fmt: Intl.DateTimeFormat, ms: number): number {
  const p: Record<string, string> = {};
  for (const x of fmt.formatToParts(ms)) p[x.type] = x.value;
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return (local - Math.floor(ms / 1000) * 1000) / 1000;
}
const host = (over: Partial<ZoneHost>): ZoneHost => ({
  tz: undefined,
  readLink: () => undefined,
  readFile: () => undefined,
  intlZone: () => "Intl/Answer",
  ...over,
});

const YEAR_MS = 365.2425 * 86400 * 1000;
/**
 * Zones whose data on this host's tzdata differs from Bun's ICU (not this reader): Debian's 2025b
 * Europe/Chisinau changes at 00:00 UTC, ICU 78's at 01:00 UTC. ocx follows the host's file there.
 */
const DATA_DIFFERS = new Set(["Europe/Chisinau"]);
const zones = [...canonicalZones()].filter((z) => readTzif(z) !== undefined && !DATA_DIFFERS.has(z));

describe("zone names", () => {
  test("the canonical names are Bun's: Intl.supportedValuesOf('timeZone') (regenerate src/adapters/zone-names.ts if not)", () => {
    expect([...canonicalZones()].sort()).toEqual([...Intl.supportedValuesOf("timeZone")].sort());
  });

  /** Intl's default zone of a new process started with TZ=`tz` (how ocx starts). */
  const defaultZoneAtStart = (tz: string) =>
    Bun.spawnSync([process.execPath, "-e", "process.stdout.write(Intl.DateTimeFormat().resolvedOptions().timeZone)"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TZ: tz } }).stdout.toString();

  test("every UTC alias is UTC to Intl, as the default zone of a process started with it", () => {
    for (const alias of UTC_ALIASES) expect([alias, defaultZoneAtStart(alias)]).toEqual([alias, "UTC"]);
    for (const tz of [":UTC", ":Etc/UTC"]) expect([tz, defaultZoneAtStart(tz)]).toEqual([tz, "UTC"]);
  }, 30_000);

  test("every canonical name is itself as the default zone (and with a leading ':' at start)", () => {
    const saved = process.env.TZ;
    try {
      // Setting TZ in a running Bun changes its default zone (names without ':' behave as at start).
      for (const name of canonicalZones()) {
        process.env.TZ = name;
        expect([name, Intl.DateTimeFormat().resolvedOptions().timeZone]).toEqual([name, name]);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    for (const tz of ["Asia/Tokyo", ":Asia/Tokyo", ":America/Argentina/Buenos_Aires"]) expect([tz, defaultZoneAtStart(tz)]).toEqual([tz, tz.replace(/^:/, "")]);
  });

  test("TZ: a canonical name as given (with or without ':'); a UTC alias is UTC; anything else is Intl's", () => {
    const read = { readFile: readTzif };
    expect(hostZone(host({ tz: "Europe/Paris", ...read })).name).toBe("Europe/Paris");
    expect(hostZone(host({ tz: ":Asia/Kolkata", ...read })).name).toBe("Asia/Kolkata");
    expect(hostZone(host({ tz: "Etc/UTC" })).name).toBe("UTC");
    expect(hostZone(host({ tz: "" })).offsetMs(0)).toBe(0);
    for (const tz of ["US/Pacific", "Asia/Calcutta", "EST5EDT", "CET-1CEST", "garbage", "/usr/share/zoneinfo/Europe/Berlin"]) {
      const z = hostZone(host({ tz, ...read }));
      expect([tz, z.name, z.offsetMs(Date.now())]).toEqual([tz, "Intl/Answer", undefined]);
    }
  });

  test("no TZ: the name /etc/localtime links to; a copied file or no file is Intl's", () => {
    const link = (target: string | undefined) => host({ readLink: (p) => (p === "/etc/localtime" ? target : undefined), readFile: (p) => (p === "/etc/localtime" ? readTzif("America/Sao_Paulo") : undefined) });
    expect(hostZone(link("/usr/share/zoneinfo/America/Sao_Paulo")).name).toBe("America/Sao_Paulo");
    expect(hostZone(link("../usr/share/zoneinfo/America/Sao_Paulo")).offsetMs(Date.UTC(2026, 0, 1))).toBe(-3 * 3600 * 1000);
    expect(hostZone(link("/var/db/timezone/zoneinfo/Etc/UTC")).name).toBe("UTC");
    expect(hostZone(link(undefined)).name).toBe("Intl/Answer");
    expect(hostZone(link("/etc/somewhere-else")).name).toBe("Intl/Answer");
  });

  test("a canonical name without a readable TZif file: the name, and Intl for offsets", () => {
    const z = hostZone(host({ tz: "Europe/Paris" }));
    expect(z.name).toBe("Europe/Paris");
    expect(z.offsetMs(0)).toBeUndefined();
  });

  test("this host: the same name as Intl", () => {
    const z = hostZone({
      tz: process.env.TZ,
      readLink: (p) => {
        try {
          return readlinkSync(p);
        } catch {
          return undefined;
        }
      },
      readFile: (p) => {
        try {
          return readFileSync(p);
        } catch {
          return undefined;
        }
      },
      intlZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    expect(z.name).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe("offsets", () => {
  test(`every zone with a TZif file (${zones.length}): Intl's offset around each transition of 2000-2037 and monthly to 2045`, () => {
    const mismatches: string[] = [];
    for (const zone of zones) {
      const rules = parseTzif(readTzif(zone)!);
      expect(rules).toBeDefined();
      const fmt = parts(zone);
      const instants: number[] = [];
      for (const t of rules!.times) if (t >= 946684800 && t < 2145916800) instants.push(t * 1000 - 1000, t * 1000, t * 1000 + 1000);
      for (let ms = Date.UTC(2000, 0, 1); ms < Date.UTC(2045, 0, 1); ms += YEAR_MS / 12) instants.push(Math.floor(ms));
      for (const ms of instants) {
        const ours = offsetAt(rules!, ms);
        const intl = intlOffset(fmt, ms);
        if (ours !== intl) mismatches.push(`${zone} at ${new Date(ms).toISOString()}: ${ours} vs Intl ${intl}`);
      }
    }
    expect([...new Set(mismatches.map((m) => m.split(" ")[0]))]).toEqual([]);
  }, 30_000);

  test("the footer's rule alone (transitions cut at 2026) gives Intl's offsets to 2045", () => {
    const mismatches: string[] = [];
    const cut = Date.UTC(2026, 0, 1) / 1000;
    for (const zone of zones) {
      const full = parseTzif(readTzif(zone)!)!;
      // Rules a footer cannot say (Morocco's Ramadan changes) are transitions to 2087 instead.
      if (!full.footer || full.times.at(-1)! >= Date.UTC(2038, 0, 1) / 1000) continue;
      const keep = full.times.findIndex((t) => t >= cut);
      const rules: ZoneRules = keep < 0 ? full : { ...full, times: full.times.slice(0, keep), offsets: full.offsets.slice(0, keep) };
      const fmt = parts(zone);
      for (const t of full.times.filter((x) => x >= cut)) {
        for (const ms of [t * 1000 - 1000, t * 1000, t * 1000 + 1000]) {
          if (offsetAt(rules, ms) !== intlOffset(fmt, ms)) mismatches.push(`${zone} at ${new Date(ms).toISOString()}`);
        }
      }
      for (let ms = cut * 1000; ms < Date.UTC(2045, 0, 1); ms += YEAR_MS / 12) {
        if (offsetAt(rules, ms) !== intlOffset(fmt, Math.floor(ms))) mismatches.push(`${zone} at ${new Date(ms).toISOString()}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
  }, 30_000);

  test("POSIX TZ strings: names, signs, rules, times past 24 h and before 0", () => {
    expect(parsePosixTz("UTC0")).toEqual({ std: 0 });
    expect(parsePosixTz("<+0530>-5:30")).toEqual({ std: 19800 });
    expect(parsePosixTz("<-03>3")).toEqual({ std: -10800 });
    expect(parsePosixTz("EST5EDT,M3.2.0,M11.1.0")).toEqual({
      std: -18000,
      dst: { offset: -14400, start: { kind: "month", month: 3, week: 2, weekday: 0 }, startTime: 7200, end: { kind: "month", month: 11, week: 1, weekday: 0 }, endTime: 7200 },
    });
    expect(parsePosixTz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")?.dst?.startTime).toBe(-3600);
    expect(parsePosixTz("<+03>-3<+04>,J1/0,J365/25")?.dst).toMatchObject({ start: { kind: "julian", day: 1 }, endTime: 90000 });
    expect(parsePosixTz("IST-1GMT0,M10.5.0,M3.5.0/1")).toMatchObject({ std: 3600, dst: { offset: 0 } });
    for (const bad of ["", "AB1", "EST", "EST5EDT", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0", "EST5EDT,M3.2.0,M11.1.0x"]) expect(parsePosixTz(bad)).toBeUndefined();
  });

  test("damaged or leap-second TZif data is refused, not misread", () => {
    const good = readTzif("Europe/Paris")!;
    expect(parseTzif(good.subarray(0, 30))).toBeUndefined();
    expect(parseTzif(good.subarray(0, good.length - 200))).toBeUndefined();
    const bad = Uint8Array.from(good);
    bad[0] = 0x58;
    expect(parseTzif(bad)).toBeUndefined();
    const right = (() => {
      try {
        return readFileSync("/usr/share/zoneinfo/right/Europe/Paris");
      } catch {
        return undefined;
      }
    })();
    if (right) expect(parseTzif(right)).toBeUndefined();
  });
});

describe("local dates and rollout names through the runtime's offset", () => {
  test("the same as Intl's in zones east and west of UTC, across DST and date lines", () => {
    const id = "019a0000-0000-7000-8000-000000000000";
    for (const zone of ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Kiritimati", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "Pacific/Pago_Pago"]) {
      const rules = parseTzif(readTzif(zone)!)!;
      const runtime = { timeZone: () => zone, utcOffsetMs: (ms: number) => offsetAt(rules, ms) * 1000 };
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 7 * 3600 * 1000 + 17 * 60 * 1000 + 13_000) {
        const { year, month, day, hour, minute, second } = localParts(ms, zone);
        expect([zone, localParts(ms, runtime)]).toEqual([zone, { year, month, day, hour, minute, second }]);
        expect([zone, localDate(ms, runtime)]).toEqual([zone, localDate(ms, zone)]);
        expect(rolloutRelativePath(ms, runtime, id)).toBe(rolloutRelativePath(ms, zone, id));
      }
    }
  }, 30_000);

  test("without an offset from the runtime, Intl answers (and an unknown zone is UTC)", () => {
    const ms = Date.UTC(2026, 0, 31, 23, 30, 5);
    expect(localDate(ms, { timeZone: () => "Asia/Tokyo" })).toBe("2026-02-01");
    expect(localDate(ms, { timeZone: () => "Asia/Tokyo", utcOffsetMs: () => undefined })).toBe("2026-02-01");
    expect(localDate(ms, "Not/AZone")).toBe("2026-01-31");
    expect(localParts(ms, "Not/AZone").hour).toBe("23");
  });
});
