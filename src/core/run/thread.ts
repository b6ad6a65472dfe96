// The second step of a run: the thread starts — the header, its rollout (a new file, the resumed
// one appended, or a fork's copy), its usage meter and budgets, and `thread.started`.
import { dirname, join } from "../util/path.ts";
import { turnBudget, type TurnBudget } from "../agent/budgets.ts";
import { costUsd, UsageMeter } from "../agent/usage.ts";
import { describeError } from "../errors.ts";
import type { ThreadEvent, ThreadItem } from "../events.ts";
import { emptyUsage } from "../agent/usage-totals.ts";
import type { Runtime } from "../runtime.ts";
import { describeSandbox } from "../sandbox/policy.ts";
import { copyThread } from "../session/fork.ts";
import { lockSession, type LockOptions, type SessionLock } from "../session/lock.ts";
import { RolloutWriter, rolloutRelativePath } from "../session/rollout.ts";
import { once } from "../util/once.ts";
import { OCX_VERSION } from "../version.ts";
import type { RunScope, RunSetup } from "./resolve.ts";

export interface StartedThread {
  /**
   * The rollout's path; undefined with --ephemeral. A new file's name holds the thread's start in
   * local time: made when first asked for (the time zone is read then, not before the request).
   */
  path(): string | undefined;
  /**
   * The thread's rollout (undefined with --ephemeral), begun if it had not: its first lines
   * (session_meta, then what whenBegun() waits to write) are made then, and wait in memory
   * until ready().
   */
  writer(): RolloutWriter | undefined;
  /** Runs `f` once the thread has begun (now, if it has). */
  whenBegun(f: () => void): void;
  meter: UsageMeter;
  budget: TurnBudget;
  /** Every event of the run goes out here: recorded in the rollout first, then printed. */
  emit(e: ThreadEvent): void;
  /**
   * Begins the thread, creates (and locks) the rollout, writes what waited for it, then prints
   * what waited for that: called once the first request is on its way, and before anything else
   * that needs the file (a hook reading the transcript, the run's end). Only the first call does
   * anything; a session that cannot be written is a warning, not a failed run.
   */
  ready(): Promise<void>;
}

/**
 * The thread starts without touching the disk, and nearly without work: its header and
 * thread.started are printed (held: the run's output waits until ready()), and its rollout is
 * begun (the writer made, its first lines serialised) only when something needs it, at the
 * latest once the first request is on its way. The first request then waits for none of that,
 * and what is printed is still on disk first.
 */
export async function startThread(runtime: Runtime, run: RunSetup, scope: RunScope): Promise<StartedThread> {
  const { opts, out, resumed, threadId } = run;
  out.hold();
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
  const startedMs = runtime.now();
  const path = once((): string | undefined =>
    opts.ephemeral ? undefined : resumed && !opts.fork ? resumed.path : join(run.home, rolloutRelativePath(startedMs, runtime, threadId)),
  );
  const created = !opts.ephemeral && (!resumed || !!opts.fork);
  let rollout: RolloutWriter | undefined;
  let begun = false;
  const beginning: Array<() => void> = [];
  const writer = (): RolloutWriter | undefined => {
    if (begun) return rollout;
    begun = true;
    const file = path();
    if (file) {
      rollout = new RolloutWriter(runtime, file, run.redactor, opts.fork ? 0 : (resumed?.lines ?? 0), run.warn, { held: true });
      if (created) {
        rollout.write("session_meta", {
          id: threadId,
          timestamp: new Date(runtime.now()).toISOString(),
          cwd: run.cwd,
          originator: "ocx_exec",
          cli_version: OCX_VERSION,
          source: "exec",
          model_provider: run.providerId,
          base_instructions: { text: run.instructions },
          ...(opts.fork && resumed ? { forked_from_id: resumed.id } : {}),
        });
      }
    }
    for (const f of beginning.splice(0)) f();
    return rollout;
  };
  const ready = once(async () => {
    const file = writer();
    if (file) await openRollout(runtime, file, { created, lock: run.lockOptions, locks: scope.locks, warn: run.warn });
    out.release();
  });
  // A fork's copy of its source goes straight to the file (it may be large): opened first.
  if (!opts.ephemeral && opts.fork && resumed) {
    await ready();
    copyThread(resumed.entries ?? [], writer()!);
    delete resumed.entries; // copied: not held for the rest of the run
  }
  // The thread's usage: its total so far (from the rollout), each response recorded as it completes.
  const price = run.price;
  const meter = new UsageMeter(resumed?.usage ?? emptyUsage(), price, (info) => writer()?.event({ type: "token_count", info }));
  const budget = turnBudget(run.budgets, price && ((u) => costUsd(u, price)));
  const emit = (e: ThreadEvent) => {
    if (e.type === "item.completed" && e.item.type === "agent_message") e = { ...e, item: { ...e.item, text: run.present(e.item.text) } };
    // On disk before anyone hears of it: a completed item is in the rollout when its event is out
    // (a command's output is not repeated here; its function_call_output carries it).
    if (e.type === "item.completed") {
      const file = writer();
      if (e.item.type === "agent_message") file?.event({ type: "agent_message", message: e.item.text });
      const { aggregated_output: _output, ...item } = e.item as ThreadItem & { aggregated_output?: string };
      file?.event({ type: "item_completed", item });
    }
    out.emit(meter.decorate(e, budget.counts()));
  };
  emit({ type: "thread.started", thread_id: threadId });
  return { path, writer, whenBegun: (f) => (begun ? f() : void beginning.push(f)), meter, budget, emit, ready };
}

/**
 * Writes the held lines of the rollout: a new thread's file is locked, then created (a resumed
 * one is locked already). A session that cannot be written is a warning: the lines are dropped.
 */
async function openRollout(
  runtime: Runtime,
  rollout: RolloutWriter,
  o: { created: boolean; lock?: LockOptions; locks: SessionLock[]; warn: (m: string) => void },
): Promise<void> {
  try {
    if (o.created) {
      await runtime.fs.mkdir(dirname(rollout.path), { recursive: true, mode: 0o700 });
      if (o.lock) o.locks.push(await lockSession(runtime, rollout.path, o.lock));
    }
  } catch (e) {
    rollout.abandon();
    o.warn(`could not write the session file ${rollout.path}: ${describeError(e)}; this run cannot be resumed`);
    return;
  }
  rollout.release();
}
