// The command tree. Thin: parse, hand over to core, map expected failures to exit codes.
// Only the bin entry ends the process.
import { defineCommand, renderUsage } from "citty";
import { ExitCode, OcxError, describeError, isOcxError } from "../core/errors.ts";
import { OCX_VERSION, versionInfo } from "../core/version.ts";
import type { Runtime } from "../core/runtime.ts";
import { execCommand, runExecCommand } from "./exec.ts";
import { loginCommand, logoutCommand, runLoginCommand, runLogoutCommand } from "./login.ts";
import { mcpCommand, runMcpCommand } from "./mcp.ts";
import { runSandboxCommand, sandboxCommand } from "./sandbox.ts";
import { runSessionsCommand, sessionsCommand } from "./sessions.ts";

const root = defineCommand({
  meta: { name: "ocx", version: OCX_VERSION, description: "A non-interactive coding agent for CI and the terminal" },
  args: {
    version: { type: "boolean", alias: "V", description: "Print the version" },
    help: { type: "boolean", alias: "h", description: "Show this help" },
  },
  subCommands: { exec: execCommand, login: loginCommand, logout: logoutCommand, sessions: sessionsCommand, sandbox: sandboxCommand, mcp: mcpCommand },
});

// deno-lint-ignore no-explicit-any
type AnyCommand = Parameters<typeof renderUsage>[0];
const COMMANDS: Record<string, { cmd: AnyCommand; run: (rt: Runtime, argv: string[]) => Promise<number> }> = {
  exec: { cmd: execCommand, run: runExecCommand },
  e: { cmd: execCommand, run: runExecCommand },
  login: { cmd: loginCommand, run: runLoginCommand },
  logout: { cmd: logoutCommand, run: runLogoutCommand },
  sandbox: { cmd: sandboxCommand, run: runSandboxCommand },
  sessions: { cmd: sessionsCommand, run: runSessionsCommand },
  mcp: { cmd: mcpCommand, run: runMcpCommand },
};

/** `ocx --version [--verbose]`, `ocx version [--json]`: the version, or everything a bug report needs. */
function printVersion(runtime: Runtime, subcommand: boolean, rest: string[]): number {
  const known = subcommand ? ["--json", "--verbose"] : ["--verbose", "--json"];
  const unknown = rest.find((a) => !known.includes(a));
  if (unknown !== undefined) {
    throw new OcxError("usage", `error: unexpected argument '${unknown}' (usage: ocx version [--json], ocx --version [--verbose])`);
  }
  if (!subcommand && rest.length === 0) {
    runtime.stdout.write(`ocx ${OCX_VERSION}\n`);
    return ExitCode.ok;
  }
  const info = versionInfo(runtime);
  if (rest.includes("--json")) {
    runtime.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    runtime.stdout.write(
      `ocx ${info.version}\ncommit: ${info.commit}\ntarget: ${info.target}\n${info.runtime}: ${info.runtime_version}\n`,
    );
  }
  return ExitCode.ok;
}

export async function main(runtime: Runtime): Promise<number> {
  const argv = runtime.args;
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      runtime.stdout.write(helpText(runtime, await renderUsage(root as AnyCommand)));
      return first === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (first === "--version" || first === "-V" || first === "version") {
      return printVersion(runtime, first === "version", rest);
    }
    const command = COMMANDS[first];
    if (!command) {
      throw new OcxError("usage", `error: unrecognized subcommand '${first}'\n\nFor more information, try '--help'.`);
    }
    if (wantsHelp(rest)) {
      // `ocx sandbox run --help` shows run's help, not sandbox's
      const subs = (command.cmd as { subCommands?: Record<string, AnyCommand> }).subCommands;
      const sub = rest[0] !== undefined ? subs?.[rest[0]] : undefined;
      const text = sub ? await renderUsage(sub, command.cmd) : await renderUsage(command.cmd, root as AnyCommand);
      runtime.stdout.write(helpText(runtime, text));
      return ExitCode.ok;
    }
    return await command.run(runtime, rest);
  } catch (e) {
    if (isOcxError(e)) {
      const prefixed = /^(error|Error)\b/.test(e.message) ? e.message : `Error: ${e.message}`;
      runtime.stderr.write(`${prefixed}\n`);
      return e.exitCode;
    }
    runtime.stderr.write(`Error: unexpected failure: ${describeError(e)}\n`);
    if (runtime.env("OCX_DEBUG") && e instanceof Error && e.stack) runtime.stderr.write(`${e.stack}\n`);
    return ExitCode.failed;
  }
}

/** --help/-h before any `--` terminator. */
function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/** citty colours its help unconditionally; keep colour for terminals only, and drop padding. */
function helpText(runtime: Runtime, text: string): string {
  const plain = runtime.stdout.isTTY && !runtime.env("NO_COLOR") ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
  return `${plain.replace(/[ \t]+$/gm, "")}\n`;
}
