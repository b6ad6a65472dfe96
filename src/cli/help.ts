// The help texts (citty renders them from each command's flag table). Loaded only for --help:
// it brings in every command's definition, which running one command never needs.
import { renderUsage, type CommandDef } from "citty";
import type { Runtime } from "../core/runtime.ts";
import { OCX_VERSION } from "../core/version.ts";
import { execCommand } from "./exec-flags.ts";
import { loginCommand, logoutCommand } from "./login.ts";
import { mcpCommand } from "./mcp.ts";
import { sandboxCommand } from "./sandbox.ts";
import { sessionsCommand } from "./sessions.ts";

const root = {
  meta: { name: "ocx", version: OCX_VERSION, description: "A non-interactive coding agent for CI and the terminal" },
  args: {
    version: { type: "boolean", alias: "V", description: "Print the version" },
    help: { type: "boolean", alias: "h", description: "Show this help" },
  },
  subCommands: { exec: execCommand, login: loginCommand, logout: logoutCommand, sessions: sessionsCommand, sandbox: sandboxCommand, mcp: mcpCommand },
} satisfies CommandDef;

// deno-lint-ignore no-explicit-any
type AnyCommand = Parameters<typeof renderUsage>[0];
const COMMANDS: Record<string, AnyCommand> = { ...root.subCommands, e: execCommand };

/** `ocx --help`: the root's help. */
export async function rootHelp(runtime: Runtime): Promise<string> {
  return helpText(runtime, await renderUsage(root as AnyCommand));
}

/** `ocx COMMAND [SUB] --help`: `ocx sandbox run --help` shows run's help, not sandbox's. */
export async function commandHelp(runtime: Runtime, name: string, rest: string[]): Promise<string> {
  const cmd = COMMANDS[name]!;
  const subs = (cmd as { subCommands?: Record<string, AnyCommand> }).subCommands;
  const sub = rest[0] !== undefined ? subs?.[rest[0]] : undefined;
  return helpText(runtime, sub ? await renderUsage(sub, cmd) : await renderUsage(cmd, root as AnyCommand));
}

/** citty colours its help unconditionally; keep colour for terminals only, and drop padding. */
function helpText(runtime: Runtime, text: string): string {
  const plain = runtime.stdout.isTTY && !runtime.env("NO_COLOR") ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
  return `${plain.replace(/[ \t]+$/gm, "")}\n`;
}
