// apply_patch against a command that swaps files for symlinks while patches are applied: ocx
// checks a patch's paths, but the writes happen in a process confined like any command, so a
// symlink swapped in between the check and the write cannot carry a write out of the writable
// roots or into .git (issue 13 point 4).
import { afterAll, afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { customToolCall, execCommand, inputItems, reply, sse, turn } from "../mock/responses-server.ts";
import {
  checkEventStream,
  cleanupTemp,
  existsSync,
  join,
  makeDir,
  makeRepo,
  ocxBin,
  processAlive,
  readFileSync,
  readPid,
  runOcx,
  writeFileSync,
  useMockServers,
} from "./harness.ts";

const setup = useMockServers();

// The swapping loop is killed by ocx at turn end; if the run goes wrong it is killed here.
const loops: string[] = [];
afterEach(() => {
  for (const file of loops.splice(0)) {
    const pid = readPid(file);
    if (pid !== undefined && processAlive(pid)) process.kill(pid, "SIGKILL");
  }
});
afterAll(() => cleanupTemp());

// Only the workspace is writable (the temp folder holding `outside` is not a root).
const ONLY_WORKSPACE = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"];

const hostCheck = Bun.spawnSync([ocxBin(), "sandbox", "check", "--json"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
const hostCarveOuts = (() => {
  try {
    return JSON.parse(hostCheck.stdout.toString()).carveOuts === true;
  } catch {
    return false;
  }
})();

const patch = (...body: string[]) => ["*** Begin Patch", ...body, "*** End Patch", ""].join("\n");

/** Every file under `dir` with its contents (symlinks as their target). */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out[p] = e.isFile() ? readFileSync(p, "utf8") : e.isDirectory() ? "dir" : "other";
  }
  return out;
}

test("a symlink swapped in while patches are written never moves a write outside the roots or into .git", async () => {
  const ws = makeRepo();
  const outside = makeDir("outside-");
  const victim = join(outside, "victim");
  writeFileSync(victim, "same\n");
  writeFileSync(join(ws, ".git", "description"), "repo\n");
  const outsideBefore = listing(outside);
  const gitBefore = listing(join(ws, ".git"));
  const pidFile = join(ws, "loop.pid");
  loops.push(pidFile);

  // `target` flips between a regular file (same contents as the victim, so an Update verifies
  // either way) and a symlink to the victim; `d` between a folder and a symlink to `outside`;
  // `g` between a folder and a symlink to .git. Perl (part of every Debian base system) flips
  // them thousands of times a second; bounded in time in case nothing kills it.
  writeFileSync(
    join(ws, "loop.pl"),
    [
      `use File::Path qw(rmtree);`,
      `open(my $p, ">", "loop.pid") or die; print $p "$$\\n"; close $p;`,
      `my $end = time + 60;`,
      `while (time < $end) {`,
      `  rmtree(["target", "d", "g"]);`,
      `  if (open(my $t, ">", "target")) { print $t "same\\n"; close $t }`,
      `  mkdir "d"; mkdir "g";`,
      `  rmtree(["target", "d", "g"]);`,
      `  symlink(${JSON.stringify(victim)}, "target"); symlink(${JSON.stringify(outside)}, "d"); symlink(${JSON.stringify(join(ws, ".git"))}, "g");`,
      `}`,
    ].join("\n"),
  );
  const loop = "exec perl loop.pl";

  const ROUNDS = 10;
  const calls = (round: number) =>
    turn([
      customToolCall("apply_patch", patch("*** Add File: target", "+pwned"), `call_add_${round}`),
      customToolCall("apply_patch", patch("*** Update File: target", "@@", "-same", "+pwned"), `call_upd_${round}`),
      customToolCall("apply_patch", patch(`*** Add File: d/new-${round}.txt`, "+pwned"), `call_dir_${round}`),
      customToolCall("apply_patch", patch(`*** Add File: g/pwned-${round}`, "+pwned"), `call_git_${round}`),
    ]);
  const { mock, home } = await setup([
    sse(turn([execCommand(loop, { yield_time_ms: 250 }, "call_loop")])),
    ...Array.from({ length: ROUNDS }, (_, r) => sse(calls(r))),
    reply("done"),
  ]);

  const r = await runOcx(["exec", "--json", "--sandbox", "workspace-write", ...ONLY_WORKSPACE, "race"], {
    home,
    cwd: ws,
    timeoutMs: 60_000,
  });
  expect(r.code).toBe(0);
  expect(checkEventStream(r.events)).toEqual([]);
  expect(r.events!.at(-1).type).toBe("turn.completed");
  // the loop ran (it was a session when the patches came) and every patch got an answer
  expect(readPid(pidFile)).toBeGreaterThan(0);
  const outputs = mock.requests.slice(2).flatMap((req) => inputItems(req.body, "custom_tool_call_output"));
  expect(new Set(outputs.map((o: any) => o.call_id)).size).toBe(ROUNDS * 4);

  expect(readFileSync(victim, "utf8")).toBe("same\n");
  expect(listing(outside)).toEqual(outsideBefore);
  if (hostCarveOuts) expect(listing(join(ws, ".git"))).toEqual(gitBefore);
}, 90_000);
