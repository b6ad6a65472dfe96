// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, then random bits. Monotonic within a
// process: ids made in the same millisecond (or with the clock stepping back) increase by
// bumping a 12-bit counter in rand_a, carrying into the timestamp when it overflows.

import { hex } from "./random.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whether `s` is a UUID (any version, any case). */
export const isUuid = (s: string): boolean => UUID.test(s);

/** The creation time inside a UUIDv7 (ms), or null for other versions. */
export function uuidv7Ms(id: string): number | null {
  if (id[14] !== "7") return null;
  return parseInt(id.replace(/-/g, "").slice(0, 12), 16);
}

let lastMs = -1;
let counter = 0;

/** `random` fills the bytes (Runtime.randomFill; crypto.getRandomValues by default). */
export function uuidv7(nowMs: number = Date.now(), random?: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  if (random) random(bytes);
  else crypto.getRandomValues(bytes);
  let ms = nowMs;
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms++;
      counter = 0;
    }
  } else {
    counter = bytes[6]! & 0x07; // random start, leaving headroom before overflow
  }
  lastMs = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
