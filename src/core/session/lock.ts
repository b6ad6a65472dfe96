// One writer per session. A run that writes a rollout (a new exec, or a resume) holds
// `<rollout>.lock`, created with O_EXCL and holding its pid and start time; a second run waits up
// to `session_lock_wait_ms` for it, then stops (exit 3) naming the holder. A lock whose holder is
// gone (kill -9, a crash) is taken over. The name does not end in `.jsonl`, so no listing or id
// lookup ever reads it as a session.
import { OcxError } from "../errors.ts";
import { sleep } from "../model/retry.ts";
import type { Runtime } from "../runtime.ts";

export const DEFAULT_SESSION_LOCK_WAIT_MS = 5000;
const POLL_MS = 50;
/** A lock file still empty after this long was left by a process that died while creating it. */
const EMPTY_LOCK_STALE_MS = 5000;
/** The takeover guard is held for a few file operations; older means its holder died meanwhile. */
const BREAK_STALE_MS = 10_000;

export interface SessionLock {
  readonly path: string;
  /** Removes the lock (if it is still this process's); never fails. */
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  stamp: string;
  since?: string;
}

export const lockPathOf = (rollout: string) => `${rollout}.lock`;

export interface LockOptions {
  /** How long to wait for another run to finish with the session. */
  waitMs: number;
  /** Told once when the session is busy and this run starts waiting. */
  onWait?(holder: { pid: number }): void;
  signal?: AbortSignal;
}

/**
 * Takes the lock of the rollout at `rollout`. Exit 3 when another live process still holds it
 * after `waitMs`. Where no lock can be created at all (a read-only CODEX_HOME) nothing can write
 * the rollout either: a lock that holds nothing is returned.
 */
export async function lockSession(runtime: Runtime, rollout: string, opts: LockOptions): Promise<SessionLock> {
  const path = lockPathOf(rollout);
  const stamp = (await runtime.processStamp(runtime.pid)) ?? "";
  const mine = `${JSON.stringify({ pid: runtime.pid, stamp, since: new Date(runtime.now()).toISOString() })}\n`;
  const deadline = runtime.monotonic() + opts.waitMs;
  let told = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    let created: boolean;
    try {
      created = await runtime.fs.createExclusive(path, mine, { mode: 0o600 });
    } catch {
      return { path, release: async () => {} };
    }
    if (created) return { path, release: () => releaseIfMine(runtime, path, mine) };
    const holder = await readHolder(runtime, path);
    if (holder !== undefined && (await isStale(runtime, holder, path))) {
      await breakStale(runtime, path);
      continue;
    }
    if (runtime.monotonic() >= deadline) {
      const who = holder ? `process ${holder.pid}${holder.since ? ` (since ${holder.since})` : ""}` : "another process";
      throw new OcxError(
        "config",
        `The session ${rollout} is being written by ${who}; wait for that run to finish, or raise session_lock_wait_ms (now ${opts.waitMs} ms)`,
      );
    }
    if (!told && holder) {
      told = true;
      opts.onWait?.({ pid: holder.pid });
    }
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - runtime.monotonic())), opts.signal);
  }
}

/**
 * The holder named in the lock file: null when the file is empty or unreadable as a holder (being
 * written, or left by a process that died while creating it: stale once old), undefined when the
 * lock is gone meanwhile.
 */
async function readHolder(runtime: Runtime, path: string): Promise<Holder | null | undefined> {
  let text: string;
  try {
    text = await runtime.fs.readTextFile(path);
  } catch {
    return undefined;
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid === "number" && Number.isInteger(h.pid) && h.pid > 0) {
      return { pid: h.pid, stamp: typeof h.stamp === "string" ? h.stamp : "", since: typeof h.since === "string" ? h.since : undefined };
    }
  } catch {
    // fall through: not (yet) a holder
  }
  return null;
}

/** A holder that no longer runs (or whose pid now belongs to a later process). */
async function isStale(runtime: Runtime, holder: Holder | null, path: string): Promise<boolean> {
  if (holder === null) {
    const st = await runtime.fs.stat(path).catch(() => null);
    return st !== null && runtime.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS;
  }
  const now = await runtime.processStamp(holder.pid);
  return now === null || (holder.stamp !== "" && now !== "" && now !== holder.stamp);
}

/**
 * Removes a stale lock. Under a second O_EXCL file, so that of two runs finding the same stale
 * lock, the second cannot remove the lock the first has taken meanwhile: the lock is read again
 * under the guard and removed only if still stale.
 */
async function breakStale(runtime: Runtime, path: string): Promise<void> {
  const guard = `${path}.break`;
  let got = false;
  try {
    got = await runtime.fs.createExclusive(guard, `${runtime.pid}\n`, { mode: 0o600 });
  } catch {
    return;
  }
  if (!got) {
    const st = await runtime.fs.stat(guard).catch(() => null);
    if (st && runtime.now() - st.mtimeMs > BREAK_STALE_MS) await runtime.fs.remove(guard).catch(() => {});
    await sleep(POLL_MS);
    return;
  }
  try {
    const holder = await readHolder(runtime, path);
    if (holder !== undefined && (await isStale(runtime, holder, path))) await runtime.fs.remove(path);
  } finally {
    await runtime.fs.remove(guard).catch(() => {});
  }
}

async function releaseIfMine(runtime: Runtime, path: string, mine: string): Promise<void> {
  try {
    if ((await runtime.fs.readTextFile(path)) === mine) await runtime.fs.remove(path);
  } catch {
    // already gone
  }
}
