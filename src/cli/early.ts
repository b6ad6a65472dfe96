// What the entry starts from the command line alone, before the rest of ocx loads. A guess that
// turns out wrong costs only work on other threads: the command itself still decides everything.
import { sessionsDir } from "../core/session/layout.ts";
import { codexHome } from "../core/workspace.ts";

/**
 * The sessions folder whose every rollout the command line is about to look through: `exec
 * resume --last` and `exec fork --last` (for the most recent one), and `sessions` (to list
 * them). Null for any other command line, or when neither CODEX_HOME nor HOME says where it is.
 */
export function sessionsToWalk(args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: () => string): string | null {
  const latest = (args[0] === "exec" || args[0] === "e") && args.includes("--last") && (args.includes("resume") || args.includes("fork"));
  if (!latest && args[0] !== "sessions") return null;
  const home = env.HOME ?? "";
  if (home === "" && !env.CODEX_HOME) return null;
  return sessionsDir(codexHome({ env: (name) => env[name], cwd, homeDir: () => home }));
}
