/**
 * Find `pattern` as a run of consecutive lines in `lines`, at or after `start`.
 * Four passes of decreasing strictness: exact, trailing whitespace ignored, surrounding
 * whitespace ignored, then Unicode punctuation and spaces normalised to ASCII.
 * With `eof`, the position that ends at the last line is tried first (every pass), then the
 * search falls back to `start`. Returns the index of the first matching line, or null.
 */
export function seekSequence(lines: readonly string[], pattern: readonly string[], start: number, eof: boolean): number | null {
  if (pattern.length === 0) return start;
  if (pattern.length > lines.length) return null;
  const last = lines.length - pattern.length;
  if (eof) {
    const found = scan(lines, pattern, last, last);
    if (found !== null) return found;
  }
  return scan(lines, pattern, start, last);
}

const PASSES: Array<(s: string) => string> = [(s) => s, (s) => s.trimEnd(), (s) => s.trim(), normalise];

function scan(lines: readonly string[], pattern: readonly string[], from: number, to: number): number | null {
  for (const norm of PASSES) {
    const pat = pattern.map(norm);
    for (let i = from; i <= to; i++) {
      let ok = true;
      for (let j = 0; j < pat.length; j++) {
        if (norm(lines[i + j]!) !== pat[j]) {
          ok = false;
          break;
        }
      }
      if (ok) return i;
    }
  }
  return null;
}

const DASHES = /[\u2010-\u2015\u2212]/g;
const SINGLE_QUOTES = /[\u2018-\u201B]/g;
const DOUBLE_QUOTES = /[\u201C-\u201F]/g;
const SPACES = /[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g;

/** Trim, then map typographic dashes, quotes and spaces to their ASCII forms. */
export function normalise(s: string): string {
  return s.trim().replace(DASHES, "-").replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"').replace(SPACES, " ");
}
