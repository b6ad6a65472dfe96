// Cutting a byte stream into chunks, for tests that a parser's output does not depend on where
// the reads of a body end.

/** `bytes` cut at `points` (sorted, deduplicated, within bounds): points.length + 1 chunks. */
export function cut(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Arbitrary numbers as cut points within `bytes`: each taken modulo its length + 1, sorted, deduplicated. */
export function cutPoints(bytes: Uint8Array, picks: readonly number[]): number[] {
  return [...new Set(picks.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
}
