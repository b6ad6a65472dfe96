// Where rollouts live: their folder under CODEX_HOME and the form of their names. Small on
// purpose: the entry reads it before the rest of ocx loads, to start `--last`'s walk.
import type { EntryMatch } from "../runtime.ts";
import { join } from "../util/path.ts";

export const sessionsDir = (home: string) => join(home, "sessions");

/** Names of rollout files (which threadIdOfFile then checks). */
export const ROLLOUT_NAMES: EntryMatch = { prefix: "rollout-", suffix: ".jsonl" };
