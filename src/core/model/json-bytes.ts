// JSON read as UTF-8 bytes, without decoding it: the long strings of a JSON text cut out of it,
// each checked to be exactly what JSON.stringify writes for the string it stands for. A resumed
// session's large items (tool outputs of many kilobytes) are then read without making a string of
// their contents at all: what is left of the line (its skeleton) is decoded and parsed, and the
// contents stay in the file (see session/file-items.ts). Memory a process touches for the first
// time is the cost of reading a large session, more than the parsing itself.
import { wordsOf } from "../util/bytes.ts";

/** The contents of a string token, as scanString read them. */
export interface StringScan {
  /** The UTF-16 length of the contents as text, escapes as written (when canonical). */
  length: number;
  /**
   * The contents are exactly what JSON.stringify writes inside the quotes for that string: valid
   * UTF-8, no control character, and only the escapes JSON.stringify makes (`\"`, `\\`, `\b`,
   * `\f`, `\n`, `\r`, `\t`, and `\u00xx` in lowercase for the other control characters). A
   * surrogate escape counts as not canonical (its pairing would need a closer look).
   */
  canonical: boolean;
  /**
   * Where the next backslash of `backslashIn` is, at or after the last place one was looked for
   * (its length when there is none): kept between the tokens of one text, so that it is looked
   * for once per backslash, not once per token.
   */
  backslash?: number;
  backslashIn?: Uint8Array;
}

const HIGH = 0x80808080 | 0;
const ONES = 0x01010101;
const CONTROL = 0x20202020;
const QUOTES = 0x22222222;
const BACKSLASHES = 0x5c5c5c5c;

/**
 * Whether any byte of the two words is not printable ASCII, or is `"` or `\` (per word: a byte
 * at or above 0x80, one below 0x20, one equal to either; the borrow tricks are exact for whether
 * there is any, the rest of the loop finds which).
 */
function unplain(a: number, c: number): boolean {
  const qa = a ^ QUOTES;
  const sa = a ^ BACKSLASHES;
  const qc = c ^ QUOTES;
  const sc = c ^ BACKSLASHES;
  const low = ((a - CONTROL) & ~a) | ((c - CONTROL) & ~c) | ((qa - ONES) & ~qa) | ((sa - ONES) & ~sa) | ((qc - ONES) & ~qc) | ((sc - ONES) & ~sc);
  return ((a | c | low) & HIGH) !== 0;
}

/** The first word from `k` (by fours, up to `end`) where four words are not all plain (see unplain). */
function plainWords(words: Int32Array, k: number, end: number): number {
  while (k < end && !unplain(words[k]!, words[k + 1]!) && !unplain(words[k + 2]!, words[k + 3]!)) k += 4;
  return k;
}

/** Whether every byte of `b[from, to)` is printable ASCII or DEL (0x20 to 0x7f), read a word at a time where aligned. */
function printableAscii(b: Uint8Array, words: Int32Array, from: number, to: number): boolean {
  const base = b.byteOffset;
  let i = from;
  for (; i < to && ((base + i) & 3) !== 0; i++) if (b[i]! < 0x20 || b[i]! >= 0x80) return false;
  // Per word: a byte below 0x20 borrows into its top bit, one from 0x80 up has it set.
  let k = (base + i) >> 2;
  const end = (base + to) >> 2;
  for (; k + 4 <= end; k += 4) {
    const w0 = words[k]!;
    const w1 = words[k + 1]!;
    const w2 = words[k + 2]!;
    const w3 = words[k + 3]!;
    if ((((w0 - CONTROL) | w0 | (w1 - CONTROL) | w1 | (w2 - CONTROL) | w2 | (w3 - CONTROL) | w3) & HIGH) !== 0) return false;
  }
  for (; k < end; k++) if ((((words[k]! - CONTROL) | words[k]!) & HIGH) !== 0) return false;
  for (i = (k << 2) - base; i < to; i++) if (b[i]! < 0x20 || b[i]! >= 0x80) return false;
  return true;
}

/** The first backslash in `b` at or after `i` (`b.length` when none), through the cache in `scan`. */
function backslashFrom(b: Uint8Array, i: number, scan: StringScan): number {
  if (scan.backslashIn === b && scan.backslash !== undefined && scan.backslash >= i) return scan.backslash;
  const k = b.indexOf(0x5c, i);
  scan.backslashIn = b;
  scan.backslash = k === -1 ? b.length : k;
  return scan.backslash;
}

/** The length of the well-formed UTF-8 sequence of 2 to 4 bytes at `i` (before `limit`), or 0. */
function utf8Sequence(b: Uint8Array, i: number, limit: number): number {
  const c = b[i]!;
  if (c >= 0xc2 && c <= 0xdf) return i + 1 < limit && (b[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (i + 2 >= limit) return 0;
    const c1 = b[i + 1]!;
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && (b[i + 2]! & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (i + 3 >= limit) return 0;
    const c1 = b[i + 1]!;
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return c1 >= lo && c1 <= hi && (b[i + 2]! & 0xc0) === 0x80 && (b[i + 3]! & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

const isHexLower = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);

/**
 * Whether `\u00XY` (X, Y the bytes given) is how JSON.stringify escapes a control character: the
 * ones without a short escape (\b \t \n \f \r), in lowercase hex.
 */
function canonicalControlEscape(x: number, y: number): boolean {
  if (x === 0x31) return isHexLower(y); // \u0010 to \u001f
  if (x !== 0x30) return false;
  return (y >= 0x30 && y <= 0x37) || y === 0x62 || y === 0x65 || y === 0x66; // \u0000-\u0007, \u000b, \u000e, \u000f
}

/**
 * Reads a JSON string token's contents in `b`, from `i` (just after its opening quote) to its
 * closing quote, which it returns (-1 when `limit` comes first). The token ends where JSON's
 * grammar ends it (a backslash escapes the next byte), whatever the contents are; `scan` says
 * whether they are canonical and, if so, their UTF-16 length as text. Printable ASCII is
 * read sixteen bytes at a time through `words` (wordsOf(b)).
 */
export function scanString(b: Uint8Array, words: Int32Array, i: number, limit: number, scan: StringScan): number {
  // Contents with no backslash end at the next quote, which memchr finds (as it does the next
  // backslash): they are then only checked to be printable ASCII, a cheaper test per word than
  // the one below. Anything else is read as below.
  const quote = b.indexOf(0x22, i);
  if (quote !== -1 && quote < limit && backslashFrom(b, i, scan) > quote && printableAscii(b, words, i, quote)) {
    scan.length = quote - i;
    scan.canonical = true;
    return quote;
  }
  const base = b.byteOffset;
  let length = 0;
  let canonical = true;
  while (i < limit) {
    if (((base + i) & 3) === 0) {
      const j = (plainWords(words, (base + i) >> 2, ((base + limit) >> 2) - 3) << 2) - base;
      length += j - i;
      i = j;
      if (i >= limit) break;
    }
    const c = b[i]!;
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
      length++;
      i++;
    } else if (c === 0x22) {
      scan.length = length;
      scan.canonical = canonical;
      return i;
    } else if (c === 0x5c) {
      if (i + 1 >= limit) return -1;
      const e = b[i + 1]!;
      if (e === 0x22 || e === 0x5c || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        length += 2;
        i += 2;
      } else if (e === 0x75 && i + 5 < limit && b[i + 2] === 0x30 && b[i + 3] === 0x30 && canonicalControlEscape(b[i + 4]!, b[i + 5]!)) {
        length += 6;
        i += 6;
      } else {
        canonical = false;
        i += 2;
      }
    } else if (c < 0x20) {
      canonical = false;
      i++;
    } else {
      const n = utf8Sequence(b, i, limit);
      if (n === 0) {
        canonical = false;
        i++;
      } else {
        length += n === 4 ? 2 : 1;
        i += n;
      }
    }
  }
  return -1;
}

/** A JSON object text with its long string values cut out (see cutLongStrings). */
export interface CutJson {
  /** The text's bytes with each long value's contents taken out (`""` left in its place). */
  skeleton: Uint8Array;
  /** The UTF-16 length of the contents taken out, as text (the text's length is the skeleton's plus this). */
  cutLength: number;
  /** The key tokens (from, to: quotes included) of the object's own members whose value was cut. */
  cutKeys: Array<[number, number]>;
}

/**
 * The JSON text `b[from, to)`, an object, with the contents of every string value of at least
 * `minLong` bytes cut out, when each of those contents is canonical (see StringScan); null when
 * none is that long, when one of them is not canonical, or when the text is not an object whose
 * strings all end before `to`. Only string tokens are told apart here (keys, which are followed
 * by `:`, are never cut): whether the rest is valid JSON, and whether it is what JSON.stringify
 * writes, is for the caller to find out from the skeleton. A text whose string tokens are each
 * valid JSON reads the same as its skeleton with the cut strings put back, so the skeleton is
 * valid (and canonical) exactly when the text is, given canonical cut contents.
 */
export function cutLongStrings(b: Uint8Array, from: number, to: number, minLong: number): CutJson | null {
  if (to - from < 2 || b[from] !== 0x7b) return null;
  const words = wordsOf(b);
  const scan: StringScan = { length: 0, canonical: false };
  /** Kept ranges (from, to), one after the other. */
  const kept: number[] = [];
  const cutKeys: Array<[number, number]> = [];
  let keptFrom = from;
  let keptBytes = 0;
  let cutLength = 0;
  let depth = 0;
  let key: [number, number] | undefined;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x22) {
      const end = scanString(b, words, i + 1, to, scan);
      if (end === -1) return null;
      const isKey = end + 1 < to && b[end + 1] === 0x3a;
      // (A value follows its own key: the key read last is a member's of this depth.)
      if (isKey) key = [i, end + 1];
      else if (end - i - 1 >= minLong) {
        if (!scan.canonical) return null;
        kept.push(keptFrom, i + 1);
        keptBytes += i + 1 - keptFrom;
        keptFrom = end;
        cutLength += scan.length;
        if (depth === 1 && key) cutKeys.push(key);
      }
      i = end;
    }
  }
  if (kept.length === 0) return null;
  kept.push(keptFrom, to);
  keptBytes += to - keptFrom;
  const skeleton = new Uint8Array(keptBytes);
  let at = 0;
  const keyShift: number[] = [];
  for (let r = 0; r < kept.length; r += 2) {
    skeleton.set(b.subarray(kept[r]!, kept[r + 1]!), at);
    keyShift.push(kept[r]!, at - kept[r]!);
    at += kept[r + 1]! - kept[r]!;
  }
  // Key positions in the skeleton: shifted by what was cut before them.
  for (const k of cutKeys) {
    let shift = 0;
    for (let r = 0; r < keyShift.length && keyShift[r]! <= k[0]; r += 2) shift = keyShift[r + 1]!;
    k[0] += shift;
    k[1] += shift;
  }
  return { skeleton, cutLength, cutKeys };
}

/** The loops here that reading a large session runs hot (see Runtime.keepBelowTopTier). */
export const JSON_BYTES_LOOPS = [unplain, plainWords, printableAscii, backslashFrom, utf8Sequence, scanString, cutLongStrings];
