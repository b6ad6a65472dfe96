// The second step of a run: the thread starts — the header, its rollout (a new file, the resumed
// one appended, or a fork's copy), its usage meter and budgets, and `thread.started`.
import { dirname, join } from "pathe";
import { turnBudget, type TurnBudget } from "../agent/budgets.ts";
import { costUsd, UsageMeter } from "../agent/usage.ts";
import { describeError } from "../errors.ts";
import type { ThreadEvent, ThreadItem } from "../events.ts";
import { emptyUsage } from "../agent/usage-totals.ts";
import type { Redactor } from "../redact.ts";
import type { Runtime } from "../runtime.ts";
import { describeSandbox } from "../sandbox/policy.ts";
import { copyThread } from "../session/fork.ts";
import { lockSession, type LockOptions, type SessionLock } from "../session/lock.ts";
import type { ResumedThread } from "../session/resume.ts";
import { RolloutWriter, rolloutRelativePath } from "../session/rollout.ts";
import { OCX_VERSION } from "../version.ts";
import type { RunScope, RunSetup } from "./resolve.ts";

export interface StartedThread {
  /** Undefined with --ephemeral, or when the session file could not be written (warned). */
  rollout: RolloutWriter | undefined;
  meter: UsageMeter;
  budget: TurnBudget;
  /** Every event of the run goes out here: recorded in the rollout first, then printed. */
  emit(e: ThreadEvent): void;
}

export async function startThread(runtime: Runtime, run: RunSetup, scope: RunScope): Promise<StartedThread> {
  const { opts, out, resumed, threadId } = run;
  out.header({
    version: OCX_VERSION,
    workdir: run.cwd,
    model: run.model,
    provider: run.providerId,
    sandbox: describeSandbox(run.sandbox),
    reasoningEffort: run.config.model_reasoning_effort ?? "none",
    reasoningSummaries: run.config.model_reasoning_summary ?? "none",
    sessionId: threadId,
    prompt: run.prompt,
  });
  const rollout = opts.ephemeral
    ? undefined
    : await openRollout(runtime, {
        home: run.home,
        threadId,
        ...(opts.fork ? { forkedFrom: resumed } : { resumed }),
        redactor: run.redactor,
        meta: { cwd: run.cwd, provider: run.providerId },
        warn: run.warn,
        lock: run.lockOptions,
        locks: scope.locks,
        instructions: run.instructions,
      });
  // The thread's usage: its total so far (from the rollout), each response recorded as it completes.
  const price = run.price;
  const meter = new UsageMeter(resumed?.usage ?? emptyUsage(), price, (info) => rollout?.event({ type: "token_count", info }));
  const budget = turnBudget(run.budgets, price && ((u) => costUsd(u, price)));
  const emit = (e: ThreadEvent) => {
    if (e.type === "item.completed" && e.item.type === "agent_message") e = { ...e, item: { ...e.item, text: run.present(e.item.text) } };
    // On disk before anyone hears of it: a completed item is in the rollout when its event is out
    // (a command's output is not repeated here; its function_call_output carries it).
    if (e.type === "item.completed") {
      if (e.item.type === "agent_message") rollout?.event({ type: "agent_message", message: e.item.text });
      const { aggregated_output: _output, ...item } = e.item as ThreadItem & { aggregated_output?: string };
      rollout?.event({ type: "item_completed", item });
    }
    out.emit(meter.decorate(e, budget.counts()));
  };
  emit({ type: "thread.started", thread_id: threadId });
  return { rollout, meter, budget, emit };
}

/**
 * The rollout of this run: the resumed thread's file (appended), or a new one with its
 * session_meta. A session that cannot be written is a warning, not a failed run.
 */
async function openRollout(
  runtime: Runtime,
  o: {
    home: string;
    threadId: string;
    resumed?: ResumedThread;
    /** `exec fork`: a new file that starts with a copy of this thread's lines. */
    forkedFrom?: ResumedThread;
    redactor: Redactor;
    meta: { cwd: string; provider: string };
    warn: (m: string) => void;
    /** A new thread's file is locked before it is created (a resumed one is already locked). */
    lock?: LockOptions;
    locks: SessionLock[];
    instructions: string;
  },
): Promise<RolloutWriter | undefined> {
  const path = o.resumed?.path ?? join(o.home, rolloutRelativePath(runtime.now(), runtime, o.threadId));
  try {
    if (!o.resumed) {
      await runtime.fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      if (o.lock) o.locks.push(await lockSession(runtime, path, o.lock));
    }
    const writer = new RolloutWriter(runtime, path, o.redactor, o.resumed?.lines ?? 0, o.warn);
    if (!o.resumed) {
      writer.write("session_meta", {
        id: o.threadId,
        timestamp: new Date(runtime.now()).toISOString(),
        cwd: o.meta.cwd,
        originator: "ocx_exec",
        cli_version: OCX_VERSION,
        source: "exec",
        model_provider: o.meta.provider,
        base_instructions: { text: o.instructions },
        ...(o.forkedFrom ? { forked_from_id: o.forkedFrom.id } : {}),
      });
      if (o.forkedFrom) {
        copyThread(o.forkedFrom.entries ?? [], writer);
        delete o.forkedFrom.entries; // copied: not held for the rest of the run
      }
    }
    return writer;
  } catch (e) {
    o.warn(`could not write the session file ${path}: ${describeError(e)}; this run cannot be resumed`);
    return undefined;
  }
}
