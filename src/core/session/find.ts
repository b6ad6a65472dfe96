// Finding rollouts without parsing them all: by id (the UUIDv7 carries its creation time, so the
// date folder is known), by recency (`--last`: file times, then only the tail of the newest
// files), by name, and listing for people.
import { dirname, join } from "pathe";
import type { FileStat, Runtime } from "../runtime.ts";
import { parseRollout, rolloutRelativePath, threadIdOfFile, type SessionMeta, type TurnContext } from "./rollout.ts";

export interface RolloutFile {
  path: string;
  id: string;
  /** Last modification, ms since the epoch: when the thread was last updated. */
  updatedMs: number;
  size: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

const sessionsDir = (home: string) => join(home, "sessions");
const numericDesc = (names: string[]) => names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a));

async function readDirOrEmpty(runtime: Runtime, dir: string): Promise<string[]> {
  try {
    return await runtime.fs.readDir(dir);
  } catch {
    return [];
  }
}

/** readDirOrEmpty of each folder, in one call when the runtime has one. */
function readDirsOrEmpty(runtime: Runtime, dirs: readonly string[]): Promise<string[][]> {
  if (dirs.length === 0) return Promise.resolve([]);
  return runtime.fs.readDirs ? runtime.fs.readDirs(dirs) : Promise.all(dirs.map((d) => readDirOrEmpty(runtime, d)));
}

/**
 * Every rollout file, newest date folder first (file times not read). Paths are joined by
 * concatenation below the normalised root: folder and file names never hold `/`, `.` or `..`.
 * Each level of folders is read in one call.
 */
async function allRolloutPaths(runtime: Runtime, home: string): Promise<string[]> {
  const root = sessionsDir(home);
  const years = numericDesc(await readDirOrEmpty(runtime, root)).map((y) => `${root}/${y}`);
  const months = (await readDirsOrEmpty(runtime, years)).flatMap((names, i) => numericDesc(names).map((m) => `${years[i]}/${m}`));
  const days = (await readDirsOrEmpty(runtime, months)).flatMap((names, i) => numericDesc(names).map((d) => `${months[i]}/${d}`));
  const lists = await readDirsOrEmpty(runtime, days);
  const out: string[] = [];
  lists.forEach((names, i) => {
    const dir = days[i]!;
    for (const n of names.sort().reverse()) if (n.startsWith("rollout-") && n.endsWith(".jsonl")) out.push(`${dir}/${n}`);
  });
  return out;
}

/** stat of each path, null where it fails. */
async function statAll(runtime: Runtime, paths: string[]): Promise<Array<FileStat | null>> {
  if (runtime.fs.statAll) return runtime.fs.statAll(paths);
  const out: Array<FileStat | null> = [];
  const BATCH = 2048;
  for (let i = 0; i < paths.length; i += BATCH) {
    out.push(...(await Promise.all(paths.slice(i, i + BATCH).map((p) => runtime.fs.stat(p).catch(() => null)))));
  }
  return out;
}

/** Rollout files with their times, most recently updated first. */
export async function listRolloutFiles(runtime: Runtime, home: string): Promise<RolloutFile[]> {
  return [...(await rolloutFilesNewestFirst(runtime, home))];
}

/** How many files are picked one by one (a scan each) before the rest is sorted. */
const PICKED_FIRST = 4;

/**
 * Rollout files with their times, most recently updated first (ties in listing order), made as
 * they are taken: `--last` usually wants only the first, so the first few are each found by one
 * scan, and only a caller that goes on pays for sorting all of them. Names are checked (the
 * thread id read from them) only as files are handed out.
 */
export async function rolloutFilesNewestFirst(runtime: Runtime, home: string): Promise<Iterable<RolloutFile>> {
  const paths = await allRolloutPaths(runtime, home);
  const stats = await statAll(runtime, paths);
  const found: Array<{ path: string; updatedMs: number; size: number }> = [];
  stats.forEach((s, k) => {
    if (s?.isFile) found.push({ path: paths[k]!, updatedMs: s.mtimeMs, size: s.size });
  });
  return (function* () {
    const taken = new Set<number>();
    const named = (f: (typeof found)[number]): RolloutFile | null => {
      const id = threadIdOfFile(f.path);
      return id ? { ...f, id } : null;
    };
    for (let n = 0; n < PICKED_FIRST && taken.size < found.length; n++) {
      let best = -1;
      for (let k = 0; k < found.length; k++) if (!taken.has(k) && (best === -1 || found[k]!.updatedMs > found[best]!.updatedMs)) best = k;
      taken.add(best);
      const file = named(found[best]!);
      if (file) yield file;
    }
    const rest = found.filter((_, k) => !taken.has(k)).sort((a, b) => b.updatedMs - a.updatedMs);
    for (const f of rest) {
      const file = named(f);
      if (file) yield file;
    }
  })();
}

/** The creation time inside a UUIDv7 (ms), or null for other versions. */
function uuidv7Ms(id: string): number | null {
  if (id[14] !== "7") return null;
  return parseInt(id.replace(/-/g, "").slice(0, 12), 16);
}

/** The rollout of thread `id`, or null. Looks in the folders of its creation date first. */
export async function findById(runtime: Runtime, home: string, id: string): Promise<string | null> {
  const want = id.toLowerCase();
  const ms = uuidv7Ms(want);
  if (ms !== null) {
    // The folder a rollout made at `ms` goes to; a day either side covers a time zone change since.
    for (const delta of [0, -86_400_000, 86_400_000]) {
      const dir = join(home, dirname(rolloutRelativePath(ms + delta, runtime, want)));
      for (const n of await readDirOrEmpty(runtime, dir)) if (threadIdOfFile(n) === want) return join(dir, n);
    }
  }
  for (const p of await allRolloutPaths(runtime, home)) if (threadIdOfFile(p) === want) return p;
  return null;
}

const TAIL_BYTES = 256 * 1024;
const HEAD_BYTES = 64 * 1024;
const decoder = new TextDecoder();

/** Complete lines of a byte range (a cut first line dropped unless the range starts the file). */
function rangeLines(bytes: Uint8Array, fromStart: boolean): string {
  const text = decoder.decode(bytes);
  if (fromStart) return text;
  const nl = text.indexOf("\n");
  return nl === -1 ? "" : text.slice(nl + 1);
}

export interface RolloutSummary {
  id: string;
  path: string;
  updatedMs: number;
  cwd?: string;
  name?: string;
  firstPrompt?: string;
  meta?: SessionMeta;
  turnContext?: TurnContext;
}

/** What listings and `--last` need: the head (meta, first prompt) and the tail (last turn_context). */
export async function summarize(runtime: Runtime, file: RolloutFile): Promise<RolloutSummary> {
  const head = parseRollout(rangeLines(await runtime.fs.readRange(file.path, 0, HEAD_BYTES), true));
  let tail = head;
  if (file.size > HEAD_BYTES) {
    const from = Math.max(0, file.size - TAIL_BYTES);
    tail = parseRollout(rangeLines(await runtime.fs.readRange(file.path, from, TAIL_BYTES), from === 0));
    // A last turn bigger than the tail window: read the whole file once.
    if (!tail.turnContext && from > 0) tail = parseRollout(decoder.decode(await runtime.fs.readFile(file.path)));
  }
  const turnContext = tail.turnContext ?? head.turnContext;
  return {
    id: file.id,
    path: file.path,
    updatedMs: file.updatedMs,
    cwd: turnContext?.cwd ?? head.meta?.cwd,
    name: tail.name ?? head.name,
    firstPrompt: head.firstPrompt,
    meta: head.meta,
    turnContext,
  };
}

/**
 * The most recently updated thread whose last working directory is `cwd` (any, with `all`);
 * optionally the one named `name`. Reads only the files it needs, newest first.
 */
export async function findLatest(
  runtime: Runtime,
  home: string,
  opts: { cwd: string; all: boolean; name?: string },
): Promise<RolloutSummary | null> {
  for (const file of await rolloutFilesNewestFirst(runtime, home)) {
    const s = await summarize(runtime, file);
    if (!opts.all && s.cwd !== opts.cwd) continue;
    if (opts.name !== undefined && s.name !== opts.name) continue;
    return s;
  }
  return null;
}
