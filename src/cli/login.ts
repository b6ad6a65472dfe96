// `ocx login [--with-api-key | --device-auth]`, `ocx login status [--json]`, `ocx logout`.
import type { CommandDef } from "citty";
import { OcxError } from "../core/errors.ts";
import type { Runtime } from "../core/runtime.ts";
import { EXEC_FLAGS } from "./exec-flags.ts";
import { cittyArgs, parseFlags, type FlagTable } from "./flags.ts";

const COMMON: FlagTable = {
  config: EXEC_FLAGS.config!,
  help: { type: "boolean", short: "h", description: "Show this help" },
};

const LOGIN_FLAGS: FlagTable = {
  "with-api-key": { type: "boolean", description: "Read an API key from stdin and store it in $CODEX_HOME/auth.json" },
  "device-auth": { type: "boolean", description: "Sign in with ChatGPT from another device, with a one-time code" },
  ...COMMON,
};
const STATUS_FLAGS: FlagTable = {
  json: { type: "boolean", description: "Also print the state as one JSON object on stdout" },
  ...COMMON,
};

export const loginCommand: CommandDef = {
  meta: { name: "login", description: "Sign in with ChatGPT (browser or --device-auth) or store an API key (--with-api-key)" },
  args: () => cittyArgs(LOGIN_FLAGS),
  subCommands: {
    status: { meta: { name: "status", description: "Show how ocx is signed in (exit 1 when it is not)" }, args: () => cittyArgs(STATUS_FLAGS) },
  },
};

export const logoutCommand: CommandDef = {
  meta: { name: "logout", description: "Remove the stored credentials (and revoke a ChatGPT token)" },
  args: () => cittyArgs(COMMON),
};

const unexpected = (arg: string) => new OcxError("usage", `error: unexpected argument '${arg}' found\n\nFor more information, try '--help'.`);

export async function runLoginCommand(runtime: Runtime, argv: string[]): Promise<number> {
  if (argv[0] === "status") {
    const { values, positionals } = parseFlags(STATUS_FLAGS, argv.slice(1));
    if (positionals.length > 0) throw unexpected(positionals[0]!);
    const { loginStatus } = await import("../core/auth/commands.ts");
    return loginStatus(runtime, overrides(values.config), values.json === true);
  }
  const { values, positionals } = parseFlags(LOGIN_FLAGS, argv);
  if (positionals.length > 0) throw unexpected(positionals[0]!);
  if (values["with-api-key"] && values["device-auth"]) {
    throw new OcxError("usage", "error: the argument '--with-api-key' cannot be used with '--device-auth'\n\nFor more information, try '--help'.");
  }
  const c = overrides(values.config);
  const { apiKeyLogin, browserLogin, deviceLogin } = await import("../core/auth/commands.ts");
  if (values["with-api-key"]) return apiKeyLogin(runtime, c);
  if (values["device-auth"]) return deviceLogin(runtime, c);
  return browserLogin(runtime, c);
}

export async function runLogoutCommand(runtime: Runtime, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(COMMON, argv);
  if (positionals.length > 0) throw unexpected(positionals[0]!);
  const { logout } = await import("../core/auth/commands.ts");
  return logout(runtime, overrides(values.config));
}

const overrides = (v: unknown): string[] => (Array.isArray(v) ? v : []);
