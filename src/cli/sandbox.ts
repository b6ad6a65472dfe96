// `ocx sandbox check [--json]` and `ocx sandbox run [--sandbox MODE] [--add-dir DIR] -- CMD...`
import type { CommandDef } from "citty";
import { OcxError } from "../core/errors.ts";
import type { Runtime } from "../core/runtime.ts";
import { sandboxModes, type SandboxMode } from "../core/sandbox/policy.ts";
import { cittyArgs, parseFlags, type FlagTable } from "./flags.ts";
import { CONFIG_FLAGS, configOptions, EXEC_FLAGS } from "./exec-flags.ts";

const CHECK_FLAGS: FlagTable = {
  json: { type: "boolean", description: "Print the result as one JSON object" },
  help: { type: "boolean", short: "h", description: "Show this help" },
};

const RUN_FLAGS: FlagTable = {
  sandbox: { ...EXEC_FLAGS.sandbox!, choices: sandboxModes, description: "Sandbox policy (default: sandbox_mode from config, else read-only)" },
  "add-dir": EXEC_FLAGS["add-dir"]!,
  ...CONFIG_FLAGS,
  help: { type: "boolean", short: "h", description: "Show this help" },
};

export const sandboxCheckCommand: CommandDef = {
  meta: { name: "check", description: "Show what this host can enforce (exit 5 when a sandbox mode cannot be enforced)" },
  args: () => cittyArgs(CHECK_FLAGS),
};
export const sandboxRunCommand: CommandDef = {
  meta: { name: "run", description: "Run one command under a sandbox policy, as ocx runs the agent's commands" },
  args: () => cittyArgs(RUN_FLAGS, { command: { type: "positional", required: true, description: "-- CMD [ARGS...]" } }),
};
export const sandboxCommand: CommandDef = {
  meta: { name: "sandbox", description: "Check or try the command sandbox" },
  subCommands: { check: sandboxCheckCommand, run: sandboxRunCommand },
};

export async function runSandboxCommand(runtime: Runtime, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "check") {
    const { values, positionals } = parseFlags(CHECK_FLAGS, rest);
    if (positionals.length > 0) throw new OcxError("usage", `error: unexpected argument '${positionals[0]}' found`);
    const { sandboxCheck } = await import("../core/sandbox/commands.ts");
    return sandboxCheck(runtime, values.json === true);
  }
  if (sub === "run") {
    const dash = rest.indexOf("--");
    const flags = dash < 0 ? rest : rest.slice(0, dash);
    const { values, positionals } = parseFlags(RUN_FLAGS, flags);
    const command = dash < 0 ? positionals : [...positionals, ...rest.slice(dash + 1)];
    const list = (k: string) => (values[k] as string[] | undefined) ?? [];
    const { sandboxRun } = await import("../core/sandbox/commands.ts");
    return sandboxRun(runtime, {
      argv: command,
      sandbox: values.sandbox as SandboxMode | undefined,
      addDirs: list("add-dir"),
      bypass: false,
      ...configOptions(values),
    });
  }
  throw new OcxError("usage", `error: ${sub === undefined ? "a subcommand is required" : `unrecognized subcommand '${sub}'`}: use \`ocx sandbox check\` or \`ocx sandbox run -- CMD\``);
}
