// FileSystem.startStatDays on Bun through dir-stats.c: the date folders listed and their entries
// stat'ed in C, on threads of its own, while JavaScript goes on; the answer read in place from
// the C part's memory (a name decoded only when asked for), which is freed once nothing holds
// it. `exec resume --last` starts it from the entry, before the rest of ocx loads (startEarly).
// Where the C part cannot be loaded, the caller lists the folders through the runtime.
import { FFIType, toArrayBuffer, type Pointer } from "bun:ffi";
import type { DatedEntryStats, EntryMatch } from "../core/runtime.ts";
import { loadNative, loadNativeAsync } from "./native-bun.ts";
import { cstr } from "./sandbox/libc.ts";
import source from "./dir-stats.c" with { type: "text" };

const p = FFIType.ptr;
const SYMBOLS = {
  ocx_stat_days_start: { args: [p, p, p, FFIType.i32], returns: p },
  ocx_stat_days_wait: { args: [p, p], returns: p },
  ocx_stat_days_free: { args: [p], returns: FFIType.void },
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

/** Threads: one per processor, up to dir-stats.c's MAX_SHARES. */
const MAX_SHARES = 16;
/** A name's u32 (dir-stats.c): its share's index in the top bits, its offset among that share's names below. */
const NAME_SHARE_SHIFT = 27;
const NAME_OFFSET_MASK = (1 << NAME_SHARE_SHIFT) - 1;

/** Frees an answer's C memory (its columns' block, each share's names) once unreachable: views keep it. */
const blocks = new FinalizationRegistry<Pointer>((block) => lib?.ocx_stat_days_free(block));

/**
 * A walk through dir-stats.c, started now on `threads` threads; the function returned waits for
 * it (once). Null where the C part cannot be loaded or a string holds a NUL; the answer is null
 * when the walk ran out of memory.
 */
export function startStatDaysInC(root: string, match: EntryMatch, opts: { threads?: number } = {}): (() => DatedEntryStats | null) | null {
  const l = native();
  // A NUL cannot reach C; node:fs refuses such paths.
  if (!l || `${root}${match.prefix}${match.suffix}`.includes("\0")) return null;
  const shares = Math.max(1, Math.min(MAX_SHARES, opts.threads ?? navigator.hardwareConcurrency ?? 2));
  // (i32 arguments made ones with `| 0`: bun:ffi reads a number held as a double wrongly, see byte-loops.ts)
  const job = l.ocx_stat_days_start(cstr(root), cstr(match.prefix), cstr(match.suffix), shares | 0);
  if (!job) return null;
  let waited = false;
  return () => {
    if (waited) throw new Error("dir-stats: a walk's answer is taken once");
    waited = true;
    // rows, date folders, where the columns start, the block's size, the newest row, shares, then each share's names and their size
    const sizes = new BigInt64Array(6 + 2 * MAX_SHARES);
    const block = l.ocx_stat_days_wait(job, sizes) as Pointer | null;
    if (!block) return null;
    const [rows, ndays, columnsAt, total, newest, shares] = Array.from(sizes.subarray(0, 6), Number) as [number, number, number, number, number, number];
    /** C memory read in place, freed once unreachable (nothing to read where it is empty). */
    const inPlace = (at: Pointer, size: number): ArrayBuffer => {
      if (size === 0) {
        l.ocx_stat_days_free(at);
        return new ArrayBuffer(0);
      }
      const memory = toArrayBuffer(at, 0, size);
      blocks.register(memory, at);
      return memory;
    };
    const memory = inPlace(block, total);
    const names = Array.from({ length: shares }, (_, t) => {
      const at = Number(sizes[6 + 2 * t]) as Pointer;
      return at ? new Uint8Array(inPlace(at, Number(sizes[7 + 2 * t]))) : new Uint8Array(0);
    });
    let at = columnsAt;
    const column = <T>(make: new (b: ArrayBuffer, offset: number, length: number) => T, bytes: number): T => {
      const col = new make(memory, at, rows);
      at += bytes * rows;
      return col;
    };
    const mtimeMs = column(Float64Array, 8);
    const size = column(Float64Array, 8);
    const folder = column(Uint32Array, 4);
    const nameAt = column(Uint32Array, 4);
    const mode = column(Uint32Array, 4);
    const days = ndays === 0 ? [] : decoder.decode(new Uint8Array(memory, 0, columnsAt)).split("\0").slice(0, ndays);
    const name = (k: number) => {
      const bytes = names[nameAt[k]! >>> NAME_SHARE_SHIFT]!;
      const from = nameAt[k]! & NAME_OFFSET_MASK;
      return decoder.decode(bytes.subarray(from, bytes.indexOf(0, from)));
    };
    return { days, newest, folder, mode, mtimeMs, size, name };
  };
}

/** Walks started by startEarly, by root and match, for the next startStatDays of the same to take. */
const early = new Map<string, () => DatedEntryStats | null>();
const key = (root: string, match: EntryMatch) => JSON.stringify([root, match.prefix, match.suffix]);

/**
 * Starts the walk FileSystem.startStatDays(root, match) will want, from the entry, before the
 * rest of ocx loads (the C part loaded without node:fs). A walk never taken costs only its threads' work.
 */
export async function startEarly(root: string, match: EntryMatch): Promise<void> {
  if (lib === undefined) lib = process.platform === "linux" ? await loadNativeAsync("ocx-dir-stats", source, SYMBOLS).catch(() => null) : null;
  const walk = startStatDaysInC(root, match);
  if (walk) early.set(key(root, match), walk);
}

/** FileSystem.startStatDays: in C where it can be loaded (the walk startEarly began, if any), else null. */
export function startStatDays(root: string, match: EntryMatch): (() => Promise<DatedEntryStats | null>) | null {
  const k = key(root, match);
  const walk = early.get(k) ?? startStatDaysInC(root, match);
  early.delete(k);
  return walk ? async () => walk() : null;
}
