// One table of flags per command: it drives both parsing (parseArgs as node:util has it, strict,
// with repeatable options) and the citty help text, so the two can never disagree.
import { parseArgs, type ArgOption } from "./parse-args.ts";
import type { ArgsDef } from "citty";
import { OcxError } from "../core/errors.ts";
import { parseDuration } from "../core/util/duration.ts";

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
  // A FlagDef is an ArgOption with more fields (parseArgs reads type, short and multiple).
  const options: Record<string, ArgOption> = table;
  let parsed;
  try {
    parsed = parseArgs(argv, options);
  } catch (e) {
    throw new OcxError("usage", `${usageMessage(e)}\n\nFor more information, try '--help'.`);
  }
  // Only the flags given are looked at (a walk of the whole table costs start-up more than the
  // rest of the parse); the first bad value in the table's order is the one reported.
  let bad: string | undefined;
  for (const name in parsed.values) {
    const value = parsed.values[name];
    const choices = table[name]?.choices;
    if (choices && typeof value === "string" && !choices.includes(value) && (bad === undefined || before(table, name, bad))) bad = name;
  }
  if (bad !== undefined) {
    throw new OcxError(
      "usage",
      `error: invalid value '${parsed.values[bad]}' for '--${bad}': possible values: ${table[bad]!.choices!.join(", ")}\n\nFor more information, try '--help'.`,
    );
  }
  return { values: parsed.values as ParsedFlags["values"], positionals: parsed.positionals };
}

/** Whether flag `a` comes before flag `b` in `table`. */
function before(table: FlagTable, a: string, b: string): boolean {
  const names = Object.keys(table);
  return names.indexOf(a) < names.indexOf(b);
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

/**
 * Parses a duration: "500ms", "5s", "2m", "1h", "1h30m", or a plain number in `plainUnit`
 * (milliseconds unless said otherwise). Zero is refused unless `allowZero`.
 */
export function parseDurationMs(flag: string, text: string, o: { plainUnit?: "ms" | "s"; allowZero?: boolean } = {}): number {
  const plainUnit = o.plainUnit ?? "ms";
  const ms = parseDuration(text, plainUnit);
  if (ms === undefined || !Number.isSafeInteger(ms) || (ms === 0 && !o.allowZero)) {
    const plain = plainUnit === "ms" ? "milliseconds" : "seconds";
    throw new OcxError(
      "usage",
      `error: invalid value '${text}' for '--${flag}': expected ${o.allowZero ? "" : "more than 0 "}${plain} or a duration like 500ms, 90s, 15m, 1h`,
    );
  }
  return ms;
}

/** Parses a whole number above zero (budgets). */
export function parsePositiveInt(flag: string, text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new OcxError("usage", `error: invalid value '${text}' for '--${flag}': expected a whole number above 0`);
  }
  return n;
}

/** Parses a number above zero, decimals allowed (`--max-cost-usd 0.5`). */
export function parsePositiveNumber(flag: string, text: string): number {
  const n = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw new OcxError("usage", `error: invalid value '${text}' for '--${flag}': expected a number above 0`);
  }
  return n;
}
