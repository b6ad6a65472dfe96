import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChatGptAuth, needsRefresh, openAiAuth } from "../../src/core/auth/credentials.ts";
import { base64UrlEncode, idTokenInfo, jwtClaims, jwtExpiryMs } from "../../src/core/auth/jwt.ts";
import { maskKey } from "../../src/core/auth/login.ts";
import { oauthSettings, pkcePair } from "../../src/core/auth/oauth.ts";
import { readAuth, withAuthLock, writeAuth } from "../../src/core/auth/storage.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();

const enc = (o: unknown) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(o)));
const jwt = (claims: Record<string, unknown>, sig = "sig") => `${enc({ alg: "none" })}.${enc(claims)}.${sig}`;
const nowS = () => Math.floor(Date.now() / 1000);
const home = () => tempDir("ocx-auth-");
const signal = () => new AbortController().signal;

function signIn(accessExp: number, extra: Record<string, unknown> = {}) {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: jwt({ email: "a@b.c", "https://api.openai.com/auth": { chatgpt_account_id: "acct-1", chatgpt_plan_type: "pro" } }),
      access_token: jwt({ exp: accessExp }, "access-old"),
      refresh_token: "rt-old",
      account_id: "acct-1",
    },
    last_refresh: new Date().toISOString(),
    ...extra,
  };
}

/** A fetch answering the token endpoint; records the bodies. */
function tokenEndpoint(answer: (body: any) => Response) {
  const bodies: any[] = [];
  const fetch = (async (_url: unknown, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    bodies.push(body);
    return answer(body);
  }) as unknown as typeof globalThis.fetch;
  return { fetch, bodies };
}

describe("keys and tokens", () => {
  test("maskKey shows 8 + 5 characters, short keys only ***", () => {
    expect(maskKey("sk-test-1234567890abcdef")).toBe("sk-test-***bcdef");
    expect(maskKey("sk-1234567890")).toBe("***");
    expect(maskKey("sk-12345678901")).toBe("sk-12345***78901");
  });

  test("JWT claims, expiry and id-token info; non-JWTs give nothing", () => {
    const t = jwt({ exp: 100, email: "x@y.z", "https://api.openai.com/auth": { chatgpt_account_id: "a", chatgpt_plan_type: "plus" } });
    expect(jwtClaims(t)?.email).toBe("x@y.z");
    expect(jwtExpiryMs(t)).toBe(100_000);
    expect(idTokenInfo(t)).toEqual({ email: "x@y.z", plan: "plus", accountId: "a" });
    expect(jwtClaims("opaque")).toBeUndefined();
    expect(jwtClaims("a.%%%.c")).toBeUndefined();
    expect(idTokenInfo(jwt({ "https://api.openai.com/profile": { email: "p@q.r" } })).email).toBe("p@q.r");
  });

  test("PKCE: the challenge is the S256 of the verifier", async () => {
    const { verifier, challenge } = await pkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    const digest = new Uint8Array(new Bun.CryptoHasher("sha256").update(verifier).digest());
    expect(challenge).toBe(base64UrlEncode(digest));
  });

  test("needsRefresh: expired exp, or a last refresh over 8 days old", () => {
    const now = Date.now();
    const day = 86_400_000;
    const a = (exp: number | undefined, last?: string) => ({
      tokens: { id_token: "x", refresh_token: "r", access_token: exp === undefined ? "opaque" : jwt({ exp: Math.floor(exp / 1000) }) },
      last_refresh: last,
    });
    expect(needsRefresh(a(now + day, new Date(now).toISOString()), now)).toBe(false);
    expect(needsRefresh(a(now - 1000, new Date(now).toISOString()), now)).toBe(true);
    expect(needsRefresh(a(now + day, new Date(now - 9 * day).toISOString()), now)).toBe(true);
    expect(needsRefresh(a(now + day, new Date(now - 7 * day).toISOString()), now)).toBe(false);
    expect(needsRefresh(a(now + day), now)).toBe(false); // valid exp, no last_refresh
    expect(needsRefresh(a(undefined), now)).toBe(true); // nothing says it is fresh
  });
});

describe("auth.json", () => {
  test("written 0600 by atomic replace, pretty-printed, unknown fields kept; nothing else left behind", async () => {
    const h = home();
    const rt = fakeRuntime();
    writeFileSync(join(h, "auth.json"), JSON.stringify({ OPENAI_API_KEY: "sk-1", future_field: { x: 1 } }), { mode: 0o644 });
    const auth = (await readAuth(rt, h))!;
    await writeAuth(rt, h, { ...auth, OPENAI_API_KEY: "sk-2" });
    expect(statSync(join(h, "auth.json")).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(h, "auth.json"), "utf8");
    expect(text).toContain('\n  "OPENAI_API_KEY": "sk-2"');
    expect(JSON.parse(text).future_field).toEqual({ x: 1 });
    expect(readdirSync(h)).toEqual(["auth.json"]);
  });

  test("a damaged file is an auth error naming the file, not a crash", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), "{nope");
    const err = await readAuth(fakeRuntime(), h).catch((e) => e);
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(join(h, "auth.json"));
    writeFileSync(join(h, "auth.json"), JSON.stringify({ tokens: { access_token: 5 } }));
    const err2 = await readAuth(fakeRuntime(), h).catch((e) => e);
    expect(err2.message).toContain("tokens.");
  });

  test("the lock serialises holders and takes over a stale one", async () => {
    const h = home();
    const rt = fakeRuntime();
    const order: string[] = [];
    const hold = (name: string) =>
      withAuthLock(rt, h, signal(), async () => {
        order.push(`${name}+`);
        await Bun.sleep(30);
        order.push(`${name}-`);
      });
    await Promise.all([hold("a"), hold("b")]);
    expect(order.join(" ")).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);
    // a lock left by a crashed process 31 s ago
    const lock = join(h, "auth.json.ocx.lock");
    writeFileSync(lock, "x");
    const old = new Date(Date.now() - 31_000);
    require("node:fs").utimesSync(lock, old, old);
    expect(await withAuthLock(rt, h, signal(), async () => "got it")).toBe("got it");
    expect(readdirSync(h)).toEqual([]);
  });
});

describe("credentials for exec", () => {
  test("CODEX_API_KEY wins over auth.json; a stored key next; nothing is exit 4", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() + 3600)));
    const env = await openAiAuth(fakeRuntime({ envVars: { CODEX_API_KEY: " sk-env " } }), {}, h, () => {});
    expect(env.chatgpt).toBe(false);
    expect(await env.auth.headers(signal())).toEqual({ authorization: "Bearer sk-env" });
    const chat = await openAiAuth(fakeRuntime(), {}, h, () => {});
    expect(chat.chatgpt).toBe(true);
    expect(await chat.auth.headers(signal())).toMatchObject({ "chatgpt-account-id": "acct-1" });
    writeFileSync(join(h, "auth.json"), JSON.stringify({ OPENAI_API_KEY: "sk-file" }));
    expect(await (await openAiAuth(fakeRuntime(), {}, h, () => {})).auth.headers(signal())).toEqual({ authorization: "Bearer sk-file" });
    const none = await openAiAuth(fakeRuntime(), {}, home(), () => {}).catch((e) => e);
    expect(none.exitCode).toBe(4);
    expect(none.message).toContain("ocx login");
  });

  test("no credentials: the message names every way that works; OPENAI_API_KEY alone is not read (as codex exec), and said so", async () => {
    const none = await openAiAuth(fakeRuntime(), {}, home(), () => {}).catch((e) => e);
    expect(none.exitCode).toBe(4);
    for (const way of ["CODEX_API_KEY", "printenv OPENAI_API_KEY | ocx login --with-api-key", "`ocx login`", "ocx login --device-auth"]) expect(none.message).toContain(way);
    expect(none.message).not.toContain("\n");
    const openai = await openAiAuth(fakeRuntime({ envVars: { OPENAI_API_KEY: "sk-openai-only-key" } }), {}, home(), () => {}).catch((e) => e);
    expect(openai.exitCode).toBe(4);
    expect(openai.message).toContain("OPENAI_API_KEY is set, but `ocx exec` (like `codex exec`) reads only CODEX_API_KEY");
    expect(openai.message).toContain('CODEX_API_KEY="$OPENAI_API_KEY"');
    expect(openai.message).toContain("ocx login --device-auth");
    expect(openai.message).not.toContain("sk-openai-only-key");
  });

  test("forced_login_method refuses the other kind of credentials", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() + 3600)));
    const err = await openAiAuth(fakeRuntime(), { forced_login_method: "api" }, h, () => {}).catch((e) => e);
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain("forced_login_method");
  });

  test("an expired token is refreshed and written before the headers are handed out", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() - 10, { extra: "kept" })), { mode: 0o600 });
    const fresh = jwt({ exp: nowS() + 3600 }, "access-new");
    const ep = tokenEndpoint(() => Response.json({ access_token: fresh, refresh_token: "rt-new" }));
    const rt = fakeRuntime({ fetch: ep.fetch });
    const { auth } = await openAiAuth(rt, { chatgpt_issuer: "http://issuer.test" }, h, () => {});
    const headers = await auth.headers(signal());
    expect(headers.authorization).toBe(`Bearer ${fresh}`);
    expect(ep.bodies).toEqual([{ client_id: oauthSettings(rt, {}).clientId, grant_type: "refresh_token", refresh_reason: "proactive_expiry", refresh_token: "rt-old" }]);
    const disk = JSON.parse(readFileSync(join(h, "auth.json"), "utf8"));
    expect(disk.tokens.access_token).toBe(fresh);
    expect(disk.tokens.refresh_token).toBe("rt-new");
    expect(disk.tokens.id_token).toBe(signIn(0).tokens.id_token); // not in the answer: kept
    expect(disk.extra).toBe("kept");
    expect(auth.secrets()).toEqual(expect.arrayContaining(["rt-old", "rt-new", fresh]));
    await auth.headers(signal());
    expect(ep.bodies.length).toBe(1); // fresh now
  });

  test("a token another process refreshed meanwhile is used instead of refreshing again", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() - 10)));
    const ep = tokenEndpoint(() => Response.json({}, { status: 500 }));
    const rt = fakeRuntime({ fetch: ep.fetch });
    const { auth } = await openAiAuth(rt, {}, h, () => {});
    const theirs = signIn(nowS() + 3600);
    theirs.tokens.access_token = jwt({ exp: nowS() + 3600 }, "theirs");
    writeFileSync(join(h, "auth.json"), JSON.stringify(theirs));
    expect((await auth.headers(signal())).authorization).toBe(`Bearer ${theirs.tokens.access_token}`);
    expect(ep.bodies.length).toBe(0);
  });

  test("permanent refresh failures are exit 4 with a sign-in hint; transient ones keep a token that still works", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() - 10)));
    for (const code of ["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"]) {
      const ep = tokenEndpoint(() => Response.json({ error: { code, message: "no" } }, { status: 401 }));
      const { auth } = await openAiAuth(fakeRuntime({ fetch: ep.fetch }), {}, h, () => {});
      const err = await auth.headers(signal()).catch((e) => e);
      expect(err.exitCode).toBe(4);
      expect(err.message).toContain("run `ocx login` to sign in again");
    }
    // valid exp, but 9 days since the last refresh; the issuer is down
    const old = signIn(nowS() + 3600, { last_refresh: new Date(Date.now() - 9 * 86_400_000).toISOString() });
    writeFileSync(join(h, "auth.json"), JSON.stringify(old));
    const warnings: string[] = [];
    const ep = tokenEndpoint(() => Response.json({}, { status: 503 }));
    const { auth } = await openAiAuth(fakeRuntime({ fetch: ep.fetch }), {}, h, (m) => warnings.push(m));
    expect((await auth.headers(signal())).authorization).toBe(`Bearer ${old.tokens.access_token}`);
    expect(warnings.join()).toContain("HTTP 503");
    // expired and the issuer is down: the run fails (exit 1), not a sign-in problem
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() - 10)));
    const down = await (await openAiAuth(fakeRuntime({ fetch: ep.fetch }), {}, h, () => {})).auth.headers(signal()).catch((e) => e);
    expect(down.exitCode).toBe(1);
  });

  test("recover() after a 401 refreshes with reason unauthorized", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() + 3600)));
    const ep = tokenEndpoint(() => Response.json({ access_token: jwt({ exp: nowS() + 7200 }, "n"), refresh_token: "rt-2" }));
    const { auth } = await openAiAuth(fakeRuntime({ fetch: ep.fetch }), {}, h, () => {});
    expect(auth).toBeInstanceOf(ChatGptAuth);
    expect(await auth.recover!(signal())).toBe(true);
    expect(ep.bodies[0].refresh_reason).toBe("unauthorized");
  });
});

describe("auth.json that cannot be replaced", () => {
  test("a symlinked auth.json is replaced at its target; the link stays", async () => {
    const h = home();
    const secrets = home();
    writeFileSync(join(secrets, "auth.json"), JSON.stringify({ OPENAI_API_KEY: "sk-1" }));
    require("node:fs").symlinkSync(join(secrets, "auth.json"), join(h, "auth.json"));
    await writeAuth(fakeRuntime(), h, { OPENAI_API_KEY: "sk-2" });
    expect(require("node:fs").lstatSync(join(h, "auth.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(secrets, "auth.json"), "utf8")).OPENAI_API_KEY).toBe("sk-2");
    expect(readdirSync(secrets)).toEqual(["auth.json"]);
  });

  test("a read-only home: the refreshed tokens serve this run, with a warning; no crash on the lock", async () => {
    const h = home();
    writeFileSync(join(h, "auth.json"), JSON.stringify(signIn(nowS() - 10)));
    const fresh = jwt({ exp: nowS() + 3600 }, "ro-new");
    const ep = tokenEndpoint(() => Response.json({ access_token: fresh, refresh_token: "rt-ro" }));
    const base = fakeRuntime();
    const erofs = () => Promise.reject(Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" }));
    const rt = fakeRuntime({ fetch: ep.fetch, fs: { ...base.fs, createExclusive: erofs, rename: erofs } });
    const warnings: string[] = [];
    const { auth } = await openAiAuth(rt, {}, h, (m) => warnings.push(m));
    expect((await auth.headers(signal())).authorization).toBe(`Bearer ${fresh}`);
    expect(warnings.join("\n")).toContain("next run will need `ocx login`");
    expect(warnings.join("\n")).not.toContain("rt-ro");
  });
});
