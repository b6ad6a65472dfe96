// FileSystem.startStatEntries on Bun through dir-stats.c: the folders listed and their entries
// stat'ed in C on a thread per processor while JavaScript goes on, the answer read from typed
// arrays (a name decoded only when asked for). Where the C part cannot be loaded, node:fs does
// it when the answer is asked for (common.ts).
import { FFIType, ptr } from "bun:ffi";
import type { EntryMatch, EntryStats } from "../core/runtime.ts";
import { statEntries as nodeStatEntries, unzeroedBytes } from "./common.ts";
import { loadNative } from "./native-bun.ts";
import { cArray, cstr } from "./sandbox/libc.ts";
import source from "./dir-stats.c" with { type: "text" };

const p = FFIType.ptr;
const SYMBOLS = {
  ocx_stat_entries_start: { args: [p, FFIType.i32, p, p, p, p, p, p, p, FFIType.i32, p, FFIType.i64, FFIType.i32], returns: p },
  ocx_stat_entries_wait: { args: [p, p], returns: FFIType.i32 },
} as const;

let lib: ReturnType<typeof loadNative<typeof SYMBOLS>> | null | undefined;
/** The C part; null where it cannot be loaded (statx and the dirent layout are Linux's). */
function native() {
  if (lib === undefined) {
    try {
      lib = process.platform === "linux" ? loadNative("ocx-dir-stats", source, SYMBOLS) : null;
    } catch {
      lib = null;
    }
  }
  return lib;
}

const decoder = new TextDecoder();

/** Room to start with, shared among the threads (then what the C part says it needs): entries, and bytes of names. */
const FIRST_ROOM = { entries: 32768, nameBytes: 2 << 20 };
/** Threads: one per processor, up to dir-stats.c's MAX_SHARES, never more than folders. */
const MAX_SHARES = 16;

/** FileSystem.startStatEntries: in C on other threads where it can be loaded, else through node:fs when asked. */
export function startStatEntries(dirs: readonly string[], match: EntryMatch): () => Promise<EntryStats> {
  const inC = startStatEntriesInC(dirs, match);
  return inC ? async () => inC() : () => nodeStatEntries(dirs, match);
}

/** Scans under way: their buffers, which C threads write, kept alive until waited for. */
const underWay = new Set<unknown>();

/**
 * statEntries through dir-stats.c, started now on `threads` threads; the function returned
 * waits for them (once). Null where the C part cannot be loaded or a string holds a NUL.
 */
export function startStatEntriesInC(
  dirs: readonly string[],
  match: EntryMatch,
  opts: { threads?: number; room?: { entries: number; nameBytes: number } } = {},
): (() => EntryStats) | null {
  const l = native();
  // A NUL cannot reach C; node:fs refuses such paths.
  if (!l || dirs.some((d) => d.includes("\0")) || `${match.prefix}${match.suffix}`.includes("\0")) return null;
  if (dirs.length === 0) return () => ({ folder: new Uint32Array(0), name: () => "", mode: new Uint32Array(0), mtimeMs: new Float64Array(0), size: new Float64Array(0) });
  const shares = Math.max(1, Math.min(MAX_SHARES, dirs.length, opts.threads ?? navigator.hardwareConcurrency ?? 2));
  const room = opts.room ?? FIRST_ROOM;
  const paths: unknown[] = [];
  // (NULL-terminated: the count is passed too.)
  const addresses = cArray({ addressOf: (b) => BigInt(ptr(b)) }, dirs, paths);
  const prefix = cstr(match.prefix);
  const suffix = cstr(match.suffix);
  const start = (cap: number, namesCap: number) => {
    // One block for every column, not zeroed: the C threads write what is read (rows up to each
    // share's count), so only the pages they write are ever touched, and there, not here.
    const rows = shares * cap;
    const block = unzeroedBytes(rows * (8 + 8 + 4 + 4 + 4) + shares * namesCap + 8);
    let at = (8 - (block.byteOffset % 8)) % 8;
    const column = <T>(make: new (b: ArrayBuffer, offset: number, length: number) => T, bytes: number, length: number): T => {
      const col = new make(block.buffer as ArrayBuffer, block.byteOffset + at, length);
      at += bytes * length;
      return col;
    };
    const columns = {
      mtimeMs: column(Float64Array, 8, rows),
      size: column(Float64Array, 8, rows),
      folder: column(Uint32Array, 4, rows),
      name: column(Uint32Array, 4, rows),
      mode: column(Uint32Array, 4, rows),
      names: column(Uint8Array, 1, shares * namesCap),
    };
    const c = columns;
    // (i32 arguments made ones with `| 0`: bun:ffi reads a number held as a double wrongly, see byte-loops.ts)
    const job = l.ocx_stat_entries_start(ptr(addresses), dirs.length, ptr(prefix), ptr(suffix), ptr(c.folder), ptr(c.name), ptr(c.mode), ptr(c.mtimeMs), ptr(c.size), cap | 0, ptr(c.names), namesCap, shares | 0);
    if (!job) throw new Error("dir-stats: out of memory");
    const kept = [paths, addresses, prefix, suffix, columns];
    underWay.add(kept);
    return { job, cap, columns, kept };
  };
  let scan: ReturnType<typeof start> | null = start(Math.ceil(room.entries / shares), Math.ceil(room.nameBytes / shares));
  return () => {
    if (!scan) throw new Error("dir-stats: a scan's answer is taken once");
    const counts = new Int32Array(2 * shares);
    for (;;) {
      const { job, cap, columns, kept } = scan;
      const full = l.ocx_stat_entries_wait(job, ptr(counts));
      // The job is freed by the wait: nothing may point at it any more (a start below may throw).
      scan = null;
      underWay.delete(kept);
      const rows = counts.subarray(0, shares);
      if (full) {
        // What the fullest share needed, and more for what may have come meanwhile.
        scan = start(Math.ceil(Math.max(...rows) * 1.25) + 16, Math.ceil(Math.max(...counts.subarray(shares)) * 1.25) + 1024);
        continue;
      }
      const total = rows.reduce((a, b) => a + b, 0);
      /** The rows of every share, one share after the other: moved together where they are, not copied out. */
      const join = <T extends Uint32Array | Float64Array>(col: T): T => {
        for (let t = 1, at = rows[0]!; t < shares; at += rows[t]!, t++) if (rows[t]! > 0) col.copyWithin(at, t * cap, t * cap + rows[t]!);
        return col.subarray(0, total) as T;
      };
      const at = join(columns.name);
      const names = columns.names;
      return {
        folder: join(columns.folder),
        name: (k) => decoder.decode(names.subarray(at[k], names.indexOf(0, at[k]))),
        mode: join(columns.mode),
        mtimeMs: join(columns.mtimeMs),
        size: join(columns.size),
      };
    }
  };
}
