// Runtime.loadByteLoops on Bun: the loops of the model stream's reader in C
// (byte-loops.c). Where the C part cannot be loaded, the reader does them in JavaScript.
import { FFIType } from "bun:ffi";
import type { ByteLoops } from "../core/runtime.ts";
import { unzeroedBytes } from "./common.ts";
import { loadNative } from "./native-bun.ts";
import source from "./byte-loops.c" with { type: "text" };

const p = FFIType.ptr;
const i32 = FFIType.i32;
const SYMBOLS = {
  ocx_sse_skip: { args: [p, i32, i32, p, i32, p], returns: i32 },
  ocx_json_long_strings: { args: [p, i32, i32, p, i32], returns: i32 },
  ocx_json_unescape: { args: [p, i32, p], returns: i32 },
} as const;

let loaded: ByteLoops | null | undefined;

/**
 * The C part, loaded once; null where it cannot be. Typed arrays are passed as pointers to their
 * first element, their offset included. Every i32 argument is made one with `| 0`: bun:ffi reads
 * a number JavaScriptCore holds as a double (one read from a Float64Array, or made by arithmetic
 * the JIT did in doubles) wrongly as an i32, even when its value is a whole number.
 */
export function byteLoops(): ByteLoops | null {
  if (loaded !== undefined) return loaded;
  try {
    const c = loadNative("ocx-byte-loops", source, SYMBOLS);
    loaded = {
      skipEvents: (bytes, at, limit, head, counts) => c.ocx_sse_skip(bytes, at | 0, limit | 0, head, head.length, counts),
      longStrings(bytes, minLong) {
        if (bytes.length === 0) return new Int32Array(0);
        let ranges = new Int32Array(16);
        for (;;) {
          const n = c.ocx_json_long_strings(bytes, bytes.length, minLong | 0, ranges, (ranges.length / 2) | 0);
          if (n < 0) return null;
          if (2 * n <= ranges.length) return ranges.subarray(0, 2 * n);
          ranges = new Int32Array(2 * n);
        }
      },
      unescape(contents) {
        if (contents.length === 0) return new Uint8Array(0);
        // (not zeroed: C writes every byte read back)
        const out = unzeroedBytes(contents.length);
        const n = c.ocx_json_unescape(contents, contents.length, out);
        return n < 0 ? null : out.subarray(0, n);
      },
    };
  } catch {
    loaded = null;
  }
  return loaded;
}
