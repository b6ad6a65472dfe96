// Runtime.loadSkipEvents on Bun: SseDecoder's pass over unread events in C (sse-skip.c), one
// call per body chunk. Where the C part cannot be loaded, the decoder does it in JavaScript.
import { FFIType } from "bun:ffi";
import type { SkipEvents } from "../core/runtime.ts";
import { loadNative } from "./native-bun.ts";
import source from "./sse-skip.c" with { type: "text" };

const p = FFIType.ptr;
const SYMBOLS = {
  ocx_sse_skip: { args: [p, FFIType.i32, FFIType.i32, p, FFIType.i32, p], returns: FFIType.i32 },
} as const;

let loaded: SkipEvents | null | undefined;

/** The C pass, loaded once; null where it cannot be (then each call says so again at no cost). */
export function nativeSkipEvents(): SkipEvents | null {
  if (loaded === undefined) {
    try {
      const { ocx_sse_skip } = loadNative("ocx-sse-skip", source, SYMBOLS);
      // (typed arrays are passed as pointers to their first element, their offset included)
      loaded = (bytes, at, limit, head, counts) => ocx_sse_skip(bytes, at, limit, head, head.length, counts);
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
