// Config layers, later wins: built-in defaults, $CODEX_HOME/config.toml, -c overrides.
// (Profiles and strict mode slot in between these layers in the config issue.)
import * as v from "valibot";
import { parse as parseToml, TomlError } from "smol-toml";
import { join } from "pathe";
import { OcxError, describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { Config } from "./schema.ts";
import { parseOverride, setPath } from "./overrides.ts";

export interface LoadConfigOptions {
  codexHome: string;
  overrides: string[];
  /** -p NAME: $CODEX_HOME/NAME.config.toml, layered over config.toml (ignored when missing). */
  profile?: string;
  ignoreUserConfig?: boolean;
}

export async function loadConfig(runtime: Runtime, opts: LoadConfigOptions): Promise<Config> {
  // Parse overrides first: a bad -c is reported even when config.toml is fine.
  const overrides = opts.overrides.map(parseOverride);
  const file = join(opts.codexHome, "config.toml");
  let raw: Record<string, unknown> = {};
  if (!opts.ignoreUserConfig) raw = await readToml(runtime, file);
  if (opts.profile) mergeInto(raw, await readToml(runtime, join(opts.codexHome, `${opts.profile}.config.toml`)));
  for (const o of overrides) setPath(raw, o.path, o.value);
  const result = v.safeParse(Config, raw);
  if (!result.success) {
    const issue = result.issues[0]!;
    const key = v.getDotPath(issue) ?? "(root)";
    const fromOverride = overrides.some((o) => o.path.join(".") === key || key.startsWith(o.path.join(".") + "."));
    const where = fromOverride ? "-c override" : file;
    throw new OcxError("config", `Error loading config: ${where}: invalid value for \`${key}\`: ${issue.message}`);
  }
  return result.output;
}

async function readToml(runtime: Runtime, file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    if (!(await runtime.fs.stat(file))?.isFile) return {};
    text = await runtime.fs.readTextFile(file);
  } catch (e) {
    throw new OcxError("config", `Error loading config: cannot read ${file}: ${describeError(e)}`, { cause: e });
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? `${file}:${e.line}:${e.column}` : file;
    const msg = describeError(e).split("\n")[0];
    throw new OcxError("config", `Error loading config.toml: ${where}: ${msg}`, { cause: e });
  }
}

/** Deep-merges tables of `layer` into `base` (later layer wins). */
function mergeInto(base: Record<string, unknown>, layer: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(layer)) {
    const cur = base[k];
    const isTable = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x) && !(x instanceof Date);
    if (isTable(cur) && isTable(v)) mergeInto(cur, v);
    else base[k] = v;
  }
}
