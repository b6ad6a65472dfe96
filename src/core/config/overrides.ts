// `-c key=value` overrides: a dotted key path (segments may be quoted) and a TOML value, with the
// raw text as a literal string when it does not parse as TOML (`-c model=gpt-5.5` works).
import { parse as parseToml } from "smol-toml";
import { OcxError } from "../errors.ts";

export interface ConfigOverride {
  path: string[];
  value: unknown;
}

export function parseOverride(raw: string): ConfigOverride {
  const eq = findTopLevelEquals(raw);
  if (eq < 0) {
    throw new OcxError("config", `Error parsing -c overrides: Invalid override (missing '='): ${raw}`);
  }
  const keyText = raw.slice(0, eq).trim();
  const valueText = raw.slice(eq + 1).trim();
  const path = parseKeyPath(keyText);
  if (path === null || path.length === 0) {
    throw new OcxError("config", `Error parsing -c overrides: Invalid key in override: ${raw}`);
  }
  return { path, value: parseValue(valueText) };
}

/** The first `=` outside quotes (keys may be quoted and contain `=`). */
function findTopLevelEquals(raw: string): number {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "=") return i;
  }
  return -1;
}

/** Splits `a.b."c.d".e` into segments, honouring TOML-style quoted keys. */
function parseKeyPath(text: string): string[] | null {
  // Let the TOML parser do the quoting rules: `<key> = 0` is a valid document exactly when
  // <key> is a valid dotted key, and the resulting nesting gives the segments.
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(`${text} = 0`) as Record<string, unknown>;
  } catch {
    return null;
  }
  const path: string[] = [];
  let node: unknown = doc;
  while (node !== null && typeof node === "object") {
    const keys = Object.keys(node as object);
    if (keys.length !== 1) return null;
    path.push(keys[0]!);
    node = (node as Record<string, unknown>)[keys[0]!];
  }
  return path;
}

function parseValue(text: string): unknown {
  try {
    const doc = parseToml(`v = ${text}`) as { v: unknown };
    return doc.v;
  } catch {
    return text;
  }
}

/** Sets `value` at `path` inside `target`, creating tables on the way (replacing non-tables). */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Whether `-c key=...` was given (a flag that overrides what a resumed session recorded). */
export function overridesKey(overrides: readonly string[], key: string): boolean {
  for (const o of overrides) {
    const eq = o.indexOf("=");
    if ((eq < 0 ? o : o.slice(0, eq)).trim() === key) return true;
  }
  return false;
}
