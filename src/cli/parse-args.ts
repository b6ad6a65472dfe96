// The part of node:util's parseArgs that ocx uses (strict, positionals allowed, string and
// boolean options, short aliases, repeatable options), with the same results and the same
// error messages as Bun's: node:util costs a compiled binary ~2.5 ms to load, for this one
// function. test/unit/parse-args.test.ts checks it against Bun's parseArgs on generated argv.

export interface ArgOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

/** A parse failure; `code` as node:util names it. */
export class ParseArgsError extends TypeError {
  constructor(
    readonly code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" | "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
    message: string,
  ) {
    super(message);
  }
}

interface OptionToken {
  name: string;
  rawName: string;
  value: string | undefined;
  inlineValue: boolean | undefined;
}

export function parseArgs(args: readonly string[], options: Record<string, ArgOption>): ParsedArgs {
  const own = (name: string): ArgOption | undefined => (Object.hasOwn(options, name) ? options[name] : undefined);
  const longFor = (short: string): string => {
    for (const [name, o] of Object.entries(options)) if (o.short === short) return name;
    return short;
  };
  const isString = (name: string) => own(name)?.type === "string";

  // Tokens, as node:util reads them.
  const tokens: Array<{ option: OptionToken } | { positional: string }> = [];
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const next = rest[0];
    if (arg === "--") {
      for (const p of rest) tokens.push({ positional: p });
      break;
    }
    if (arg.length === 2 && arg[0] === "-" && arg[1] !== "-") {
      // -f [value]
      const name = longFor(arg[1]!);
      const value = isString(name) && next !== undefined ? rest.shift() : undefined;
      tokens.push({ option: { name, rawName: arg, value, inlineValue: value === undefined ? undefined : false } });
      continue;
    }
    if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = longFor(arg[1]!);
      if (!isString(name)) {
        // -abc: a, b and c, each named by its letter alone (as Bun's parseArgs reports them); a
        // string option inside takes the rest as its value (-abfFILE), a last one the next arg.
        for (let i = 1; i < arg.length; i++) {
          const short = arg[i]!;
          const long = longFor(short);
          if (!isString(long)) {
            tokens.push({ option: { name: long, rawName: short, value: undefined, inlineValue: undefined } });
          } else if (i === arg.length - 1) {
            const value = rest.length > 0 ? rest.shift() : undefined;
            tokens.push({ option: { name: long, rawName: short, value, inlineValue: value === undefined ? undefined : false } });
          } else {
            tokens.push({ option: { name: long, rawName: short, value: arg.slice(i + 1), inlineValue: true } });
            break;
          }
        }
        continue;
      }
      // -fVALUE
      tokens.push({ option: { name, rawName: `-${arg[1]}`, value: arg.slice(2), inlineValue: true } });
      continue;
    }
    if (arg.length > 2 && arg.startsWith("--")) {
      // The first "=" splits name and value unless it starts the name (`--=x` is a name).
      const eq = arg.indexOf("=", 2);
      if (eq <= 2) {
        // --foo [value]
        const name = arg.slice(2);
        const value = isString(name) && next !== undefined ? rest.shift() : undefined;
        tokens.push({ option: { name, rawName: arg, value, inlineValue: value === undefined ? undefined : false } });
      } else {
        // --foo=value
        const name = arg.slice(2, eq);
        tokens.push({ option: { name, rawName: `--${name}`, value: arg.slice(eq + 1), inlineValue: true } });
      }
      continue;
    }
    tokens.push({ positional: arg });
  }

  // Strict checks and values, token by token.
  const values: ParsedArgs["values"] = Object.create(null);
  const positionals: string[] = [];
  for (const token of tokens) {
    if ("positional" in token) {
      positionals.push(token.positional);
      continue;
    }
    const { name, rawName, value, inlineValue } = token.option;
    const option = own(name);
    if (!option) {
      throw new ParseArgsError(
        "ERR_PARSE_ARGS_UNKNOWN_OPTION",
        `Unknown option '${rawName}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${rawName}"`,
      );
    }
    const shortAndLong = `${option.short ? `-${option.short}, ` : ""}--${name}`;
    if (option.type === "string" && typeof value !== "string") {
      throw new ParseArgsError("ERR_PARSE_ARGS_INVALID_OPTION_VALUE", `Option '${shortAndLong} <value>' argument missing`);
    }
    if (option.type === "boolean" && value != null) {
      throw new ParseArgsError("ERR_PARSE_ARGS_INVALID_OPTION_VALUE", `Option '${shortAndLong}' does not take an argument`);
    }
    if (!inlineValue && value !== undefined && value.length > 1 && value[0] === "-") {
      const example = rawName.startsWith("--") ? `'${rawName}=-XYZ'` : `'--${name}=-XYZ' or '${rawName}-XYZ'`;
      throw new ParseArgsError(
        "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
        `Option '${rawName}' argument is ambiguous.\nDid you forget to specify the option argument for '${rawName}'?\nTo specify an option argument starting with a dash use ${example}.`,
      );
    }
    if (name === "__proto__") continue;
    const stored = value ?? true;
    if (option.multiple) {
      const list = values[name];
      if (Array.isArray(list)) list.push(stored);
      else values[name] = [stored];
    } else {
      values[name] = stored;
    }
  }
  return { values, positionals };
}
