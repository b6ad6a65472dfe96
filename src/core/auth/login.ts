// `ocx login --with-api-key`, `ocx login status`, `ocx logout`, and what the ChatGPT flows share:
// saving a sign-in. Every message goes to stderr; stdout carries only `status --json`.
import type { Config } from "../config/schema.ts";
import { ExitCode, OcxError } from "../errors.ts";
import { readStdin } from "../prompt/read-prompt.ts";
import type { Runtime } from "../runtime.ts";
import { idTokenInfo, jwtExpiryMs } from "./jwt.ts";
import { oauthSettings, revokeToken, type TokenResponse } from "./oauth.ts";
import { type AuthDotJson, authFile, authMode, readAuth, removeAuth, writeAuth } from "./storage.ts";

/** Waiting this long for the first byte of a piped key; then nothing is coming. */
const KEY_STDIN_TIMEOUT_MS = 5000;

/** `sk-test-***bcdef`: the first 8 and last 5 characters; short keys show only `***`. */
export function maskKey(key: string): string {
  return key.length <= 13 ? "***" : `${key.slice(0, 8)}***${key.slice(-5)}`;
}

const say = (runtime: Runtime, line: string) => runtime.stderr.write(`${line}\n`);

export async function loginWithApiKey(runtime: Runtime, config: Config, home: string): Promise<number> {
  if (config.forced_login_method === "chatgpt") {
    throw new OcxError("auth", "API key login is disabled by config.toml (forced_login_method = \"chatgpt\"); run `ocx login` instead");
  }
  if (runtime.stdin.isTTY) {
    throw new OcxError(
      "usage",
      "--with-api-key expects the API key on stdin. Try piping it, e.g. `printenv OPENAI_API_KEY | ocx login --with-api-key`.",
    );
  }
  say(runtime, "Reading API key from stdin...");
  const key = ((await readStdin(runtime.stdin, KEY_STDIN_TIMEOUT_MS)) ?? "").trim();
  if (!key) {
    throw new OcxError("auth", "No API key provided via stdin; pipe it, e.g. `printenv OPENAI_API_KEY | ocx login --with-api-key`.");
  }
  if (/\s/.test(key)) throw new OcxError("auth", "The text on stdin is not one API key (it contains whitespace); pipe only the key.");
  await writeAuth(runtime, home, { auth_mode: "apikey", OPENAI_API_KEY: key });
  say(runtime, "API key saved. Authentication is checked when you send a request.");
  return ExitCode.ok;
}

/** Stores a ChatGPT sign-in as the reference does (auth_mode "chatgpt", tokens, last_refresh). */
export async function saveChatGptSignIn(runtime: Runtime, home: string, tokens: TokenResponse): Promise<void> {
  const auth: AuthDotJson = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { ...tokens, account_id: idTokenInfo(tokens.id_token).accountId ?? null },
    last_refresh: new Date(runtime.now()).toISOString(),
  };
  await writeAuth(runtime, home, auth);
}

export function refuseChatGptIfForced(config: Config): void {
  if (config.forced_login_method === "api") {
    throw new OcxError("auth", "ChatGPT login is disabled by config.toml (forced_login_method = \"api\"); use `ocx login --with-api-key` instead");
  }
}

export async function loginStatus(runtime: Runtime, home: string, json: boolean): Promise<number> {
  const auth = await readAuth(runtime, home);
  const report = (obj: Record<string, unknown>) => json && runtime.stdout.write(`${JSON.stringify(obj)}\n`);
  if (runtime.env("CODEX_API_KEY")?.trim()) say(runtime, "Note: CODEX_API_KEY is set; `ocx exec` uses it instead of auth.json.");
  if (!auth) {
    report({ logged_in: false });
    say(runtime, "Not logged in");
    return ExitCode.failed;
  }
  const mode = authMode(auth);
  if (mode === "apikey" && auth.OPENAI_API_KEY) {
    const masked = maskKey(auth.OPENAI_API_KEY);
    report({ logged_in: true, auth_mode: "apikey", api_key: masked });
    say(runtime, `API key configured - ${masked}`);
    say(runtime, "Authentication is checked when you send a request.");
    return ExitCode.ok;
  }
  if (mode === "chatgpt" && auth.tokens) {
    const info = idTokenInfo(auth.tokens.id_token);
    const exp = jwtExpiryMs(auth.tokens.access_token);
    report({
      logged_in: true,
      auth_mode: "chatgpt",
      email: info.email ?? null,
      plan: info.plan ?? null,
      account_id: auth.tokens.account_id ?? info.accountId ?? null,
      last_refresh: auth.last_refresh ?? null,
      access_token_expires_at: exp === undefined ? null : new Date(exp).toISOString(),
    });
    say(runtime, "Logged in using ChatGPT");
    return ExitCode.ok;
  }
  report({ logged_in: false, auth_mode: mode });
  say(runtime, `Not logged in (${authFile(home)} holds no usable credentials)`);
  return ExitCode.failed;
}

export async function logout(runtime: Runtime, config: Config, home: string): Promise<number> {
  let auth: AuthDotJson | null = null;
  try {
    auth = await readAuth(runtime, home);
  } catch {
    // a damaged file is still removed
  }
  const refresh = auth?.tokens?.refresh_token;
  if (refresh) {
    const revoked = await revokeToken(runtime, oauthSettings(runtime, config), refresh, "refresh_token");
    if (!revoked) say(runtime, "Warning: could not revoke the ChatGPT token at the issuer; removing it from this machine anyway.");
  }
  if (!(await removeAuth(runtime, home))) {
    say(runtime, "Not logged in");
    return ExitCode.ok;
  }
  say(runtime, "Successfully logged out");
  return ExitCode.ok;
}
