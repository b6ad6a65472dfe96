// The JSON of a large server-sent event, read from its bytes. An answer of megabytes comes whole
// in response.output_item.done and again in response.completed: decoded with the rest of the
// event and parsed, each copy costs several times its size in memory touched for the first time
// (JSON.parse builds a string with escapes piece by piece), which is what a large answer costs
// most on some machines. With the runtime's byte loops, the long strings are cut out of the
// bytes first: the rest (the skeleton) is decoded and parsed, and each long string is unescaped
// natively and decoded once, straight into the string it is, or left out where nobody reads it.
// Either way the value is exactly what JSON.parse of the decoded bytes gives.
import type { ByteLoops } from "../runtime.ts";
import { concatBytes } from "../util/bytes.ts";
import { withoutLongStrings } from "./json-text.ts";

/** A long string: far longer than any id or name (bytes between its quotes). */
export const LONG_STRING = 4096;

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** JSON.parse's value, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** parseEventJson of an event's decoded text (`long: "drop"`: its long strings made empty). */
export function parseEventText(text: string, long: "keep" | "drop"): unknown {
  return parseJson(long === "drop" && text.length > LONG_STRING ? withoutLongStrings(text, LONG_STRING) : text);
}

/**
 * The value of the JSON text `bytes` (as TextDecoder decodes it), or undefined when it does not
 * parse. `long: "drop"` reads the text with each long string made empty ("") instead: for events
 * whose long strings nobody reads (a text that is not JSON only inside one then parses).
 */
export function parseEventJson(bytes: Uint8Array, loops: ByteLoops | undefined, long: "keep" | "drop"): unknown {
  const ranges = loops && bytes.length > LONG_STRING ? loops.longStrings(bytes, LONG_STRING) : null;
  /** The whole text, decoded and parsed as any other. */
  const whole = () => parseEventText(decoder.decode(bytes), long);
  if (!ranges || ranges.length === 0) return whole();
  // The skeleton: the text with each long string's contents replaced by a mark (`\u0000` and its
  // number), or by nothing.
  const parts: Uint8Array[] = [];
  let from = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    parts.push(bytes.subarray(from, ranges[k]!));
    if (long === "keep") parts.push(encoder.encode(`\\u0000${k / 2}`));
    from = ranges[k + 1]!;
  }
  parts.push(bytes.subarray(from));
  const value = parseJson(decoder.decode(concatBytes(parts)));
  if (long === "drop" || value === undefined) return value;
  const strings: string[] = [];
  for (let k = 0; k < ranges.length; k += 2) {
    const contents = loops!.unescape(bytes.subarray(ranges[k]!, ranges[k + 1]!));
    // Not a string JSON.parse reads as UTF-8 can hold: the whole text, as JSON.parse reads it.
    if (!contents) return whole();
    strings.push(decoder.decode(contents));
  }
  // Each mark put back; a string of the text that reads as a mark (then more are found than were
  // made) sends the whole text to JSON.parse instead.
  return putBack(value, strings) === strings.length ? value : whole();
}

const MARK = /^\u0000(\d+)$/;

/**
 * Replaces, inside `value`, each string value that is a mark with the string it stands for. How
 * many it replaced; Infinity when a string reads as a mark it did not make, or when the value
 * itself is a mark. (JSON.parse makes every member an own property, `__proto__` too: assigning it
 * sets that property.)
 * (A loop, not recursion: the text is the server's, and may nest deeper than a stack allows.)
 */
function putBack(value: unknown, strings: readonly string[]): number {
  if (typeof value !== "object" || value === null) return typeof value === "string" && MARK.test(value) ? Number.POSITIVE_INFINITY : 0;
  let placed = 0;
  const stack: Array<Record<string, unknown> | unknown[]> = [value as Record<string, unknown>];
  while (stack.length > 0) {
    const node = stack.pop()! as Record<string, unknown>;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      const v = node[key as string];
      if (typeof v === "object" && v !== null) stack.push(v as Record<string, unknown>);
      else if (typeof v === "string" && v.length <= 12) {
        const m = MARK.exec(v);
        if (!m) continue;
        const k = Number(m[1]);
        if (k >= strings.length) return Number.POSITIVE_INFINITY;
        node[key as string] = strings[k];
        placed++;
      }
    }
  }
  return placed;
}
