// The host's time zone without ICU: its name and its offset from UTC at any instant, from the
// TZ variable or /etc/localtime and the zone's TZif file (RFC 8536), read and evaluated here.
// Starting ICU (the first Intl.DateTimeFormat) costs a compiled binary ~16 ms before the first
// model request. The answers equal Intl's: the name only where Bun's ICU gives the host's name
// back unchanged (a canonical name, or UTC under one of its aliases); anything else (a link such
// as US/Pacific, a POSIX TZ string, a copied /etc/localtime, a file that cannot be read) falls
// back to Intl, name and offsets alike.
import { CANONICAL_ZONES } from "./zone-names.ts";

/** The host's zone: its IANA name (as Intl names it) and its offset at `ms` (undefined: ask Intl). */
export interface HostZone {
  name: string;
  offsetMs(ms: number): number | undefined;
}

/** What hostZone reads from the host. */
export interface ZoneHost {
  /** $TZ (undefined when unset). */
  tz: string | undefined;
  /** A symlink's target, or undefined (not a symlink, absent). */
  readLink(path: string): string | undefined;
  /** A file's bytes, or undefined. */
  readFile(path: string): Uint8Array | undefined;
  /** Intl's answer, for everything this module does not know for sure. */
  intlZone(): string;
}

const ZONEINFO = "/usr/share/zoneinfo/";
const LOCALTIME = "/etc/localtime";

/** Names that Bun's ICU turns into "UTC" (checked by test/unit/timezone.test.ts). */
export const UTC_ALIASES: ReadonlySet<string> = new Set([
  "", "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
  "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0", "Etc/Greenwich", "Greenwich",
]);

let canonical: ReadonlySet<string> | undefined;
export const canonicalZones = (): ReadonlySet<string> => (canonical ??= new Set(CANONICAL_ZONES.trim().split(/\s+/)));

export function hostZone(host: ZoneHost): HostZone {
  const intl = (): HostZone => ({ name: host.intlZone(), offsetMs: () => undefined });
  let name: string | undefined;
  let file: string;
  if (host.tz !== undefined) {
    name = host.tz.startsWith(":") ? host.tz.slice(1) : host.tz;
    file = ZONEINFO + name;
  } else {
    const target = host.readLink(LOCALTIME);
    const at = target?.lastIndexOf("/zoneinfo/") ?? -1;
    if (target === undefined || at < 0) return intl();
    name = target.slice(at + "/zoneinfo/".length);
    file = LOCALTIME;
  }
  if (UTC_ALIASES.has(name)) return { name: "UTC", offsetMs: () => 0 };
  if (!canonicalZones().has(name)) return intl();
  const bytes = host.readFile(file);
  const rules = bytes && parseTzif(bytes);
  if (!rules) return { name, offsetMs: () => undefined };
  return { name, offsetMs: (ms) => offsetAt(rules, ms) * 1000 };
}

// ---------------------------------------------------------------------------------------------
// TZif (RFC 8536)

export interface ZoneRules {
  /** Transition instants (seconds since the epoch), ascending. */
  times: number[];
  /** The UTC offset (seconds) in force from each transition on. */
  offsets: number[];
  /** Before the first transition. */
  initial: number;
  /** After the last transition: the footer's POSIX TZ rule (undefined: the last offset stays). */
  footer?: PosixRule;
}

/** The zone's rules, or undefined for what this reader does not take (leap seconds, damage). */
export function parseTzif(bytes: Uint8Array): ZoneRules | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = (at: number) => {
    if (at + 44 > bytes.length || view.getUint32(at) !== 0x545a6966) return undefined; // "TZif"
    const count = (i: number) => view.getUint32(at + 20 + 4 * i);
    return { version: bytes[at + 4]!, isut: count(0), isstd: count(1), leap: count(2), time: count(3), type: count(4), char: count(5) };
  };
  const v1 = header(0);
  if (!v1) return undefined;
  let h = v1;
  let at = 44;
  let timeSize = 4;
  if (v1.version >= 0x32) {
    // Version 2+: skip the 32-bit block, read the 64-bit one and the footer.
    at += v1.time * 4 + v1.time + v1.type * 6 + v1.char + v1.leap * 8 + v1.isstd + v1.isut;
    const v2 = header(at);
    if (!v2) return undefined;
    h = v2;
    at += 44;
    timeSize = 8;
  }
  if (h.leap > 0 || h.type === 0) return undefined;
  const end = at + h.time * timeSize + h.time + h.type * 6 + h.char + h.leap * (timeSize + 4) + h.isstd + h.isut;
  if (end > bytes.length) return undefined;
  const times: number[] = [];
  for (let i = 0; i < h.time; i++) {
    times.push(timeSize === 8 ? Number(view.getBigInt64(at + 8 * i)) : view.getInt32(at + 4 * i));
  }
  const indexAt = at + h.time * timeSize;
  const typesAt = indexAt + h.time;
  const typeOffset = (i: number) => view.getInt32(typesAt + 6 * i);
  const offsets: number[] = [];
  for (let i = 0; i < h.time; i++) {
    const type = bytes[indexAt + i]!;
    if (type >= h.type) return undefined;
    offsets.push(typeOffset(type));
  }
  const rules: ZoneRules = { times, offsets, initial: typeOffset(0) };
  if (timeSize === 8) {
    // The footer: "\n<POSIX TZ string>\n" (empty when the zone has no rule past its transitions).
    if (bytes[end] !== 0x0a) return undefined;
    const close = bytes.indexOf(0x0a, end + 1);
    if (close < 0) return undefined;
    const tz = new TextDecoder().decode(bytes.subarray(end + 1, close));
    if (tz !== "") {
      const footer = parsePosixTz(tz);
      if (!footer) return undefined;
      rules.footer = footer;
    }
  }
  return rules;
}

/** The UTC offset (seconds) of the zone at `ms`. */
export function offsetAt(rules: ZoneRules, ms: number): number {
  const t = Math.floor(ms / 1000);
  const { times, offsets } = rules;
  if (times.length === 0 || t < times[0]!) {
    return times.length === 0 && rules.footer ? posixOffsetAt(rules.footer, t) : rules.initial;
  }
  if (t >= times[times.length - 1]! && rules.footer) {
    return t === times[times.length - 1] ? offsets[offsets.length - 1]! : posixOffsetAt(rules.footer, t);
  }
  // The last transition at or before t.
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return offsets[lo]!;
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30"

/** A day of the year: Jn (1-365, February 29 never counted), n (0-365), or Mm.w.d. */
type PosixDate = { kind: "julian"; day: number } | { kind: "zero"; day: number } | { kind: "month"; month: number; week: number; weekday: number };

export interface PosixRule {
  /** Standard time's UTC offset (seconds, east positive). */
  std: number;
  dst?: {
    offset: number;
    start: PosixDate;
    /** Seconds after local midnight (may be negative or past 24 h). */
    startTime: number;
    end: PosixDate;
    endTime: number;
  };
}

export function parsePosixTz(s: string): PosixRule | undefined {
  let i = 0;
  const name = () => {
    if (s[i] === "<") {
      const close = s.indexOf(">", i);
      if (close < 0) return false;
      i = close + 1;
      return true;
    }
    const start = i;
    while (i < s.length && /[A-Za-z]/.test(s[i]!)) i++;
    return i - start >= 3;
  };
  /** [+-]hh[:mm[:ss]] in seconds. */
  const duration = (): number | undefined => {
    let sign = 1;
    if (s[i] === "+" || s[i] === "-") sign = s[i++] === "-" ? -1 : 1;
    const m = /^(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return sign * (Number(m[1]) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0));
  };
  const date = (): PosixDate | undefined => {
    let m: RegExpExecArray | null;
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(s.slice(i)))) {
      i += m[0].length;
      const [month, week, weekday] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) return undefined;
      return { kind: "month", month, week, weekday };
    }
    if ((m = /^J(\d{1,3})/.exec(s.slice(i)))) {
      i += m[0].length;
      const day = Number(m[1]);
      return day >= 1 && day <= 365 ? { kind: "julian", day } : undefined;
    }
    if ((m = /^(\d{1,3})/.exec(s.slice(i)))) {
      i += m[0].length;
      const day = Number(m[1]);
      return day <= 365 ? { kind: "zero", day } : undefined;
    }
    return undefined;
  };
  const time = (): number | undefined => {
    if (s[i] !== "/") return 7200;
    i++;
    return duration();
  };

  if (!name()) return undefined;
  const stdPosix = duration();
  if (stdPosix === undefined) return undefined;
  // POSIX offsets count west of Greenwich as positive.
  const east = (west: number) => (west === 0 ? 0 : -west);
  const std = east(stdPosix);
  if (i === s.length) return { std };
  if (!name()) return undefined;
  let offset = std + 3600;
  if (s[i] !== ",") {
    const d = duration();
    if (d === undefined) return undefined;
    offset = east(d);
  }
  // Every footer zic writes for a zone with daylight time has its rule.
  if (s[i++] !== ",") return undefined;
  const start = date();
  const startTime = start && time();
  if (!start || startTime === undefined || s[i++] !== ",") return undefined;
  const end = date();
  const endTime = end && time();
  if (!end || endTime === undefined || i !== s.length) return undefined;
  return { std, dst: { offset, start, startTime, end, endTime } };
}

const DAY = 86400;
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Seconds from the epoch to 00:00 of the rule's day in `year`, counted as if UTC. */
function dayStart(d: PosixDate, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (d.kind === "zero") return jan1 + d.day * DAY;
  if (d.kind === "julian") return jan1 + (d.day - 1 + (isLeap(year) && d.day >= 60 ? 1 : 0)) * DAY;
  // Day `weekday` (0 = Sunday) of week `week` of `month`; week 5 is the last such day.
  const first = Date.UTC(year, d.month - 1, 1) / 1000;
  const firstWeekday = new Date(first * 1000).getUTCDay();
  let day = first + ((d.weekday - firstWeekday + 7) % 7) * DAY + (d.week - 1) * 7 * DAY;
  const nextMonth = Date.UTC(year, d.month, 1) / 1000;
  while (day >= nextMonth) day -= 7 * DAY;
  return day;
}

function posixOffsetAt(rule: PosixRule, t: number): number {
  const dst = rule.dst;
  if (!dst) return rule.std;
  const year = new Date((t + rule.std) * 1000).getUTCFullYear();
  // The change to daylight time is given in standard time, the change back in daylight time.
  const start = dayStart(dst.start, year) + dst.startTime - rule.std;
  const end = dayStart(dst.end, year) + dst.endTime - dst.offset;
  const inDst = start < end ? t >= start && t < end : t >= start || t < end;
  return inDst ? dst.offset : rule.std;
}
