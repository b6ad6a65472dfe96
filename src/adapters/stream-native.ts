// Runtime.loadStreamNatives on Bun: the loops of the model stream's reader in C
// (stream-native.c). Where the C part cannot be loaded, the reader does them in JavaScript.
import { FFIType } from "bun:ffi";
import type { StreamNatives } from "../core/runtime.ts";
import { unzeroedBytes } from "./common.ts";
import { loadNative } from "./native-bun.ts";
import source from "./stream-native.c" with { type: "text" };

const p = FFIType.ptr;
const i32 = FFIType.i32;
const SYMBOLS = {
  ocx_sse_skip: { args: [p, i32, i32, p, i32, p], returns: i32 },
  ocx_json_long_strings: { args: [p, i32, i32, p, i32], returns: i32 },
  ocx_json_unescape: { args: [p, i32, p], returns: i32 },
} as const;

let loaded: StreamNatives | null | undefined;

/** The C part, loaded once; null where it cannot be. (Typed arrays are passed as pointers to their first element, their offset included.) */
export function streamNatives(): StreamNatives | null {
  if (loaded !== undefined) return loaded;
  try {
    const c = loadNative("ocx-stream-native", source, SYMBOLS);
    loaded = {
      skipEvents: (bytes, at, limit, head, counts) => c.ocx_sse_skip(bytes, at, limit, head, head.length, counts),
      longStrings(bytes, minLong) {
        if (bytes.length === 0) return new Int32Array(0);
        let ranges = new Int32Array(16);
        for (;;) {
          const n = c.ocx_json_long_strings(bytes, bytes.length, minLong, ranges, ranges.length / 2);
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
