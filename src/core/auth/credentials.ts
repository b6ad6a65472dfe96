// The credentials a model request carries (contract §4.2, §4.5): CODEX_API_KEY, else auth.json,
// either an API key or a ChatGPT sign-in whose access token is refreshed in place, under a lock,
// and written back before the request that needed it is sent.
import type { Config } from "../config/schema.ts";
import { OcxError } from "../errors.ts";
import type { ProviderAuth } from "../model/types.ts";
import type { Runtime } from "../runtime.ts";
import { idTokenInfo, jwtExpiryMs } from "./jwt.ts";
import { type OAuthSettings, oauthSettings, refreshTokens, TokenEndpointError } from "./oauth.ts";
import { type AuthDotJson, authMode, readAuth, type TokenData, withAuthLock, writeAuth } from "./storage.ts";

export const NOT_LOGGED_IN =
  "Not logged in: set CODEX_API_KEY, store a key with `printenv OPENAI_API_KEY | ocx login --with-api-key`, " +
  "or sign in with ChatGPT (`ocx login`, or `ocx login --device-auth` without a browser)";

/**
 * The no-credentials message. Like `codex exec`, exec does not read OPENAI_API_KEY from the
 * environment; when it is set, the message says so and how to hand it over.
 */
export function notLoggedIn(runtime: Runtime): string {
  if (!runtime.env("OPENAI_API_KEY")?.trim()) return NOT_LOGGED_IN;
  return (
    "Not logged in: OPENAI_API_KEY is set, but `ocx exec` (like `codex exec`) reads only CODEX_API_KEY from the environment; " +
    'run with CODEX_API_KEY="$OPENAI_API_KEY", store it with `printenv OPENAI_API_KEY | ocx login --with-api-key`, ' +
    "or sign in with ChatGPT (`ocx login`, or `ocx login --device-auth` without a browser)"
  );
}

/** A fixed bearer token (API keys). */
export function bearer(key: string): ProviderAuth {
  return { headers: async () => ({ authorization: `Bearer ${key}` }), secrets: () => [key] };
}

/** Credentials for a provider with `requires_openai_auth` (the built-in openai provider). */
export async function openAiAuth(
  runtime: Runtime,
  config: Config,
  home: string,
  warn: (message: string) => void,
): Promise<{ auth: ProviderAuth; chatgpt: boolean }> {
  const fromEnv = runtime.env("CODEX_API_KEY")?.trim();
  if (fromEnv) return { auth: bearer(fromEnv), chatgpt: false };
  const stored = await readAuth(runtime, home);
  if (!stored) throw new OcxError("auth", notLoggedIn(runtime));
  const mode = authMode(stored);
  if (mode === "apikey") {
    const key = stored.OPENAI_API_KEY?.trim();
    if (!key) throw new OcxError("auth", `auth.json has auth_mode "apikey" but no OPENAI_API_KEY; run \`ocx login --with-api-key\``);
    if (config.forced_login_method === "chatgpt") {
      throw new OcxError("auth", "config.toml requires ChatGPT sign-in (forced_login_method = \"chatgpt\") but auth.json holds an API key; run `ocx login`");
    }
    return { auth: bearer(key), chatgpt: false };
  }
  if (mode !== "chatgpt") {
    throw new OcxError("auth", `auth.json uses auth_mode "${mode}", which ocx does not support; run \`ocx login\` to sign in again`);
  }
  if (!stored.tokens) throw new OcxError("auth", `auth.json has no ChatGPT tokens; run \`ocx login\` to sign in`);
  if (config.forced_login_method === "api") {
    throw new OcxError("auth", "config.toml requires API-key login (forced_login_method = \"api\") but auth.json holds a ChatGPT sign-in; run `ocx login --with-api-key`");
  }
  return { auth: new ChatGptAuth(runtime, home, oauthSettings(runtime, config), stored, warn), chatgpt: true };
}

const REFRESH_AFTER_MS = 8 * 24 * 60 * 60 * 1000;

function expired(tokens: TokenData, now: number): boolean {
  const exp = jwtExpiryMs(tokens.access_token);
  return exp !== undefined && exp <= now;
}

/** Refresh before use: the access token has expired, or the last refresh is over 8 days old. */
export function needsRefresh(auth: AuthDotJson, now: number): boolean {
  if (!auth.tokens) return false;
  if (expired(auth.tokens, now)) return true;
  const last = auth.last_refresh ? Date.parse(auth.last_refresh) : Number.NaN;
  if (Number.isFinite(last)) return now - last > REFRESH_AFTER_MS;
  return jwtExpiryMs(auth.tokens.access_token) === undefined;
}

export class ChatGptAuth implements ProviderAuth {
  private auth: AuthDotJson & { tokens: TokenData };
  private readonly seen = new Set<string>();
  /** The access token this process got from the issuer, if it refreshed. */
  private refreshedHere?: string;

  constructor(
    private readonly runtime: Runtime,
    private readonly home: string,
    private readonly settings: OAuthSettings,
    stored: AuthDotJson,
    private readonly warn: (message: string) => void,
  ) {
    this.auth = this.adopt(stored);
  }

  async headers(signal: AbortSignal): Promise<Record<string, string>> {
    if (needsRefresh(this.auth, this.runtime.now())) await this.refresh("proactive_expiry", signal);
    const { tokens } = this.auth;
    const headers: Record<string, string> = { authorization: `Bearer ${tokens.access_token}` };
    const account = tokens.account_id ?? idTokenInfo(tokens.id_token).accountId;
    if (account) headers["chatgpt-account-id"] = account;
    return headers;
  }

  /** A 401: another process's newer token, else a refresh; a token fresh from our own refresh is not refreshed again. */
  async recover(signal: AbortSignal): Promise<boolean> {
    if (this.auth.tokens.access_token === this.refreshedHere) return false;
    await this.refresh("unauthorized", signal);
    return true;
  }

  secrets(): string[] {
    return [...this.seen];
  }

  private adopt(stored: AuthDotJson): AuthDotJson & { tokens: TokenData } {
    const tokens = stored.tokens!;
    for (const s of [tokens.access_token, tokens.refresh_token, tokens.id_token, stored.OPENAI_API_KEY]) if (s) this.seen.add(s);
    this.auth = { ...stored, tokens };
    return this.auth;
  }

  /**
   * Under the lock: if auth.json changed since this token was read, another process refreshed
   * (or someone signed in again), so use that; else spend the refresh token and write the
   * rotated tokens before returning.
   */
  private async refresh(reason: "proactive_expiry" | "unauthorized", signal: AbortSignal): Promise<void> {
    const { runtime, home } = this;
    const sent = this.auth.tokens.access_token;
    await withAuthLock(runtime, home, signal, async () => {
      const disk = await readAuth(runtime, home);
      if (!disk?.tokens || authMode(disk) !== "chatgpt") {
        throw new OcxError("auth", "auth.json no longer holds a ChatGPT sign-in (signed out meanwhile?); run `ocx login` to sign in again");
      }
      if (disk.tokens.access_token !== sent) {
        this.adopt(disk);
        if (reason === "unauthorized" || !needsRefresh(disk, runtime.now())) return;
      }
      let fresh;
      try {
        fresh = await refreshTokens(runtime, this.settings, disk.tokens.refresh_token, reason, signal);
      } catch (e) {
        if (!(e instanceof TokenEndpointError)) throw e;
        if (e.permanent) {
          throw new OcxError("auth", `Cannot refresh the ChatGPT access token: ${e.message}; run \`ocx login\` to sign in again`);
        }
        if (reason === "proactive_expiry" && !expired(disk.tokens, runtime.now())) {
          // Only old, not expired: the current token still works; refresh on a later run.
          this.warn(`could not refresh the ChatGPT access token (${e.message}); using the current one`);
          this.adopt(disk);
          return;
        }
        throw new OcxError("failed", `Cannot refresh the ChatGPT access token: ${e.message}; check the network and try again`);
      }
      const tokens: TokenData = { ...disk.tokens, ...fresh };
      const account = fresh.id_token ? idTokenInfo(fresh.id_token).accountId : undefined;
      if (account) tokens.account_id = account;
      const next: AuthDotJson = { ...disk, tokens, last_refresh: new Date(runtime.now()).toISOString() };
      try {
        await writeAuth(runtime, home, next);
      } catch (e) {
        // The issuer has rotated the tokens: this run goes on with them, but the old refresh
        // token in the file is now spent.
        this.warn(`${(e as Error).message}; the refreshed sign-in is used for this run only, so the next run will need \`ocx login\``);
      }
      this.adopt(next);
      this.refreshedHere = tokens.access_token;
    });
  }
}
