// Config layers, later wins: built-in defaults, $CODEX_HOME/config.toml, -p NAME
// ($CODEX_HOME/NAME.config.toml), -c overrides; then flags (applied by the caller). Errors name
// the layer's file and line, the key, and what was expected.
import * as v from "valibot";
import { parse as parseToml, TomlError } from "smol-toml";
import { join } from "../util/path.ts";
import { OcxError, describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { configSchema, type Config } from "./schema.ts";
import { parseOverride, setPath, type ConfigOverride } from "./overrides.ts";

export interface LoadConfigOptions {
  codexHome: string;
  overrides: string[];
  /** -p NAME: $CODEX_HOME/NAME.config.toml, layered over config.toml (an error when missing). */
  profile?: string;
  ignoreUserConfig?: boolean;
  /** --strict-config: a key ocx does not know is an error instead of being ignored. */
  strict?: boolean;
}

interface Layer {
  /** Where the values came from: a file, or "-c override". */
  source: string;
  text?: string;
  raw: Record<string, unknown>;
}

export async function loadConfig(runtime: Runtime, opts: LoadConfigOptions): Promise<Config> {
  // Parse overrides first: a bad -c is reported even when config.toml is fine.
  const overrides: ConfigOverride[] = [];
  for (const o of opts.overrides) overrides.push(parseOverride(o));
  const layers: Layer[] = [];
  if (!opts.ignoreUserConfig) layers.push(await readLayer(runtime, join(opts.codexHome, "config.toml")));
  if (opts.profile) {
    const file = join(opts.codexHome, `${opts.profile}.config.toml`);
    const layer = await readLayer(runtime, file);
    if (layer.text === undefined) {
      throw new OcxError("config", `Error loading config: profile \`${opts.profile}\` not found: there is no file ${file}; create it or check the -p/--profile name`);
    }
    layers.push(layer);
  }
  const fromFlags: Record<string, unknown> = {};
  for (const o of overrides) setPath(fromFlags, o.path, o.value);
  layers.push({ source: "-c override", raw: fromFlags });

  // A layer is copied before merging when a later one has values: merging those would change its
  // tables, which `where` reads. (Usually only config.toml has any: nothing is copied.)
  let last = layers.length - 1;
  while (last > 0 && Object.keys(layers[last]!.raw).length === 0) last--;
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < layers.length; i++) mergeInto(raw, i < last ? structuredClone(layers[i]!.raw) : layers[i]!.raw);
  if (opts.strict) {
    const unknown = unknownKeys(configSchema(), raw, []);
    if (unknown.length > 0) {
      const key = unknown[0]!;
      throw new OcxError("config", `Error loading config: ${where(layers, key)}: unknown key \`${key.join(".")}\` (--strict-config); remove it or correct its name`);
    }
  }
  const result = v.safeParse(configSchema(Object.keys(raw)), raw);
  if (!result.success) {
    const issue = result.issues[0]!;
    const key = (issue.path ?? []).map((p) => String(p.key));
    throw new OcxError("config", `Error loading config: ${where(layers, key)}: invalid value for \`${key.join(".") || "(root)"}\`: ${issue.message}`);
  }
  return result.output;
}

/** `file:line` (or `-c override`) of the last layer that sets `path`. */
function where(layers: Layer[], path: string[]): string {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (!hasPath(layer.raw, path)) continue;
    const line = layer.text === undefined ? undefined : lineOf(layer.text, path);
    return line === undefined ? layer.source : `${layer.source}:${line}`;
  }
  return layers[0]?.source ?? "config";
}

function hasPath(raw: unknown, path: string[]): boolean {
  let cur = raw;
  for (const seg of path) {
    if (!isTable(cur) || !(seg in cur)) return false;
    cur = cur[seg];
  }
  return true;
}

/**
 * The line that defines `path` in TOML text: table headers and dotted keys are followed; the
 * line of the key itself, else of the nearest enclosing table. Arrays of tables are not.
 */
export function lineOf(text: string, path: string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  const consider = (full: string[], line: number) => {
    let depth = 0;
    while (depth < full.length && depth < path.length && full[depth] === path[depth]) depth++;
    if (depth === full.length && (!best || depth > best.depth)) best = { line, depth };
  };
  lines.forEach((l, i) => {
    const header = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$/.exec(l);
    if (header) {
      table = splitKey(header[1]!);
      consider(table, i + 1);
      return;
    }
    const assign = /^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=/.exec(l);
    if (assign) consider([...table, ...splitKey(assign[1]!)], i + 1);
  });
  return best?.line;
}

function splitKey(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(?:\.|$)/gy;
  for (let m = re.exec(text); m && m[0] !== ""; m = re.exec(text)) out.push(m[1] ?? (m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : m[3]!));
  return out;
}

/** Keys of `value` that `schema` has no place for (tables of known shape are checked inside). */
function unknownKeys(schema: v.GenericSchema, value: unknown, path: string[]): string[][] {
  type Node = { type: string; wrapped?: v.GenericSchema; entries?: Record<string, v.GenericSchema>; value?: v.GenericSchema; getter?: (input: unknown) => v.GenericSchema };
  let s = schema as Node;
  for (;;) {
    if ((s.type === "optional" || s.type === "nullable") && s.wrapped) s = s.wrapped as Node;
    else if (s.type === "lazy" && s.getter) s = s.getter(value) as Node;
    else break;
  }
  if (!isTable(value)) return [];
  const out: string[][] = [];
  if ((s.type === "object" || s.type === "loose_object") && s.entries) {
    for (const [k, child] of Object.entries(value)) {
      const entry = s.entries[k];
      if (entry) out.push(...unknownKeys(entry, child, [...path, k]));
      else if (s.type === "object") out.push([...path, k]);
    }
  } else if (s.type === "record" && s.value) {
    for (const [k, child] of Object.entries(value)) out.push(...unknownKeys(s.value, child, [...path, k]));
  }
  return out;
}

const isTable = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x) && !(x instanceof Date);

async function readLayer(runtime: Runtime, file: string): Promise<Layer> {
  const text = await readText(runtime, file);
  return { source: file, text, raw: text === undefined ? {} : parseTomlFile(text, file) };
}

async function readText(runtime: Runtime, file: string): Promise<string | undefined> {
  try {
    if (!(await runtime.fs.stat(file))?.isFile) return undefined;
    return await runtime.fs.readTextFile(file);
  } catch (e) {
    throw new OcxError("config", `Error loading config: cannot read ${file}: ${describeError(e)}`, { cause: e });
  }
}

function parseTomlFile(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const at = e instanceof TomlError ? `${file}:${e.line}:${e.column}` : file;
    const msg = describeError(e).split("\n")[0];
    throw new OcxError("config", `Error loading config.toml: ${at}: ${msg}`, { cause: e });
  }
}

/** Deep-merges tables of `layer` into `base` (later layer wins). */
function mergeInto(base: Record<string, unknown>, layer: Record<string, unknown>): void {
  for (const [k, val] of Object.entries(layer)) {
    const cur = base[k];
    if (isTable(cur) && isTable(val)) mergeInto(cur, val);
    else base[k] = val;
  }
}
