// `ocx login`, `ocx login status`, `ocx logout` on the compiled binary, against a local mock
// OAuth issuer (test/mock/oauth-server.ts).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { type OAuthMock, jwtClaims, startMockOAuth } from "../mock/oauth-server.ts";
import { cleanupTemp, existsSync, freePort, join, makeDir, ocxBin, readFileSync, runOcx, startOcx, writeFileSync } from "./harness.ts";

afterAll(cleanupTemp);

let mocks: OAuthMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  mocks = [];
});
async function issuer(opts?: Parameters<typeof startMockOAuth>[0]) {
  const m = await startMockOAuth(opts);
  mocks.push(m);
  return m;
}

/** A CODEX_HOME whose config points the sign-in at the mock issuer. */
function homeFor(oauth?: OAuthMock, extra = ""): string {
  const home = makeDir("home-");
  const lines = [`chatgpt_client_id = "app_test_client"`, extra];
  if (oauth) lines.unshift(`chatgpt_issuer = ${JSON.stringify(oauth.url)}`);
  writeFileSync(join(home, "config.toml"), `${lines.join("\n")}\n`);
  return home;
}
const authPath = (home: string) => join(home, "auth.json");
const readAuth = (home: string) => JSON.parse(readFileSync(authPath(home), "utf8"));
const mode = (file: string) => statSync(file).mode & 0o777;
const noKey = { CODEX_API_KEY: undefined };


describe("login --with-api-key, status, logout", () => {
  test("a piped key is stored 0600; status masks it; logout removes it; stdout stays empty throughout", async () => {
    const home = homeFor();
    const key = "sk-ocx-FAKE-KEY-1234567890abcdef";
    const login = await runOcx(["login", "--with-api-key"], { home, stdin: `${key}\n`, env: noKey });
    expect(login.code).toBe(0);
    expect(login.stdout).toBe("");
    expect(login.stderr).toContain("Reading API key from stdin...");
    expect(login.stderr).toContain("API key saved");
    expect(readAuth(home)).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: key });
    expect(mode(authPath(home))).toBe(0o600);

    const status = await runOcx(["login", "status"], { home, env: noKey });
    expect(status.code).toBe(0);
    expect(status.stdout).toBe("");
    expect(status.stderr).toContain("API key configured - sk-ocx-F***bcdef");
    expect(status.stderr).not.toContain(key);

    const json = await runOcx(["login", "status", "--json"], { home, env: noKey });
    expect(JSON.parse(json.stdout)).toEqual({ logged_in: true, auth_mode: "apikey", api_key: "sk-ocx-F***bcdef" });

    const out = await runOcx(["logout"], { home, env: noKey });
    expect([out.code, out.stdout, out.stderr.trim()]).toEqual([0, "", "Successfully logged out"]);
    expect(existsSync(authPath(home))).toBe(false);

    const again = await runOcx(["logout"], { home, env: noKey });
    expect([again.code, again.stderr.trim()]).toEqual([0, "Not logged in"]);
    const none = await runOcx(["login", "status", "--json"], { home, env: noKey });
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe("Not logged in");
    expect(JSON.parse(none.stdout)).toEqual({ logged_in: false });
  });

  test("status does not count CODEX_API_KEY as a login, but says exec will use it", async () => {
    const home = homeFor();
    const r = await runOcx(["login", "status"], { home, env: { CODEX_API_KEY: "sk-test-e2e" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("CODEX_API_KEY is set");
    expect(r.stderr).toContain("Not logged in");
    expect(r.stderr).not.toContain("sk-test-e2e");
  });

  test("empty stdin is refused (exit 4), nothing written", async () => {
    const home = homeFor();
    const r = await runOcx(["login", "--with-api-key"], { home, stdin: "\n  \n", env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("No API key provided via stdin");
    expect(existsSync(authPath(home))).toBe(false);
  });

  test("a terminal on stdin is refused with the hint to pipe the key (exit 2)", async () => {
    const home = homeFor();
    let output = "";
    const proc = Bun.spawn([ocxBin(), "login", "--with-api-key"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, NO_COLOR: "1" },
      terminal: { cols: 200, rows: 20, data: (_t, bytes) => void (output += new TextDecoder().decode(bytes)) },
    });
    const code = await proc.exited;
    await Bun.sleep(50);
    expect(code).toBe(2);
    expect(output).toContain("--with-api-key expects the API key on stdin");
    expect(output).toContain("printenv OPENAI_API_KEY | ocx login --with-api-key");
    expect(existsSync(authPath(home))).toBe(false);
  });

  test("--with-api-key and --device-auth together are a usage error", async () => {
    const r = await runOcx(["login", "--with-api-key", "--device-auth"], { home: homeFor(), stdin: "sk-x\n", env: noKey });
    expect(r.code).toBe(2);
  });
});

describe("device code sign-in", () => {
  test("prints the code and URL, polls until approved, stores the tokens 0600", async () => {
    const oauth = await issuer({ device: { interval: 0.2, approveAfterPolls: 3 } });
    const home = homeFor(oauth);
    const r = await runOcx(["login", "--device-auth"], { home, env: noKey });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${oauth.url}/codex/device`);
    expect(r.stderr).toContain("ABCD-1234");
    expect(r.stderr).toContain("15 minutes");
    expect(r.stderr).toContain("Successfully logged in");

    const start = oauth.requests.find((q) => q.path === "/api/accounts/deviceauth/usercode")!;
    expect(start.body).toEqual({ client_id: "app_test_client" });
    const polls = oauth.requests.filter((q) => q.path === "/api/accounts/deviceauth/token");
    expect(polls.length).toBe(3);
    const exchange = oauth.requests.find((q) => q.path === "/oauth/token")!;
    expect(exchange.body.grant_type).toBe("authorization_code");
    expect(exchange.body.redirect_uri).toBe(`${oauth.url}/deviceauth/callback`);
    expect(exchange.body.client_id).toBe("app_test_client");

    const auth = readAuth(home);
    expect(auth.auth_mode).toBe("chatgpt");
    expect(auth.OPENAI_API_KEY).toBeNull();
    expect(auth.tokens.account_id).toBe("acct-test-1");
    expect(auth.tokens.refresh_token).toBe(oauth.currentRefreshToken());
    expect(oauth.isValidAccessToken(auth.tokens.access_token)).toBe(true);
    expect(Date.now() - Date.parse(auth.last_refresh)).toBeLessThan(60_000);
    expect(mode(authPath(home))).toBe(0o600);
    expect(r.stderr).not.toContain("ocx-test-token");

    const status = await runOcx(["login", "status", "--json"], { home, env: noKey });
    expect(status.stderr.trim()).toBe("Logged in using ChatGPT");
    expect(JSON.parse(status.stdout)).toMatchObject({ logged_in: true, auth_mode: "chatgpt", email: "dev@example.test", plan: "plus", account_id: "acct-test-1" });
  });

  test("an expired code ends the login with exit 4 and nothing stored", async () => {
    const oauth = await issuer({ device: { interval: 0.1, approveAfterPolls: 100, expireAfterPolls: 2 } });
    const home = homeFor(oauth);
    const r = await runOcx(["login", "--device-auth"], { home, env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("The device code expired");
    expect(existsSync(authPath(home))).toBe(false);
  });

  test("the issuer's expires_in bounds the wait", async () => {
    const oauth = await issuer({ device: { interval: 0.2, approveAfterPolls: 1000, expiresInSec: 1 } });
    const home = homeFor(oauth);
    const r = await runOcx(["login", "--device-auth"], { home, env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("under a minute");
    expect(r.stderr).toContain("The device code expired");
    expect(r.durationMs).toBeLessThan(10_000);
  });

  test("device sign-in not enabled at the issuer: exit 4 pointing to browser sign-in", async () => {
    const oauth = await issuer({ device: { notEnabled: true } });
    const r = await runOcx(["login", "--device-auth"], { home: homeFor(oauth), env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("not enabled");
  });

  test("Ctrl-C while waiting cancels cleanly: exit 130, nothing stored", async () => {
    const oauth = await issuer({ device: { interval: 0.2, approveAfterPolls: 1000 } });
    const home = homeFor(oauth);
    const run = startOcx(["login", "--device-auth"], { home, env: noKey });
    await run.waitForStderr(/ABCD-1234/);
    run.kill("SIGINT");
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("Login cancelled");
    expect(existsSync(authPath(home))).toBe(false);
  });

  test("forced_login_method = \"api\" refuses ChatGPT sign-in", async () => {
    const oauth = await issuer();
    const r = await runOcx(["login", "--device-auth"], { home: homeFor(oauth, `forced_login_method = "api"`), env: noKey });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("ChatGPT login is disabled");
    expect(oauth.requests.length).toBe(0);
  });
});

describe("browser sign-in", () => {
  test("PKCE with a localhost callback: a wrong state is refused, the right one signs in", async () => {
    const oauth = await issuer();
    const home = homeFor(oauth);
    const port = await freePort();
    const run = startOcx(["login"], { home, env: { ...noKey, OCX_LOGIN_CALLBACK_PORT: String(port) } });
    const [url] = await run.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    expect(run.stderrSoFar()).toContain(`Starting local login server on http://localhost:${port}.`);
    const authorize = new URL(url);
    const q = authorize.searchParams;
    expect(q.get("client_id")).toBe("app_test_client");
    expect(q.get("redirect_uri")).toBe(`http://localhost:${port}/auth/callback`);
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("response_type")).toBe("code");
    expect(q.get("scope")).toContain("offline_access");
    expect(q.get("state")!.length).toBeGreaterThanOrEqual(43);

    // Someone else's callback: refused, and the login keeps waiting.
    const forged = await fetch(`http://127.0.0.1:${port}/auth/callback?code=stolen&state=not-the-state`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("State mismatch");
    expect(oauth.requests.some((r) => r.path === "/oauth/token")).toBe(false);
    expect(existsSync(authPath(home))).toBe(false);

    // The browser: the issuer approves and redirects to the callback.
    const approved = await fetch(url, { redirect: "manual" });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get("location")!);
    expect(callback.origin).toBe(`http://localhost:${port}`);
    const done = await fetch(`http://127.0.0.1:${port}${callback.pathname}${callback.search}`);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Signed in to ocx");

    const r = await run.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Successfully logged in");
    const exchange = oauth.requests.find((x) => x.path === "/oauth/token")!;
    expect(exchange.body).toMatchObject({ grant_type: "authorization_code", redirect_uri: `http://localhost:${port}/auth/callback`, client_id: "app_test_client" });
    const auth = readAuth(home);
    expect(auth.auth_mode).toBe("chatgpt");
    expect(jwtClaims(auth.tokens.id_token).email).toBe("dev@example.test");
    expect(mode(authPath(home))).toBe(0o600);
  });

  test("an error from the issuer ends the login with exit 4", async () => {
    const oauth = await issuer();
    const home = homeFor(oauth);
    const port = await freePort();
    const run = startOcx(["login"], { home, env: { ...noKey, OCX_LOGIN_CALLBACK_PORT: String(port) } });
    const [url] = await run.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const state = new URL(url).searchParams.get("state")!;
    const res = await fetch(`http://127.0.0.1:${port}/auth/callback?error=access_denied&error_description=user+said+no&state=${state}`);
    expect(res.status).toBe(400);
    const r = await run.result;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("user said no");
    expect(existsSync(authPath(home))).toBe(false);
  });

  test("a busy callback port: the holder is asked to /cancel, then ocx falls back to port + 2", async () => {
    const oauth = await issuer();
    const home = homeFor(oauth);
    let port = await freePort();
    let cancels = 0;
    const squatter = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: (req) => {
        if (new URL(req.url).pathname === "/cancel") cancels++;
        return new Response("busy");
      },
    });
    try {
      const run = startOcx(["login"], { home, env: { ...noKey, OCX_LOGIN_CALLBACK_PORT: String(port) } });
      await run.waitForStderr(/Starting local login server on http:\/\/localhost:(\d+)/);
      expect(run.stderrSoFar()).toContain(`http://localhost:${port + 2}.`);
      expect(cancels).toBe(1);
      run.kill("SIGINT");
      const r = await run.result;
      expect(r.code).toBe(130);
      expect(existsSync(authPath(home))).toBe(false);
    } finally {
      await squatter.stop(true);
    }
  });
});

describe("logout of a ChatGPT sign-in", () => {
  test("revokes the refresh token at the issuer (best effort) and removes auth.json", async () => {
    const oauth = await issuer();
    const home = homeFor(oauth);
    const t = oauth.issueTokens();
    writeFileSync(authPath(home), JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: t, last_refresh: new Date().toISOString() }));
    const r = await runOcx(["logout"], { home, env: noKey });
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe("Successfully logged out");
    expect(oauth.revokeRequests().map((q) => q.body.token)).toEqual([t.refresh_token]);
    expect(existsSync(authPath(home))).toBe(false);

    // issuer unreachable: still logged out, with a warning
    writeFileSync(authPath(home), JSON.stringify({ auth_mode: "chatgpt", tokens: t }));
    await oauth.close();
    const offline = await runOcx(["logout"], { home, env: noKey });
    expect(offline.code).toBe(0);
    expect(offline.stderr).toContain("could not revoke");
    expect(existsSync(authPath(home))).toBe(false);
  });
});
