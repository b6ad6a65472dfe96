// JSON text with its long strings emptied, for parsing only the small parts of a large event.
// `response.completed` repeats the whole answer in its `output`, which nobody reads (the items
// came in their own events): parsed whole, a 1 MB answer costs as much again as its own event.

const BACKSLASH = 0x5c;

/**
 * `text` with every string literal (keys included) whose JSON text between the quotes is longer
 * than `minLong` characters made empty (`""`); `text` itself when there is none. Only the quotes
 * are looked for (with the native indexOf), each checked for the backslashes before it: the
 * contents of a long string are neither read nor checked, so a text that is not JSON only inside
 * a long string parses after this. An unterminated string leaves `text` as it is, for the parser
 * to refuse.
 */
export function withoutLongStrings(text: string, minLong: number): string {
  let out = "";
  let from = 0; // text before `from` is in `out`
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    for (;;) {
      if (close === -1) return text;
      // A quote after an odd number of backslashes is part of the string.
      let k = close - 1;
      while (text.charCodeAt(k) === BACKSLASH) k--;
      if ((close - 1 - k) % 2 === 0) break;
      close = text.indexOf('"', close + 1);
    }
    if (close - open - 1 > minLong) {
      out += text.slice(from, open + 1);
      from = close;
    }
    open = text.indexOf('"', close + 1);
  }
  return from === 0 ? text : out + text.slice(from);
}
