// Sessions on the compiled binary: rollout files written as the turn runs, `exec resume` by
// --last, id and --all, what a resumed turn re-sends, what it restores, and the failures (an
// ephemeral id, no session here, a torn last line, a run killed mid-command).
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, statSync } from "node:fs";
import { REFERENCE_THREAD_ID, referenceRollout } from "../fixtures/reference-rollout.ts";
import { execCommand, message, reply, sse, turn, callOutput, messageTexts } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, existsSync, join, makeDir, makeRepo, mkdirSync, ocxBin, processAlive, readFileSync, runOcx, useMockServers, waitFor, writeFileSync, rollouts, threadId } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));

/** Rewrites every turn_context (and session_meta, for `cwd`) of a rollout as a command could. */
function tamper(file: string, edit: { sandbox_policy?: unknown; cwd?: string }): void {
  const out = lines(file).map((l) => {
    if (l.type === "turn_context") Object.assign(l.payload, edit);
    if (l.type === "session_meta" && edit.cwd) l.payload.cwd = edit.cwd;
    return JSON.stringify(l);
  });
  writeFileSync(file, `${out.join("\n")}\n`);
}
const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("warning:"));
/** No /tmp or $TMPDIR among the default roots: the tests' folders all live under /tmp. */
const NO_TMP_ROOTS = "[sandbox_workspace_write]\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true";

describe("rollout files", () => {
  test("one file per thread at sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl: session_meta, turn_context, items, events", async () => {
    const repo = makeRepo();
    const { home } = await setup([sse(turn([execCommand("echo hi", {}, "call_1")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "say hi"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const id = threadId(r.events);
    const files = rollouts(home);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`/sessions/\\d{4}/\\d{2}/\\d{2}/rollout-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-${id}\\.jsonl$`));
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    const ls = lines(files[0]!);
    expect(ls[0]).toMatchObject({ type: "session_meta", payload: { id, cwd: repo, originator: "ocx_exec", source: "exec" } });
    for (const l of ls) expect(typeof l.timestamp).toBe("string");
    expect(ls.map((l) => l.ordinal)).toEqual(ls.map((_, i) => i));
    const tc = ls.find((l) => l.type === "turn_context")!;
    expect(tc.payload).toMatchObject({ cwd: repo, sandbox_policy: { type: "danger-full-access" }, approval_policy: "never" });
    const items = ls.filter((l) => l.type === "response_item").map((l) => l.payload.type);
    expect(items).toEqual(["message", "message", "function_call", "function_call_output", "message"]);
    const events = ls.filter((l) => l.type === "event_msg").map((l) => l.payload.type);
    // A token_count after each response (it may come before or after the command's item_completed).
    expect(events.filter((t) => t !== "token_count")).toEqual(["task_started", "user_message", "item_completed", "agent_message", "item_completed", "task_complete"]);
    const counts = ls.filter((l) => l.type === "event_msg" && l.payload.type === "token_count").map((l) => l.payload.info);
    expect(counts.map((i) => [i.total_token_usage.input_tokens, i.last_token_usage.input_tokens])).toEqual([[100, 100], [200, 100]]);
    expect(events.at(-2)).toBe("token_count");
    const done = ls.filter((l) => l.type === "event_msg" && l.payload.type === "item_completed").map((l) => l.payload.item);
    expect(done[0]).toMatchObject({ type: "command_execution", command: expect.stringContaining("echo hi"), exit_code: 0, status: "completed" });
    expect(done[0]).not.toHaveProperty("aggregated_output");
    expect(done[1]).toMatchObject({ type: "agent_message", text: "done" });
    expect(ls.at(-1)!.payload).toMatchObject({ type: "task_complete", last_agent_message: "done" });
  }, T);

  test("--ephemeral writes no file, and resuming its id is exit 3 with how to list sessions", async () => {
    const { home } = await setup([reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "--ephemeral", "hi"], { home });
    expect(r.code).toBe(0);
    expect(rollouts(home)).toEqual([]);
    const again = await runOcx(["exec", "resume", threadId(r.events), "more"], { home });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`No session found with id ${threadId(r.events)}`);
    expect(again.stderr).toContain("ocx sessions");
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
  }, T);

  test("no secret lands in a rollout: the API key is redacted even when a command prints it", async () => {
    const repo = makeRepo();
    const key = "sk-ocx-FAKE-KEY-0123456789abcdef";
    writeFileSync(join(repo, "leak.txt"), `token=${key}\n`);
    const { home } = await setup([sse(turn([execCommand("cat leak.txt", {}, "call_leak")])), reply(`the key is ${key}`)]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", `print ${key}`], { home, cwd: repo, env: { CODEX_API_KEY: key } });
    expect(r.code).toBe(0);
    const text = readFileSync(rollouts(home)[0]!, "utf8");
    expect(text).not.toContain(key);
    expect(text).toContain("[REDACTED]");
  }, T);
});

describe("exec resume", () => {
  test("--last: same thread id; the request re-sends the first turn's history, then the new prompt; usage is the thread's total", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([
      sse(turn([execCommand("echo one", {}, "call_a")])),
      reply("first answer"),
      reply("second answer"),
    ]);
    const first = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "first prompt"], { home, cwd: repo });
    expect(first.code).toBe(0);
    // Full access again by flag: a session file cannot grant it (see below).
    const second = await runOcx(["exec", "resume", "--last", "--sandbox", "danger-full-access", ...JSON_, "second prompt"], { home, cwd: repo });
    expect(second.stderr).not.toContain("warning");
    expect(second.code).toBe(0);
    expect(checkEventStream(second.events)).toEqual([]);
    expect(threadId(second.events)).toBe(threadId(first.events));
    // The thread's total (two requests before, one now), as the reference reports it; the run's own apart.
    expect(second.events!.at(-1)).toMatchObject({ type: "turn.completed", usage: { input_tokens: 300, output_tokens: 30 }, run_usage: { input_tokens: 100, output_tokens: 10 }, model_requests: 1 });

    const turn1Last = mock.requests[1]!.body.input as any[];
    const resumed = mock.requests[2]!.body.input as any[];
    // Everything turn 1 sent last, plus its final answer, then only the new prompt.
    expect(resumed.slice(0, turn1Last.length)).toEqual(turn1Last);
    expect(resumed[turn1Last.length]).toMatchObject({ type: "message", role: "assistant" });
    expect(resumed.slice(turn1Last.length + 1)).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "second prompt" }] }]);
    expect(mock.requests[2]!.body.prompt_cache_key).toBe(threadId(first.events));
    // Appended to the same file.
    const files = rollouts(home);
    expect(files).toHaveLength(1);
    expect(lines(files[0]!).filter((l) => l.type === "turn_context")).toHaveLength(2);
    expect(items(second.events).at(-1).text).toBe("second answer");
  }, T);

  test("by id from another directory: runs where the session ran; --output-schema and -o work with resume", async () => {
    const repo = makeRepo();
    const elsewhere = makeRepo();
    const { mock, home } = await setup([reply("first"), sse(turn([execCommand("pwd", {}, "call_pwd")])), reply('{"ok":true}')]);
    const first = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "one"], { home, cwd: repo });
    const schema = join(makeDir(), "schema.json");
    writeFileSync(schema, JSON.stringify({ type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false }));
    const outFile = join(makeDir(), "last.txt");
    const second = await runOcx(["exec", "resume", threadId(first.events), "where are you", "--output-schema", schema, "-o", outFile, ...JSON_], {
      home,
      cwd: elsewhere,
    });
    expect(second.code).toBe(0);
    expect(callOutput(mock.requests[2]!.body, "call_pwd")).toContain(repo);
    expect(mock.requests[1]!.body.text?.format).toMatchObject({ type: "json_schema" });
    expect(readFileSync(outFile, "utf8")).toBe('{"ok":true}');
  }, T);

  test("--last looks only at this directory unless --all; none found is exit 3 with how to list", async () => {
    const a = makeRepo();
    const b = makeRepo();
    const { home } = await setup([reply("in a"), reply("resumed from b")]);
    const first = await runOcx(["exec", ...JSON_, "start in a"], { home, cwd: a });
    const none = await runOcx(["exec", "resume", "--last", "go on"], { home, cwd: b });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`No session to resume in ${b}`);
    expect(none.stderr).toContain("ocx sessions");
    const all = await runOcx(["exec", "resume", "--last", "--all", ...JSON_, "go on"], { home, cwd: b });
    expect(all.code).toBe(0);
    expect(threadId(all.events)).toBe(threadId(first.events));
  }, T);

  test("restores the sandbox: workspace-write comes back, an --add-dir only when given again; -s overrides", async () => {
    const repo = makeRepo();
    const extra = makeDir("extra-");
    const write = (f: string) => `echo x > ${f} && echo wrote-${f.split("/").pop()}`;
    const { mock, home } = await setup(
      [
        reply("set up"),
        sse(turn([execCommand(`${write("a.txt")}; ${write(`${extra}/b.txt`)}`, {}, "call_w")])),
        reply("wrote"),
        sse(turn([execCommand(write("c.txt"), {}, "call_ro")])),
        reply("could not"),
      ],
      NO_TMP_ROOTS,
    );
    await runOcx(["exec", ...JSON_, "--sandbox", "workspace-write", "--add-dir", extra, "set up"], { home, cwd: repo });
    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "write files"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`records writable roots ${extra}, which only flags and config can grant`);
    const out = callOutput(mock.requests[2]!.body, "call_w")!;
    expect(out).toContain("wrote-a.txt");
    expect(out).not.toContain("wrote-b.txt");
    expect(existsSync(join(extra, "b.txt"))).toBe(false);
    const overridden = await runOcx(["exec", "-s", "read-only", "resume", "--last", ...JSON_, "write again"], { home, cwd: repo });
    expect(overridden.code).toBe(0);
    expect(callOutput(mock.requests[4]!.body, "call_ro")).not.toContain("wrote-c.txt");
    expect(existsSync(join(repo, "c.txt"))).toBe(false);
  }, T);

  test("a torn last line is dropped with a warning and the session resumes", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("first"), reply("second")]);
    const first = await runOcx(["exec", ...JSON_, "one"], { home, cwd: repo });
    const file = rollouts(home)[0]!;
    appendFileSync(file, '{"timestamp":"2026-11-24T00:00:00.000Z","type":"response_item","payload":{"type":"mess');
    const second = await runOcx(["exec", "resume", "--last", ...JSON_, "two"], { home, cwd: repo });
    expect(second.code).toBe(0);
    expect(threadId(second.events)).toBe(threadId(first.events));
    expect(second.stderr).toContain("warning: the last line of");
    expect(second.stderr).toContain("was dropped");
    expect(messageTexts(mock.requests[1]!.body).at(-1)).toBe("two");
  }, T);

  test("kill -9 in the middle of a long command: the completed call is kept, the cut one is closed, the run continues", async () => {
    const repo = makeRepo();
    const pidFile = join(makeDir(), "sleeper.pid");
    const { mock, home } = await setup([
      sse(turn([execCommand("echo first-done", {}, "call_done")])),
      sse(turn([execCommand(`echo $$ > ${pidFile}; exec sleep 60`, { yield_time_ms: 30000 }, "call_cut")])),
      reply("picked up again"),
    ]);
    const run = runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "long job"], {
      home,
      cwd: repo,
      signalAfter: { after: () => waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 20_000, "the long command"), signal: "SIGKILL" },
    });
    const killed = await run;
    expect(killed.signal).toBe("SIGKILL");
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    try {
      process.kill(sleeper, "SIGKILL");
    } catch {}
    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "continue"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    const input = mock.requests[2]!.body.input as any[];
    expect(callOutput(mock.requests[2]!.body, "call_done")).toContain("first-done");
    expect(callOutput(mock.requests[2]!.body, "call_cut")).toContain("aborted");
    expect(input.at(-1)).toMatchObject({ role: "user", content: [{ text: "continue" }] });
    expect(items(resumed.events).at(-1).text).toBe("picked up again");
    expect(processAlive(sleeper)).toBe(false);
  }, T);

  test("usage errors: resume without an id or --last; --last outside resume", async () => {
    const home = makeDir("home-");
    const noTarget = await runOcx(["exec", "resume"], { home });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("needs a SESSION_ID");
    const stray = await runOcx(["exec", "--last", "hi"], { home });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("can only be used with `ocx exec resume`");
  }, T);
});

describe("exec resume never raises privilege from the session file", () => {
  test("a rollout edited to danger-full-access resumes read-only with one warning, and cannot write outside; --sandbox danger-full-access still can", async () => {
    const repo = makeRepo();
    const outside = makeDir("outside-");
    const { home } = await setup([
      reply("first"),
      sse(turn([execCommand(`echo x > ${outside}/a.txt; echo rc=$?`, {}, "call_a")])),
      reply("tried"),
      sse(turn([execCommand(`echo x > ${outside}/b.txt && echo wrote`, {}, "call_b")])),
      reply("wrote"),
    ]);
    await runOcx(["exec", ...JSON_, "first"], { home, cwd: repo });
    const file = rollouts(home)[0]!;
    tamper(file, { sandbox_policy: { type: "danger-full-access" } });

    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "write outside"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(warnings(resumed.stderr)).toEqual([
      `warning: the session file ${file} records sandbox danger-full-access, which only --sandbox, --dangerously-bypass-approvals-and-sandbox or sandbox_mode in config can grant; this run uses read-only`,
    ]);
    expect(existsSync(join(outside, "a.txt"))).toBe(false);
    expect(lines(file).filter((l) => l.type === "turn_context").at(-1).payload.sandbox_policy).toEqual({ type: "read-only" });

    const granted = await runOcx(["exec", "resume", "--last", "--sandbox", "danger-full-access", ...JSON_, "write outside"], { home, cwd: repo });
    expect(granted.code).toBe(0);
    expect(warnings(granted.stderr)).toEqual([]);
    expect(existsSync(join(outside, "b.txt"))).toBe(true);
  }, T);

  test("config's sandbox_mode = danger-full-access is this run's own: a recorded danger-full-access then resumes without a warning", async () => {
    const repo = makeRepo();
    const { home } = await setup([reply("first"), reply("second")]);
    const config = join(home, "config.toml"); // a top-level key goes before the tables
    writeFileSync(config, `sandbox_mode = "danger-full-access"\n${readFileSync(config, "utf8")}`);
    await runOcx(["exec", ...JSON_, "first"], { home, cwd: repo });
    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "second"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(warnings(resumed.stderr)).toEqual([]);
    expect(lines(rollouts(home)[0]!).filter((l) => l.type === "turn_context").at(-1).payload.sandbox_policy).toEqual({ type: "danger-full-access" });
  }, T);

  test("workspace-write comes back, but writable roots and network access the file adds do not (--add-dir grants a root again)", async () => {
    const repo = makeRepo();
    const outside = makeDir("outside-");
    const probe = (f: string) => `echo x > ${outside}/${f}; echo rc=$?; echo net=$CODEX_SANDBOX_NETWORK_DISABLED; echo y > ws-${f} && echo ws-ok`;
    const { mock, home } = await setup(
      [reply("first"), sse(turn([execCommand(probe("c.txt"), {}, "call_c")])), reply("tried"), sse(turn([execCommand(probe("d.txt"), {}, "call_d")])), reply("granted")],
      NO_TMP_ROOTS,
    );
    await runOcx(["exec", ...JSON_, "-s", "workspace-write", "first"], { home, cwd: repo });
    const file = rollouts(home)[0]!;
    tamper(file, { sandbox_policy: { type: "workspace-write", writable_roots: [repo, outside, "/"], network_access: true } });

    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "write outside"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(warnings(resumed.stderr)).toEqual([
      `warning: the session file ${file} records writable roots ${outside}, / and network access, which only flags and config can grant (--add-dir, sandbox_workspace_write); this run does not grant them`,
    ]);
    const out = callOutput(mock.requests[2]!.body, "call_c")!;
    expect(out).toMatch(/rc=[1-9]/);
    expect(out).toContain("net=1");
    expect(out).toContain("ws-ok"); // workspace-write itself was restored
    expect(existsSync(join(outside, "c.txt"))).toBe(false);
    expect(lines(file).filter((l) => l.type === "turn_context").at(-1).payload.sandbox_policy).toEqual({ type: "workspace-write", writable_roots: [repo], network_access: false });

    const again = await runOcx(["exec", "resume", "--last", "--add-dir", outside, ...JSON_, "write outside"], { home, cwd: repo });
    expect(again.code).toBe(0);
    expect(callOutput(mock.requests[4]!.body, "call_d")).toContain("rc=0");
    expect(existsSync(join(outside, "d.txt"))).toBe(true);
  }, T);

  test("a working directory that comes from the file is where commands run, but not writable unless -C grants it", async () => {
    const repo = makeRepo();
    const victim = makeRepo();
    const elsewhere = makeDir("elsewhere-");
    const write = "pwd; echo x > v.txt; echo rc=$?";
    const { mock, home } = await setup(
      [reply("first"), sse(turn([execCommand(write, {}, "call_v")])), reply("tried"), sse(turn([execCommand(write, {}, "call_w")])), reply("wrote")],
      NO_TMP_ROOTS,
    );
    const first = await runOcx(["exec", ...JSON_, "-s", "workspace-write", "first"], { home, cwd: repo });
    const file = rollouts(home)[0]!;
    tamper(file, { cwd: victim, sandbox_policy: { type: "workspace-write", writable_roots: [victim], network_access: false } });

    const resumed = await runOcx(["exec", "resume", threadId(first.events), ...JSON_, "write there"], { home, cwd: elsewhere });
    expect(resumed.code).toBe(0);
    expect(warnings(resumed.stderr)).toEqual([
      `warning: the session file ${file} records writable roots ${victim}, which only flags and config can grant (-C, --add-dir, sandbox_workspace_write); this run does not grant them`,
    ]);
    const out = callOutput(mock.requests[2]!.body, "call_v")!;
    expect(out).toContain(`${victim}\n`);
    expect(out).toMatch(/rc=[1-9]/);
    expect(existsSync(join(victim, "v.txt"))).toBe(false);

    const granted = await runOcx(["exec", "-C", victim, "resume", threadId(first.events), ...JSON_, "write there"], { home, cwd: elsewhere });
    expect(granted.code).toBe(0);
    expect(warnings(granted.stderr)).toEqual([]);
    expect(callOutput(mock.requests[4]!.body, "call_w")).toContain("rc=0");
    expect(existsSync(join(victim, "v.txt"))).toBe(true);
  }, T);
});

function items(events: any[] | undefined): any[] {
  return events!.filter((e) => e.type === "item.completed" && e.item.type === "agent_message").map((e) => e.item);
}

// Keep the import of ocxBin/message used by later tests in this file (SDK, listing).
void ocxBin;
void message;

describe("ocx sessions", () => {
  test("lists this directory's sessions newest first (id, time, first prompt line); --all adds the others; --json for scripts", async () => {
    const a = makeRepo();
    const b = makeRepo();
    const { home } = await setup([reply("1"), reply("2"), reply("3")]);
    const first = await runOcx(["exec", ...JSON_, "first task\nmore detail"], { home, cwd: a });
    const second = await runOcx(["exec", ...JSON_, "second task"], { home, cwd: a });
    const other = await runOcx(["exec", ...JSON_, "elsewhere"], { home, cwd: b });
    const here = await runOcx(["sessions"], { home, cwd: a });
    expect(here.code).toBe(0);
    const rows = here.stdout.trim().split("\n");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toStartWith(threadId(second.events));
    expect(rows[0]).toContain("second task");
    expect(rows[1]).toStartWith(threadId(first.events));
    expect(rows[1]).toMatch(/ \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}  first task$/);
    expect(here.stderr).toContain("ocx exec resume");
    const json = await runOcx(["sessions", "--all", "--json"], { home, cwd: a });
    const parsed = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(parsed.map((r) => r.id).sort()).toEqual([first, second, other].map((r) => threadId(r.events)).sort());
    expect(parsed.find((r) => r.id === threadId(other.events))).toMatchObject({ cwd: b, first_prompt: "elsewhere" });
    const limited = await runOcx(["sessions", "--all", "--json", "--limit", "1"], { home, cwd: a });
    expect(limited.stdout.trim().split("\n")).toHaveLength(1);
    const bad = await runOcx(["sessions", "--limit", "0"], { home, cwd: a });
    expect(bad.code).toBe(2);
    const empty = await runOcx(["sessions"], { home: makeDir("empty-home-"), cwd: a });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toContain("No sessions");
  }, T);
});

describe("a rollout written by the reference implementation", () => {
  test("resumes in ocx: its items are re-sent as they are (reasoning with encrypted content included), then the new prompt; ocx appends", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("continued")]);
    const dir = join(home, "sessions", "2026", "11", "20");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `rollout-2026-11-20T10-00-00-${REFERENCE_THREAD_ID}.jsonl`);
    writeFileSync(file, referenceRollout(repo, "mock"));
    const r = await runOcx(["exec", "resume", REFERENCE_THREAD_ID, ...JSON_, "and the folders?"], { home, cwd: makeDir() });
    expect(r.code).toBe(0);
    expect(threadId(r.events)).toBe(REFERENCE_THREAD_ID);
    const input = mock.requests[0]!.body.input as any[];
    const recorded = lines(file)
      .filter((l) => l.type === "response_item" && l.ordinal <= 14)
      .map((l) => l.payload);
    expect(input.slice(0, recorded.length)).toEqual(recorded);
    expect(input.find((i) => i.type === "reasoning")).toMatchObject({ encrypted_content: "gAAAAB-opaque-encrypted-reasoning==" });
    expect(input.at(-1)).toMatchObject({ role: "user", content: [{ text: "and the folders?" }] });
    // Restored from the file: the workspace-write mode and the directory it ran in.
    expect(JSON.stringify(input.at(-2))).toContain("<sandbox_mode>workspace-write</sandbox_mode>");
    expect(mock.requests[0]!.body.model).toBe("gpt-5.5");
    expect(lines(file).at(-1)).toMatchObject({ type: "event_msg", payload: { type: "task_complete", last_agent_message: "continued" } });
  }, T);
});

describe("exec resume: model and prompt", () => {
  test("the recorded model comes back unless -m says otherwise; `-` reads the prompt from stdin", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("a"), reply("b"), reply("c")]);
    await runOcx(["exec", ...JSON_, "-m", "model-from-run-one", "one"], { home, cwd: repo });
    const kept = await runOcx(["exec", "resume", "--last", ...JSON_, "-"], { home, cwd: repo, stdin: "two, from stdin\n" });
    expect(kept.code).toBe(0);
    expect(mock.requests[1]!.body.model).toBe("model-from-run-one");
    expect(messageTexts(mock.requests[1]!.body).at(-1)).toBe("two, from stdin\n");
    const changed = await runOcx(["exec", "resume", "--last", "-m", "another-model", ...JSON_, "three"], { home, cwd: repo });
    expect(changed.code).toBe(0);
    expect(mock.requests[2]!.body.model).toBe("another-model");
  }, T);
});
