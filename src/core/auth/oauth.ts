// The ChatGPT OAuth issuer: where it is, and the token endpoint calls ocx makes (code exchange,
// refresh, revocation), contract §4.3-§4.5. Only the issuer's token endpoints are ever contacted.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime.ts";
import { base64UrlEncode } from "./jwt.ts";

/** The reference's public OAuth client (a public client: no secret). */
export const DEFAULT_ISSUER = "https://auth.openai.com";
export const DEFAULT_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api";

const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

export interface OAuthSettings {
  issuer: string;
  clientId: string;
  tokenUrl: string;
  refreshUrl: string;
  revokeUrl: string;
}

export function oauthSettings(runtime: Runtime, config: Config): OAuthSettings {
  const issuer = (config.chatgpt_issuer ?? DEFAULT_ISSUER).replace(/\/+$/, "");
  return {
    issuer,
    clientId: config.chatgpt_client_id ?? DEFAULT_CLIENT_ID,
    tokenUrl: `${issuer}/oauth/token`,
    refreshUrl: runtime.env("CODEX_REFRESH_TOKEN_URL_OVERRIDE") || `${issuer}/oauth/token`,
    revokeUrl: runtime.env("CODEX_REVOKE_TOKEN_URL_OVERRIDE") || `${issuer}/oauth/revoke`,
  };
}

export interface TokenResponse {
  id_token: string;
  access_token: string;
  refresh_token: string;
}

/** A token endpoint call that did not succeed; `permanent` when asking again cannot help. */
export class TokenEndpointError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code?: string,
  ) {
    super(message);
    this.name = "TokenEndpointError";
  }
}

interface Reply {
  status: number;
  json: Record<string, unknown> | undefined;
}

/** POSTs a form or JSON body; transport failures become a transient TokenEndpointError. */
export async function postToken(
  runtime: Runtime,
  url: string,
  body: URLSearchParams | Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Reply> {
  // Loaded when a token endpoint is called: a run that only reads auth.json never needs it.
  const { createFetch } = await import("ofetch");
  const $fetch = createFetch({ fetch: runtime.fetch });
  const form = body instanceof URLSearchParams;
  const timeout = AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS);
  try {
    const res = await $fetch.raw<string, "text">(url, {
      method: "POST",
      headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json", accept: "application/json" },
      body: form ? body.toString() : JSON.stringify(body),
      responseType: "text",
      retry: 0,
      ignoreResponseError: true,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    let json: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(res._data ?? "");
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed;
    } catch {
      // not JSON: the status decides
    }
    return { status: res.status, json };
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    const cause = (e as { cause?: unknown }).cause ?? e;
    const what = timeout.aborted ? `no answer within ${TOKEN_REQUEST_TIMEOUT_MS / 1000} s` : ((cause as Error)?.message ?? String(cause));
    throw new TokenEndpointError(`cannot reach ${new URL(url).origin}: ${what}`, false);
  }
}

/** The OAuth error code of a reply: `{"error":{"code":…}}` or the standard `{"error":"…"}`. */
export function errorCode(json: Record<string, unknown> | undefined): string | undefined {
  const error = json?.error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const code = (error as Record<string, unknown>).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function tokenResponse(reply: Reply, what: string): TokenResponse {
  const j = reply.json ?? {};
  if (typeof j.id_token === "string" && typeof j.access_token === "string" && typeof j.refresh_token === "string") {
    return { id_token: j.id_token, access_token: j.access_token, refresh_token: j.refresh_token };
  }
  throw new TokenEndpointError(`${what}: the token endpoint answered without tokens`, false);
}

/** Exchanges an authorization code (browser or device flow) for tokens. */
export async function exchangeCode(
  runtime: Runtime,
  s: OAuthSettings,
  code: { code: string; redirectUri: string; codeVerifier: string },
  signal?: AbortSignal,
): Promise<TokenResponse> {
  const reply = await postToken(
    runtime,
    s.tokenUrl,
    new URLSearchParams({
      grant_type: "authorization_code",
      code: code.code,
      redirect_uri: code.redirectUri,
      client_id: s.clientId,
      code_verifier: code.codeVerifier,
    }),
    signal,
  );
  if (reply.status < 200 || reply.status >= 300) {
    const detail = errorCode(reply.json) ?? `HTTP ${reply.status}`;
    throw new TokenEndpointError(`the token endpoint refused the authorization code (${detail})`, reply.status < 500, errorCode(reply.json));
  }
  return tokenResponse(reply, "code exchange");
}

const PERMANENT_REFRESH: Record<string, string> = {
  refresh_token_expired: "the ChatGPT sign-in has expired",
  refresh_token_reused:
    "the refresh token in auth.json was already used (another copy of auth.json refreshed it; keep one copy per runner)",
  refresh_token_invalidated: "the ChatGPT sign-in was revoked",
  invalid_grant: "the token endpoint no longer accepts the refresh token",
};

/** Spends a refresh token; the answer may carry any of the three tokens (missing ones are kept). */
export async function refreshTokens(
  runtime: Runtime,
  s: OAuthSettings,
  refreshToken: string,
  reason: "proactive_expiry" | "unauthorized",
  signal?: AbortSignal,
): Promise<Partial<TokenResponse>> {
  const reply = await postToken(
    runtime,
    s.refreshUrl,
    { client_id: s.clientId, grant_type: "refresh_token", refresh_reason: reason, refresh_token: refreshToken },
    signal,
  );
  if (reply.status >= 200 && reply.status < 300) {
    const out: Partial<TokenResponse> = {};
    for (const k of ["id_token", "access_token", "refresh_token"] as const) {
      const value = reply.json?.[k];
      if (typeof value === "string" && value) out[k] = value;
    }
    return out;
  }
  const code = errorCode(reply.json);
  const known = code ? PERMANENT_REFRESH[code] : undefined;
  if (known) throw new TokenEndpointError(known, true, code);
  if (reply.status === 401) throw new TokenEndpointError("the token endpoint rejected the refresh token (401)", true, code);
  throw new TokenEndpointError(`the token endpoint answered HTTP ${reply.status}${code ? ` (${code})` : ""}`, false, code);
}

/** Best-effort revocation on logout; true when the issuer confirmed it. */
export async function revokeToken(runtime: Runtime, s: OAuthSettings, token: string, hint: "refresh_token" | "access_token"): Promise<boolean> {
  try {
    const reply = await postToken(runtime, s.revokeUrl, new URLSearchParams({ token, token_type_hint: hint, client_id: s.clientId }));
    return reply.status >= 200 && reply.status < 300;
  } catch {
    return false;
  }
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64UrlEncode(crypto.getRandomValues(new Uint8Array(64)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64UrlEncode(digest) };
}

export const randomState = () => base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
