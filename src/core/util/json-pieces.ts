// The JSON text of a value in pieces whose concatenation is exactly JSON.stringify(value): each
// long string (an answer of megabytes, which a run writes into four session lines and a JSONL
// event) is a piece of its own, escaped once and shared by the lines that hold it, instead of
// being copied into the whole text of each line. Memory touched for the first time is what a
// large answer costs most on some machines.

/** A string at least this long (UTF-16 units) is a piece of its own. */
export const LONG_PIECE = 64 * 1024;

/** What stands in for a long string while the rest is made; its JSON text splits the rest. */
const MARK = "\u0000ocx:long\u0000";
const MARK_JSON = JSON.stringify(MARK);

/** The long string escaped last, and its JSON text (the next line usually holds the same one). */
let lastLong: string | undefined;
let lastJson = "";

/**
 * JSON.stringify(value) as one string, or as pieces to be written one after the other (never
 * joined) when it holds long strings. (JSON.stringify's undefined, for a value that has no JSON
 * text, is not expected here: callers stringify objects.)
 */
export function stringifyPieces(value: unknown): string | string[] {
  let longs: string[] | undefined;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== "string" || v.length < LONG_PIECE) return v;
    (longs ??= []).push(v);
    return MARK;
  });
  if (!longs) return text;
  const rest = text.split(MARK_JSON);
  // A string of the value that reads as the mark (then there are more places than long strings):
  // the text whole.
  if (rest.length !== longs.length + 1) return JSON.stringify(value);
  const pieces: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== "") pieces.push(rest[i]!);
    if (i < longs.length) pieces.push(jsonOfLong(longs[i]!));
  }
  return pieces;
}

function jsonOfLong(s: string): string {
  if (s !== lastLong) {
    lastJson = JSON.stringify(s);
    lastLong = s;
  }
  return lastJson;
}
