// One writer per session: concurrent `exec resume` of one thread run one after another (or stop
// with exit 3 naming the holder), never interleave lines in the rollout, and a lock left by a
// killed run is taken over. The lock file is never listed as a session.
import { afterAll, describe, expect, test } from "bun:test";
import { dynamic, message, reply, sse, turn } from "../mock/responses-server.ts";
import { cleanupTemp, existsSync, filesUnder, join, makeRepo, readFileSync, runOcx, startOcx, useMockServers, threadId } from "./harness.ts";

const T = 60_000;
const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

const rolloutLines = (path: string) => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
/** The text of a message item (input_text or output_text parts). */
const textOf = (item: any) => (item.content ?? []).map((p: any) => p.text ?? "").join("");

describe("one writer per session", () => {
  test(
    "five concurrent resumes of one session run one at a time; the rollout then resumes with alternating user/assistant turns",
    async () => {
      const repo = makeRepo();
      // Each answer streams slowly and names the prompt it answers.
      const answer = dynamic((req) => {
        const users = (req.body.input as any[]).filter((i) => i.type === "message" && i.role === "user" && !textOf(i).startsWith("<"));
        return sse(turn([message(`answer to ${textOf(users.at(-1))}`)]), { delayMs: 60 });
      });
      const { mock, home } = await setup([answer, answer, answer, answer, answer, answer, answer]);
      const first = await runOcx(["exec", ...JSON_, "--skip-git-repo-check", "prompt 0"], { home, cwd: repo });
      expect(first.code).toBe(0);
      const id = threadId(first.events);

      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          runOcx(["exec", "resume", id, ...JSON_, "-c", "session_lock_wait_ms=50000", `prompt ${i}`], { home, cwd: repo, timeoutMs: 55_000 }),
        ),
      );
      for (const r of runs) {
        expect(r.stderr).not.toContain("unexpected failure");
        expect(r.code).toBe(0);
      }
      // The ones that had to wait said so, naming a pid.
      expect(runs.filter((r) => /the session is being written by process \d+; waiting/.test(r.stderr)).length).toBeGreaterThan(0);

      // Every request carried the whole history so far: no two runs read the same state.
      const userCounts = mock.requests.map(
        (req) => (req.body.input as any[]).filter((i) => i.type === "message" && i.role === "user" && textOf(i).startsWith("prompt")).length,
      );
      expect(userCounts).toEqual([1, 2, 3, 4, 5, 6]);

      // The rollout: six whole turns, one after another, ordinals continuous, no lock file left.
      const files = filesUnder(join(home, "sessions"));
      expect(files).toHaveLength(1);
      const lines = rolloutLines(files[0]!);
      expect(lines.map((l) => l.ordinal)).toEqual(lines.map((_, i) => i));
      const kinds = lines.filter((l) => l.type === "event_msg" && ["task_started", "task_complete"].includes(l.payload.type)).map((l) => l.payload.type);
      expect(kinds).toEqual(Array.from({ length: 6 }, () => ["task_started", "task_complete"]).flat());

      // Resuming once more re-sends a coherent history: prompt, its answer, prompt, its answer...
      mock.push(answer);
      const last = await runOcx(["exec", "resume", id, ...JSON_, "prompt 6"], { home, cwd: repo });
      expect(last.code).toBe(0);
      const history = (mock.requests.at(-1)!.body.input as any[]).filter(
        (i) => i.type === "message" && (i.role === "assistant" || textOf(i).startsWith("prompt")),
      );
      const roles = history.map((i) => i.role);
      expect(roles).toEqual([...Array.from({ length: 6 }, () => ["user", "assistant"]).flat(), "user"]);
      for (let k = 0; k + 1 < history.length; k += 2) expect(textOf(history[k + 1])).toBe(`answer to ${textOf(history[k])}`);
    },
    T,
  );

  test(
    "a second resume while the first runs: exit 3 naming the holder's pid once session_lock_wait_ms is over; after a kill -9 of the holder, its lock is taken over",
    async () => {
      const repo = makeRepo();
      const { mock, home } = await setup([reply("first answer"), sse(turn([message("never finishes")]).slice(0, 2), { hang: true }), reply("after the crash")]);
      const first = await runOcx(["exec", ...JSON_, "--skip-git-repo-check", "start"], { home, cwd: repo });
      expect(first.code).toBe(0);
      const id = threadId(first.events);

      const holder = startOcx(["exec", "resume", id, ...JSON_, "hold it"], { home, cwd: repo });
      await mock.waitForRequests(2);
      const lockFile = filesUnder(join(home, "sessions")).find((f) => f.endsWith(".jsonl.lock"));
      expect(lockFile).toBeDefined();

      // The lock is not a session: the listing and --last see the one rollout only.
      const listed = await runOcx(["sessions", "--all", "--json"], { home, cwd: repo });
      expect(listed.code).toBe(0);
      expect(listed.stdout.trim().split("\n").map((l) => JSON.parse(l).id)).toEqual([id]);

      const busy = await runOcx(["exec", "resume", id, ...JSON_, "--strict-config", "-c", "session_lock_wait_ms=300", "me too"], { home, cwd: repo });
      expect(busy.code).toBe(3);
      expect(busy.stderr).toContain(`is being written by process ${holder.pid}`);
      expect(busy.stderr).toContain("session_lock_wait_ms");
      expect(busy.stderr).not.toMatch(/\n\s+at /);
      expect(mock.requests).toHaveLength(2);

      holder.kill("SIGKILL");
      const killed = await holder.result;
      expect(killed.signal).toBe("SIGKILL");
      expect(existsSync(lockFile!)).toBe(true);

      const after = await runOcx(["exec", "resume", id, ...JSON_, "-c", "session_lock_wait_ms=300", "after the crash"], { home, cwd: repo });
      expect(after.stderr).not.toContain("is being written");
      expect(after.code).toBe(0);
      expect(after.events!.at(-1).type).toBe("turn.completed");
      expect(existsSync(lockFile!)).toBe(false);
    },
    T,
  );

  test("a new exec holds its own session's lock while it runs: resuming that thread meanwhile is exit 3", async () => {
    const repo = makeRepo();
    const { home } = await setup([sse(turn([message("never finishes")]).slice(0, 2), { hang: true })]);
    const running = startOcx(["exec", "--skip-git-repo-check", "long task"], { home, cwd: repo });
    // Once the session id is printed, its rollout is on disk and locked.
    const id = (await running.waitForStderr(/session id: ([0-9a-f-]{36})/))[1]!;
    const files = filesUnder(join(home, "sessions"));
    const rollout = files.find((f) => f.endsWith(`-${id}.jsonl`))!;
    expect(files.sort()).toEqual([rollout, `${rollout}.lock`]);
    expect(readFileSync(rollout, "utf8")).toContain(`"type":"session_meta"`);
    const busy = await runOcx(["exec", "resume", id, ...JSON_, "-c", "session_lock_wait_ms=0", "me too"], { home, cwd: repo });
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain(`is being written by process ${running.pid}`);
    running.kill("SIGTERM");
    expect((await running.result).code).toBe(143);
    expect(existsSync(`${rollout}.lock`)).toBe(false);
  });

  test("--ephemeral resume takes no lock and writes nothing", async () => {
    const repo = makeRepo();
    const { home } = await setup([reply("one"), reply("two")]);
    const first = await runOcx(["exec", ...JSON_, "--skip-git-repo-check", "start"], { home, cwd: repo });
    const id = threadId(first.events);
    const before = readFileSync(filesUnder(join(home, "sessions"))[0]!, "utf8");
    // A lock held by a live process (this test) does not stop an ephemeral resume.
    const rollout = filesUnder(join(home, "sessions"))[0]!;
    await Bun.write(`${rollout}.lock`, `${JSON.stringify({ pid: process.pid, stamp: "" })}\n`);
    const eph = await runOcx(["exec", "resume", id, "--ephemeral", ...JSON_, "-c", "session_lock_wait_ms=0", "peek"], { home, cwd: repo });
    expect(eph.code).toBe(0);
    expect(readFileSync(rollout, "utf8")).toBe(before);
    expect(readFileSync(`${rollout}.lock`, "utf8")).toContain(String(process.pid));
  });
});
