// `notify = ["program", "arg", ...]`: after each completed turn the program runs with the
// reference's JSON as its last argument. It gets the commands' environment (no credentials) and
// is stopped after NOTIFY_TIMEOUT_MS; a notifier that fails is a warning, never a failed run.
import { describeError } from "../errors.ts";
import type { ResponseItem } from "../model/types.ts";
import { ENVIRONMENT_MARKER } from "../prompt/environment-context.ts";
import { AGENTS_MARKER } from "../prompt/project-docs.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { confinedArgv } from "../sandbox/confine.ts";
import { exitPhrase } from "../process/process-manager.ts";
import { itemText } from "../agent/items.ts";

const NOTIFY_TIMEOUT_MS = 30_000;

export interface TurnNotification {
  threadId: string;
  turnId: string;
  cwd: string;
  inputMessages: string[];
  lastAssistantMessage?: string;
}

/** The notification argument, with the reference's keys in its order. */
export function notificationJson(n: TurnNotification): string {
  return JSON.stringify({
    type: "agent-turn-complete",
    "thread-id": n.threadId,
    "turn-id": n.turnId,
    cwd: n.cwd,
    client: "codex_exec",
    "input-messages": n.inputMessages,
    "last-assistant-message": n.lastAssistantMessage ?? null,
  });
}

/** The user's prompts in a history (not the environment or AGENTS.md messages ocx adds). */
export function userPrompts(items: ResponseItem[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (item.type !== "message" || item.role !== "user") continue;
    const text = itemText(item);
    if (text.startsWith(ENVIRONMENT_MARKER) || text.startsWith(AGENTS_MARKER) || text.startsWith("<user_instructions>")) continue;
    out.push(text);
  }
  return out;
}

export async function runNotify(
  runtime: Runtime,
  argv: string[],
  n: TurnNotification,
  o: { cwd: string; env: Record<string, string>; policy: SandboxPolicy; warn(message: string): void },
): Promise<void> {
  if (argv.length === 0) return;
  const program = argv[0]!;
  let child;
  try {
    const spawnArgv = await confinedArgv(runtime, o.policy, [...argv, notificationJson(n)], o.warn);
    child = runtime.spawn({ argv: spawnArgv, cwd: o.cwd, env: o.env, stdin: "ignore" });
  } catch (e) {
    o.warn(`notify: could not run ${program}: ${describeError(e)}`);
    return;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, NOTIFY_TIMEOUT_MS);
  // Its output is not ocx's: drained and dropped.
  void child.stdout.pipeTo(new WritableStream()).catch(() => {});
  void child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const status = await child.exited;
  clearTimeout(timer);
  if (timedOut) o.warn(`notify: ${program} did not finish within ${NOTIFY_TIMEOUT_MS / 1000} s and was stopped`);
  else if (status.code !== 0) o.warn(`notify: ${program} ${exitPhrase(status)}`);
}
