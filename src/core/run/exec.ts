// `ocx exec`: resolve everything a run needs, start the thread, prepare and run one turn, report
// it. Returns the exit code; expected failures before the turn starts throw OcxError.
import { runTurn, type TurnOptions } from "../agent/run-turn.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { finishRun } from "./finish.ts";
import type { ExecOptions } from "./options.ts";
import { resolveRun, RunScope, type RunSetup } from "./resolve.ts";
import { startThread, type StartedThread } from "./thread.ts";
import { prepareTurn } from "./turn.ts";

export type { ExecOptions } from "./options.ts";

export async function runExec(runtime: Runtime, opts: ExecOptions): Promise<number> {
  // Session locks and MCP servers are held until the run ends, however it ends.
  const scope = new RunScope();
  let run: RunSetup | undefined;
  let thread: StartedThread | undefined;
  try {
    run = await resolveRun(runtime, opts, scope);
    thread = await startThread(runtime, run, scope);
    const turn = await prepareTurn(runtime, run, thread);
    const result = await runTurnReleasing(runtime, run.sandbox, turn.params);
    turn.disarm();
    return await finishRun(runtime, run, thread, turn, result);
  } finally {
    // A run that ends before its first request still writes its rollout and prints what waited
    // (or, when the thread could not start, at least prints it).
    if (thread) await thread.ready();
    else run?.out.release();
    await scope.close();
  }
}

/** runTurn, then the sandbox's placeholders go (every command has ended by then). */
async function runTurnReleasing(runtime: Runtime, sandbox: SandboxPolicy, opts: TurnOptions) {
  try {
    return await runTurn(opts);
  } finally {
    // (The confinement code loads with the first command, or here.)
    await (await import("../sandbox/confine.ts")).releaseSandbox(runtime, sandbox);
  }
}
