// The same source on Deno (`deno run src/bin/deno.ts`): a whole exec turn against the mock
// server, and the sandbox through Deno.dlopen (Landlock + seccomp in the helper, fail closed).
import { afterAll, describe, expect, test } from "bun:test";
import { startMockOAuth } from "../mock/oauth-server.ts";
import { callOutput, customToolCall, execCommand, inputItems, reply, sse, turn } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, DENO_OCX, existsSync, freePort, items, join, makeDir, makeRepo, readFileSync, runOcx, startOcx, useMockServers, writeFileSync } from "./harness.ts";

const T = 60_000;
const setup = useMockServers();
afterAll(() => cleanupTemp());

const hasDeno = existsSync(DENO_OCX[0]!);
const ONLY_NAMED_ROOTS = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"];
const deno = (home: string, extra: Record<string, string> = {}) => ({
  home,
  command: DENO_OCX,
  env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(home, "deno-cache"), ...extra } as Record<string, string | undefined>,
});

describe.skipIf(!hasDeno)("ocx on Deno", () => {
  test("exec --json: a turn with a command under workspace-write; the cwd is writable, $HOME is not; one warning about .git", async () => {
    const repo = makeRepo();
    const userHome = makeDir("userhome-");
    const cmd = `echo deno > made.txt && echo cwd-ok; echo x >> ${userHome}/escape || echo home-denied`;
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_d")])), reply("all done")]);
    const r = await runOcx(["exec", "--json", "--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "go"], {
      ...deno(home, { HOME: userHome }),
      cwd: repo,
    });
    expect(r.code).toBe(0);
    // No namespace view on Deno: the run says once what it cannot enforce (.git stays writable), and why.
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: "));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("commands can write .git, .codex, .agents, .aws");
    expect(warnings[0]).toContain("TinyCC");
    expect(checkEventStream(r.events)).toEqual([]);
    expect(r.events!.map((e) => e.type)).toEqual(["thread.started", "turn.started", "item.started", "item.completed", "item.completed", "turn.completed"]);
    const [item] = items(r.events, "item.completed", "command_execution");
    expect(item).toMatchObject({ status: "completed", exit_code: 0 });
    const out = callOutput(mock.requests[1]!.body, "call_d")!;
    expect(out).toContain("cwd-ok");
    expect(out).toContain("home-denied");
    expect(readFileSync(join(repo, "made.txt"), "utf8")).toBe("deno\n");
    expect(existsSync(join(userHome, "escape"))).toBe(false);
    expect(items(r.events, "item.completed", "agent_message")[0].text).toBe("all done");
  }, T);

  test("apply_patch under workspace-write: written by the confined writer (deno run ... __patch-write)", async () => {
    const ws = makeDir("ws-");
    writeFileSync(join(ws, "a.txt"), "one\n");
    const p = "*** Begin Patch\n*** Add File: sub/new.txt\n+new\n*** Update File: a.txt\n@@\n-one\n+ONE\n*** End Patch\n";
    const { mock, home } = await setup([sse(turn([customToolCall("apply_patch", p, "call_p")])), reply("patched")]);
    const r = await runOcx(["exec", "--json", "--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "--skip-git-repo-check", "edit"], { ...deno(home), cwd: ws });
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("warning:") && !l.includes("namespace view"))).toEqual([]);
    expect(inputItems(mock.requests[1]!.body, "custom_tool_call_output")[0].output).toContain("Success. Updated the following files:\nA sub/new.txt\nM a.txt\n");
    expect(readFileSync(join(ws, "sub/new.txt"), "utf8")).toBe("new\n");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("ONE\n");
    expect(items(r.events, "item.completed", "file_change")[0].status).toBe("completed");
  }, T);

  test("sandbox check: Landlock and seccomp through Deno.dlopen; read-only folders need the binary, and it says so", async () => {
    const home = makeDir("home-");
    const r = await runOcx(["sandbox", "check", "--json"], deno(home));
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ enforceable: true, platform: "linux", seccomp: true, carveOuts: false });
    expect(c.landlockAbi).toBeGreaterThan(0);
    expect(c.problems.join(" ")).toContain("TinyCC");
  }, T);

  test("sandbox run: exit code, stdin and denials as on Bun; the network is off", async () => {
    const home = makeDir("home-");
    const ws = makeDir("ws-");
    const outside = makeDir("outside-");
    const script = `echo in > in.txt; echo out >> ${outside}/x || echo outside-denied; exec 3<>/dev/tcp/127.0.0.1/9 2>/dev/null && echo connected || echo net-refused; cat; exit 9`;
    const r = await runOcx(["sandbox", "run", "--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "--", "bash", "-c", script], {
      ...deno(home),
      cwd: ws,
      stdin: "piped-through\n",
    });
    expect(r.code).toBe(9);
    expect(r.stdout).toContain("outside-denied");
    expect(r.stdout).toContain("net-refused");
    expect(r.stdout).toContain("piped-through");
    expect(existsSync(join(ws, "in.txt"))).toBe(true);
    expect(existsSync(join(outside, "x"))).toBe(false);
  }, T);

  test("fail closed: a host that cannot enforce the policy exits 5 and runs nothing", async () => {
    const home = makeDir("home-");
    const ws = makeDir("ws-");
    const r = await runOcx(["sandbox", "run", "--", "/bin/sh", "-c", "touch ran.txt"], {
      ...deno(home, { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" }),
      cwd: ws,
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("cannot enforce the read-only sandbox");
    expect(existsSync(join(ws, "ran.txt"))).toBe(false);
  }, T);
  test("browser sign-in: the callback server runs on Deno.serve; an expired token is refreshed before exec's request", async () => {
    const oauth = await startMockOAuth({ accessTokenTtlSec: -60 });
    try {
      const { mock, home } = await setup([reply("signed in")]);
      writeFileSync(join(home, "config.toml"), `model_provider = "openai"\nchatgpt_issuer = "${oauth.url}"\nchatgpt_base_url = "http://127.0.0.1:${mock.port}/backend-api"\n`);
      const port = await freePort();
      const signedIn = { ...deno(home), env: { ...deno(home).env, CODEX_API_KEY: undefined, OCX_LOGIN_CALLBACK_PORT: String(port) } };
      const run = startOcx(["login"], signedIn);
      const [url] = await run.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/, 30_000);
      const approved = await fetch(url, { redirect: "manual" });
      const cb = new URL(approved.headers.get("location")!);
      expect((await fetch(`http://127.0.0.1:${port}${cb.pathname}${cb.search}`)).status).toBe(200);
      const login = await run.result;
      expect(login.code).toBe(0);
      // the tokens just issued are already expired (ttl -60 s): exec refreshes first
      const r = await runOcx(["exec", "--skip-git-repo-check", "hi"], signedIn);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe("signed in");
      expect(oauth.refreshRequests().length).toBe(1);
      const disk = JSON.parse(readFileSync(join(home, "auth.json"), "utf8"));
      expect(mock.requests[0]!.headers.authorization).toBe(`Bearer ${disk.tokens.access_token}`);
    } finally {
      await oauth.close();
    }
  }, T);
  /** A run with `prompt` on Deno, then `resume --last "again"`: the resumed request's body (checked to be JSON.stringify of itself and to start with the first input). */
  async function resumedOnDeno(prompt: string) {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("first"), reply("again")]);
    const first = await runOcx(["exec", "--json", "--skip-git-repo-check", prompt], { ...deno(home), cwd: repo });
    expect(first.code).toBe(0);
    const r = await runOcx(["exec", "resume", "--last", "--json", "--skip-git-repo-check", "again"], { ...deno(home), cwd: repo });
    expect(r.code).toBe(0);
    const raw = mock.requests[1]!.text!;
    const sent = JSON.parse(raw);
    expect(raw).toBe(JSON.stringify(sent));
    const firstInput = mock.requests[0]!.body.input as unknown[];
    expect(JSON.stringify(sent.input.slice(0, firstInput.length))).toBe(JSON.stringify(firstInput));
    return { sent, firstInput };
  }
  test("resume --last: the session is found and its history re-sent byte for byte as JSON.stringify of it", async () => {
    const { sent, firstInput } = await resumedOnDeno("say \"hi\" é 🚀\u001b[0m");
    expect(sent.input[firstInput.length]).toMatchObject({ type: "message", role: "assistant" });
    expect(sent.input.at(-1)).toEqual({ type: "message", role: "user", content: [{ type: "input_text", text: "again" }] });
  }, T);
  test("resume of large items (they stay in the session file, read again through node:fs and checked with the keyed digest, AES-GMAC through node:crypto): the same bytes", async () => {
    const { firstInput } = await resumedOnDeno(`long ✓ "prompt" 🚀\n${"x".repeat(20_000)}`);
    expect(JSON.stringify(firstInput)).toContain("x".repeat(20_000));
  }, T);
});
