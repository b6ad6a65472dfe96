// The command tree. Thin: parse, hand over to core, map expected failures to exit codes.
// Only the bin entry ends the process. Every command, and the help texts, load when used:
// `ocx --version` evaluates nothing else.
import { ExitCode, OcxError, describeError, isOcxError } from "../core/errors.ts";
import { VERSION_LINE, versionInfo } from "../core/version.ts";
import type { Runtime } from "../core/runtime.ts";

type Run = (rt: Runtime, argv: string[]) => Promise<number>;
const exec = async (): Promise<Run> => (await import("./exec.ts")).runExecCommand;
const COMMANDS: Record<string, () => Promise<Run>> = {
  exec,
  e: exec,
  login: async () => (await import("./login.ts")).runLoginCommand,
  logout: async () => (await import("./login.ts")).runLogoutCommand,
  sandbox: async () => (await import("./sandbox.ts")).runSandboxCommand,
  sessions: async () => (await import("./sessions.ts")).runSessionsCommand,
  mcp: async () => (await import("./mcp.ts")).runMcpCommand,
};

/** `ocx --version [--verbose]`, `ocx version [--json]`: the version, or everything a bug report needs. */
function printVersion(runtime: Runtime, subcommand: boolean, rest: string[]): number {
  const known = ["--json", "--verbose"];
  const unknown = rest.find((a) => !known.includes(a));
  if (unknown !== undefined) {
    throw new OcxError("usage", `error: unexpected argument '${unknown}' (usage: ocx version [--json], ocx --version [--verbose])`);
  }
  if (!subcommand && rest.length === 0) {
    runtime.stdout.write(VERSION_LINE);
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
      const { rootHelp } = await import("./help.ts");
      runtime.stdout.write(await rootHelp(runtime));
      return first === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (first === "--version" || first === "-V" || first === "version") {
      return printVersion(runtime, first === "version", rest);
    }
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!command) {
      throw new OcxError("usage", `error: unrecognized subcommand '${first}'\n\nFor more information, try '--help'.`);
    }
    // Start-up (the JIT held back, see Runtime.afterStartup) lasts until `exec`'s first request;
    // every other command runs with the normal policy from the start.
    if (command !== exec) runtime.afterStartup?.();
    if (wantsHelp(rest)) {
      const { commandHelp } = await import("./help.ts");
      runtime.stdout.write(await commandHelp(runtime, first, rest));
      return ExitCode.ok;
    }
    const [cmd] = await Promise.all([command(), runtime.preload?.()]);
    return await cmd(runtime, rest);
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
