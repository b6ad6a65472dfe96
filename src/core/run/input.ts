// A turn's new input: the project's AGENTS.md and the environment (each again only when it
// changed since the session's last one), then the prompt. A resumed thread re-sends its whole
// history before them.
import { basename } from "../util/path.ts";
import type { ResponseItem } from "../model/types.ts";
import { ENVIRONMENT_MARKER, environmentContextText, localDate, userMessage } from "../prompt/environment-context.ts";
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
  // What the resumed history last sent of each (its content's JSON), in one pass over it.
  const sent = resumed ? latestSent(resumed.items, [AGENTS_MARKER, ENVIRONMENT_MARKER], runtime) : undefined;
  const alreadySent = (message: ResponseItem, marker: string) => sent?.get(marker) === JSON.stringify((message as { content?: unknown }).content);
  const fresh: ResponseItem[] = [
    ...(agents && !alreadySent(agents, AGENTS_MARKER) ? [agents] : []),
    ...(alreadySent(context, ENVIRONMENT_MARKER) ? [] : [context]),
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

/**
 * A history of at least this many items is long: latestSent's pass over it runs `holds` hot for
 * a few ms, and compiling it at full optimisation took longer: 6-16 ms of a core (see
 * Runtime.keepBelowTopTier).
 */
const LONG_HISTORY = 1000;

/**
 * For each marker, the JSON of the content of the latest user message in `items` that holds it;
 * each message's content is serialised once (a large restored one is read from its file).
 */
export function latestSent(items: ResponseItem[], markers: string[], runtime?: Pick<Runtime, "keepBelowTopTier">): Map<string, string> {
  if (items.length >= LONG_HISTORY) runtime?.keepBelowTopTier?.([holds]);
  const found = new Map<string, string>();
  for (let i = items.length - 1; i >= 0 && found.size < markers.length; i--) {
    const it = items[i]!;
    if (it.type !== "message" || it.role !== "user") continue;
    const content = (it as { content?: unknown }).content;
    // Most user messages hold neither marker: their content is not serialised to find that out.
    let maybe = false;
    for (const marker of markers) maybe ||= !found.has(marker) && holds(content, marker);
    if (!maybe) continue;
    const json = JSON.stringify(content);
    for (const marker of markers) if (!found.has(marker) && json.includes(marker)) found.set(marker, json);
  }
  return found;
}

/**
 * Whether a string of `value` (a key or a string value, at any depth) contains `marker`: true
 * whenever JSON.stringify(value) contains it, for a marker that starts with neither a letter nor
 * a digit and holds no character JSON escapes or writes between tokens (`"`, `\\`, control
 * characters, `{}[],:`), as the two markers do: in the JSON, such a marker lies within one string
 * token, and not across an escape. (It may also be true of a key JSON.stringify leaves out.)
 */
function holds(value: unknown, marker: string): boolean {
  if (typeof value === "string") return value.includes(marker);
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (holds(v, marker)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key.includes(marker) || holds((value as Record<string, unknown>)[key], marker)) return true;
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
