// `ocx sessions [--all] [--json] [--limit N] [-C DIR]`
import type { CommandDef } from "citty";
import { OcxError } from "../core/errors.ts";
import type { Runtime } from "../core/runtime.ts";
import { cittyArgs, parseFlags, type FlagTable } from "./flags.ts";
import { EXEC_FLAGS } from "./exec-flags.ts";

const SESSIONS_FLAGS: FlagTable = {
  all: { type: "boolean", description: "Sessions of every directory, not only this one" },
  json: { type: "boolean", description: "One JSON object per line: id, updated_at, cwd, name, first_prompt, path" },
  limit: { type: "string", valueHint: "N", description: "At most N sessions (default 20)" },
  cd: EXEC_FLAGS.cd!,
  help: { type: "boolean", short: "h", description: "Show this help" },
};

export const sessionsCommand: CommandDef = {
  meta: { name: "sessions", description: "List saved sessions, most recent first (resume one with `ocx exec resume ID`)" },
  args: () => cittyArgs(SESSIONS_FLAGS),
};

export async function runSessionsCommand(runtime: Runtime, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(SESSIONS_FLAGS, argv);
  if (positionals.length > 0) throw new OcxError("usage", `error: unexpected argument '${positionals[0]}' found\n\nFor more information, try '--help'.`);
  const limitText = (values.limit as string | undefined) ?? "20";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new OcxError("usage", `error: invalid value '${limitText}' for '--limit': a positive whole number`);
  const { listSessions } = await import("../core/session/list.ts");
  return listSessions(runtime, { all: values.all === true, json: values.json === true, limit, cd: values.cd as string | undefined });
}
