// A turn's new input: the project's AGENTS.md and the environment (each again only when it
// changed since the session's last one), then the prompt. A resumed thread re-sends its whole
// history before them.
import { basename } from "pathe";
import type { ResponseItem } from "../model/types.ts";
import { environmentContextText, localDate, userMessage } from "../prompt/environment-context.ts";
import { AGENTS_MARKER, agentsMessage, loadProjectDocs } from "../prompt/project-docs.ts";
import type { Runtime } from "../runtime.ts";
import { rolloutSandboxPolicy, type RolloutWriter } from "../session/rollout.ts";
import type { RunSetup } from "./resolve.ts";
import type { Config } from "../config/schema.ts";

export interface TurnInput {
  /** What this turn adds to the thread. */
  fresh: ResponseItem[];
  /** What the request carries: the resumed history, then `fresh`. */
  input: ResponseItem[];
}

export async function turnInput(runtime: Runtime, run: RunSetup, shell: string): Promise<TurnInput> {
  const { cwd, resumed } = run;
  const context = userMessage(
    environmentContextText({
      cwd,
      shell: basename(shell),
      currentDate: localDate(runtime.now(), runtime),
      timeZone: runtime.timeZone(),
      sandbox: run.sandbox,
    }),
  );
  const docs = await loadProjectDocs(runtime, {
    cwd,
    gitRoot: run.root,
    codexHome: run.home,
    maxBytes: run.config.project_doc_max_bytes,
    fallbackFilenames: run.config.project_doc_fallback_filenames,
  });
  for (const w of docs.warnings) run.warn(w);
  const agents = docs.text === undefined ? undefined : userMessage(agentsMessage(docs.text, cwd));
  const fresh: ResponseItem[] = [
    ...(agents && !(resumed && alreadySent(resumed.items, agents, AGENTS_MARKER)) ? [agents] : []),
    ...(resumed && alreadySent(resumed.items, context, "<environment_context>") ? [] : [context]),
    { type: "message", role: "user", content: [...run.images, { type: "input_text", text: run.prompt }] },
  ];
  return { fresh, input: [...(resumed?.items ?? []), ...fresh] };
}

/** The turn's start in the rollout: its context, task_started, the new items, the user's message. */
export function recordTurnStart(rollout: RolloutWriter | undefined, run: RunSetup, turnId: string, startedAtMs: number, fresh: ResponseItem[]): void {
  if (!rollout) return;
  const { config } = run;
  rollout.write("turn_context", {
    turn_id: turnId,
    cwd: run.cwd,
    approval_policy: "never",
    sandbox_policy: rolloutSandboxPolicy(run.sandbox),
    model: run.model,
    ...reasoningParams(config),
  });
  rollout.event({ type: "task_started", turn_id: turnId, started_at: Math.floor(startedAtMs / 1000) });
  for (const item of fresh) rollout.item(item);
  rollout.event({ type: "user_message", message: run.prompt, images: run.opts.images });
}

/** Whether the latest user message of this kind (found by `marker`) in a resumed history equals `message`. */
function alreadySent(items: ResponseItem[], message: ResponseItem, marker: string): boolean {
  const text = (m: ResponseItem) => JSON.stringify((m as { content?: unknown }).content);
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.type === "message" && it.role === "user" && text(it).includes(marker)) return text(it) === text(message);
  }
  return false;
}

/** The reasoning settings of config (none when neither is set), for the request and turn_context. */
export function reasoningParams(config: Config) {
  if (!config.model_reasoning_effort && !config.model_reasoning_summary) return undefined;
  return {
    ...(config.model_reasoning_effort ? { effort: config.model_reasoning_effort } : {}),
    ...(config.model_reasoning_summary ? { summary: config.model_reasoning_summary } : {}),
  };
}
