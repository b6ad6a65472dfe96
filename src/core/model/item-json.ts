// The JSON of items whose JSON is already known: a history item restored from a rollout line
// remembers the UTF-8 length of that line's payload, when (and only when) the payload is exactly
// JSON.stringify of the parsed item. A request can then announce its length before serialising
// anything (and stream the body, serialising one item at a time), and token estimates need no
// serialisation at all; the bytes themselves are not kept (they would double a resume's memory).
import type { ResponseItem } from "./types.ts";

interface KnownJson {
  /** The UTF-8 byte length of JSON.stringify(item). */
  byteLength: number;
  /** JSON.stringify(item).length (UTF-16 code units). */
  length: number;
  /** Where the bytes can be copied from, when they can (see ItemJsonBytes). */
  source?: ItemJsonBytes;
}

const known = new WeakMap<object, KnownJson>();

/**
 * Where the bytes of an item's JSON can be had without serialising it (a restored item whose
 * contents stay in its session file): copyTo writes exactly JSON.stringify(item)'s UTF-8 bytes
 * into `into` (of exactly that length), or throws when it cannot (an OcxError: the file changed).
 */
export interface ItemJsonBytes {
  copyTo(into: Uint8Array): void;
}

/** How to copy the bytes of the item's JSON, when it has such a source (see ItemJsonBytes). */
export function itemJsonBytes(item: ResponseItem): ItemJsonBytes | undefined {
  return known.get(item)?.source;
}

/**
 * Records `item`'s JSON lengths (as rememberItemJson proved them for the item it stands for) and
 * where its bytes are: the caller guarantees that `source` copies exactly JSON.stringify(item)'s
 * bytes, and that `item` reads as that JSON (and stays so, or forgetItemJson is called).
 */
export function rememberItemJsonSource(item: ResponseItem, json: { byteLength: number; length: number }, source: ItemJsonBytes): void {
  known.set(item, { byteLength: json.byteLength, length: json.length, source });
}

/** Forgets what is known of `item`'s JSON (it is about to change). */
export function forgetItemJson(item: ResponseItem): void {
  known.delete(item);
}

/** The UTF-8 byte length of JSON.stringify(item) when it is known (undefined: serialise to know). */
export function itemJsonByteLength(item: ResponseItem): number | undefined {
  return known.get(item)?.byteLength;
}

/** JSON.stringify(item).length, without serialising the item when its JSON is known. */
export function itemJsonLength(item: ResponseItem): number {
  return known.get(item)?.length ?? JSON.stringify(item).length;
}

/**
 * Remembers `byteLength` as the UTF-8 length of the JSON of `item` when `text.slice(from, to)`
 * is exactly JSON.stringify(item); returns whether it did. The caller guarantees that `item` is
 * what JSON.parse made of that slice, that `byteLength` is the slice's UTF-8 length (so `text`
 * holds no lone surrogate: it was decoded from valid UTF-8), and that `item` is not changed
 * afterwards.
 */
export function rememberItemJson(item: ResponseItem, text: string, from: number, to: number, byteLength: number): boolean {
  if (!isStringifyOf(item, text, from, to, true)) return false;
  known.set(item, { byteLength, length: to - from });
  return true;
}

/**
 * One JSON string token whose escapes are all ones JSON.stringify writes (the text is valid JSON:
 * it was parsed): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`; `\u00xx` (lowercase) for the other
 * control characters; `\udxxx` (lowercase) for a lone surrogate, one not paired with an escaped
 * neighbour. (A lone surrogate escape read as paired only makes the text go unkept.)
 */
const CANONICAL_STRING_TOKEN =
  /"[^"\\]*(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f])|ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2}\\)ud[c-f][0-9a-f]{2})[^"\\]*)*"/y;

const wellFormed = (s: string): boolean => {
  const f = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return f ? f.call(s) : !/[\ud800-\udfff]/.test(s);
};

/**
 * Whether `text.slice(from, to)` === JSON.stringify(value), given that `value` is JSON.parse of
 * that slice. When the text holds no lone surrogate, a string token whose escapes are all ones
 * JSON.stringify writes is exactly JSON.stringify of the string it parses to, so the text is read
 * once, left to right, against the value: string tokens of that form, no whitespace, numbers as
 * JSON.stringify writes them, keys in the order (and number) the parsed object has them. Any
 * difference there is a difference from JSON.stringify's text, except around a surrogate escape
 * (see CANONICAL_STRING_TOKEN): then, as for a text with a lone surrogate, a fresh JSON.stringify
 * decides. `wellFormedText`: the caller knows the text has no lone surrogate.
 */
export function isStringifyOf(value: unknown, text: string, from = 0, to = text.length, wellFormedText = false): boolean {
  if (from < 0 || to > text.length || from > to) return false;
  return to - from <= STRINGIFY_AT_MOST ? stringifies(value, text, from, to) : walksAsStringifyOf(value, text, from, to, wellFormedText);
}

/**
 * A slice this short is compared with a fresh JSON.stringify instead (a short string made, and
 * native code throughout): three times faster than the walk on the 6,000 small items of a
 * resumed session, in a process that short. Past it, the walk makes nothing the text's size.
 */
const STRINGIFY_AT_MOST = 2048;

/** Whether `text.slice(from, to)` is exactly JSON.stringify(value), by comparing the two. */
function stringifies(value: unknown, text: string, from: number, to: number): boolean {
  const json = JSON.stringify(value);
  return json !== undefined && json.length === to - from && text.startsWith(json, from);
}

/** isStringifyOf by the walk, at any length (what it does past STRINGIFY_AT_MOST; its tests call it directly). */
export function walksAsStringifyOf(value: unknown, text: string, from = 0, to = text.length, wellFormedText = false): boolean {
  if (from < 0 || to > text.length || from > to) return false;
  if (!(wellFormedText || wellFormed(text))) return stringifies(value, text, from, to);
  if (new Walk(text).value(value, from) === to) return true;
  // A surrogate escape the token pattern took for half of a pair may be a lone one after all.
  const surrogate = text.indexOf("\\ud", from);
  return surrogate !== -1 && surrogate < to && stringifies(value, text, from, to);
}

/** JSON.stringify of object keys seen so far (a few dozen names in practice; bounded all the same). */
const keyJsonCache = new Map<string, string>();
function keyJson(key: string): string {
  let k = keyJsonCache.get(key);
  if (k === undefined) {
    k = JSON.stringify(key);
    if (keyJsonCache.size < 1024 && key.length <= 64) keyJsonCache.set(key, k);
  }
  return k;
}

/** Compares a parsed value with the text it came from, left to right. */
class Walk {
  /** The first backslash at or after `from` (the text's length when there is none). */
  private backslash = -1;

  constructor(private readonly s: string) {}

  private nextBackslash(p: number): number {
    if (this.backslash < p) {
      const i = this.s.indexOf("\\", p);
      this.backslash = i < 0 ? this.s.length : i;
    }
    return this.backslash;
  }

  /** The end of `value`'s JSON.stringify form in the text from `p`, or -1 where the text differs. */
  value(value: unknown, p: number): number {
    const s = this.s;
    switch (typeof value) {
      case "string": {
        if (s.charCodeAt(p) !== 34) return -1;
        // Without a backslash, the token is the string itself between quotes.
        const end = p + value.length + 1;
        if (this.nextBackslash(p) > end) return s.charCodeAt(end) === 34 ? end + 1 : -1;
        CANONICAL_STRING_TOKEN.lastIndex = p;
        return CANONICAL_STRING_TOKEN.test(s) ? CANONICAL_STRING_TOKEN.lastIndex : -1;
      }
      case "number":
      case "boolean": {
        const t = JSON.stringify(value);
        return s.startsWith(t, p) ? p + t.length : -1;
      }
      case "object": {
        if (value === null) return s.startsWith("null", p) ? p + 4 : -1;
        if (Array.isArray(value)) {
          if (s.charCodeAt(p++) !== 91) return -1;
          for (let i = 0; i < value.length; i++) {
            if (i > 0 && s.charCodeAt(p++) !== 44) return -1;
            p = this.value(value[i], p);
            if (p < 0) return -1;
          }
          return s.charCodeAt(p) === 93 ? p + 1 : -1;
        }
        if (s.charCodeAt(p++) !== 123) return -1;
        let first = true;
        for (const key in value) {
          if (!Object.hasOwn(value, key)) return -1;
          if (!first && s.charCodeAt(p++) !== 44) return -1;
          first = false;
          const k = keyJson(key);
          if (!s.startsWith(k, p) || s.charCodeAt(p + k.length) !== 58) return -1;
          p = this.value((value as Record<string, unknown>)[key], p + k.length + 1);
          if (p < 0) return -1;
        }
        return s.charCodeAt(p) === 125 ? p + 1 : -1;
      }
      default:
        return -1;
    }
  }
}

/**
 * The loops here that reading a large session, and its first request, run hot for every item
 * (see Runtime.keepBelowTopTier).
 */
export const ITEM_JSON_LOOPS = [Walk.prototype.value, Walk.prototype["nextBackslash"], keyJson, isStringifyOf, walksAsStringifyOf, stringifies, itemJsonBytes, itemJsonByteLength, itemJsonLength];
