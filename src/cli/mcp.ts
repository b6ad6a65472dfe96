// `ocx mcp list [--json]` and `ocx mcp check [NAME] [--json]` (the MCP client loads only here).
import type { CommandDef } from "citty";
import { OcxError } from "../core/errors.ts";
import type { Runtime } from "../core/runtime.ts";
import { cittyArgs, parseFlags, type FlagTable } from "./flags.ts";
import { CONFIG_FLAGS, configOptions } from "./exec-flags.ts";

const FLAGS: FlagTable = {
  json: { type: "boolean", description: "Print the result as one JSON object" },
  ...CONFIG_FLAGS,
  help: { type: "boolean", short: "h", description: "Show this help" },
};

export const mcpListCommand: CommandDef = {
  meta: { name: "list", description: "Show the configured MCP servers (secrets masked)" },
  args: () => cittyArgs(FLAGS),
};
export const mcpCheckCommand: CommandDef = {
  meta: { name: "check", description: "Start the enabled MCP servers (or NAME), list their tools, report failures (exit 1 if a required one fails)" },
  args: () => cittyArgs(FLAGS, { name: { type: "positional", required: false, description: "NAME" } }),
};
export const mcpCommand: CommandDef = {
  meta: { name: "mcp", description: "List or check the configured MCP servers" },
  subCommands: { list: mcpListCommand, check: mcpCheckCommand },
};

export async function runMcpCommand(runtime: Runtime, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "list" && sub !== "check") {
    throw new OcxError("usage", `error: ${sub === undefined ? "a subcommand is required" : `unrecognized subcommand '${sub}'`}: use \`ocx mcp list\` or \`ocx mcp check [NAME]\``);
  }
  const { values, positionals } = parseFlags(FLAGS, rest);
  const max = sub === "list" ? 0 : 1;
  if (positionals.length > max) throw new OcxError("usage", `error: unexpected argument '${positionals[max]}' found`);
  const opts = { json: values.json === true, ...configOptions(values) };
  const { mcpCheck, mcpList } = await import("../core/mcp/commands.ts");
  return sub === "list" ? mcpList(runtime, opts) : mcpCheck(runtime, positionals[0], opts);
}
