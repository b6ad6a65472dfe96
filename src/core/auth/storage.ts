// $CODEX_HOME/auth.json, the credentials file shared with the reference (contract §4.1): read
// leniently (fields ocx does not know survive a rewrite), written 0600 by atomic replace, and a
// lock file that serialises token refreshes between concurrent ocx processes.
import { join } from "../util/path.ts";
import * as v from "valibot";
import { OcxError } from "../errors.ts";
import { sleep } from "../model/retry.ts";
import type { Runtime } from "../runtime.ts";
import { once } from "../util/once.ts";
import { randomHex } from "../util/random.ts";

const tokenData = once(() => v.looseObject({
  id_token: v.string(),
  access_token: v.string(),
  refresh_token: v.string(),
  account_id: v.optional(v.nullable(v.string())),
}));
export type TokenData = v.InferOutput<ReturnType<typeof tokenData>>;

const authDotJson = once(() => v.looseObject({
  auth_mode: v.optional(v.nullable(v.string())),
  OPENAI_API_KEY: v.optional(v.nullable(v.string())),
  tokens: v.optional(v.nullable(tokenData())),
  last_refresh: v.optional(v.nullable(v.string())),
}));
export type AuthDotJson = v.InferOutput<ReturnType<typeof authDotJson>>;

export type AuthMode = "apikey" | "chatgpt" | (string & {});

export const authFile = (home: string) => join(home, "auth.json");

/** The stored mode; without `auth_mode`, a stored key means apikey, else chatgpt (as the reference reads it). */
export function authMode(auth: AuthDotJson): AuthMode {
  if (auth.auth_mode) return auth.auth_mode;
  return auth.OPENAI_API_KEY ? "apikey" : "chatgpt";
}

/** auth.json, or null when there is none. A file that cannot be used is an auth error (exit 4). */
export async function readAuth(runtime: Runtime, home: string): Promise<AuthDotJson | null> {
  const file = authFile(home);
  let text: string;
  try {
    if (!(await runtime.fs.stat(file))?.isFile) return null;
    text = await runtime.fs.readTextFile(file);
  } catch (e) {
    throw new OcxError("auth", `cannot read ${file} (${(e as { code?: string }).code ?? "error"}); check its permissions or run \`ocx login\` again`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OcxError("auth", `${file} is not valid JSON; fix it or run \`ocx login\` again`);
  }
  const parsed = v.safeParse(authDotJson(), json);
  if (!parsed.success) {
    const key = v.getDotPath(parsed.issues[0]!) ?? "(root)";
    throw new OcxError("auth", `${file}: unexpected value for \`${key}\`; fix it or run \`ocx login\` again`);
  }
  return parsed.output;
}

/** Larger files are not auth.json (a command may have put something else there). */
const MAX_AUTH_FILE_BYTES = 1024 * 1024;

/**
 * The credential values found in auth.json (key and tokens), whatever the run uses, for the
 * redactor: a command may print the file. refresh() reads it again when it changed (another
 * process rotated the tokens); values once seen are kept. Never fails: a missing, unreadable or
 * odd file adds nothing.
 */
export function authFileSecrets(runtime: Runtime, home: string): { values(): readonly string[]; refresh(): Promise<void> } {
  const file = authFile(home);
  const seen = new Set<string>();
  let stamp = "";
  return {
    values: () => [...seen],
    async refresh() {
      try {
        const st = await runtime.fs.stat(file);
        const now = st ? `${st.mtimeMs}:${st.size}` : "";
        if (now === stamp) return;
        stamp = now;
        if (!st?.isFile || st.size > MAX_AUTH_FILE_BYTES) return;
        const json = JSON.parse(await runtime.fs.readTextFile(file)) as { OPENAI_API_KEY?: unknown; tokens?: Record<string, unknown> | null };
        const t = json.tokens ?? {};
        for (const v of [json.OPENAI_API_KEY, t.access_token, t.refresh_token, t.id_token]) if (typeof v === "string") seen.add(v);
      } catch {
        // not readable as auth.json: nothing to add
      }
    },
  };
}

/** Replaces auth.json atomically: a 0600 temporary file in the same folder, then rename. */
export async function writeAuth(runtime: Runtime, home: string, auth: AuthDotJson): Promise<void> {
  await runtime.fs.mkdir(home, { recursive: true, mode: 0o700 });
  // A symlinked auth.json (a mounted secret, a dotfiles repo) is replaced where it points.
  const file = await runtime.fs.realpath(authFile(home)).catch(() => authFile(home));
  const tmp = `${file}.tmp-${randomHex(6)}`;
  try {
    if (!(await runtime.fs.createExclusive(tmp, `${JSON.stringify(auth, null, 2)}\n`, { mode: 0o600 }))) {
      throw new Error(`${tmp} already exists`);
    }
    await runtime.fs.chmod(tmp, 0o600);
    await runtime.fs.rename(tmp, file);
  } catch (e) {
    await runtime.fs.remove(tmp).catch(() => {});
    throw new OcxError("auth", `cannot write ${file}: ${(e as Error).message}; check that $CODEX_HOME is writable`);
  }
}

/** Deletes auth.json; false when there was none. */
export async function removeAuth(runtime: Runtime, home: string): Promise<boolean> {
  const file = authFile(home);
  if (!(await runtime.fs.stat(file))) return false;
  await runtime.fs.remove(file);
  return true;
}

/** A lock older than this is left over from a crashed process (a refresh takes seconds at most). */
const STALE_LOCK_MS = 30_000;
const LOCK_POLL_MS = 50;

/**
 * Runs `fn` holding `auth.json.ocx.lock` (created with O_EXCL, removed afterwards), so two ocx
 * processes never spend the same refresh token. A lock left by a crash is taken over once stale.
 */
export async function withAuthLock<T>(runtime: Runtime, home: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const lock = join(home, "auth.json.ocx.lock");
  for (;;) {
    signal.throwIfAborted();
    let created: boolean;
    try {
      created = await runtime.fs.createExclusive(lock, `${new Date(runtime.now()).toISOString()}\n`, { mode: 0o600 });
    } catch {
      // A read-only $CODEX_HOME (a mounted secret): no lock can be had, and no process can
      // write the file either, so there is nothing to coordinate.
      return fn();
    }
    if (created) break;
    const stat = await runtime.fs.stat(lock);
    if (stat && runtime.now() - stat.mtimeMs > STALE_LOCK_MS) {
      await runtime.fs.remove(lock);
      continue;
    }
    await sleep(LOCK_POLL_MS, signal);
  }
  try {
    return await fn();
  } finally {
    await runtime.fs.remove(lock).catch(() => {});
  }
}
