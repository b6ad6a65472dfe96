// Byte arrays.

/** The bytes of `parts`, one after the other, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * `buf` when it holds `need` bytes, else a new array of at least `need`, twice `buf`'s length
 * and `min` bytes, with `buf`'s first `used` bytes copied in: a buffer that grows by doubling.
 */
export function withRoom(buf: Uint8Array | null, used: number, need: number, min: number): Uint8Array {
  if (buf !== null && need <= buf.length) return buf;
  const grown = new Uint8Array(Math.max(need, 2 * (buf?.length ?? 0), min));
  if (buf !== null && used > 0) grown.set(buf.subarray(0, used));
  return grown;
}

/** An Int32Array over all of `bytes.buffer`, for reading `bytes` four at a time (see scanString in model/json-bytes.ts). */
export function wordsOf(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >> 2);
}

