// Checks the mock OAuth issuer on its own, with plain fetch to 127.0.0.1.
import { afterEach, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { jwtClaims, type OAuthMock, type OAuthMockOptions, startMockOAuth } from "./oauth-server.ts";

let mocks: OAuthMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  mocks = [];
});

async function start(opts?: OAuthMockOptions): Promise<OAuthMock> {
  const m = await startMockOAuth(opts);
  mocks.push(m);
  return m;
}

const CLIENT_ID = "app_test_client";
const s256 = (v: string) => createHash("sha256").update(v).digest("base64url");

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: s256(verifier) };
}

const postJson = (m: OAuthMock, path: string, body: unknown) =>
  fetch(`${m.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const postForm = (m: OAuthMock, path: string, fields: Record<string, string>) =>
  fetch(`${m.url}${path}`, { method: "POST", body: new URLSearchParams(fields) });

const exchange = (m: OAuthMock, code: string, redirectUri: string, verifier: string) =>
  postForm(m, "/oauth/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });

const refresh = (m: OAuthMock, token: string | undefined) =>
  postJson(m, "/oauth/token", { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: token, refresh_reason: "expired" });

async function authorize(m: OAuthMock, challenge: string, redirectUri = "http://localhost:1455/auth/callback", state = "st-123") {
  const q = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: "openid profile email offline_access",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
  });
  return fetch(`${m.url}/oauth/authorize?${q}`, { redirect: "manual" });
}

function expectTokenSet(body: any) {
  expect(Object.keys(body).sort()).toEqual(["access_token", "id_token", "refresh_token"]);
  for (const t of Object.values(body)) expect(t as string).toContain("ocx-test-token");
}

describe("browser sign-in (authorize + code exchange with PKCE)", () => {
  test("authorize redirects with code and state; the right verifier gets tokens; reuse and wrong verifier are 400", async () => {
    const m = await start();
    expect(m.url).toBe(`http://127.0.0.1:${m.port}`);
    const { verifier, challenge } = pkce();
    const redirectUri = "http://localhost:1455/auth/callback";
    const r = await authorize(m, challenge, redirectUri, "state-xyz");
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get("location")!);
    expect(`${loc.origin}${loc.pathname}`).toBe(redirectUri);
    expect(loc.searchParams.get("state")).toBe("state-xyz");
    const code = loc.searchParams.get("code")!;
    expect(code).toBeTruthy();

    const wrong = await exchange(m, code, redirectUri, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error).toBe("invalid_grant");

    const badRedirect = await exchange(m, code, "http://localhost:9999/other", verifier);
    expect(badRedirect.status).toBe(400);

    const ok = await exchange(m, code, redirectUri, verifier);
    expect(ok.status).toBe(200);
    const tokens = await ok.json();
    expectTokenSet(tokens);
    expect(m.currentRefreshToken()).toBe(tokens.refresh_token);
    expect(m.isValidAccessToken(tokens.access_token)).toBe(true);

    const again = await exchange(m, code, redirectUri, verifier);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });

    const exchangeReq = m.requests.find((q) => q.path === "/oauth/token")!;
    expect(exchangeReq.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(exchangeReq.body).toMatchObject({ grant_type: "authorization_code", code, client_id: CLIENT_ID });
    expect(m.refreshRequests().length).toBe(0);
  });

  test("an unknown code is 400; a JSON exchange is 400", async () => {
    const m = await start();
    const { verifier, challenge } = pkce();
    expect((await exchange(m, "ac-nope", "http://localhost:1455/auth/callback", verifier)).status).toBe(400);
    const loc = new URL((await authorize(m, challenge)).headers.get("location")!);
    const viaJson = await postJson(m, "/oauth/token", {
      grant_type: "authorization_code",
      code: loc.searchParams.get("code"),
      redirect_uri: "http://localhost:1455/auth/callback",
      client_id: CLIENT_ID,
      code_verifier: verifier,
    });
    expect(viaJson.status).toBe(400);
  });

  test("authorize rejects a plain challenge method and missing parameters", async () => {
    const m = await start();
    const q = new URLSearchParams({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: "http://localhost:1455/auth/callback",
      code_challenge: "abc",
      code_challenge_method: "plain",
      state: "s",
    });
    expect((await fetch(`${m.url}/oauth/authorize?${q}`, { redirect: "manual" })).status).toBe(400);
    q.set("code_challenge_method", "S256");
    q.delete("redirect_uri");
    expect((await fetch(`${m.url}/oauth/authorize?${q}`, { redirect: "manual" })).status).toBe(400);
  });
});

describe("refresh", () => {
  test("rotation: first refresh ok, the same token again is reused, the new one works", async () => {
    const m = await start();
    const t = m.issueTokens();
    expect(m.currentRefreshToken()).toBe(t.refresh_token);
    expect(t.account_id).toBe("acct-test-1");

    const r1 = await refresh(m, t.refresh_token);
    expect(r1.status).toBe(200);
    const b1 = await r1.json();
    expectTokenSet(b1);
    expect(b1.refresh_token).not.toBe(t.refresh_token);
    expect(b1.access_token).not.toBe(t.access_token);
    expect(m.currentRefreshToken()).toBe(b1.refresh_token);
    expect(m.isValidAccessToken(b1.access_token)).toBe(true);

    const r2 = await refresh(m, t.refresh_token);
    expect(r2.status).toBe(401);
    const b2 = await r2.json();
    expect(b2.error.code).toBe("refresh_token_reused");
    expect(typeof b2.error.message).toBe("string");

    const r3 = await refresh(m, b1.refresh_token);
    expect(r3.status).toBe(200);

    const r4 = await refresh(m, "rt-unknown");
    expect(r4.status).toBe(401);
    expect((await r4.json()).error.code).toBe("refresh_token_invalidated");

    expect(m.refreshRequests().length).toBe(4);
    expect(m.refreshRequests()[0]!.body).toMatchObject({ client_id: CLIENT_ID, refresh_reason: "expired" });
  });

  test("a token superseded by a new sign-in counts as reused", async () => {
    const m = await start();
    const old = m.issueTokens();
    m.issueTokens();
    const r = await refresh(m, old.refresh_token);
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe("refresh_token_reused");
  });

  test("two concurrent refreshes with the same token: exactly one 200, the other reused", async () => {
    const m = await start({ refreshDelayMs: 150 });
    const t = m.issueTokens();
    const started = Date.now();
    const rs = await Promise.all([refresh(m, t.refresh_token), refresh(m, t.refresh_token)]);
    const statuses = rs.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
    const loser = rs.find((r) => r.status === 401)!;
    expect((await loser.json()).error.code).toBe("refresh_token_reused");
    const winner = await rs.find((r) => r.status === 200)!.json();
    expect(m.currentRefreshToken()).toBe(winner.refresh_token);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  for (const code of ["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"] as const) {
    test(`refreshFailure ${code}: every refresh is 401 with that code`, async () => {
      const m = await start({ refreshFailure: code });
      const t = m.issueTokens();
      const r = await refresh(m, t.refresh_token);
      expect(r.status).toBe(401);
      const b = await r.json();
      expect(b.error.code).toBe(code);
      expect(b.error.message).toBeTruthy();
      expect(m.currentRefreshToken()).toBe(t.refresh_token);
      expect(m.refreshRequests().length).toBe(1);
    });
  }

  test("accessExpired and isValidAccessToken", async () => {
    const m = await start({ accessTokenTtlSec: 120 });
    const fresh = m.issueTokens();
    const expired = m.issueTokens({ accessExpired: true });
    const now = Math.floor(Date.now() / 1000);
    expect(jwtClaims(fresh.access_token).exp).toBeGreaterThanOrEqual(now + 119);
    expect(jwtClaims(fresh.access_token).exp).toBeLessThanOrEqual(now + 121);
    expect(jwtClaims(expired.access_token).exp).toBeLessThan(now);
    expect(m.isValidAccessToken(fresh.access_token)).toBe(true);
    expect(m.isValidAccessToken(expired.access_token)).toBe(false);
    expect(m.isValidAccessToken("not-a-token")).toBe(false);
    const other = await start();
    expect(other.isValidAccessToken(fresh.access_token)).toBe(false);
  });
});

describe("device-code sign-in", () => {
  const start1 = (m: OAuthMock) => postJson(m, "/api/accounts/deviceauth/usercode", { client_id: CLIENT_ID });
  const poll = (m: OAuthMock, id: string, userCode: string) =>
    postJson(m, "/api/accounts/deviceauth/token", { device_auth_id: id, user_code: userCode });

  test("pending, then approved, then the code exchanges with the returned verifier", async () => {
    const m = await start({ device: { approveAfterPolls: 3, interval: 5 } });
    const u = await start1(m);
    expect(u.status).toBe(200);
    const ub = await u.json();
    expect(ub).toEqual({ device_auth_id: expect.stringMatching(/^dev-\d+$/), user_code: "ABCD-1234", interval: "5" });

    expect((await poll(m, ub.device_auth_id, "WXYZ-0000")).status).toBe(400);
    expect((await poll(m, "dev-unknown", ub.user_code)).status).toBe(400);

    for (let i = 0; i < 2; i++) {
      const p = await poll(m, ub.device_auth_id, ub.user_code);
      expect(p.status).toBe(403);
      expect(await p.json()).toEqual({ error: "authorization_pending" });
    }
    const ok = await poll(m, ub.device_auth_id, ub.user_code);
    expect(ok.status).toBe(200);
    const ob = await ok.json();
    expect(ob.code_challenge).toBe(s256(ob.code_verifier));
    expect(typeof ob.authorization_code).toBe("string");

    const redirectUri = `${m.url}/deviceauth/callback`;
    expect((await exchange(m, ob.authorization_code, "http://localhost:1455/auth/callback", ob.code_verifier)).status).toBe(400);
    const ex = await exchange(m, ob.authorization_code, redirectUri, ob.code_verifier);
    expect(ex.status).toBe(200);
    const tokens = await ex.json();
    expectTokenSet(tokens);
    expect(m.currentRefreshToken()).toBe(tokens.refresh_token);
  });

  test("expires_in is included when configured, absent otherwise", async () => {
    const m = await start({ device: { expiresInSec: 900 } });
    expect((await (await start1(m)).json()).expires_in).toBe(900);
    const m2 = await start();
    const b2 = await (await start1(m2)).json();
    expect(b2.expires_in).toBeUndefined();
    expect(b2.interval).toBe("1");
  });

  test("expireAfterPolls: poll N and later answer 410 expired_token", async () => {
    const m = await start({ device: { approveAfterPolls: 10, expireAfterPolls: 2 } });
    const ub = await (await start1(m)).json();
    expect((await poll(m, ub.device_auth_id, ub.user_code)).status).toBe(403);
    for (let i = 0; i < 2; i++) {
      const p = await poll(m, ub.device_auth_id, ub.user_code);
      expect(p.status).toBe(410);
      expect(await p.json()).toEqual({ error: "expired_token" });
    }
  });

  test("poll counting is per device_auth_id (default: approved on the 2nd poll)", async () => {
    const m = await start();
    const a = await (await start1(m)).json();
    const b = await (await start1(m)).json();
    expect(a.device_auth_id).not.toBe(b.device_auth_id);
    expect((await poll(m, a.device_auth_id, a.user_code)).status).toBe(403);
    expect((await poll(m, b.device_auth_id, b.user_code)).status).toBe(403);
    expect((await poll(m, a.device_auth_id, a.user_code)).status).toBe(200);
  });

  test("notEnabled: the usercode endpoint is 404", async () => {
    const m = await start({ device: { notEnabled: true } });
    expect((await start1(m)).status).toBe(404);
  });
});

describe("tokens, revoke, recording", () => {
  test("jwtClaims of issued tokens; every token contains ocx-test-token", async () => {
    const m = await start({ accountId: "acct-xyz", email: "a@b.test", plan: "pro" });
    const t = m.issueTokens();
    for (const v of [t.id_token, t.access_token, t.refresh_token]) expect(v).toContain("ocx-test-token");
    expect(t.refresh_token).toMatch(/^rt-ocx-test-token-\d+$/);
    const header = JSON.parse(Buffer.from(t.id_token.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "none", typ: "JWT" });
    expect(t.id_token.split(".")[2]).toMatch(/^ocx-test-token-sig-\d+$/);

    const id = jwtClaims(t.id_token);
    const now = Math.floor(Date.now() / 1000);
    expect(id.email).toBe("a@b.test");
    expect(id.exp - id.iat).toBe(3600);
    expect(Math.abs(id.iat - now)).toBeLessThanOrEqual(1);
    expect(id["https://api.openai.com/auth"]).toEqual({
      chatgpt_account_id: "acct-xyz",
      chatgpt_plan_type: "pro",
      chatgpt_user_id: "user-test-1",
    });
    const access = jwtClaims(t.access_token);
    expect(access.exp - access.iat).toBe(3600);
    expect(typeof access.jti).toBe("string");
    expect(access["https://api.openai.com/auth"]).toEqual({ chatgpt_account_id: "acct-xyz" });
  });

  test("revoke is recorded and answered {}; unknown routes are 404; requests are recorded in order", async () => {
    const m = await start();
    const t = m.issueTokens();
    const r = await postJson(m, "/oauth/revoke", { token: t.refresh_token, token_type_hint: "refresh_token" });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({});
    expect((await fetch(`${m.url}/nope?x=1`)).status).toBe(404);
    expect(m.revokeRequests().map((q) => q.body.token)).toEqual([t.refresh_token]);
    expect(m.requests.map((q) => `${q.method} ${q.path}${q.search}`)).toEqual(["POST /oauth/revoke", "GET /nope?x=1"]);
    const rec = m.requests[0]!;
    expect(rec.headers["content-type"]).toBe("application/json");
    expect(typeof rec.at).toBe("number");
  });
});
