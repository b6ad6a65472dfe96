// The one redactor: every secret ocx knows (keys and tokens it holds, auth.json's values, the
// credential environment variables) becomes [REDACTED] in everything ocx writes or sends on:
// stdout, stderr, the -o file, the rollout, and command output returned to the model.
import type { OutputSink } from "./runtime.ts";

export const REDACTED = "[REDACTED]";
/** Shorter strings are not treated as secrets (they would shred ordinary output). */
export const MIN_SECRET_LENGTH = 8;

/** Secret values; asked again on every use (tokens rotate during a run). */
export type SecretSource = () => Iterable<string | null | undefined>;

export interface Redactor {
  /** Adds a source of secrets. */
  add(source: SecretSource): void;
  /** `s` with every whole secret (raw or JSON-escaped) replaced; `s` itself when none occurs. */
  text(s: string): string;
  /**
   * Like text(), for a piece of a longer stream: where the piece was cut (`before`: its start,
   * `after`: its end), the part of a secret that the cut left (8 characters or more) is replaced too.
   */
  fragment(s: string, cut: { before: boolean; after: boolean }): string;
}

interface Compiled {
  /** The secrets as last asked, to notice a change cheaply (same strings, same order). */
  key: string[];
  /** Raw secrets, longest first. */
  secrets: string[];
  /** Every secret and its JSON-escaped form, longest first. */
  forms: string[];
  /** The forms in one alternation, made when first needed (null: not yet). */
  pattern: RegExp | null;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

export function createRedactor(...initial: SecretSource[]): Redactor {
  const sources = [...initial];
  let compiled: Compiled = { key: [], secrets: [], forms: [], pattern: null };

  const current = (): Compiled => {
    const key: string[] = [];
    for (const source of sources) {
      for (const s of source()) {
        if (typeof s !== "string") continue;
        const t = s.trim();
        if (t.length >= MIN_SECRET_LENGTH) key.push(t);
      }
    }
    if (sameStrings(key, compiled.key)) return compiled;
    // Longest first, so a secret that contains another is replaced whole.
    const secrets = longestFirst([...new Set(key)]);
    const forms = new Set<string>();
    for (const s of secrets) {
      forms.add(s);
      forms.add(JSON.stringify(s).slice(1, -1));
    }
    compiled = { key, secrets, forms: longestFirst([...forms]), pattern: null };
    return compiled;
  };

  // Nearly all text holds no secret: a plain search for each form says so without the regex
  // (which JavaScriptCore compiles at its first use, a cost on the way to the first request).
  // (Plain loops here: each array method's first use costs a compiled binary up to 0.1 ms.)
  const whole = (c: Compiled, s: string) => {
    if (s.length < MIN_SECRET_LENGTH || !containsAny(s, c.forms)) return s;
    c.pattern ??= new RegExp(c.forms.map(escapeRegExp).join("|"), "g");
    return s.replace(c.pattern, REDACTED);
  };

  return {
    add(source) {
      sources.push(source);
    },
    text(s) {
      return whole(current(), s);
    },
    fragment(s, cut) {
      const c = current();
      let out = whole(c, s);
      if (c.secrets.length === 0) return out;
      // Cut at both ends, all of it may lie inside one secret.
      if (cut.before && cut.after && out.length >= MIN_SECRET_LENGTH && c.secrets.some((secret) => secret.length > out.length && secret.includes(out))) {
        return REDACTED;
      }
      if (cut.after) out = redactCutEnd(out, c.secrets);
      if (cut.before) out = redactCutStart(out, c.secrets);
      return out;
    },
  };
}

/** Sorted longest first (one string, the usual case, needs no sort). */
const longestFirst = (xs: string[]): string[] => (xs.length > 1 ? xs.sort((a, b) => b.length - a.length) : xs);

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function containsAny(text: string, forms: readonly string[]): boolean {
  for (const f of forms) if (text.includes(f)) return true;
  return false;
}

/** `text` ends with the first 8+ characters of a secret (its rest is past the cut): replace them. */
function redactCutEnd(text: string, secrets: readonly string[]): string {
  let cutAt = text.length;
  for (const secret of secrets) {
    const anchor = secret.slice(0, MIN_SECRET_LENGTH);
    // Only a start within the last (length - 1) characters can be a cut secret.
    let p = text.indexOf(anchor, Math.max(0, text.length - secret.length + 1));
    while (p >= 0 && p < cutAt) {
      if (secret.startsWith(text.slice(p))) {
        cutAt = p;
        break;
      }
      p = text.indexOf(anchor, p + 1);
    }
  }
  return cutAt === text.length ? text : text.slice(0, cutAt) + REDACTED;
}

/** `text` starts with the last 8+ characters of a secret (its start is before the cut): replace them. */
function redactCutStart(text: string, secrets: readonly string[]): string {
  let cutTo = 0;
  for (const secret of secrets) {
    const anchor = secret.slice(-MIN_SECRET_LENGTH);
    // Only the first (length - 1) characters can hold a cut secret; the longest match wins.
    const head = text.slice(0, secret.length - 1);
    for (let q = head.indexOf(anchor); q >= 0; q = head.indexOf(anchor, q + 1)) {
      const end = q + MIN_SECRET_LENGTH;
      if (end > cutTo && secret.endsWith(head.slice(0, end))) cutTo = end;
    }
  }
  return cutTo === 0 ? text : REDACTED + text.slice(cutTo);
}

/** A sink that redacts every write (each write is whole lines or a whole message, never part of one). */
export function redactingSink(sink: OutputSink, redactor: Redactor): OutputSink {
  const decoder = new TextDecoder();
  return {
    get isTTY() {
      return sink.isTTY;
    },
    write(chunk) {
      sink.write(redactor.text(typeof chunk === "string" ? chunk : decoder.decode(chunk)));
    },
    flush: () => sink.flush(),
  };
}
