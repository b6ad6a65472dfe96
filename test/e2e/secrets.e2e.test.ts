// ocx's own secrets never leak (issue 13, point 5): every key and token it knows is [REDACTED]
// in every artefact of a run whose commands print them (--json stdout, human stderr and stdout,
// the -o file, the rollout, the requests sent back to the model), whole, split between two polls
// or cut by truncation; and ocx's own process is closed to its commands (non-dumpable).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import { type OAuthMock, startMockOAuth } from "../mock/oauth-server.ts";
import { callOutput, execCommand, failed, functionCall, http, type Mock, reply, type Step, sse, startMockResponses, turn } from "../mock/responses-server.ts";
import { cleanupTemp, existsSync, filesUnder, join, makeDir, makeHome, makeRepo, ocxBin, readFileSync, runOcx, writeFileSync } from "./harness.ts";

const T = 30_000;
afterAll(cleanupTemp);

let closers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closers.map((m) => m.close()));
  closers = [];
});

/** A key variable in ocx's environment whose value is not the key in use. */
const OTHER_KEY = "sk-ocx-other-env-key-7f3a9c2e5b1d";
/** Aggregated output keeps 64 KiB from each end; the model gets 20000 bytes from each end by default. */
const AGGREGATE_HEAD = 64 * 1024;
const MODEL_HEAD = 20_000;

/** Where any 12 consecutive characters of a secret appear in `text` (none may). */
function leaks(label: string, text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    for (let i = 0; i + 12 <= s.length; i++) {
      if (text.includes(s.slice(i, i + 12))) {
        found.push(`${label} holds ${s.slice(0, 16)}… (characters ${i}-${i + 12})`);
        break;
      }
    }
  }
  return found;
}

/**
 * The workspace's files: key.txt with `keys`, and big.txt (200 KB) with `cut` straddling both the
 * model's and the aggregate's truncation points.
 */
function workspace(keys: readonly string[], cut: string): string {
  const repo = makeRepo();
  writeFileSync(join(repo, "key.txt"), keys.map((k) => `token=${k}\n`).join(""));
  const at = (n: number) => n - 10; // 10 characters before the cut, the rest after
  let big = "a".repeat(at(MODEL_HEAD)) + cut;
  big += "b".repeat(at(AGGREGATE_HEAD) - big.length) + cut;
  big += "c".repeat(200_000 - big.length);
  writeFileSync(join(repo, "big.txt"), big);
  return repo;
}

/**
 * One run's model script: a command printing the first key of key.txt in two halves across two
 * polls, one printing the key file, auth.json and the key variable, one printing big.txt, then a
 * final answer holding every secret. (The commands never name a secret: the model would know it.)
 */
function script(secrets: readonly string[]): Step[] {
  const split = `K=$(head -n1 key.txt); K=\${K#token=}; printf '%s' "\${K:0:20}"; sleep 1; printf '%s\\n' "\${K:20}"`;
  return [
    sse(turn([execCommand(split, { yield_time_ms: 250 }, "call_split")])),
    sse(turn([functionCall("write_stdin", { session_id: 1000, chars: "", yield_time_ms: 10_000 }, "call_poll")])),
    sse(turn([execCommand('cat key.txt; cat "$CODEX_HOME/auth.json"; echo "env=$OPENAI_API_KEY"', {}, "call_cat")])),
    sse(turn([execCommand("cat big.txt", {}, "call_big")])),
    reply(`All done. The keys: ${secrets.join(" and ")}.`),
  ];
}

/** Every artefact of a finished run, scanned; plus checks that the secrets did reach them redacted. */
function scan(o: { home: string; mock: Mock; stdout: string; stderr: string; lastMessage: string; secrets: readonly string[] }): string[] {
  const found = [
    ...leaks("stdout", o.stdout, o.secrets),
    ...leaks("stderr", o.stderr, o.secrets),
    ...leaks("the -o file", o.lastMessage, o.secrets),
  ];
  const rollouts = filesUnder(join(o.home, "sessions"));
  expect(rollouts.length).toBeGreaterThan(0);
  for (const f of rollouts) found.push(...leaks(f, readFileSync(f, "utf8"), o.secrets));
  o.mock.requests.forEach((r, i) => found.push(...leaks(`model request ${i + 1}`, JSON.stringify(r.body), o.secrets)));
  return found;
}

describe("secrets never leak", () => {
  test("ChatGPT sign-in, --json, full access: tokens from auth.json, the other key variable, split and cut output, the final answer", async () => {
    const oauth: OAuthMock = await startMockOAuth();
    const mock = await startMockResponses();
    closers.push(oauth, mock);
    const home = makeDir("home-");
    writeFileSync(
      join(home, "config.toml"),
      [`model_provider = "openai"`, `chatgpt_issuer = ${JSON.stringify(oauth.url)}`, `chatgpt_base_url = ${JSON.stringify(`http://127.0.0.1:${mock.port}/backend-api/`)}`, ""].join("\n"),
    );
    const t = oauth.issueTokens();
    writeFileSync(join(home, "auth.json"), JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: t, last_refresh: new Date().toISOString() }, null, 2), { mode: 0o600 });
    const secrets = [t.access_token, t.refresh_token, t.id_token, OTHER_KEY];
    const repo = workspace([t.access_token, OTHER_KEY], t.access_token);
    mock.push(...script(secrets));
    const out = join(makeDir(), "last.txt");

    const r = await runOcx(["exec", "--json", "-s", "danger-full-access", "-o", out, "print what you find"], {
      home,
      cwd: repo,
      env: { CODEX_API_KEY: undefined, OPENAI_API_KEY: OTHER_KEY },
    });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(5);
    const lastMessage = readFileSync(out, "utf8");
    expect(scan({ home, mock, stdout: r.stdout, stderr: r.stderr, lastMessage, secrets })).toEqual([]);

    // The secrets did arrive, as [REDACTED], in each place (the commands ran, the answer came).
    expect(lastMessage).toBe("All done. The keys: [REDACTED] and [REDACTED] and [REDACTED] and [REDACTED].");
    const commands = r.events!.filter((e) => e.type === "item.completed" && e.item.type === "command_execution").map((e) => e.item);
    expect(commands).toHaveLength(3);
    expect(commands[0].aggregated_output).toBe("[REDACTED]\n");
    expect(commands[1].aggregated_output).toContain(`token=[REDACTED]\ntoken=[REDACTED]\n`);
    expect(commands[1].aggregated_output).toContain(`"refresh_token": "[REDACTED]"`);
    expect(commands[1].aggregated_output).toContain("env=[REDACTED]\n");
    // big.txt: whole in the kept head, cut at the end of the head.
    expect(commands[2].aggregated_output).toMatch(/^a+\[REDACTED\]b+\[REDACTED\]…\d+ tokens truncated…c+$/);
    const body = (n: number) => mock.requests[n]!.body;
    expect(callOutput(body(1), "call_split")).toMatch(/Process running with session ID 1000[\s\S]*Output:\n\[REDACTED\]$/);
    expect(callOutput(body(2), "call_poll")).toMatch(/Process exited with code 0[\s\S]*Output:\n\[REDACTED\]\n$/);
    expect(callOutput(body(3), "call_cat")).toContain("env=[REDACTED]");
    expect(callOutput(body(4), "call_big")).toMatch(/Output:\nTotal output lines: 1\n\na+\[REDACTED\]…\d+ tokens truncated…c+$/);
    expect(filesUnder(join(home, "sessions")).map((f) => readFileSync(f, "utf8")).join("")).toContain("[REDACTED]");
  }, T);

  test("an API key in use, auth.json with other tokens, human mode: stderr, stdout, -o, rollout, requests", async () => {
    const mock = await startMockResponses();
    closers.push(mock);
    const home = makeHome(mock.url);
    const key = "sk-ocx-FAKE-KEY-in-use-4b8d1e6f0a2c";
    const stored = { access: "stored-access-token-9e8d7c6b5a4f3e2d", refresh: "stored-refresh-token-1a2b3c4d5e6f", id: "stored-id-token-0f1e2d3c4b5a6978" };
    writeFileSync(
      join(home, "auth.json"),
      JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: "sk-ocx-FAKE-KEY-stored-in-auth-json", tokens: { access_token: stored.access, refresh_token: stored.refresh, id_token: stored.id } }),
      { mode: 0o600 },
    );
    const secrets = [key, OTHER_KEY, stored.access, stored.refresh, stored.id, "sk-ocx-FAKE-KEY-stored-in-auth-json"];
    const repo = workspace([key, OTHER_KEY], key);
    mock.push(...script(secrets));
    const out = join(makeDir(), "last.txt");

    const r = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "-o", out, "print what you find"], {
      home,
      cwd: repo,
      env: { CODEX_API_KEY: key, OPENAI_API_KEY: OTHER_KEY },
    });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(5);
    expect(mock.requests[0]!.headers.authorization).toBe(`Bearer ${key}`); // the key is the one in use
    const lastMessage = readFileSync(out, "utf8");
    expect(scan({ home, mock, stdout: r.stdout, stderr: r.stderr, lastMessage, secrets })).toEqual([]);
    expect(r.stdout).toBe("All done. The keys: [REDACTED] and [REDACTED] and [REDACTED] and [REDACTED] and [REDACTED] and [REDACTED].\n");
    expect(r.stderr).toContain("token=[REDACTED]\ntoken=[REDACTED]");
    expect(r.stderr).toContain(`"access_token":"[REDACTED]"`); // auth.json was readable, and printed redacted
    expect(r.stderr).toContain("env=[REDACTED]");
  }, T);

  test("a server that repeats the key in its error (HTTP 400, HTTP 401, response.failed): stderr, --json stdout and the rollout hold it redacted", async () => {
    const key = "sk-ocx-FAKE-KEY-echoed-back-5c7e9a1b3d";
    const said = `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    // Each with the exit code ocx gives it: a failed turn, an authentication failure (4).
    const steps: Array<[Step, number]> = [
      [http(400, { error: { message: said, type: "invalid_request_error", code: "invalid_api_key" } }), 1],
      [http(401, { error: { message: said, type: "invalid_request_error", code: "invalid_api_key" } }), 4],
      [sse(failed("invalid_prompt", said)), 1],
    ];
    for (const [step, code] of steps) {
      for (const json of [true, false]) {
        const mock = await startMockResponses([step]);
        closers.push(mock);
        const home = makeHome(mock.url);
        const r = await runOcx(["exec", ...(json ? ["--json"] : []), "--color", "never", "--skip-git-repo-check", "hi"], { home, cwd: makeDir(), env: { CODEX_API_KEY: key } });
        expect(r.code).toBe(code);
        expect(mock.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
        const shown = json ? r.stdout : r.stderr;
        expect(shown).toContain("Incorrect API key provided: [REDACTED].");
        const found = [...leaks("stdout", r.stdout, [key]), ...leaks("stderr", r.stderr, [key])];
        for (const f of filesUnder(join(home, "sessions"))) found.push(...leaks(f, readFileSync(f, "utf8"), [key]));
        expect(found).toEqual([]);
      }
    }
  }, T);
});

// ---------------------------------------------------------------------------------------------

/**
 * Run by a command: walks up its parents to ocx (the process whose second argument is `exec`),
 * then says who owns ocx's /proc environ file and whether it can be read.
 */
const PROBE = [
  "p=$$",
  'while [ "$p" -gt 1 ]; do p=$(awk \'/^PPid:/{print $2}\' /proc/$p/status); [ "$(tr \'\\0\' \'\\n\' < /proc/$p/cmdline | sed -n 2p)" = exec ] && break; done',
  '[ "$p" -gt 1 ] || { echo ocx=none; exit 0; }',
  'echo "ocx=$p owner=$(stat -c %u /proc/$p/environ) me=$(id -u)"',
  'if cat /proc/$p/environ > /dev/null 2>&1; then echo environ=readable; else echo environ=denied; fi',
].join("\n");

const asRoot = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
if (!asRoot) console.log("skipped: the non-dumpable check needs root (to run ocx as another user) and /usr/bin/setpriv");

describe("ocx's own process", () => {
  for (const mode of ["read-only", "danger-full-access"]) {
    test.skipIf(!asRoot)(`run as a user (uid 65534), ${mode}: ocx's /proc environ belongs to root and its command cannot read it`, async () => {
      const mock = await startMockResponses([sse(turn([execCommand(PROBE, {}, "call_probe")])), reply("checked")]);
      closers.push(mock);
      const home = makeHome(mock.url);
      const repo = makeRepo();
      Bun.spawnSync(["chown", "-R", "65534:65534", repo, home]);
      chmodSync(dirname(repo), 0o711); // the test's temp folder: let the user reach their folders
      const r = await runOcx(["exec", "--json", "-s", mode, "probe"], {
        home,
        cwd: repo,
        command: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ocxBin()],
      });
      expect(r.code).toBe(0);
      const output = callOutput(mock.requests[1]!.body, "call_probe")!;
      // Sandboxed commands may live in a PID namespace of their own, where ocx is not in sight at all.
      if (mode !== "danger-full-access" && output.includes("ocx=none")) return;
      // setpriv execs ocx: the pid the command found is the one started here.
      expect(output).toContain(`ocx=${r.pid} owner=0 me=65534\n`);
      expect(output).toContain("environ=denied");
    }, T);
  }
});
