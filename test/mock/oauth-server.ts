// A local-only mock of the ChatGPT OAuth issuer (an auth.openai.com look-alike) for end-to-end
// tests of `ocx login` and of token refresh. It speaks:
//   POST /oauth/token                       authorization_code (form) and refresh_token (JSON)
//   POST /oauth/revoke                      recorded, always 200 {}
//   POST /api/accounts/deviceauth/usercode  device-code sign-in, step 1
//   POST /api/accounts/deviceauth/token     device-code sign-in, polling
//   GET  /oauth/authorize                   browser sign-in, auto-approved with a 302
// Every token it hands out contains the substring "ocx-test-token" so the suite can scan files
// and outputs for leaks. JWTs are unsigned (`alg: none`); read them with `jwtClaims`.

import { createHash, randomBytes } from "node:crypto";
import type { RecordedRequest } from "./responses-server.ts";

export type { RecordedRequest };

export type RefreshFailureCode = "refresh_token_expired" | "refresh_token_reused" | "refresh_token_invalidated";

export interface OAuthMockOptions {
  /** Default "acct-test-1". */
  accountId?: string;
  /** Default "dev@example.test". */
  email?: string;
  /** Default "plus". */
  plan?: string;
  /** `exp` of the access tokens the mock issues is now + this. Default 3600. */
  accessTokenTtlSec?: number;
  /** Wait this long before answering a successful refresh (to widen races). Default 0. */
  refreshDelayMs?: number;
  /** Every refresh fails with HTTP 401 and {"error":{"code":<this>,"message":"..."}}. */
  refreshFailure?: RefreshFailureCode;
  device?: {
    /** Seconds; sent as a STRING in the usercode response, like the real server. Default 1. */
    interval?: number;
    /** The first N-1 token polls answer 403 pending, the Nth (and later ones) succeed. Default 2. */
    approveAfterPolls?: number;
    /** If set, poll number N (and every later one) answers 410 {"error":"expired_token"}. */
    expireAfterPolls?: number;
    /** The usercode endpoint answers 404 (device sign-in not enabled). */
    notEnabled?: boolean;
    /** If set, the usercode response includes "expires_in": <this>. */
    expiresInSec?: number;
  };
}

export interface IssuedTokens {
  id_token: string;
  access_token: string;
  refresh_token: string;
  account_id: string;
}

export interface OAuthMock {
  /** Issuer base URL, "http://127.0.0.1:<port>" (no trailing slash). */
  url: string;
  port: number;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /** POST /oauth/token requests with grant_type refresh_token. */
  refreshRequests(): RecordedRequest[];
  /** POST /oauth/revoke requests. */
  revokeRequests(): RecordedRequest[];
  /** Creates a valid token set (as if someone had logged in) and makes its refresh token the current one. */
  issueTokens(opts?: { accessExpired?: boolean }): IssuedTokens;
  /** The refresh token the mock will accept next (it rotates on every successful refresh). */
  currentRefreshToken(): string | undefined;
  /** True for an access token this mock issued that has not expired yet. */
  isValidAccessToken(token: string): boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Tokens

/** Decodes the payload of a JWT (no verification). */
export function jwtClaims(token: string): any {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error(`jwtClaims: not a JWT (${parts.length} parts)`);
  return JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
}

/** Shared by every mock in the process, so a token one mock issued is never "valid" in another. */
let counter = 0;
const next = () => ++counter;

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");
const nowSec = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function jwt(payload: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  return `${header}.${b64url(JSON.stringify(payload))}.ocx-test-token-sig-${next()}`;
}

const REFRESH_MESSAGES: Record<RefreshFailureCode, string> = {
  refresh_token_expired: "Your refresh token has expired. Please try signing in again.",
  refresh_token_reused: "Your refresh token has already been used to generate a new access token. Please try signing in again.",
  refresh_token_invalidated: "Your refresh token has been invalidated. Please try signing in again.",
};

// ---------------------------------------------------------------------------------------------
// Server

interface CodeGrant {
  redirectUri: string;
  challenge: string;
  used: boolean;
}

interface DeviceAuth {
  userCode: string;
  polls: number;
  verifier: string;
  code?: string;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const invalidGrant = (description: string) => json(400, { error: "invalid_grant", error_description: description });
const refreshError = (code: RefreshFailureCode) => json(401, { error: { code, message: REFRESH_MESSAGES[code] } });

const isForm = (rec: RecordedRequest) => (rec.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded");
const isJson = (rec: RecordedRequest) => (rec.headers["content-type"] ?? "").includes("application/json");
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export async function startMockOAuth(opts: OAuthMockOptions = {}): Promise<OAuthMock> {
  const accountId = opts.accountId ?? "acct-test-1";
  const email = opts.email ?? "dev@example.test";
  const plan = opts.plan ?? "plus";
  const ttl = opts.accessTokenTtlSec ?? 3600;
  const refreshDelayMs = opts.refreshDelayMs ?? 0;
  const device = opts.device ?? {};
  const interval = device.interval ?? 1;
  const approveAfter = device.approveAfterPolls ?? 2;

  const requests: RecordedRequest[] = [];
  /** access token -> exp (seconds) */
  const accessTokens = new Map<string, number>();
  /** refresh tokens that were current once and are not any more */
  const spentRefreshTokens = new Set<string>();
  let currentRefresh: string | undefined;
  const codes = new Map<string, CodeGrant>();
  const devices = new Map<string, DeviceAuth>();
  let closed = false;

  /** Mints a fresh set synchronously and makes its refresh token the current one. */
  function mint(accessExpired = false): IssuedTokens {
    const iat = nowSec();
    const id_token = jwt({
      email,
      exp: iat + 3600,
      iat,
      "https://api.openai.com/auth": {
        chatgpt_account_id: accountId,
        chatgpt_plan_type: plan,
        chatgpt_user_id: "user-test-1",
      },
    });
    const accessExp = accessExpired ? iat - 60 : iat + ttl;
    const access_token = jwt({
      exp: accessExp,
      iat,
      jti: String(next()),
      "https://api.openai.com/auth": { chatgpt_account_id: accountId },
    });
    const refresh_token = `rt-ocx-test-token-${next()}`;
    accessTokens.set(access_token, accessExp);
    if (currentRefresh !== undefined) spentRefreshTokens.add(currentRefresh);
    currentRefresh = refresh_token;
    return { id_token, access_token, refresh_token, account_id: accountId };
  }

  const tokenBody = (t: IssuedTokens) => ({ id_token: t.id_token, access_token: t.access_token, refresh_token: t.refresh_token });

  function registerCode(redirectUri: string, challenge: string): string {
    const code = `ac-${next()}-${randomBytes(12).toString("base64url")}`;
    codes.set(code, { redirectUri, challenge, used: false });
    return code;
  }

  function exchangeCode(rec: RecordedRequest): Response {
    if (!isForm(rec)) {
      return json(400, {
        error: "invalid_request",
        error_description: "mock: the authorization_code exchange must be application/x-www-form-urlencoded",
      });
    }
    const b = rec.body as Record<string, string>;
    const code = str(b.code);
    const redirectUri = str(b.redirect_uri);
    const verifier = str(b.code_verifier);
    if (!code || !redirectUri || !verifier || !str(b.client_id)) {
      return invalidGrant("mock: code, redirect_uri, client_id and code_verifier are required");
    }
    const grant = codes.get(code);
    if (!grant) return invalidGrant("mock: unknown authorization code");
    if (grant.used) return invalidGrant("mock: authorization code already used");
    if (grant.redirectUri !== redirectUri) {
      return invalidGrant(`mock: redirect_uri ${redirectUri} does not match ${grant.redirectUri}`);
    }
    if (s256(verifier) !== grant.challenge) return invalidGrant("mock: PKCE verification failed");
    grant.used = true;
    return json(200, tokenBody(mint()));
  }

  async function refresh(rec: RecordedRequest): Promise<Response> {
    if (!isJson(rec)) {
      return json(400, { error: "invalid_request", error_description: "mock: a refresh must be a JSON body" });
    }
    if (opts.refreshFailure) return refreshError(opts.refreshFailure);
    const token = str((rec.body as Record<string, unknown>).refresh_token);
    // Decide and rotate before any await, so concurrent refreshes with one token get one winner.
    if (token !== undefined && token === currentRefresh) {
      const fresh = mint(); // marks `token` spent, makes the new one current
      if (refreshDelayMs > 0) await sleep(refreshDelayMs);
      return json(200, tokenBody(fresh));
    }
    if (token !== undefined && spentRefreshTokens.has(token)) return refreshError("refresh_token_reused");
    return refreshError("refresh_token_invalidated");
  }

  async function token(rec: RecordedRequest): Promise<Response> {
    const body = rec.body;
    const grantType = body && typeof body === "object" ? (body as Record<string, unknown>).grant_type : undefined;
    if (grantType === "authorization_code") return exchangeCode(rec);
    if (grantType === "refresh_token") return refresh(rec);
    return json(400, { error: "unsupported_grant_type", error_description: `mock: grant_type ${String(grantType)}` });
  }

  function authorize(url: URL): Response {
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri");
    const challenge = q.get("code_challenge");
    const missing = ["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method"].filter((k) => !q.get(k));
    if (missing.length) return json(400, { error: "invalid_request", error_description: `mock: missing ${missing.join(", ")}` });
    if (q.get("response_type") !== "code") return json(400, { error: "unsupported_response_type" });
    if (q.get("code_challenge_method") !== "S256") {
      return json(400, { error: "invalid_request", error_description: "mock: code_challenge_method must be S256" });
    }
    let target: URL;
    try {
      target = new URL(redirectUri!);
    } catch {
      return json(400, { error: "invalid_request", error_description: "mock: redirect_uri is not a URL" });
    }
    const code = registerCode(redirectUri!, challenge!);
    target.searchParams.set("code", code);
    const state = q.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  }

  function deviceUsercode(rec: RecordedRequest): Response {
    if (device.notEnabled) return json(404, { error: "not_found" });
    const b = rec.body;
    if (!b || typeof b !== "object" || !str((b as Record<string, unknown>).client_id)) {
      return json(400, { error: "invalid_request", error_description: "mock: JSON body with client_id required" });
    }
    const id = `dev-${next()}`;
    const userCode = "ABCD-1234";
    devices.set(id, { userCode, polls: 0, verifier: randomBytes(32).toString("base64url") });
    const out: Record<string, unknown> = { device_auth_id: id, user_code: userCode, interval: String(interval) };
    if (device.expiresInSec !== undefined) out.expires_in = device.expiresInSec;
    return json(200, out);
  }

  function deviceToken(rec: RecordedRequest): Response {
    const b = (rec.body && typeof rec.body === "object" ? rec.body : {}) as Record<string, unknown>;
    const entry = typeof b.device_auth_id === "string" ? devices.get(b.device_auth_id) : undefined;
    if (!entry || b.user_code !== entry.userCode) {
      return json(400, { error: "invalid_request", error_description: "mock: unknown device_auth_id or user_code" });
    }
    const poll = ++entry.polls;
    if (device.expireAfterPolls !== undefined && poll >= device.expireAfterPolls) return json(410, { error: "expired_token" });
    if (poll < approveAfter) return json(403, { error: "authorization_pending" });
    const challenge = s256(entry.verifier);
    entry.code ??= registerCode(`${base}/deviceauth/callback`, challenge);
    return json(200, { authorization_code: entry.code, code_challenge: challenge, code_verifier: entry.verifier });
  }

  async function route(rec: RecordedRequest, url: URL): Promise<Response> {
    const { method, path } = rec;
    if (method === "POST" && path === "/oauth/token") return token(rec);
    if (method === "POST" && path === "/oauth/revoke") return json(200, {});
    if (method === "POST" && path === "/api/accounts/deviceauth/usercode") return deviceUsercode(rec);
    if (method === "POST" && path === "/api/accounts/deviceauth/token") return deviceToken(rec);
    if (method === "GET" && path === "/oauth/authorize") return authorize(url);
    return json(404, { error: "not_found", error_description: `mock: no route for ${method} ${path}` });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0, // a long refreshDelayMs must not be cut by Bun's 10 s default
    error(e) {
      return json(500, { error: "server_error", error_description: `mock: ${e.message}` });
    },
    async fetch(request) {
      const at = Date.now();
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
      const text = await request.text();
      let body: unknown = text || undefined;
      if ((headers["content-type"] ?? "").includes("application/x-www-form-urlencoded")) {
        body = Object.fromEntries(new URLSearchParams(text));
      } else if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          // keep the raw text
        }
      }
      const rec: RecordedRequest = { method: request.method, path: url.pathname, search: url.search, headers, body, at };
      requests.push(rec);
      return route(rec, url);
    },
  });

  const base = `http://127.0.0.1:${server.port}`;

  return {
    url: base,
    port: server.port!,
    requests,
    refreshRequests: () =>
      requests.filter((r) => r.method === "POST" && r.path === "/oauth/token" && r.body?.grant_type === "refresh_token"),
    revokeRequests: () => requests.filter((r) => r.method === "POST" && r.path === "/oauth/revoke"),
    issueTokens: (o = {}) => mint(o.accessExpired ?? false),
    currentRefreshToken: () => currentRefresh,
    isValidAccessToken(t) {
      const exp = accessTokens.get(t);
      return exp !== undefined && exp > nowSec();
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.stop(true);
    },
  };
}
