// The third step of a run: the turn is prepared — interrupts and --timeout armed, its input
// built and recorded, MCP servers awaited, hooks started, tools and client assembled — into the
// options runTurn takes.
import { abortOnTimeout } from "../agent/budgets.ts";
import { autoCompactLimit } from "../agent/compaction.ts";
import type { CompactionRecord } from "../agent/compactor.ts";
import type { TurnOptions } from "../agent/run-turn.ts";
import { abortOnInterrupt } from "../errors.ts";
import type { ThreadEvent } from "../events.ts";
import { startHooks } from "../hooks/start.ts";
import type { ResponseItem } from "../model/types.ts";
import { commandEnv } from "../process/env-policy.ts";
import { ProcessManager } from "../process/process-manager.ts";
import type { Runtime } from "../runtime.ts";
import { uuidv7 } from "../util/uuid.ts";
import { defaultShell } from "../workspace.ts";
import { reasoningParams, recordTurnStart, turnInput } from "./input.ts";
import { mcpReady } from "./mcp.ts";
import type { RunSetup } from "./resolve.ts";
import type { StartedThread } from "./thread.ts";
import { runClient, runTools } from "./tools.ts";

export interface PreparedTurn {
  turnId: string;
  /** What the request carries (for notify's input messages). */
  input: ResponseItem[];
  /** The environment commands get (and notify). */
  env: Record<string, string>;
  params: TurnOptions;
  /** Disarms the interrupt handlers and the --timeout timer (the turn is over). */
  disarm(): void;
}

export async function prepareTurn(runtime: Runtime, run: RunSetup, thread: StartedThread): Promise<PreparedTurn> {
  const { config, cwd, redactor, warn, threadId } = run;
  const { emit } = thread;
  const controller = new AbortController();
  // SIGINT and SIGTERM abort the run from the moment it could wait on something before its first
  // request (MCP servers starting: at once) or else from the thread's beginning, as that request
  // goes out (and before any hook runs). Until then the default action, the process ending, loses
  // nothing: no file is written, no child runs. (Listening costs a compiled binary 0.1 ms.)
  let disarmed = false;
  let removeSignals: (() => void) | undefined;
  const listen = () => {
    if (!disarmed && !removeSignals) removeSignals = abortOnInterrupt(runtime, controller, (signal) => `interrupted by ${signal}`);
  };
  if (run.mcp) listen();
  else thread.whenBegun(listen);
  const disarmTimeout = abortOnTimeout(controller, run.budgets.timeout, runtime.monotonic() - run.startedAt);

  const shell = await defaultShell(runtime);
  const { fresh, input } = await turnInput(runtime, run, shell);
  const turnId = uuidv7(runtime.now(), runtime.randomFill);
  // In the rollout once the thread has begun (the first request does not wait for it).
  const startedAtMs = runtime.now();
  thread.whenBegun(() => recordTurnStart(thread.writer(), run, turnId, startedAtMs, fresh));

  let itemCounter = 0;
  const nextItemId = () => `item_${itemCounter++}`;
  const reports = new EarlyReports(run, emit, nextItemId);
  const mcpTools = run.mcp ? await mcpReady(run.mcp, controller.signal, (message) => reports.report(message)) : [];
  // The environment commands get, made when first needed (a hook, a tool call, notify): in most
  // runs after the first request is on its way.
  let env: Record<string, string> | undefined;
  const commandEnvironment = () => (env ??= commandEnv(runtime, config, { providerId: run.providerId, threadId, sandbox: run.sandbox, secrets: run.secrets() }));
  const hooks = await startHooks(runtime, {
    config, opts: run.opts, home: run.home, root: run.root, cwd, sandbox: run.sandbox, env: commandEnvironment, report: (m) => reports.report(m), warn, threadId, turnId, model: run.model,
    transcriptPath: thread.path, transcriptReady: thread.ready, emit: reports.turnEmit, nextItemId, source: run.resumed ? "resume" : "startup", prompt: run.prompt,
    signal: controller.signal, redact: (t) => redactor.text(t),
  });
  const processes = new ProcessManager(runtime, { redactor });
  const tools = runTools(run, mcpTools);
  const client = runClient(runtime, run, thread);
  const params: TurnOptions = {
    runtime,
    client,
    model: run.model,
    instructions: run.instructions,
    threadId,
    input,
    tools,
    streamMaxRetries: run.provider.streamMaxRetries,
    retryAfterMaxMs: run.provider.retryAfterMaxMs,
    reasoning: reasoningParams(config),
    verbosity: config.model_verbosity,
    textFormat: run.outputSchema?.textFormat,
    checkAnswer: run.outputSchema?.check,
    cwd,
    shell,
    sandbox: run.sandbox,
    get env() {
      return commandEnvironment();
    },
    processes,
    maxConcurrentCalls: config.max_concurrent_tool_calls,
    emit: reports.turnEmit,
    detail: (id, d) => run.out.detail(id, d),
    warn,
    signal: controller.signal,
    budget: thread.budget,
    nextItemId,
    onHistoryItem: (item) => thread.writer()?.item(item),
    compaction: {
      limit: autoCompactLimit({ limit: config.model_auto_compact_token_limit, contextWindow: config.model_context_window, model: run.model }),
      remote: run.provider.name === "OpenAI" && run.provider.wireApi === "responses",
      prompt: config.compact_prompt,
      newItems: fresh.length,
      onCompacted: (c: CompactionRecord) => {
        // The rollout keeps the full history; resume continues from replacement_history.
        thread.writer()?.write("compacted", { message: c.message, replacement_history: c.history, trigger: "auto", reason: c.reason, phase: c.phase });
        run.out.notice?.(`context compacted (about ${c.tokensBefore} tokens before, ${c.tokensAfter} after)`);
      },
    },
    ...(hooks ? { hooks } : {}),
  };
  const disarm = () => {
    disarmed = true;
    removeSignals?.();
    disarmTimeout();
  };
  return {
    turnId,
    input,
    get env() {
      return commandEnvironment();
    },
    params,
    disarm,
  };
}

/**
 * Reports from before the turn starts (a failed MCP server, a hook's notice): one stderr line
 * (the error item's own in human mode) and, with --json, an `error` item, given once the turn
 * has started (every item belongs to a turn).
 */
class EarlyReports {
  private started = false;
  private readonly waiting: string[] = [];
  constructor(
    private readonly run: RunSetup,
    private readonly emit: (e: ThreadEvent) => void,
    private readonly nextItemId: () => string,
  ) {}
  report(message: string): void {
    if (this.started) this.now(message);
    else this.waiting.push(message);
  }
  readonly turnEmit = (e: ThreadEvent): void => {
    this.emit(e);
    if (e.type !== "turn.started") return;
    this.started = true;
    for (const message of this.waiting.splice(0)) this.now(message);
  };
  private now(message: string): void {
    if (this.run.opts.json) this.run.warn(message);
    this.emit({ type: "item.completed", item: { id: this.nextItemId(), type: "error", message } });
  }
}
