// exec with stored credentials: a ChatGPT sign-in whose tokens refresh in place (proactive,
// concurrent, after a 401, permanent failures), and which credential wins.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { type OAuthMock, startMockOAuth } from "../mock/oauth-server.ts";
import { callOutput, dynamic, execCommand, http, type Mock, type RecordedRequest, reply, sse, startMockResponses, type Step, turn } from "../mock/responses-server.ts";
import { cleanupTemp, join, makeDir, makeRepo, readFileSync, runOcx, writeFileSync } from "./harness.ts";

afterAll(cleanupTemp);

let closers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closers.map((m) => m.close()));
  closers = [];
});

const noKey = { CODEX_API_KEY: undefined };
const exec = ["exec", "--json", "--skip-git-repo-check", "-s", "read-only"];

/** The mock issuer, the mock model server, and a CODEX_HOME using the built-in openai provider signed in with ChatGPT. */
async function setup(script: Step[], oauthOpts: Parameters<typeof startMockOAuth>[0] = {}, tokens: { accessExpired?: boolean } = {}) {
  const oauth = await startMockOAuth(oauthOpts);
  const model = await startMockResponses(script);
  closers.push(oauth, model);
  const home = makeDir("home-");
  writeFileSync(
    join(home, "config.toml"),
    [
      `model_provider = "openai"`,
      `chatgpt_issuer = ${JSON.stringify(oauth.url)}`,
      `chatgpt_base_url = ${JSON.stringify(`http://127.0.0.1:${model.port}/backend-api/`)}`,
      "",
    ].join("\n"),
  );
  const t = oauth.issueTokens(tokens);
  writeFileSync(join(home, "auth.json"), JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: t, last_refresh: new Date().toISOString() }, null, 2), { mode: 0o600 });
  return { oauth, model, home, tokens: t };
}

const authOnDisk = (home: string) => JSON.parse(readFileSync(join(home, "auth.json"), "utf8"));
const bearer = (req: RecordedRequest) => req.headers.authorization?.replace(/^Bearer /, "");

describe("ChatGPT sign-in in exec", () => {
  test("a valid token goes to the ChatGPT backend with the account header; no refresh", async () => {
    const { oauth, model, home, tokens } = await setup([reply("hello")]);
    const r = await runOcx(exec.concat("hi"), { home, env: noKey });
    expect(r.code).toBe(0);
    const [req] = model.requests;
    expect(req!.path).toBe("/backend-api/codex/responses");
    expect(bearer(req!)).toBe(tokens.access_token);
    expect(req!.headers["chatgpt-account-id"]).toBe("acct-test-1");
    expect(oauth.refreshRequests().length).toBe(0);
  });

  test("an expired token is refreshed, and auth.json holds the rotated tokens (0600) before the model request arrives", async () => {
    let seenOnDisk: any;
    let modeOnDisk = 0;
    const { oauth, model, home, tokens } = await setup(
      [
        dynamic(() => {
          seenOnDisk = authOnDisk(home);
          modeOnDisk = statSync(join(home, "auth.json")).mode & 0o777;
          return reply("fresh");
        }),
      ],
      {},
      { accessExpired: true },
    );
    const r = await runOcx(exec.concat("hi"), { home, env: noKey });
    expect(r.code).toBe(0);
    const [refresh] = oauth.refreshRequests();
    expect(refresh!.body).toMatchObject({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, refresh_reason: "proactive_expiry" });
    expect(oauth.refreshRequests().length).toBe(1);
    const used = bearer(model.requests[0]!);
    expect(used).not.toBe(tokens.access_token);
    expect(oauth.isValidAccessToken(used!)).toBe(true);
    expect(seenOnDisk.tokens.access_token).toBe(used);
    expect(seenOnDisk.tokens.refresh_token).toBe(oauth.currentRefreshToken());
    expect(seenOnDisk.tokens.refresh_token).not.toBe(tokens.refresh_token);
    expect(Date.parse(seenOnDisk.last_refresh)).toBeGreaterThan(Date.now() - 60_000);
    expect(modeOnDisk).toBe(0o600);
    for (const t of [tokens.access_token, tokens.refresh_token, used!]) {
      expect(r.stdout).not.toContain(t);
      expect(r.stderr).not.toContain(t);
    }
  });

  test("two ocx processes started at once with an expired token: exactly one refresh, both succeed", async () => {
    const { oauth, model, home } = await setup([reply("one"), reply("two")], { refreshDelayMs: 300 }, { accessExpired: true });
    const [a, b] = await Promise.all([runOcx(exec.concat("a"), { home, env: noKey }), runOcx(exec.concat("b"), { home, env: noKey })]);
    expect([a.code, b.code, a.stderr + b.stderr]).toEqual([0, 0, expect.any(String)]);
    expect(oauth.refreshRequests().length).toBe(1);
    const used = model.requests.map(bearer);
    expect(used.length).toBe(2);
    expect(used[0]).toBe(used[1]!);
    expect(authOnDisk(home).tokens.access_token).toBe(used[0]);
  });

  test("a 401 from the model server: refresh once, resend, succeed", async () => {
    const { oauth, model, home, tokens } = await setup([http(401, { error: { message: "token revoked" } }), reply("after refresh")]);
    const r = await runOcx(exec.concat("hi"), { home, env: noKey });
    expect(r.code).toBe(0);
    expect(r.events?.at(-1)?.type).toBe("turn.completed");
    expect(oauth.refreshRequests().map((q) => q.body.refresh_reason)).toEqual(["unauthorized"]);
    expect(bearer(model.requests[0]!)).toBe(tokens.access_token);
    expect(bearer(model.requests[1]!)).toBe(authOnDisk(home).tokens.access_token);
    expect(bearer(model.requests[1]!)).not.toBe(tokens.access_token);
  });

  test("401 that survives the refresh: one refresh only, exit 4, turn.failed code auth", async () => {
    const { oauth, model, home } = await setup([http(401, { error: { message: "no" } }), http(401, { error: { message: "no" } })]);
    const r = await runOcx(exec.concat("hi"), { home, env: noKey });
    expect(r.code).toBe(4);
    expect(r.events?.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "auth" } });
    expect(model.requests.length).toBe(2);
    expect(oauth.refreshRequests().length).toBe(1);
  });

  for (const [failure, words] of [
    ["refresh_token_expired", "expired"],
    ["refresh_token_reused", "already used"],
    ["refresh_token_invalidated", "revoked"],
  ] as const) {
    test(`permanent refresh failure ${failure}: exit 4 with a sign-in hint, no model request, auth.json untouched`, async () => {
      const { model, home } = await setup([reply("never")], { refreshFailure: failure }, { accessExpired: true });
      const before = readFileSync(join(home, "auth.json"), "utf8");
      const r = await runOcx(exec.concat("hi"), { home, env: noKey });
      expect(r.code).toBe(4);
      const failed = r.events?.at(-1);
      expect(failed).toMatchObject({ type: "turn.failed", error: { code: "auth" } });
      expect(failed.error.message).toContain(words);
      expect(failed.error.message).toContain("ocx login");
      expect(r.stderr).not.toContain("at ");
      expect(model.requests.length).toBe(0);
      expect(readFileSync(join(home, "auth.json"), "utf8")).toBe(before);
    });
  }

  test("a stale copy of auth.json whose refresh token was already spent: exit 4 (reused)", async () => {
    const { oauth, home, tokens } = await setup([reply("never")], {}, { accessExpired: true });
    oauth.issueTokens(); // someone else signed in / refreshed: the copy's refresh token is no longer current
    const r = await runOcx(exec.concat("hi"), { home, env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr + r.stdout).toMatch(/already used|revoked|no longer accepts/);
    expect(authOnDisk(home).tokens.refresh_token).toBe(tokens.refresh_token);
  });

  test("tokens never reach a command's environment or output, nor the rollout", async () => {
    const { model, home, tokens } = await setup([sse(turn([execCommand("env", {}, "call_env")])), reply("done")]);
    const r = await runOcx(["exec", "--json", "--skip-git-repo-check", "-s", "read-only", "show env"], {
      home,
      env: { ...noKey, MY_TOKEN_COPY: tokens.access_token, OPENAI_API_KEY: tokens.refresh_token },
    });
    expect(r.code).toBe(0);
    const out = callOutput(model.requests[1]!.body, "call_env")!;
    expect(out).toContain("CODEX_THREAD_ID=");
    expect(out).not.toContain("ocx-test-token");
    expect(out).not.toContain("MY_TOKEN_COPY");
    // the rollout scan for "ocx-test-token" runs in cleanupTemp()
  });
});

describe("which credential exec uses", () => {
  test("CODEX_API_KEY overrides a ChatGPT sign-in; requests then go to the API base URL", async () => {
    const { model, home } = await setup([reply("key")]);
    const r = await runOcx(exec.concat("-c", `openai_base_url="${model.url}"`, "hi"), { home, env: { CODEX_API_KEY: "sk-test-e2e" } });
    expect(r.code).toBe(0);
    expect(model.requests[0]!.path).toBe("/v1/responses");
    expect(bearer(model.requests[0]!)).toBe("sk-test-e2e");
    expect(model.requests[0]!.headers["chatgpt-account-id"]).toBeUndefined();
  });

  test("an API key stored by login --with-api-key (and the legacy file without auth_mode)", async () => {
    const model = await startMockResponses([reply("one"), reply("two")]);
    closers.push(model);
    const home = makeDir("home-");
    writeFileSync(join(home, "config.toml"), `model_provider = "openai"\nopenai_base_url = "${model.url}"\n`);
    const login = await runOcx(["login", "--with-api-key"], { home, stdin: "sk-ocx-FAKE-KEY-stored\n", env: noKey });
    expect(login.code).toBe(0);
    expect((await runOcx(exec.concat("hi"), { home, env: noKey })).code).toBe(0);
    writeFileSync(join(home, "auth.json"), JSON.stringify({ OPENAI_API_KEY: "sk-ocx-FAKE-KEY-legacy" }));
    expect((await runOcx(exec.concat("hi"), { home, env: noKey })).code).toBe(0);
    expect(model.requests.map(bearer)).toEqual(["sk-ocx-FAKE-KEY-stored", "sk-ocx-FAKE-KEY-legacy"]);
  });

  test("no credentials at all: exit 4 before any request, saying how to log in", async () => {
    const model = await startMockResponses([]);
    closers.push(model);
    const home = makeDir("home-");
    writeFileSync(join(home, "config.toml"), `model_provider = "openai"\nopenai_base_url = "${model.url}"\n`);
    const r = await runOcx(["exec", "--skip-git-repo-check", "hi"], { home, cwd: makeRepo(), env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("ocx login");
    expect(r.stderr).toContain("CODEX_API_KEY");
    expect(model.requests.length).toBe(0);
  });

  test("OPENAI_API_KEY alone: exit 4 before any request (as codex exec), the message says how to pass it", async () => {
    const model = await startMockResponses([]);
    closers.push(model);
    const home = makeDir("home-");
    writeFileSync(join(home, "config.toml"), `model_provider = "openai"\nopenai_base_url = "${model.url}"\n`);
    const r = await runOcx(["exec", "--skip-git-repo-check", "hi"], { home, cwd: makeRepo(), env: { ...noKey, OPENAI_API_KEY: "sk-ocx-FAKE-KEY-openai" } });
    expect(r.code).toBe(4);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("Error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('OPENAI_API_KEY is set, but `ocx exec` (like `codex exec`) reads only CODEX_API_KEY');
    expect(errors[0]).toContain('CODEX_API_KEY="$OPENAI_API_KEY"');
    expect(r.stderr).not.toContain("sk-ocx-FAKE-KEY-openai");
    expect(model.requests.length).toBe(0);
  });
});
