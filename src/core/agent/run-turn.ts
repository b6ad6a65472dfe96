// The agent loop: stream a response, run the tool calls it asked for, send the results back,
// repeat until the model answers without calling a tool. It emits events; it never prints.
import type { EmitDetail, EmitEvent, ThreadItem, Usage } from "../events.ts";
import { userText } from "./compaction.ts";
import { addUsage, emptyUsage } from "./usage-totals.ts";
import { OcxError, describeError, isOcxError } from "../errors.ts";
import type { ProcessManager } from "../process/process-manager.ts";
import {
  ModelError,
  type ModelClient,
  type ModelRequest,
  type ResponseItem,
  type ToolSpec,
} from "../model/types.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import type { Tool, ToolContext, TurnScope } from "../tools/define-tool.ts";
import { StreamRetries, sleep } from "../model/retry.ts";
import type { TurnBudget } from "./budgets.ts";
import { callOutputItem, isToolCall, itemText, reasoningText } from "./items.ts";
import { CallScheduler, type CallKind } from "./call-scheduler.ts";
import { Compactor, type TurnCompaction } from "./compactor.ts";
import { WebSearchItems } from "./web-search-items.ts";
import type { TurnHooks } from "../hooks/turn.ts";

export interface TurnOptions {
  runtime: Runtime;
  client: ModelClient;
  model: string;
  instructions: string;
  threadId: string;
  /** Everything sent before this turn's new model output: prior history plus the new prompt. */
  input: ResponseItem[];
  tools: Tool[];
  streamMaxRetries: number;
  /** The longest server-requested delay waited for (retry_after_max_ms); default 60 s. */
  retryAfterMaxMs?: number;
  reasoning?: ModelRequest["reasoning"];
  verbosity?: string;
  textFormat?: ModelRequest["textFormat"];
  /**
   * Checks the final answer (--output-schema); problems found make the model try once more,
   * then fail the turn with code output_schema.
   */
  checkAnswer?(answer: string | undefined): { problems: string[]; correction: string } | undefined;
  cwd: string;
  /** Absolute path of the default shell for commands. */
  shell: string;
  sandbox: SandboxPolicy;
  env: Record<string, string>;
  processes: ProcessManager;
  /** Commands of one response running at once (max_concurrent_tool_calls); default 8. */
  maxConcurrentCalls?: number;
  emit: EmitEvent;
  /** Human-only item details (diffs, plans); dropped when not given. */
  detail?: EmitDetail;
  /** Notices for the user that are not events; dropped when not given. */
  warn?(message: string): void;
  /** Aborted on interrupt; the reason should be an OcxError saying why. */
  signal: AbortSignal;
  /** --max-turns, --max-tool-calls, --max-tokens: checked before each model request and tool call. */
  budget?: TurnBudget;
  nextItemId(): string;
  /** Called for every item appended to the history (model output and tool results). */
  onHistoryItem?(item: ResponseItem): void;
  /** Context compaction; absent: the history is sent whole until the provider refuses it. */
  compaction?: TurnCompaction;
  /** PreToolUse, PostToolUse and Stop hooks; absent: none configured. */
  hooks?: TurnHooks;
}

export interface TurnResult {
  ok: boolean;
  usage: Usage;
  lastAgentMessage?: string;
  error?: OcxError;
}

export async function runTurn(opts: TurnOptions): Promise<TurnResult> {
  const { emit } = opts;
  const history = [...opts.input];
  let usage = emptyUsage();
  let lastAgentMessage: string | undefined;
  const append = (item: ResponseItem) => {
    history.push(item);
    opts.onHistoryItem?.(item);
  };
  const toolSpecs: ToolSpec[] = [];
  const toolsByName = new Map<string, Tool>();
  for (const t of opts.tools) {
    toolSpecs.push(t.spec);
    toolsByName.set(t.name, t);
    for (const alias of t.aliases ?? []) toolsByName.set(alias, t);
  }

  // The turn's own signal: aborted on interrupt (opts.signal) and when the turn fails, so tools
  // still running stop, and close their items, before turn.failed is emitted.
  const turn = new AbortController();
  const forward = () => turn.abort(opts.signal.reason);
  if (opts.signal.aborted) forward();
  else opts.signal.addEventListener("abort", forward, { once: true });
  // Calls of the response being handled; earlier responses' calls have all been awaited.
  let calls: Array<{ item: ResponseItem; output: Promise<ResponseItem> }> = [];
  // Starts the response's calls in order, a bounded number at once, edits alone. Calls still
  // queued when the turn is aborted never start.
  // (Made at the response's first call: the first request goes out without waiting for it.)
  let scheduler: CallScheduler | undefined;
  const callScheduler = (): CallScheduler => {
    if (scheduler) return scheduler;
    const made = new CallScheduler(opts.maxConcurrentCalls);
    if (turn.signal.aborted) made.cancel(turn.signal.reason);
    scheduler = made;
    return made;
  };
  turn.signal.addEventListener("abort", () => scheduler?.cancel(turn.signal.reason), { once: true });
  const scope = turnScope();
  let searches: WebSearchItems | undefined;
  const webSearches = (): WebSearchItems => (searches ??= new WebSearchItems(opts.nextItemId, emit));
  scope.atEnd(() => searches?.settle());

  emit({ type: "turn.started" });
  try {
    const retries = new StreamRetries({
      maxRetries: opts.streamMaxRetries,
      retryAfterMaxMs: opts.retryAfterMaxMs,
      now: () => opts.runtime.monotonic(),
    });
    let corrected = false;
    let stopHookActive = false;
    const compactor = opts.compaction && new Compactor(opts.compaction, {
      client: opts.client,
      model: opts.model,
      instructions: opts.instructions,
      threadId: opts.threadId,
      reasoning: opts.reasoning,
      tools: toolSpecs,
      streamMaxRetries: opts.streamMaxRetries,
      retryAfterMaxMs: opts.retryAfterMaxMs,
      monotonic: () => opts.runtime.monotonic(),
      notice: (message) => emit({ type: "error", message }),
      signal: turn.signal,
    });
    for (;;) {
      turn.signal.throwIfAborted();
      // A request sent again after a context-window error counts once, like a retry.
      if (!retries.retrying && !compactor?.resending) opts.budget?.beforeRequest(usage);
      if (compactor && !retries.retrying) usage = addUsage(usage, await compactor.beforeRequest(history));
      const request: ModelRequest = {
        model: opts.model,
        instructions: opts.instructions,
        input: history,
        tools: toolSpecs,
        parallelToolCalls: true,
        threadId: opts.threadId,
        reasoning: opts.reasoning,
        textFormat: opts.textFormat,
        verbosity: opts.verbosity,
      };
      compactor?.sent(history);
      let inputTokens = 0;
      calls = [];
      scheduler = undefined;
      // The outputs in `history` reach the model now: sessions they name may be pruned from here on.
      opts.processes.sent?.();
      let failure: ModelError | undefined;
      try {
        for await (const part of opts.client.stream(request, turn.signal)) {
          if (part.type === "completed") {
            usage = addUsage(usage, part.usage);
            inputTokens = part.usage.input_tokens;
          } else if (part.type === "item-added") {
            webSearches().added(part.item);
          } else if (part.type === "item-done") {
            const item = part.item;
            append(item);
            if (isToolCall(item)) {
              opts.budget?.beforeToolCall();
              // Results are observed below, in call order; a call that fails the turn
              // (sandbox refusal, ...) stops the others at once, before a queued one starts.
              const output = callScheduler().add(callKind(item, toolsByName), (started) =>
                runCall(item, toolsByName, opts, turn.signal, scope, started).catch((e: unknown) => {
                  if (isOcxError(e) && !turn.signal.aborted) turn.abort(e);
                  throw e;
                }),
              );
              output.catch(() => {});
              calls.push({ item, output });
            } else if (!webSearches().done(item)) {
              const shown = showItem(item, opts);
              if (shown !== undefined) lastAgentMessage = shown;
            }
          }
        }
      } catch (e) {
        if (!(e instanceof ModelError) || turn.signal.aborted) throw e;
        failure = e;
      }
      // Results go back in call order, whatever order the calls finished in. Calls that
      // arrived before a disconnect have run too: their results are kept and re-sent.
      for (const call of calls) append(await call.output);

      if (failure?.contextWindow && compactor) {
        // Refused as too long: compacted once and sent again (a second refusal fails the turn).
        usage = addUsage(usage, await compactor.afterContextError(history, failure));
        continue;
      }
      if (failure) {
        // Throws the error that ends the turn when no retry is left.
        const retry = retries.next(failure);
        emit({ type: "error", message: retry.notice });
        await sleep(retry.delayMs, turn.signal);
        continue;
      }
      retries.reset();
      compactor?.responded(inputTokens);
      if (calls.length > 0) continue;
      const mismatch = opts.checkAnswer?.(lastAgentMessage);
      if (!mismatch) {
        // A Stop hook may ask the model to go on: its reason is the next prompt.
        const more = await opts.hooks?.stop?.(lastAgentMessage, stopHookActive, turn.signal);
        if (more === undefined) break;
        stopHookActive = true;
        append(userText(more));
        continue;
      }
      const { problems } = mismatch;
      if (corrected) {
        throw new OcxError("output_schema", `The final answer does not match the output schema: ${problems.join("; ")}`);
      }
      corrected = true;
      opts.warn?.(`the answer does not match the output schema (${problems.length} problem${problems.length === 1 ? "" : "s"}); asking the model to correct it`);
      append(userText(mismatch.correction));
    }
    // An interrupt that arrived while the last response was finishing still counts.
    turn.signal.throwIfAborted();
  } catch (e) {
    const error = toOcxError(e, opts.signal);
    if (!turn.signal.aborted) turn.abort(error);
    await Promise.allSettled(calls.map((c) => c.output));
    await opts.processes.terminateAll();
    scope.end();
    emit({ type: "error", message: error.message });
    emit({ type: "turn.failed", error: { message: error.message, code: error.failureCode } });
    return { ok: false, usage, lastAgentMessage, error };
  }
  await opts.processes.terminateAll();
  scope.end();
  emit({ type: "turn.completed", usage });
  return { ok: true, usage, lastAgentMessage };
}

/** Emits the thread item for a non-call output item; returns the text of an agent message. */
function showItem(item: ResponseItem, opts: TurnOptions): string | undefined {
  let shown: ThreadItem | undefined;
  if (item.type === "message" && item.role === "assistant") {
    shown = { id: opts.nextItemId(), type: "agent_message", text: itemText(item) };
  } else if (item.type === "reasoning") {
    const text = reasoningText(item);
    if (text) shown = { id: opts.nextItemId(), type: "reasoning", text };
  }
  if (shown) opts.emit({ type: "item.completed", item: shown });
  return shown?.type === "agent_message" ? shown.text : undefined;
}

async function runCall(
  item: ResponseItem,
  tools: Map<string, Tool>,
  opts: TurnOptions,
  signal: AbortSignal,
  turn: TurnScope,
  started: () => void,
): Promise<ResponseItem> {
  const name = callName(item);
  const callId = String(item.call_id ?? "");
  const tool = tools.get(name);
  if (!tool) return callOutputItem(item, `unsupported call: ${String(item.namespace ?? "")}${String(item.name ?? "")}`);
  const ctx: ToolContext = {
    runtime: opts.runtime,
    cwd: opts.cwd,
    shell: opts.shell,
    signal,
    sandbox: opts.sandbox,
    env: opts.env,
    processes: opts.processes,
    callId,
    nextItemId: opts.nextItemId,
    emit: opts.emit,
    detail: opts.detail ?? (() => {}),
    warn: (m) => opts.warn?.(m),
    turn,
    started,
    itemStarted: (i) => opts.emit({ type: "item.started", item: i }),
    itemUpdated: (i) => opts.emit({ type: "item.updated", item: i }),
    itemCompleted: (i) => opts.emit({ type: "item.completed", item: i }),
  };
  const raw = item.type === "custom_tool_call" ? String(item.input ?? "") : String(item.arguments ?? "");
  const input = tool.spec.type === "custom" && item.type === "function_call" ? customInput(raw) : raw;
  try {
    const call = { name, callId, input, signal, ...(tool.mcp ? { mcp: tool.mcp } : {}) };
    const blocked = await opts.hooks?.beforeCall?.(call);
    if (blocked !== undefined) return callOutputItem(item, blocked);
    const output = await tool.run(input, ctx);
    await opts.hooks?.afterCall?.(call, output);
    return callOutputItem(item, output);
  } catch (e) {
    if (isOcxError(e) || signal.aborted) throw e;
    return callOutputItem(item, `tool ${name} failed: ${describeError(e)}`);
  }
}

function callKind(item: ResponseItem, tools: Map<string, Tool>): CallKind {
  const raw = item.type === "custom_tool_call" ? String(item.input ?? "") : String(item.arguments ?? "");
  return tools.get(callName(item))?.kind?.(raw) ?? "concurrent";
}

/** The tool a call names: `name`, or `<namespace>__<name>` in the namespaced form (MCP tools). */
const callName = (item: ResponseItem): string =>
  typeof item.namespace === "string" && item.namespace !== "" ? `${item.namespace}__${String(item.name ?? "")}` : String(item.name ?? "");

/**
 * A freeform tool called as a JSON function (models do this, and providers without custom
 * tools must): its input is the `input` argument, e.g. apply_patch {"input": "*** Begin Patch..."}.
 */
function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown;
    if (parsed && typeof parsed === "object" && typeof (parsed as { input?: unknown }).input === "string") {
      return (parsed as { input: string }).input;
    }
  } catch {
    // not JSON: pass it on as it is
  }
  return args;
}

function turnScope(): TurnScope & { end(): void } {
  const hooks: Array<() => void> = [];
  return {
    state: new Map(),
    atEnd: (fn) => void hooks.push(fn),
    end: () => {
      for (const fn of hooks.splice(0)) fn();
    },
  };
}

function toOcxError(e: unknown, signal: AbortSignal): OcxError {
  if (signal.aborted && isOcxError(signal.reason)) return signal.reason;
  if (isOcxError(e)) return e;
  if (e instanceof ModelError) return new OcxError(e.kind === "auth" ? "auth" : "failed", e.message, { cause: e });
  return new OcxError("internal", `internal error: ${describeError(e)}`, { cause: e });
}
