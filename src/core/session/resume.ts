// `ocx exec resume`: which thread (id, name, or --last), what it restores (cwd, model, provider,
// sandbox), and the history it re-sends.
import { OcxError } from "../errors.ts";
import type { ResponseItem } from "../model/types.ts";
import type { Runtime } from "../runtime.ts";
import { findById, findLatest, isUuid } from "./find.ts";
import { closeDanglingCalls, parseRollout, recordedSandboxPolicy, type RolloutSandboxPolicy } from "./rollout.ts";

export interface ResumeRequest {
  /** A thread id (UUID) or name; absent with --last. */
  target?: string;
  last: boolean;
  all: boolean;
}

export interface ResumedThread {
  id: string;
  path: string;
  cwd?: string;
  model?: string;
  provider?: string;
  /** The last recorded sandbox policy (absent when unknown to ocx: the current flags decide). */
  sandboxPolicy?: RolloutSandboxPolicy;
  /** The history to re-send, calls without an output closed. */
  items: ResponseItem[];
  /** Lines already in the file (the ordinal continues from here). */
  lines: number;
}

const HOW_TO_LIST = "list sessions with `ocx sessions` (add --all for every directory)";

/** Finds and loads the thread to resume; exit 3 with a way forward when there is none. */
export async function loadResumed(
  runtime: Runtime,
  home: string,
  req: ResumeRequest,
  currentDir: string,
  warn: (message: string) => void,
): Promise<ResumedThread> {
  let path: string | null = null;
  if (req.target !== undefined && isUuid(req.target)) {
    path = await findById(runtime, home, req.target);
    if (!path) throw new OcxError("config", `No session found with id ${req.target} (an --ephemeral run keeps none); ${HOW_TO_LIST}`);
  } else {
    const found = await findLatest(runtime, home, { cwd: currentDir, all: req.all, name: req.target });
    if (!found) {
      const where = req.all ? "" : ` in ${currentDir}`;
      const what = req.target === undefined ? `No session to resume${where}` : `No session named ${JSON.stringify(req.target)}${where}`;
      throw new OcxError("config", `${what}; ${HOW_TO_LIST}`);
    }
    path = found.path;
  }

  let text: string;
  try {
    text = new TextDecoder().decode(await runtime.fs.readFile(path));
  } catch (e) {
    throw new OcxError("config", `Cannot read session file ${path}: ${(e as Error).message}`);
  }
  const loaded = parseRollout(text);
  for (const s of loaded.skipped) {
    warn(
      s.last
        ? `the last line of ${path} is incomplete (the previous run was stopped while writing it); it was dropped`
        : `line ${s.line} of ${path} is not valid JSON; it was skipped`,
    );
  }
  const id = loaded.meta?.id ?? req.target ?? "";
  if (!isUuid(id)) throw new OcxError("config", `Session file ${path} has no session_meta with a thread id; ${HOW_TO_LIST}`);
  const tc = loaded.turnContext;
  return {
    id,
    path,
    cwd: tc?.cwd ?? loaded.meta?.cwd,
    model: tc?.model,
    provider: loaded.meta?.model_provider,
    sandboxPolicy: recordedSandboxPolicy(tc),
    items: closeDanglingCalls(loaded.items),
    lines: loaded.lines,
  };
}

/** Whether `-c key=...` was given (a flag that overrides what the session recorded). */
export function overridesKey(overrides: readonly string[], key: string): boolean {
  return overrides.some((o) => {
    const eq = o.indexOf("=");
    return (eq < 0 ? o : o.slice(0, eq)).trim() === key;
  });
}
