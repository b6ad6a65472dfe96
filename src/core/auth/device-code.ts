// `ocx login --device-auth`: sign in on another device with a short code (contract §4.4), for
// machines with no browser. The code is good for 15 minutes; Ctrl-C stops waiting cleanly.
import type { Config } from "../config/schema.ts";
import { ExitCode, OcxError } from "../errors.ts";
import { sleep } from "../model/retry.ts";
import type { Runtime } from "../runtime.ts";
import { refuseChatGptIfForced, saveChatGptSignIn } from "./login.ts";
import { errorCode, exchangeCode, oauthSettings, postToken, TokenEndpointError } from "./oauth.ts";

const CODE_LIFETIME_MS = 15 * 60 * 1000;
const DEFAULT_INTERVAL_S = 5;

export async function loginWithDeviceCode(runtime: Runtime, config: Config, home: string, signal: AbortSignal): Promise<number> {
  refuseChatGptIfForced(config);
  const s = oauthSettings(runtime, config);
  const started = runtime.monotonic();
  const start = await call(() => postToken(runtime, `${s.issuer}/api/accounts/deviceauth/usercode`, { client_id: s.clientId }, signal));
  if (start.status === 404) {
    throw new OcxError("auth", "Device code sign-in is not enabled for this issuer; run `ocx login` (browser sign-in) instead");
  }
  const j = start.json ?? {};
  const userCode = str(j.user_code) ?? str(j.usercode);
  const deviceAuthId = str(j.device_auth_id);
  if (start.status < 200 || start.status >= 300 || !userCode || !deviceAuthId) {
    throw new OcxError("auth", `Error logging in with device code: the issuer answered HTTP ${start.status} without a code; try again later`);
  }
  let intervalMs = seconds(j.interval, DEFAULT_INTERVAL_S) * 1000;
  const lifetimeMs = Math.min(CODE_LIFETIME_MS, seconds(j.expires_in, Infinity) * 1000);
  const deadline = started + lifetimeMs;
  const minutes = Math.round(lifetimeMs / 60_000);

  runtime.stderr.write(
    [
      "Sign in with ChatGPT from any device:",
      `  1. Open ${s.issuer}/codex/device`,
      `  2. Enter this one-time code: ${userCode}`,
      `The code expires in ${minutes >= 1 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : "under a minute"}. Press Ctrl-C to cancel.`,
      "",
    ].join("\n"),
  );

  for (;;) {
    const left = deadline - runtime.monotonic();
    if (left <= 0) throw expiredError();
    await sleep(Math.min(intervalMs, left), signal);
    let poll;
    try {
      poll = await postToken(runtime, `${s.issuer}/api/accounts/deviceauth/token`, { device_auth_id: deviceAuthId, user_code: userCode }, signal);
    } catch (e) {
      if (e instanceof TokenEndpointError) continue; // the network may come back before the code expires
      throw e;
    }
    const code = errorCode(poll.json);
    if (poll.status >= 200 && poll.status < 300) {
      const p = poll.json ?? {};
      const authorization = str(p.authorization_code);
      const verifier = str(p.code_verifier);
      if (!authorization || !verifier) throw new OcxError("auth", "Error logging in with device code: the issuer's answer had no authorization code");
      const tokens = await call(() =>
        exchangeCode(runtime, s, { code: authorization, redirectUri: `${s.issuer}/deviceauth/callback`, codeVerifier: verifier }, signal),
      );
      await saveChatGptSignIn(runtime, home, tokens);
      runtime.stderr.write("Successfully logged in\n");
      return ExitCode.ok;
    }
    if (poll.status === 403 || poll.status === 404 || code === "authorization_pending") continue;
    if (code === "slow_down" || poll.status === 429) {
      intervalMs += 5000;
      continue;
    }
    if (code === "expired_token" || poll.status === 410) throw expiredError();
    if (code === "access_denied") throw new OcxError("auth", "Sign-in was denied on the other device; run `ocx login --device-auth` to try again");
    if (poll.status >= 500) continue;
    throw new OcxError("auth", `Error logging in with device code: the issuer answered HTTP ${poll.status}${code ? ` (${code})` : ""}`);
  }
}

const expiredError = () => new OcxError("auth", "The device code expired before sign-in finished; run `ocx login --device-auth` again");

/** Token endpoint failures as login errors (exit 4). */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TokenEndpointError) throw new OcxError("auth", `Error logging in with device code: ${e.message}`);
    throw e;
  }
}

const str = (x: unknown) => (typeof x === "string" && x ? x : undefined);

/** A count of seconds sent as a number or a numeric string (the issuer sends "5"). */
function seconds(x: unknown, fallback: number): number {
  const n = typeof x === "string" ? Number(x.trim()) : typeof x === "number" ? x : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
