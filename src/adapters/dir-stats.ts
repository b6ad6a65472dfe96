// FileSystem.statEntries on Bun through dir-stats.c: the folders listed and their entries
// stat'ed in C on two threads, the answer read from typed arrays (one decode for all names). Where
// the C part cannot be loaded, node:fs does it (common.ts).
import { FFIType, ptr } from "bun:ffi";
import type { EntryMatch, EntryStats } from "../core/runtime.ts";
import { statEntries as nodeStatEntries } from "./common.ts";
import { loadNative } from "./native-bun.ts";
import source from "./dir-stats.c" with { type: "text" };

const p = FFIType.ptr;
const SYMBOLS = {
  ocx_stat_entries: { args: [p, FFIType.i32, p, p, p, p, p, p, p, FFIType.i32, p, FFIType.i64, p], returns: FFIType.i32 },
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

/** Room per thread to start with (then what the C part says it needs): entries, and bytes of names. */
const FIRST_ROOM = { entries: 16384, nameBytes: 1 << 20 };

/** FileSystem.statEntries: in C where it can be loaded, else through node:fs. */
export async function statEntries(dirs: readonly string[], match: EntryMatch): Promise<EntryStats> {
  return statEntriesInC(dirs, match) ?? nodeStatEntries(dirs, match);
}

/** statEntries through dir-stats.c; null where the C part cannot be loaded or a string holds a NUL. */
export function statEntriesInC(dirs: readonly string[], match: EntryMatch, room = FIRST_ROOM): EntryStats | null {
  const l = native();
  // A NUL cannot reach C; node:fs refuses such paths.
  if (!l || dirs.some((d) => d.includes("\0")) || `${match.prefix}${match.suffix}`.includes("\0")) return null;
  if (dirs.length === 0) return { folder: new Uint32Array(0), name: () => "", mode: new Uint32Array(0), mtimeMs: new Float64Array(0), size: new Float64Array(0) };
  const paths = dirs.map(cString);
  const addresses = new BigUint64Array(paths.length);
  for (let i = 0; i < paths.length; i++) addresses[i] = BigInt(ptr(paths[i]!));
  const prefix = cString(match.prefix);
  const suffix = cString(match.suffix);
  const counts = new Int32Array(4);
  for (let cap = room.entries, namesCap = room.nameBytes; ; ) {
    const folder = new Uint32Array(2 * cap);
    const name = new Uint32Array(2 * cap);
    const mode = new Uint32Array(2 * cap);
    const mtimeMs = new Float64Array(2 * cap);
    const size = new Float64Array(2 * cap);
    const names = new Uint8Array(2 * namesCap);
    const full = l.ocx_stat_entries(ptr(addresses), dirs.length, ptr(prefix), ptr(suffix), ptr(folder), ptr(name), ptr(mode), ptr(mtimeMs), ptr(size), cap, ptr(names), namesCap, ptr(counts));
    if (full) {
      // As much as the fuller share needed, and more for what may have come meanwhile.
      cap = Math.ceil(Math.max(counts[0]!, counts[1]!) * 1.25) + 16;
      namesCap = Math.ceil(Math.max(counts[2]!, counts[3]!) * 1.25) + 1024;
      continue;
    }
    const [a, b] = [counts[0]!, counts[1]!];
    /** The rows of both threads, one after the other. */
    const join = <T extends Uint32Array | Float64Array>(col: T): T => {
      if (b === 0) return col.subarray(0, a) as T;
      const out = new (col.constructor as new (n: number) => T)(a + b);
      out.set(col.subarray(0, a));
      out.set(col.subarray(cap, cap + b), a);
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
