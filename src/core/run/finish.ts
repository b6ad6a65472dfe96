// The last step of a run: the turn's end recorded, the final answer printed (and written to -o),
// notify run, and the exit code.
import { resolve } from "../util/path.ts";
import type { TurnResult } from "../agent/run-turn.ts";
import { describeError, ExitCode } from "../errors.ts";
import type { OutputProcessor } from "../output/processor.ts";
import type { OutputSink, Runtime } from "../runtime.ts";
import { FULL_ACCESS } from "../sandbox/policy.ts";
import type { RunSetup } from "./resolve.ts";
import type { StartedThread } from "./thread.ts";
import type { PreparedTurn } from "./turn.ts";

export async function finishRun(runtime: Runtime, run: RunSetup, thread: StartedThread, turn: PreparedTurn, result: TurnResult): Promise<number> {
  const { opts, redactor, out, threadId } = run;
  await thread.ready();
  const rollout = thread.writer();
  if (!result.ok) rollout?.event({ type: "error", message: result.error?.message ?? "turn failed" });
  rollout?.event({ type: "task_complete", turn_id: turn.turnId, last_agent_message: result.lastAgentMessage ?? null });

  if (result.lastAgentMessage !== undefined) result.lastAgentMessage = run.present(result.lastAgentMessage);
  const budgetRanOut = result.error?.kind === "budget";
  const resumable = rollout?.saving
    ? `to continue where it stopped (with fresh budgets): ocx exec resume ${threadId} "PROMPT"`
    : rollout
      ? "its session file could not be written: it cannot be resumed"
      : "this run was --ephemeral: it cannot be resumed";
  out.finish({ ok: result.ok, lastAgentMessage: result.lastAgentMessage, ...(budgetRanOut ? { hint: resumable } : {}) });
  if (opts.outputLastMessage) {
    const last = result.ok ? result.lastAgentMessage : undefined;
    await writeLastMessage(runtime, opts.outputLastMessage, last === undefined ? undefined : redactor.text(last), out, run.stderr);
  }
  if (result.ok && run.config.notify?.length) {
    const { runNotify, userPrompts } = await import("../hooks/notify.ts");
    const last = result.lastAgentMessage;
    await runNotify(runtime, run.config.notify, {
      threadId,
      turnId: turn.turnId,
      cwd: run.cwd,
      inputMessages: userPrompts(turn.input),
      ...(last !== undefined ? { lastAssistantMessage: redactor.text(last) } : {}),
    }, { cwd: run.cwd, env: turn.env, policy: FULL_ACCESS, warn: run.warn });
  }
  return result.ok ? ExitCode.ok : (result.error?.exitCode ?? ExitCode.failed);
}

/** -o FILE: the last agent message verbatim (no newline added); empty, with a warning, if none. */
async function writeLastMessage(runtime: Runtime, file: string, text: string | undefined, out: OutputProcessor, stderr: OutputSink) {
  const path = resolve(runtime.cwd(), file);
  try {
    await runtime.fs.writeFile(path, text ?? "");
  } catch (e) {
    out.warn(`could not write the last message to ${path}: ${describeError(e)}`);
    return;
  }
  if (text === undefined) stderr.write(`Warning: no last agent message; wrote empty content to ${file}\n`);
}
