// Finding rollouts without parsing them all: by id (the UUIDv7 carries its creation time, so the
// date folder is known), by recency (`--last`: file times, then only the tail of the newest
// files), by name, and listing for people.
import { dirname, join } from "../util/path.ts";
import { S_IFMT, S_IFREG, type DatedEntryStats, type EntryMatch, type EntryStats, type FileStat, type Runtime } from "../runtime.ts";
import { uuidv7Ms } from "../util/uuid.ts";
import { ROLLOUT_NAMES, sessionsDir } from "./layout.ts";
import { parseRollout, rolloutRelativePath, threadIdOfFile, type LoadedRollout, type SessionMeta, type TurnContext } from "./rollout.ts";

export interface RolloutFile {
  path: string;
  id: string;
  /** Last modification, ms since the epoch: when the thread was last updated. */
  updatedMs: number;
  size: number;
}

/** Greater number first, leading zeros ignored, exactly at any length (as dir-stats.c orders them); ties keep their order. */
function byNumberDesc(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  return x.length !== y.length ? y.length - x.length : x === y ? 0 : x < y ? 1 : -1;
}
const numericDesc = (names: string[]) => names.filter((n) => /^\d+$/.test(n)).sort(byNumberDesc);

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
 * The date folders (year/month/day), newest first. Paths are joined by concatenation below the
 * normalised root: folder and file names never hold `/`, `.` or `..`. Each level of folders is
 * read in one call.
 */
async function dayFolders(runtime: Runtime, home: string): Promise<string[]> {
  const root = sessionsDir(home);
  const years = numericDesc((await readDirsOrEmpty(runtime, [root]))[0]!).map((y) => `${root}/${y}`);
  const months = (await readDirsOrEmpty(runtime, years)).flatMap((names, i) => numericDesc(names).map((m) => `${years[i]}/${m}`));
  return (await readDirsOrEmpty(runtime, months)).flatMap((names, i) => numericDesc(names).map((d) => `${months[i]}/${d}`));
}

const isRolloutName = (n: string) => n.startsWith(ROLLOUT_NAMES.prefix) && n.endsWith(ROLLOUT_NAMES.suffix);

/** Every rollout file, newest date folder first (file times not read). */
async function allRolloutPaths(runtime: Runtime, home: string): Promise<string[]> {
  const days = await dayFolders(runtime, home);
  const lists = await readDirsOrEmpty(runtime, days);
  const out: string[] = [];
  lists.forEach((names, i) => {
    const dir = days[i]!;
    for (const n of names.sort().reverse()) if (isRolloutName(n)) out.push(`${dir}/${n}`);
  });
  return out;
}

const noEntries = async (): Promise<EntryStats> => ({ folder: new Uint32Array(0), name: () => "", mode: new Uint32Array(0), mtimeMs: new Float64Array(0), size: new Float64Array(0) });

/** The runtime's startStatEntries, else readDir of each folder and stat of each match (when asked for). */
async function startStatEntries(runtime: Runtime, dirs: readonly string[], match: EntryMatch): Promise<() => Promise<EntryStats>> {
  if (dirs.length === 0) return noEntries;
  if (runtime.fs.startStatEntries) return runtime.fs.startStatEntries(dirs, match);
  return async () => {
    const folder: number[] = [];
    const name: string[] = [];
    (await readDirsOrEmpty(runtime, dirs)).forEach((names, d) => {
      for (const n of names) {
        if (n.length >= match.prefix.length + match.suffix.length && n.startsWith(match.prefix) && n.endsWith(match.suffix)) folder.push(d), name.push(n);
      }
    });
    const stats: Array<FileStat | null> = [];
    const BATCH = 2048;
    for (let i = 0; i < name.length; i += BATCH) {
      const batch = name.slice(i, i + BATCH).map((n, j) => runtime.fs.stat(`${dirs[folder[i + j]!]}/${n}`).catch(() => null));
      stats.push(...(await Promise.all(batch)));
    }
    return {
      folder: Uint32Array.from(folder),
      name: (k) => name[k]!,
      mode: Uint32Array.from(stats, (s) => s?.mode ?? 0),
      mtimeMs: Float64Array.from(stats, (s) => s?.mtimeMs ?? 0),
      size: Float64Array.from(stats, (s) => s?.size ?? 0),
    };
  };
}

/** The date folders and their rollouts with their stats, under way (see startStatDays). */
type Listing = () => Promise<DatedEntryStats>;

/** Lists the date folders here, then startStatEntries of them. */
async function startListingHere(runtime: Runtime, home: string): Promise<Listing> {
  const days = await dayFolders(runtime, home);
  const entries = await startStatEntries(runtime, days, ROLLOUT_NAMES);
  return async () => ({ ...(await entries()), days });
}

/** The runtime's startStatDays where it has one (falling back here if its answer is null), else startListingHere. */
async function startListing(runtime: Runtime, home: string): Promise<Listing> {
  const walk = await runtime.fs.startStatDays?.(sessionsDir(home), ROLLOUT_NAMES);
  if (!walk) return startListingHere(runtime, home);
  return async () => (await walk()) ?? (await (await startListingHere(runtime, home))());
}

/** Listings started ahead by lookAhead, by CODEX_HOME, each for the next rolloutFilesNewestFirst there. */
const ahead = new Map<string, Promise<Listing>>();

/**
 * Starts listing and stating the rollouts of `home` (`exec resume --last`, before the config is
 * read), for the next rolloutFilesNewestFirst of `home` to take; resolves once that is under way.
 * Where the runtime does it on other threads, the two overlap.
 */
export async function lookAhead(runtime: Runtime, home: string): Promise<void> {
  let started = ahead.get(home);
  if (!started) ahead.set(home, (started = startListing(runtime, home)));
  await started;
}

/** Rollout files with their times, most recently updated first. */
export async function listRolloutFiles(runtime: Runtime, home: string): Promise<RolloutFile[]> {
  return [...(await rolloutFilesNewestFirst(runtime, home))];
}

/** How many files are picked one by one (a scan each) before the rest is sorted. */
const PICKED_FIRST = 4;

/**
 * Rollout files with their times, most recently updated first (ties in listing order: newest
 * folder first, then names in descending order), made as they are taken: `--last` usually wants
 * only the first, so the first few are each found by one scan, and only a caller that goes on
 * pays for sorting all of them. Names are checked (the thread id read from them) and paths made
 * only as files are handed out.
 */
export async function rolloutFilesNewestFirst(runtime: Runtime, home: string): Promise<Iterable<RolloutFile>> {
  const started = ahead.get(home);
  ahead.delete(home);
  const { days, folder, name, mode, mtimeMs, size, newest = -1 } = await (await (started ?? startListing(runtime, home)))();
  const rows = mode.length;
  /** Whether row j comes after row k, both updated at the same time (the names of a folder differ). */
  const tieAfter = (j: number, k: number): boolean => (folder[j] !== folder[k] ? folder[j]! > folder[k]! : name(j) < name(k));
  const named = (k: number): RolloutFile | null => {
    const path = `${days[folder[k]!]}/${name(k)}`;
    const id = threadIdOfFile(path);
    return id ? { path, id, updatedMs: mtimeMs[k]!, size: size[k]! } : null;
  };
  return (function* () {
    /** 1 once handed out. */
    const handed = new Uint8Array(rows);
    for (let n = 0; n < PICKED_FIRST; n++) {
      let best = -1;
      // The newest one, when the runtime found it and it has no tie, is taken without a scan.
      if (n === 0 && newest >= 0 && newest < rows) best = newest;
      else {
        let bestMs = -Infinity;
        for (let k = 0; k < rows; k++) {
          if (handed[k] === 1 || (mode[k]! & S_IFMT) !== S_IFREG) continue;
          const ms = mtimeMs[k]!;
          if (ms > bestMs || best === -1 || (ms === bestMs && tieAfter(best, k))) (best = k), (bestMs = ms);
        }
      }
      if (best === -1) return;
      handed[best] = 1;
      const file = named(best);
      if (file) yield file;
    }
    const rest: number[] = [];
    for (let k = 0; k < rows; k++) if (handed[k] === 0 && (mode[k]! & S_IFMT) === S_IFREG) rest.push(k);
    rest.sort((j, k) => mtimeMs[k]! - mtimeMs[j]! || (tieAfter(j, k) ? 1 : -1));
    for (const k of rest) {
      const file = named(k);
      if (file) yield file;
    }
  })();
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
const GROWTH_SLACK = 4096;
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
  // One open for both ends, read synchronously where the runtime can (a file of a few KB costs
  // less than the round trips of an asynchronous open, read and close), into buffers about the
  // size stat found (a buffer's pages are dear where fresh memory is); GROWTH_SLACK more, for a
  // file that grew since.
  const handle = runtime.fs.openReadSync?.(file.path);
  const range = (offset: number, length: number): Promise<Uint8Array> | Uint8Array =>
    handle ? handle.readSync(offset, Math.min(length, Math.max(0, file.size - offset) + GROWTH_SLACK)) : runtime.fs.readRange(file.path, offset, length);
  let head: LoadedRollout;
  let tail: LoadedRollout;
  try {
    head = parseRollout(rangeLines(await range(0, HEAD_BYTES), true));
    tail = head;
    if (file.size > HEAD_BYTES) {
      const from = Math.max(0, file.size - TAIL_BYTES);
      tail = parseRollout(rangeLines(await range(from, TAIL_BYTES), from === 0));
      // A last turn bigger than the tail window: read the whole file once.
      if (!tail.turnContext && from > 0) tail = parseRollout(decoder.decode(handle ? handle.readSync(0, handle.size()) : await runtime.fs.readFile(file.path)));
    }
  } finally {
    handle?.close();
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
 * summarize of each rollout, most recently updated first. A file removed since the listing (by
 * another process) is passed over.
 */
export async function* summariesNewestFirst(runtime: Runtime, home: string): AsyncGenerator<RolloutSummary> {
  for (const file of await rolloutFilesNewestFirst(runtime, home)) {
    let summary: RolloutSummary;
    try {
      summary = await summarize(runtime, file);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw e;
    }
    yield summary;
  }
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
  for await (const s of summariesNewestFirst(runtime, home)) {
    if (!opts.all && s.cwd !== opts.cwd) continue;
    if (opts.name !== undefined && s.name !== opts.name) continue;
    return s;
  }
  return null;
}
