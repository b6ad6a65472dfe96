// Golden tests: the exact bytes ocx prints (human mode and --json), writes to its rollout, and
// sends to the model, for a turn with a command, a patch, a plan and an answer, and for its
// resume. Volatile parts (ids, timestamps, durations, temp paths) are normalised; everything
// else must match test/fixtures/golden/*.txt byte for byte. The files were written by the
// binary of commit 0c1b362 (before the start-up and layout work of issue 19), so a difference
// is a change in what users see. To rewrite them on purpose: OCX_GOLDEN_UPDATE=1. Run through
// scripts/test.ts (npm test), whose own TMPDIR is one of the writable roots the files name <tmp>.
import { afterAll, describe, expect, test } from "bun:test";
import { customToolCall, execCommand, functionCall, reply, sse, turn } from "../mock/responses-server.ts";
import { cleanupTemp, filesUnder, join, makeRepo, readFileSync, runOcx, useMockServers, writeFileSync, REPO_ROOT } from "./harness.ts";

const T = 30_000;
const GOLDEN = join(REPO_ROOT, "test", "fixtures", "golden");
const setup = useMockServers();
afterAll(() => cleanupTemp());

const PATCH = [
  "*** Begin Patch",
  "*** Add File: notes/new.txt",
  "+first line",
  "+second line",
  "*** Update File: src/app.txt",
  "@@ alpha",
  "-beta",
  "+BETA",
  " gamma",
  "*** End Patch",
  "",
].join("\n");

function workspace(): string {
  const repo = makeRepo();
  Bun.spawnSync(["mkdir", "-p", join(repo, "src")]);
  writeFileSync(join(repo, "src/app.txt"), "alpha\nbeta\ngamma\ndelta\n");
  return repo;
}

/** The first turn: a command, a patch and a plan in one response, then the answer. */
function firstTurn() {
  return [
    sse(turn([
      execCommand("printf 'one\\ntwo\\n'", {}, "call_cmd"),
      customToolCall("apply_patch", PATCH, "call_patch"),
      functionCall("update_plan", { plan: [{ step: "edit the file", status: "completed" }, { step: "report", status: "in_progress" }] }, "call_plan"),
    ])),
    reply("Done: the **file** changed.\n\n- one\n- two"),
  ];
}

/** Today's date in time zone `tz`, as <current_date> gives it. */
const today = (tz: string) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(Date.now());

/**
 * Replaces what differs from run to run, consistently within one text: temp paths, ids, times,
 * and the current date (only where it is today's date in `tz`: a wrong date stays and fails).
 */
function normalise(text: string, paths: Record<string, string>, tz: string): string {
  let out = text;
  const tmp = process.env.TMPDIR && process.env.TMPDIR !== "/tmp" ? { tmp: process.env.TMPDIR.replace(/\/$/, "") } : {};
  for (const [name, p] of Object.entries({ ...paths, ...tmp })) out = out.split(p).join(`<${name}>`);
  out = out.split(`<current_date>${today(tz)}</current_date>`).join("<current_date><today></current_date>");
  const ids = new Map<string, string>();
  out = out.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => {
    if (!ids.has(id)) ids.set(id, `<uuid${ids.size + 1}>`);
    return ids.get(id)!;
  });
  return out
    .replace(/\d{4}-\d\d-\d\dT\d\d[:-]\d\d[:-]\d\d(\.\d+)?Z?/g, "<time>")
    .replace(/\b([a-z]+)_mock[0-9a-f]+/g, "<$1>")
    .replace(/Chunk ID: [0-9a-f]+/g, "Chunk ID: <chunk>")
    .replace(/"(started_at|created_at|completed_at)":\d+/g, '"$1":<n>')
    .replace(/Wall time: \d+(\.\d+)? seconds/g, "Wall time: <s> seconds")
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, "<dur>")
    .replace(/"(duration_ms|wall_time_ms)":\d+/g, '"$1":<n>');
}

function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN, `${name}.txt`);
  if (process.env.OCX_GOLDEN_UPDATE) {
    Bun.spawnSync(["mkdir", "-p", GOLDEN]);
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}

/** The single rollout file under `home`, named by the local date and time in `tz`. */
function rolloutOf(home: string, tz: string): string {
  const files = filesUnder(join(home, "sessions")).filter((f) => f.endsWith(".jsonl"));
  expect(files.length).toBe(1);
  const [y, m, d] = today(tz).split("-");
  expect(files[0]!).toMatch(new RegExp(`/sessions/${y}/${m}/${d}/rollout-${y}-${m}-${d}T\\d\\d-\\d\\d-\\d\\d-[0-9a-f-]{36}\\.jsonl$`));
  return readFileSync(files[0]!, "utf8");
}

describe("golden output", () => {
  for (const mode of ["human", "json"] as const) {
    test(`${mode}: stdout, stderr, rollout and the requests of a turn with a command, a patch and a plan`, async () => {
      const repo = workspace();
      const { mock, home } = await setup(firstTurn());
      const args = ["exec", "--color", "never", "--sandbox", "workspace-write", ...(mode === "json" ? ["--json"] : []), "change the file"];
      const tz = "America/New_York";
      const r = await runOcx(args, { home, cwd: repo, env: { TZ: tz } });
      expect(r.code).toBe(0);
      const norm = (text: string) => normalise(text, { repo, home }, tz);
      expectGolden(`${mode}-stdout`, norm(r.stdout));
      expectGolden(`${mode}-stderr`, norm(r.stderr));
      expectGolden(`${mode}-rollout`, norm(rolloutOf(home, tz)));
      expectGolden(`${mode}-requests`, norm(mock.requests.map((q) => JSON.stringify(q.body)).join("\n")));
    }, T);
  }

  test("resume --last: stdout, stderr, the appended rollout and the request carrying the history", async () => {
    const repo = workspace();
    const { mock, home } = await setup([...firstTurn(), reply("Resumed and done.")]);
    const tz = "Asia/Kolkata";
    const env = { TZ: tz };
    const first = await runOcx(["exec", "--color", "never", "--sandbox", "workspace-write", "change the file"], { home, cwd: repo, env });
    expect(first.code).toBe(0);
    const r = await runOcx(["exec", "resume", "--last", "--color", "never", "and now?"], { home, cwd: repo, env });
    expect(r.code).toBe(0);
    const norm = (text: string) => normalise(text, { repo, home }, tz);
    expectGolden("resume-stdout", norm(r.stdout));
    expectGolden("resume-stderr", norm(r.stderr));
    expectGolden("resume-rollout", norm(rolloutOf(home, tz)));
    expectGolden("resume-request", norm(JSON.stringify(mock.requests.at(-1)!.body)));
  }, T);
});
