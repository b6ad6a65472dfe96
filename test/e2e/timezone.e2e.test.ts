// The host's time zone in what ocx writes: the rollout file's name and folder (local date and
// time of the run's start) and <current_date>/<timezone> in the environment context. The
// binary works these out without ICU where it can; they must be what Intl says, in zones east
// and west of UTC, half-hour and 45-minute offsets, aliases, POSIX strings and the host's default.
import { afterAll, describe, expect, test } from "bun:test";
import { messageTexts, reply } from "../mock/responses-server.ts";
import { cleanupTemp, filesUnder, join, makeDir, runOcx, useMockServers } from "./harness.ts";

afterAll(cleanupTemp);
const setup = useMockServers();

/** Intl's name of the default zone of a process given `tz` (unset: the host's /etc/localtime). */
function intlDefaultZone(tz: string | undefined): string {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (tz !== undefined) env.TZ = tz;
  const r = Bun.spawnSync([process.execPath, "-e", "process.stdout.write(Intl.DateTimeFormat().resolvedOptions().timeZone)"], { env });
  return r.stdout.toString();
}

/** Intl's rollout name stamp and date for every second in [from, to] in `zone`. */
function intlStamps(zone: string, from: number, to: number) {
  const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const stamps = new Set<string>();
  const dates = new Set<string>();
  for (let s = Math.floor(from / 1000); s <= Math.ceil(to / 1000); s++) {
    const p: Record<string, string> = {};
    for (const x of fmt.formatToParts(s * 1000)) p[x.type] = x.value;
    stamps.add(`${p.year}/${p.month}/${p.day}/rollout-${p.year}-${p.month}-${p.day}T${p.hour}-${p.minute}-${p.second}`);
    dates.add(`${p.year}-${p.month}-${p.day}`);
  }
  return { stamps, dates };
}

describe("time zone", () => {
  const cases: Array<string | undefined> = [
    "America/New_York",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    ":Europe/Paris",
    "Etc/UTC",
    "US/Pacific",
    "EST5EDT",
    "<+0330>-3:30",
    "Not/AZone",
    undefined,
  ];
  for (const tz of cases) {
    test(`TZ=${tz ?? "(unset)"}: the rollout's name and <current_date>/<timezone> are Intl's`, async () => {
      const { mock, home } = await setup([reply("ok")]);
      const zone = intlDefaultZone(tz);
      const before = Date.now();
      const r = await runOcx(["exec", "--json", "--skip-git-repo-check", "hi"], { home, cwd: makeDir(), env: tz === undefined ? {} : { TZ: tz } });
      const after = Date.now();
      expect(r.code).toBe(0);
      const expected = intlStamps(zone, before, after);
      const rollouts = filesUnder(join(home, "sessions")).filter((f) => f.endsWith(".jsonl"));
      expect(rollouts.length).toBe(1);
      const name = rollouts[0]!.slice(join(home, "sessions").length + 1).replace(/-[0-9a-f-]{36}\.jsonl$/, "");
      expect(expected.stamps).toContain(name);
      const context = messageTexts(mock.requests[0]!.body).find((t) => t.startsWith("<environment_context>"))!;
      expect(context).toContain(`<timezone>${zone}</timezone>`);
      const date = /<current_date>(.*)<\/current_date>/.exec(context)?.[1];
      expect(expected.dates).toContain(date!);
    });
  }
});
