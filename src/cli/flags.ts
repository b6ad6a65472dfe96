// One table of flags per command: it drives both parsing (node:util parseArgs, strict, with
// repeatable options) and the citty help text, so the two can never disagree.
import { parseArgs } from "node:util";
import type { ArgsDef } from "citty";
import { OcxError } from "../core/errors.ts";

export interface FlagDef {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  description: string;
  valueHint?: string;
  /** Accepted values of a string flag. */
  choices?: readonly string[];
}
export type FlagTable = Record<string, FlagDef>;

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseFlags(table: FlagTable, argv: string[]): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, def] of Object.entries(table)) {
    options[name] = { type: def.type, ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new OcxError("usage", `${usageMessage(e)}\n\nFor more information, try '--help'.`);
  }
  for (const [name, def] of Object.entries(table)) {
    const value = parsed.values[name];
    if (def.choices && typeof value === "string" && !def.choices.includes(value)) {
      throw new OcxError(
        "usage",
        `error: invalid value '${value}' for '--${name}': possible values: ${def.choices.join(", ")}\n\nFor more information, try '--help'.`,
      );
    }
  }
  return { values: parsed.values as ParsedFlags["values"], positionals: parsed.positionals };
}

function usageMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `error: unexpected argument '${unknown[1]}' found`;
  const missing = /Option '([^']+)' argument missing/.exec(msg) ?? /Option '(-\w, )?(--[^ ']+)/.exec(msg);
  if (missing && /argument missing/.test(msg)) return `error: a value is required for '${missing[1]}' but none was supplied`;
  return `error: ${msg.split("\n")[0]}`;
}

/** citty ArgsDef for help rendering. */
export function cittyArgs(table: FlagTable, positionals: ArgsDef = {}): ArgsDef {
  const args: ArgsDef = { ...positionals };
  for (const [name, def] of Object.entries(table)) {
    const description = def.choices ? `${def.description} [${def.choices.join("|")}]` : def.description;
    args[name] =
      def.type === "boolean"
        ? { type: "boolean", description, ...(def.short ? { alias: def.short } : {}) }
        : {
            type: "string",
            description: def.multiple ? `${description} (repeatable)` : description,
            valueHint: def.valueHint ?? name.toUpperCase().replace(/-/g, "_"),
            ...(def.short ? { alias: def.short } : {}),
          };
  }
  return args;
}

/** Parses "5000", "500ms", "5s", "2m" into milliseconds. */
export function parseDurationMs(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) {
    throw new OcxError(
      "usage",
      `error: invalid value '${text}' for '--${flag}': expected milliseconds or a duration like 500ms, 5s, 2m`,
    );
  }
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  return Math.round(unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000);
}
