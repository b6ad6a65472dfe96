// FileSystem.statEntries on Bun through dir-stats.c: the folders listed and their entries
// stat'ed in C on a thread per processor, the answer read from typed arrays (a name decoded only
// when asked for). Where the C part cannot be loaded, node:fs does it (common.ts).
import { FFIType, ptr } from "bun:ffi";
import type { EntryMatch, EntryStats } from "../core/runtime.ts";
import { statEntries as nodeStatEntries } from "./common.ts";
import { loadNative } from "./native-bun.ts";
import source from "./dir-stats.c" with { type: "text" };

const p = FFIType.ptr;
const SYMBOLS = {
  ocx_stat_entries: { args: [p, FFIType.i32, p, p, p, p, p, p, p, FFIType.i32, p, FFIType.i64, FFIType.i32, p], returns: FFIType.i32 },
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cString = (s: string) => encoder.encode(`${s}\0`);

/** Room to start with, shared among the threads (then what the C part says it needs): entries, and bytes of names. */
const FIRST_ROOM = { entries: 32768, nameBytes: 2 << 20 };
/** Threads: one per processor, up to dir-stats.c's MAX_SHARES, never more than folders. */
const MAX_SHARES = 16;

/** FileSystem.statEntries: in C where it can be loaded, else through node:fs. */
export async function statEntries(dirs: readonly string[], match: EntryMatch): Promise<EntryStats> {
  return statEntriesInC(dirs, match) ?? nodeStatEntries(dirs, match);
}

/**
 * statEntries through dir-stats.c on `threads` threads; null where the C part cannot be loaded
 * or a string holds a NUL.
 */
export function statEntriesInC(
  dirs: readonly string[],
  match: EntryMatch,
  opts: { threads?: number; room?: { entries: number; nameBytes: number } } = {},
): EntryStats | null {
  const l = native();
  // A NUL cannot reach C; node:fs refuses such paths.
  if (!l || dirs.some((d) => d.includes("\0")) || `${match.prefix}${match.suffix}`.includes("\0")) return null;
  if (dirs.length === 0) return { folder: new Uint32Array(0), name: () => "", mode: new Uint32Array(0), mtimeMs: new Float64Array(0), size: new Float64Array(0) };
  const shares = Math.max(1, Math.min(MAX_SHARES, dirs.length, opts.threads ?? navigator.hardwareConcurrency ?? 2));
  const room = opts.room ?? FIRST_ROOM;
  const paths = dirs.map(cString);
  const addresses = new BigUint64Array(paths.length);
  for (let i = 0; i < paths.length; i++) addresses[i] = BigInt(ptr(paths[i]!));
  const prefix = cString(match.prefix);
  const suffix = cString(match.suffix);
  const counts = new Int32Array(2 * shares);
  for (let cap = Math.ceil(room.entries / shares), namesCap = Math.ceil(room.nameBytes / shares); ; ) {
    const folder = new Uint32Array(shares * cap);
    const name = new Uint32Array(shares * cap);
    const mode = new Uint32Array(shares * cap);
    const mtimeMs = new Float64Array(shares * cap);
    const size = new Float64Array(shares * cap);
    const names = new Uint8Array(shares * namesCap);
    const full = l.ocx_stat_entries(ptr(addresses), dirs.length, ptr(prefix), ptr(suffix), ptr(folder), ptr(name), ptr(mode), ptr(mtimeMs), ptr(size), cap, ptr(names), namesCap, shares, ptr(counts));
    const rows = counts.subarray(0, shares);
    if (full) {
      // What the fullest share needed, and more for what may have come meanwhile.
      cap = Math.ceil(Math.max(...rows) * 1.25) + 16;
      namesCap = Math.ceil(Math.max(...counts.subarray(shares)) * 1.25) + 1024;
      continue;
    }
    const total = rows.reduce((a, b) => a + b, 0);
    /** The rows of every share, one share after the other. */
    const join = <T extends Uint32Array | Float64Array>(col: T): T => {
      if (total === rows[0]) return col.subarray(0, total) as T;
      const out = new (col.constructor as new (n: number) => T)(total);
      for (let t = 0, at = 0; t < shares; at += rows[t]!, t++) out.set(col.subarray(t * cap, t * cap + rows[t]!), at);
      return out;
    };
    const at = join(name);
    return {
      folder: join(folder),
      name: (k) => decoder.decode(names.subarray(at[k], names.indexOf(0, at[k]))),
      mode: join(mode),
      mtimeMs: join(mtimeMs),
      size: join(size),
    };
  }
}
