// `ocx exec resume`: which thread (id, name, or --last), what it restores (cwd, model, provider,
// sandbox), and the history it re-sends.
import { OcxError } from "../errors.ts";
import type { Usage } from "../events.ts";
import { emptyUsage } from "../agent/usage-totals.ts";
import { ITEM_JSON_LOOPS } from "../model/item-json.ts";
import { JSON_BYTES_LOOPS } from "../model/json-bytes.ts";
import type { ResponseItem } from "../model/types.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxMode, SandboxPolicy } from "../sandbox/policy.ts";
import type { ItemFile } from "./file-items.ts";
import { isUuid } from "../util/uuid.ts";
import { isInside } from "../workspace.ts";
import { findById, findLatest } from "./find.ts";
import { lockSession, type LockOptions, type SessionLock } from "./lock.ts";
import {
  closeDanglingCalls,
  parseRolloutBytes,
  recordedSandboxPolicy,
  ROLLOUT_LOOPS,
  RolloutReader,
  type LoadedRollout,
  type ReadOptions,
  type RolloutEntry,
  type RolloutSandboxPolicy,
} from "./rollout.ts";

export interface ResumeRequest {
  /** A thread id (UUID) or name; absent with --last. */
  target?: string;
  last: boolean;
  all: boolean;
  /** What the thread is wanted for, in messages (default resume). */
  action?: "resume" | "fork";
}

export interface ResumedThread {
  id: string;
  path: string;
  cwd?: string;
  model?: string;
  provider?: string;
  /** The last recorded sandbox policy (absent when unknown to ocx: the current flags decide). */
  sandboxPolicy?: RolloutSandboxPolicy;
  /** The history to re-send, calls without an output closed. */
  items: ResponseItem[];
  /** The thread's token usage so far (recorded by token_count events; zero when none). */
  usage: Usage;
  /** Lines already in the file (the ordinal continues from here). */
  lines: number;
  /** For `exec fork`: the file's lines as read, which the fork's file copies (the file is read once). */
  entries?: RolloutEntry[];
  /** This run's hold on the session (absent when it writes nothing: --ephemeral). */
  lock?: SessionLock;
}

const HOW_TO_LIST = "list sessions with `ocx sessions` (add --all for every directory)";

/**
 * Finds and loads the thread to resume; exit 3 with a way forward when there is none. With
 * `lock`, the session is locked before its history is read (and stays locked for the caller to
 * release), so two runs never both append to it.
 */
export async function loadResumed(
  runtime: Runtime,
  home: string,
  req: ResumeRequest,
  currentDir: string,
  warn: (message: string) => void,
  lock?: LockOptions,
): Promise<ResumedThread> {
  let path: string | null = null;
  if (req.target !== undefined && isUuid(req.target)) {
    path = await findById(runtime, home, req.target);
    if (!path) throw new OcxError("config", `No session found with id ${req.target} (an --ephemeral run keeps none); ${HOW_TO_LIST}`);
  } else {
    const found = await findLatest(runtime, home, { cwd: currentDir, all: req.all, name: req.target });
    if (!found) {
      const where = req.all ? "" : ` in ${currentDir}`;
      const what = req.target === undefined ? `No session to ${req.action ?? "resume"}${where}` : `No session named ${JSON.stringify(req.target)}${where}`;
      throw new OcxError("config", `${what}; ${HOW_TO_LIST}`);
    }
    path = found.path;
  }
  const held = lock ? await lockSession(runtime, path, lock) : undefined;
  try {
    return { ...(await readResumed(runtime, path, req, warn)), lock: held };
  } catch (e) {
    await held?.release();
    throw e;
  }
}

async function readResumed(runtime: Runtime, path: string, req: ResumeRequest, warn: (message: string) => void): Promise<ResumedThread> {
  let loaded: LoadedRollout;
  try {
    loaded = await readRollout(runtime, path, { entries: req.action === "fork" });
  } catch (e) {
    throw new OcxError("config", `Cannot read session file ${path}: ${(e as Error).message}`);
  }
  for (const s of loaded.skipped) {
    warn(
      s.last
        ? `the last line of ${path} is incomplete (the previous run was stopped while writing it); it was dropped`
        : `line ${s.line} of ${path} is not valid JSON; it was skipped`,
    );
  }
  if (!loaded.meta || loaded.items.length === 0) {
    const what = loaded.lines === 0 ? "is empty" : !loaded.meta ? "has no session_meta line" : "records no turn";
    throw new OcxError("config", `The session has no history: ${path} ${what}; start a new session with \`ocx exec\` or ${HOW_TO_LIST}`);
  }
  const id = loaded.meta.id ?? req.target ?? "";
  if (!isUuid(id)) throw new OcxError("config", `Session file ${path} has no session_meta with a thread id; ${HOW_TO_LIST}`);
  const tc = loaded.turnContext;
  return {
    id,
    path,
    cwd: tc?.cwd ?? loaded.meta?.cwd,
    model: tc?.model,
    provider: loaded.meta?.model_provider,
    sandboxPolicy: recordedSandboxPolicy(tc),
    items: closeDanglingCalls(loaded.items, loaded.calls),
    usage: loaded.usage ?? emptyUsage(),
    lines: loaded.lines,
    ...(loaded.entries ? { entries: loaded.entries } : {}),
  };
}

/**
 * Pieces in which a large rollout is read, one after the other into one buffer, each parsed
 * before the next is read. Small, because memory first touched is what reading costs most where
 * pages are dear (10-20 us each on a VM that hands freed memory back to its host); a read from
 * the page cache takes well under a millisecond, less than a round trip to the runtime's I/O
 * threads would (reading ahead that way, in two 1 MiB buffers, made a 52 MB session's read about
 * 10 ms slower, paired).
 */
const READ_PIECE = 256 * 1024;
/** A file larger than this is read in pieces (a smaller one in one read). */
const LARGE_FILE = 1024 * 1024;
/**
 * How much is read between two (concurrent) collections of what the reading left behind, and
 * between two turns of the event loop (that piece is read asynchronously): a signal (Ctrl-C) is
 * then handled within a few tens of milliseconds however large the file.
 */
const GC_EVERY = 8 * 1024 * 1024;
/**
 * What reading a large rollout runs hot, kept out of the JIT's top tier: compiling them that far
 * took a core (15-33 ms for one of them) and a few MB first touched, on a machine of two, while
 * the reading it was for was over within 150 ms. Held back, a 52 MB session's first request
 * went out 14-20 ms sooner (paired runs; as soon as with that tier off for the whole process).
 */
const LARGE_READ_LOOPS = [...JSON_BYTES_LOOPS, ...ITEM_JSON_LOOPS, ...ROLLOUT_LOOPS];
/** What is read past the size stat gave (a file that grew meanwhile) per call. */
const READ_MORE = 64 * 1024;

/**
 * The rollout at `path`, parsed. A large file is read in pieces until a read finds nothing more:
 * the same bytes as one readFile. The pieces take turns in one buffer (the reader keeps no view of
 * a piece once it has pushed it), so reading a 50 MB session allocates 256 KiB, not 50 MB that
 * then waits for the collector. Large items whose payload is exactly their JSON stay in the file
 * (file-items.ts), and their long strings are never decoded (RolloutReader): the history is held
 * in memory as light stand-ins, not as the file's size of strings.
 */
export async function readRollout(runtime: Runtime, path: string, opts: Omit<ReadOptions, "file"> = {}): Promise<LoadedRollout> {
  const file = openItemFile(runtime, path);
  try {
    const loaded = await readRolloutPieces(runtime, path, { ...opts, file });
    if (file && file.items === 0) file.handle.close();
    return loaded;
  } catch (e) {
    file?.handle.close();
    throw e;
  }
}

/**
 * The session file opened for the large items that stay in it (see file-items.ts), when the
 * runtime can read it again that way; it stays open while the process runs.
 */
function openItemFile(runtime: Runtime, path: string): ItemFile | undefined {
  if (!runtime.fs.openReadSync || !runtime.keyedDigest) return undefined;
  try {
    return { path, handle: runtime.fs.openReadSync(path), digest: runtime.keyedDigest(), items: 0 };
  } catch {
    return undefined; // not a file that can be opened: reading it says why
  }
}

/**
 * Reads the rollout in pieces. With the item file, every byte is read through its handle: the
 * offsets and digests its stand-ins keep are then of the very bytes the handle reads again, even
 * when another file is renamed over the path meanwhile.
 */
async function readRolloutPieces(runtime: Runtime, path: string, opts: ReadOptions): Promise<LoadedRollout> {
  const handle = opts.file?.handle;
  const size = handle ? handle.size() : await runtime.fs.stat(path).then((st) => (st?.isFile ? st.size : -1), () => -1);
  if (!handle && size <= LARGE_FILE) return parseRolloutBytes(await runtime.fs.readFile(path), opts);
  const large = size > LARGE_FILE;
  if (large) runtime.keepBelowTopTier?.(LARGE_READ_LOOPS);
  const reader = new RolloutReader(opts);
  // A small file is read in one read of its size and a byte more: a read that fills that byte
  // too finds the file grew, and reading goes on. (More room is memory zeroed before the first
  // request, and allocation toward the collection that comes about 1 MiB into a run.)
  const buffer = new Uint8Array(large ? READ_PIECE : size + 1);
  let offset = 0;
  for (;;) {
    const length = !large ? buffer.length : offset < size ? Math.min(READ_PIECE, size - offset) : READ_MORE;
    // Every GC_EVERY bytes, the event loop's turn (see GC_EVERY).
    const turn = large && offset % GC_EVERY < READ_PIECE && offset > 0;
    const piece = !handle ? await runtime.fs.readRange(path, offset, length, buffer) : turn ? await handle.read(offset, length, buffer) : handle.readSync(offset, length, buffer);
    if (piece.length === 0) break;
    offset += piece.length;
    reader.push(piece);
    // The small lines decoded and parsed, and the skeletons of large ones, are garbage now:
    // collected alongside the reading, every few MB, not piled up until the request.
    if (turn) runtime.collectGarbage?.({ concurrent: true });
    // (A small file that grew past its read's room meanwhile is read on.)
    if (!large && piece.length < buffer.length) break;
  }
  const loaded = reader.end();
  // What is left of that garbage is collected alongside the request too: a full collection here
  // would hold the request back by 10-15 ms (measured on a 52 MB session), for a few MB less.
  if (large) runtime.collectGarbage?.({ concurrent: true });
  return loaded;
}

/**
 * The sandbox of a resumed run. A session file is something a command may have rewritten (when
 * CODEX_HOME lies in a writable root), so it may bring back `read-only` or `workspace-write` but
 * never more than this run grants by its own flags and config: `danger-full-access` (and the
 * bypass), writable roots and network access come only from those. The recorded roots and
 * network setting can narrow; a working directory taken from the file is where commands run,
 * but a writable root only when this run grants it too. What the file asked for and did not get
 * is one warning.
 */
export function resumedSandbox(o: {
  /** The recorded policy; absent when flags chose the mode or nothing usable was recorded. */
  recorded?: RolloutSandboxPolicy;
  /** This run's own policy (flags and config), or as if `-s mode` had been given. */
  own(mode?: SandboxMode): SandboxPolicy;
  /** -c sandbox_workspace_write.network_access was given: the recorded setting does not count. */
  networkOverridden: boolean;
  cwd: string;
  /** The working directory comes from the session file (not -C, not the current directory). */
  cwdFromFile: boolean;
  path: string;
}): { policy: SandboxPolicy; warning?: string } {
  const r = o.recorded;
  const notes: string[] = [];
  let policy: SandboxPolicy;
  if (r?.type === "danger-full-access") {
    policy = o.own();
    if (policy.mode !== "danger-full-access") {
      notes.push(
        `sandbox danger-full-access, which only --sandbox, --dangerously-bypass-approvals-and-sandbox or sandbox_mode in config can grant; this run uses ${policy.mode}`,
      );
    }
  } else {
    policy = o.own(r?.type);
  }
  if (policy.mode !== "workspace-write") return { policy, warning: warning(o.path, notes) };

  const others = policy.writableRoots.filter((root) => root !== o.cwd);
  const cwdDropped = o.cwdFromFile && !others.some((root) => isInside(o.cwd, root));
  if (cwdDropped) policy.writableRoots = others;
  const asked = r?.type === "workspace-write" ? r.writable_roots : [];
  const dropped = [...new Set([...(cwdDropped ? [o.cwd] : []), ...asked.filter((root) => !policy.writableRoots.some((own) => isInside(root, own)))])];
  const network = r?.type === "workspace-write" && !o.networkOverridden && r.network_access && !policy.networkAccess;
  if (r?.type === "workspace-write" && !o.networkOverridden) policy.networkAccess &&= r.network_access;
  if (dropped.length > 0 || network) {
    const what = [...(dropped.length > 0 ? [`writable roots ${dropped.join(", ")}`] : []), ...(network ? ["network access"] : [])].join(" and ");
    const how = dropped.length === 0 ? "sandbox_workspace_write" : `${cwdDropped ? "-C, " : ""}--add-dir, sandbox_workspace_write`;
    notes.push(`${what}, which only flags and config can grant (${how}); this run does not grant ${dropped.length > 0 ? "them" : "it"}`);
  }
  return { policy, warning: warning(o.path, notes) };
}

function warning(path: string, notes: string[]): string | undefined {
  return notes.length === 0 ? undefined : `the session file ${path} records ${notes.join("; it also records ")}`;
}

