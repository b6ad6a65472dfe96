// `ocx exec`: resolve everything a run needs, run one turn, report it. Returns the exit code;
// expected failures before the turn starts throw OcxError.
import { basename, dirname, join, resolve } from "pathe";
import { abortOnTimeout, resolveBudgets, turnBudget, type BudgetFlags } from "./agent/budgets.ts";
import { runTurn } from "./agent/run-turn.ts";
import { autoCompactLimit } from "./agent/compaction.ts";
import type { CompactionRecord } from "./agent/compactor.ts";
import { loadConfig } from "./config/load.ts";
import { DEFAULT_MODEL, DEFAULT_PROVIDER, credentialEnvVars, resolveProvider } from "./config/providers.ts";
import type { Config } from "./config/schema.ts";
import { abortOnInterrupt, ExitCode, OcxError, describeError, isOcxError } from "./errors.ts";
import type { ThreadEvent, ThreadItem } from "./events.ts";
import { emptyUsage } from "./agent/usage-totals.ts";
import { costUsd, resolvePrice, UsageMeter } from "./agent/usage.ts";
import { ProcessManager } from "./exec/process-manager.ts";
import { createChatClient } from "./model/chat.ts";
import { createResponsesClient } from "./model/responses.ts";
import type { ModelClient, ProviderInfo, ResponseItem } from "./model/types.ts";
import { humanProcessor } from "./output/human.ts";
import { jsonlProcessor } from "./output/jsonl.ts";
import type { OutputProcessor } from "./output/processor.ts";
import { BASE_INSTRUCTIONS } from "./prompt/base-instructions.ts";
import { environmentContextText, localDate, userMessage } from "./prompt/environment-context.ts";
import { imageParts } from "./prompt/images.ts";
import { readPrompt } from "./prompt/read-prompt.ts";
import { FileTooLargeError, type OutputSink, type Runtime } from "./runtime.ts";
import { describeSandbox, markNetwork, resolveSandboxPolicy, type SandboxMode, type SandboxPolicy } from "./sandbox-policy.ts";
import { execCommandTool } from "./tools/exec-command.ts";
import { releaseSandbox } from "./sandbox/confine.ts";
import { writeStdinTool } from "./tools/write-stdin.ts";
import { applyPatchCustomTool, applyPatchFunctionTool } from "./tools/apply-patch.ts";
import { updatePlanTool } from "./tools/update-plan.ts";
import { viewImageTool } from "./tools/view-image.ts";
import { webSearchFor, withoutRefusedWebSearch } from "./tools/web-search.ts";
import type { ReviewTarget } from "./review/target.ts";
import type { Tool } from "./tools/define-tool.ts";
import { uuidv7 } from "./util/uuid.ts";
import { formatBytes } from "./util/format.ts";
import { loadResumed, overridesKey, resumedSandbox, type ResumedThread, type ResumeRequest } from "./session/resume.ts";
import { RolloutWriter, rolloutRelativePath, rolloutSandboxPolicy } from "./session/rollout.ts";
import { copyThread } from "./session/fork.ts";
import { DEFAULT_SESSION_LOCK_WAIT_MS, lockSession, type LockOptions, type SessionLock } from "./session/lock.ts";
import { OCX_VERSION } from "./version.ts";
import { OSS_DEFAULT_MODEL, ossProvider, probeLocalServer } from "./config/oss.ts";
import { commandEnv } from "./exec/env-policy.ts";
import { AGENTS_MARKER, agentsMessage, loadProjectDocs } from "./prompt/project-docs.ts";
import { checkedCodexHome, defaultShell, gitRoot, resolveWorkdir } from "./workspace.ts";
import { createRedactor, redactingSink, type Redactor } from "./redact.ts";
import { authFileSecrets } from "./auth/storage.ts";
import { startHooks } from "./hooks/start.ts";


export interface ExecOptions {
  prompt?: string;
  images: string[];
  model?: string;
  /** -p NAME: layers $CODEX_HOME/NAME.config.toml over config.toml. */
  profile?: string;
  sandbox?: SandboxMode;
  cd?: string;
  addDirs: string[];
  skipGitRepoCheck: boolean;
  ephemeral: boolean;
  json: boolean;
  outputLastMessage?: string;
  outputSchema?: string;
  color: "always" | "never" | "auto";
  configOverrides: string[];
  ignoreUserConfig: boolean;
  strictConfig?: boolean;
  /** --oss [--local-provider NAME] */
  oss?: { provider?: string };
  /** --dangerously-bypass-approvals-and-sandbox / --yolo */
  bypass: boolean;
  /** --dangerously-bypass-hook-trust: project hooks run without a trust entry. */
  bypassHookTrust?: boolean;
  stdinTimeoutMs?: number;
  /** --max-turns, --max-tool-calls, --max-tokens, --timeout (over the same keys in config). */
  budgets?: BudgetFlags;
  /** `exec resume`: the thread to continue. */
  resume?: ResumeRequest;
  /** `exec fork`: the thread whose history a new thread starts from (the source is only read). */
  fork?: ResumeRequest;
  /** `exec review`: what to review (a custom review's instructions are the prompt). */
  review?: ReviewTarget;
}

const DEFAULT_STDIN_TIMEOUT_MS = 5000;

export async function runExec(runtime: Runtime, opts: ExecOptions): Promise<number> {
  // The session this run writes stays locked until it ends, however it ends.
  const locks: SessionLock[] = [];
  // What the run started that must end with it (MCP servers).
  const ends: Array<() => Promise<void>> = [];
  try {
    return await execRun(runtime, opts, locks, ends);
  } finally {
    await Promise.all(ends.map((end) => end()));
    for (const lock of locks) await lock.release();
  }
}

async function execRun(runtime: Runtime, opts: ExecOptions, locks: SessionLock[], ends: Array<() => Promise<void>>): Promise<number> {
  // --timeout counts from here.
  const startedAt = runtime.monotonic();
  const home = await checkedCodexHome(runtime);
  // Every secret ocx knows is replaced in everything it writes: sources are added as they become
  // known; the key variables count even when their value is not the key in use.
  const redactor = createRedactor(secretEnvValues(runtime, ["CODEX_API_KEY", "OPENAI_API_KEY"]));
  const stdout = redactingSink(runtime.stdout, redactor);
  const stderr = redactingSink(runtime.stderr, redactor);
  const config = await loadConfig(runtime, {
    codexHome: home,
    overrides: opts.configOverrides,
    profile: opts.profile,
    ignoreUserConfig: opts.ignoreUserConfig,
    strict: opts.strictConfig,
  });
  const budgets = resolveBudgets(opts.budgets ?? {}, config);
  const out = outputProcessor(runtime, opts, stdout, stderr);
  const warn = (m: string) => out.warn(m);
  const startDir = await resolveWorkdir(runtime, opts.cd);
  // --ephemeral writes nothing, so it takes no lock.
  const lockOptions = opts.ephemeral ? undefined : sessionLockOptions(config, warn);
  // A fork reads its source and never writes it: no lock on the source.
  const source = opts.resume ?? opts.fork;
  const resumed = source ? await loadResumed(runtime, home, source, startDir, warn, opts.fork ? undefined : lockOptions) : undefined;
  if (resumed?.lock) locks.push(resumed.lock);
  // A resumed thread runs where it last ran unless -C says otherwise.
  const cwd = opts.cd === undefined && resumed?.cwd !== undefined ? await resolveWorkdir(runtime, resumed.cwd) : startDir;
  // MCP servers start now, alongside the rest of start-up; the first request waits for them.
  const mcp = opts.review ? undefined : await startMcp(runtime, config, cwd, stderr, warn);
  if (mcp) ends.push(() => mcp.close());
  const outputSchema = opts.outputSchema ? await readOutputSchema(runtime, opts.outputSchema) : undefined;

  // Flags and -c override what a resumed session recorded; the session overrides config files.
  const overridden = (key: string) => overridesKey(opts.configOverrides, key);
  // --oss: a local server, its default model unless -m; asked first whether it runs and has the model.
  const oss = opts.oss ? ossProvider(opts.oss.provider, config) : undefined;
  const model = opts.model ?? (oss ? OSS_DEFAULT_MODEL : undefined) ?? (overridden("model") ? undefined : resumed?.model) ?? config.model ?? DEFAULT_MODEL;
  const providerId = oss ?? (overridden("model_provider") ? undefined : resumed?.provider) ?? config.model_provider ?? DEFAULT_PROVIDER;
  const price = resolvePrice(config, model, providerId);
  if (budgets.maxCostUsd && !price) {
    const fromFlag = opts.budgets?.maxCostUsd !== undefined;
    throw new OcxError(
      fromFlag ? "usage" : "config",
      `${fromFlag ? "error: " : ""}${budgets.maxCostUsd.label} needs a price for model ${model}: set [model_prices.${JSON.stringify(model)}] input, cached_input and output (USD per million tokens) in config`,
    );
  }
  // A review target's prompt is ocx's, once git says there is something to review.
  let prompt = opts.review && opts.review.kind !== "custom" ? "" : await readPrompt({
    arg: opts.prompt,
    stdin: runtime.stdin,
    stdinTimeoutMs: opts.stdinTimeoutMs ?? config.stdin_timeout_ms ?? DEFAULT_STDIN_TIMEOUT_MS,
    notice: (l) => stderr.write(`${l}\n`),
  });

  const root = await gitRoot(runtime, cwd);
  if (!opts.skipGitRepoCheck && !opts.bypass && !root) {
    throw new OcxError("config", "Not inside a trusted directory and --skip-git-repo-check was not specified.");
  }
  // `exec review` (loaded only then): its target's prompt, its instructions, its answer formatted
  // (unless --output-schema asked for JSON of its own).
  const review = opts.review && (await import("./review/index.ts"));
  if (review && opts.review!.kind !== "custom") {
    if (!root) throw new OcxError("config", `Cannot review: ${cwd} is not inside a git repository`);
    prompt = (await review.reviewPrompt(runtime, cwd, opts.review!)) ?? prompt;
  }
  const instructions = review ? review.REVIEW_INSTRUCTIONS : BASE_INSTRUCTIONS;
  const present = review && !opts.outputSchema ? review.formatReviewAnswer : (text: string) => text;

  const provider = await resolveProvider(runtime, config, home, providerId, warn);
  if (oss) await probeLocalServer(runtime, oss, provider.baseUrl, model);
  const secrets = () => provider.auth?.secrets() ?? [];
  redactor.add(secrets);
  redactor.add(secretEnvValues(runtime, credentialEnvVars(config, providerId)));
  // auth.json may hold other credentials than the ones in use; read when the first tool runs.
  const authFile = authFileSecrets(runtime, home);
  redactor.add(authFile.values);
  const sandbox = resolveRunSandbox(runtime, config, opts, cwd, resumed && { thread: resumed, cwdFromFile: cwd !== startDir }, warn);
  const images = await imageParts(runtime, cwd, opts.images);

  const threadId = (opts.fork ? undefined : resumed?.id) ?? uuidv7(runtime.now());
  out.header({
    version: OCX_VERSION,
    workdir: cwd,
    model,
    provider: providerId,
    sandbox: describeSandbox(sandbox),
    reasoningEffort: config.model_reasoning_effort ?? "none",
    reasoningSummaries: config.model_reasoning_summary ?? "none",
    sessionId: threadId,
    prompt,
  });
  const rollout = opts.ephemeral
    ? undefined
    : await openRollout(runtime, {
        home,
        threadId,
        ...(opts.fork ? { forkedFrom: resumed } : { resumed }),
        redactor,
        meta: { cwd, provider: providerId },
        warn,
        lock: lockOptions,
        locks,
        instructions,
      });
  // The thread's usage: its total so far (from the rollout), each response recorded as it completes.
  const meter = new UsageMeter(resumed?.usage ?? emptyUsage(), price, (info) => rollout?.event({ type: "token_count", info }));
  const budget = turnBudget(budgets, price && ((u) => costUsd(u, price)));
  const emit = (e: ThreadEvent) => {
    if (e.type === "item.completed" && e.item.type === "agent_message") e = { ...e, item: { ...e.item, text: present(e.item.text) } };
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

  const controller = new AbortController();
  const removeSignals = abortOnInterrupt(runtime, controller, (signal) => `interrupted by ${signal}`);
  const disarmTimeout = abortOnTimeout(controller, budgets.timeout, runtime.monotonic() - startedAt);

  const shell = await defaultShell(runtime);
  const context = userMessage(
    environmentContextText({
      cwd,
      shell: basename(shell),
      currentDate: localDate(runtime.now(), runtime),
      timeZone: runtime.timeZone(),
      sandbox,
    }),
  );
  const docs = await loadProjectDocs(runtime, {
    cwd,
    gitRoot: root,
    codexHome: home,
    maxBytes: config.project_doc_max_bytes,
    fallbackFilenames: config.project_doc_fallback_filenames,
  });
  for (const w of docs.warnings) warn(w);
  const agents = docs.text === undefined ? undefined : userMessage(agentsMessage(docs.text, cwd));
  // This turn's new input: the project's AGENTS.md and the environment (each again only when it
  // changed since the session's last one), then the prompt. A resumed thread re-sends its whole
  // history before them.
  const fresh: ResponseItem[] = [
    ...(agents && !(resumed && alreadySent(resumed.items, agents, AGENTS_MARKER)) ? [agents] : []),
    ...(resumed && alreadySent(resumed.items, context, "<environment_context>") ? [] : [context]),
    { type: "message", role: "user", content: [...images, { type: "input_text", text: prompt }] },
  ];
  const input = [...(resumed?.items ?? []), ...fresh];

  const turnId = uuidv7(runtime.now());
  rollout?.write("turn_context", {
    turn_id: turnId,
    cwd,
    approval_policy: "never",
    sandbox_policy: rolloutSandboxPolicy(sandbox),
    model,
    ...(config.model_reasoning_effort ? { effort: config.model_reasoning_effort } : {}),
    ...(config.model_reasoning_summary ? { summary: config.model_reasoning_summary } : {}),
  });
  rollout?.event({ type: "task_started", turn_id: turnId, started_at: Math.floor(runtime.now() / 1000) });
  for (const item of fresh) rollout?.item(item);
  rollout?.event({ type: "user_message", message: prompt, images: opts.images });

  let itemCounter = 0;
  // A server that failed: one stderr line (the error item's own in human mode) and, with --json,
  // an error item, reported as the turn starts (every item belongs to a turn).
  const mcpFailures: string[] = [];
  const mcpTools = mcp ? await mcpReady(mcp, controller.signal, (message) => mcpFailures.push(message)) : [];
  let turnStarted = false;
  const reportNow = (message: string) => {
    if (opts.json) warn(message);
    emit({ type: "item.completed", item: { id: `item_${itemCounter++}`, type: "error", message } });
  };
  // Hooks' reports before the turn starts wait for it, like the servers'.
  const report = (message: string) => (turnStarted ? reportNow(message) : mcpFailures.push(message));
  const turnEmit = (e: ThreadEvent) => {
    emit(e);
    if (e.type !== "turn.started") return;
    turnStarted = true;
    for (const message of mcpFailures.splice(0)) reportNow(message);
  };
  const env = commandEnv(runtime, config, { providerId, threadId, sandbox, secrets: secrets() });
  const hooks = await startHooks(runtime, {
    config, opts, home, root, cwd, sandbox, env, report, warn, threadId, turnId, model,
    transcriptPath: rollout?.path, emit: turnEmit, nextItemId: () => `item_${itemCounter++}`,
    source: resumed ? "resume" : "startup", prompt, signal: controller.signal, redact: (t) => redactor.text(t),
  });
  const processes = new ProcessManager(runtime, { redactor });
  // The provider's hosted search, offered last; a provider that cannot have it is told once.
  const webSearch = opts.review ? {} : webSearchFor(config, provider, sandbox);
  if (webSearch.notice) warn(webSearch.notice);
  const client = meteredClient(meter, withoutRefusedWebSearch((provider.wireApi === "chat" ? createChatClient : createResponsesClient)({
    fetch: runtime.fetch,
    provider,
    headers: {
      originator: runtime.env("CODEX_INTERNAL_ORIGINATOR_OVERRIDE") ?? "ocx_exec",
      "user-agent": `ocx/${OCX_VERSION} (${runtime.osDescription()}; ${runtime.arch})`,
      "session-id": threadId,
      "thread-id": threadId,
      "x-client-request-id": threadId,
    },
  }), providerId, warn));

  const result = await runTurnReleasing(runtime, sandbox, {
    runtime,
    client,
    model,
    instructions,
    threadId,
    input,
    tools: (opts.review ? reviewToolset(provider.wireApi) : [...toolset(config, provider.wireApi), ...mcpTools, ...(webSearch.tool ? [webSearch.tool] : [])]).map((t) =>
      redactedTool(t, redactor, authFile.refresh),
    ),
    streamMaxRetries: provider.streamMaxRetries,
    retryAfterMaxMs: provider.retryAfterMaxMs,
    reasoning: reasoningParams(config),
    verbosity: config.model_verbosity,
    textFormat: outputSchema?.textFormat,
    checkAnswer: outputSchema?.check,
    cwd,
    shell,
    sandbox,
    env,
    processes,
    maxConcurrentCalls: config.max_concurrent_tool_calls,
    emit: turnEmit,
    detail: (id, d) => out.detail(id, d),
    warn,
    signal: controller.signal,
    budget,
    nextItemId: () => `item_${itemCounter++}`,
    onHistoryItem: (item) => rollout?.item(item),
    compaction: {
      limit: autoCompactLimit({ limit: config.model_auto_compact_token_limit, contextWindow: config.model_context_window, model }),
      remote: provider.name === "OpenAI" && provider.wireApi === "responses",
      prompt: config.compact_prompt,
      newItems: fresh.length,
      onCompacted: (c: CompactionRecord) => {
        // The rollout keeps the full history; resume continues from replacement_history.
        rollout?.write("compacted", { message: c.message, replacement_history: c.history, trigger: "auto", reason: c.reason, phase: c.phase });
        out.notice?.(`context compacted (about ${c.tokensBefore} tokens before, ${c.tokensAfter} after)`);
      },
    },
    ...(hooks ? { hooks } : {}),
  });
  removeSignals();
  disarmTimeout();
  if (!result.ok) rollout?.event({ type: "error", message: result.error?.message ?? "turn failed" });
  rollout?.event({ type: "task_complete", turn_id: turnId, last_agent_message: result.lastAgentMessage ?? null });

  if (result.lastAgentMessage !== undefined) result.lastAgentMessage = present(result.lastAgentMessage);
  const budgetRanOut = result.error?.kind === "budget";
  out.finish({
    ok: result.ok,
    lastAgentMessage: result.lastAgentMessage,
    ...(budgetRanOut ? { hint: rollout ? `to continue where it stopped (with fresh budgets): ocx exec resume ${threadId} "PROMPT"` : "this run was --ephemeral: it cannot be resumed" } : {}),
  });
  if (opts.outputLastMessage) {
    const last = result.ok ? result.lastAgentMessage : undefined;
    await writeLastMessage(runtime, opts.outputLastMessage, last === undefined ? undefined : redactor.text(last), out, stderr);
  }
  if (result.ok && config.notify?.length) {
    const { runNotify, userPrompts } = await import("./hooks/notify.ts");
    const last = result.lastAgentMessage;
    await runNotify(runtime, config.notify, {
      threadId,
      turnId,
      cwd,
      inputMessages: userPrompts(input),
      ...(last !== undefined ? { lastAssistantMessage: redactor.text(last) } : {}),
    }, { cwd, env, policy: resolveSandboxPolicy(runtime, config, { ...opts, sandbox: "danger-full-access" }, cwd), warn });
  }
  return result.ok ? ExitCode.ok : (result.error?.exitCode ?? ExitCode.failed);
}

/** `client`, with every completed response's usage reported to `meter`. */
function meteredClient(meter: UsageMeter, client: ModelClient): ModelClient {
  return {
    ...client,
    async *stream(request, signal) {
      for await (const part of client.stream(request, signal)) {
        if (part.type === "completed" && !request.unmetered) meter.response(part.usage);
        yield part;
      }
    },
  };
}

/** runTurn, then the sandbox's placeholders go (every command has ended by then). */
async function runTurnReleasing(runtime: Runtime, sandbox: SandboxPolicy, opts: Parameters<typeof runTurn>[0]) {
  try {
    return await runTurn(opts);
  } finally {
    await releaseSandbox(runtime, sandbox);
  }
}

/**
 * The run's sandbox. A resumed thread keeps its recorded read-only or workspace-write mode unless
 * a flag (-s, --full-auto, --yolo, -c sandbox_mode) says otherwise, but never gets more from its
 * session file than this run's flags and config grant (see resumedSandbox).
 */
function resolveRunSandbox(
  runtime: Runtime,
  config: Config,
  opts: ExecOptions,
  cwd: string,
  resumed: { thread: ResumedThread; cwdFromFile: boolean } | undefined,
  warn: (message: string) => void,
): SandboxPolicy {
  if (!resumed) return resolveSandboxPolicy(runtime, config, opts, cwd);
  const flagsChose = opts.sandbox !== undefined || opts.bypass || overridesKey(opts.configOverrides, "sandbox_mode");
  const { policy, warning } = resumedSandbox({
    recorded: flagsChose ? undefined : resumed.thread.sandboxPolicy,
    own: (mode) => resolveSandboxPolicy(runtime, config, mode ? { ...opts, sandbox: mode } : opts, cwd),
    networkOverridden: overridesKey(opts.configOverrides, "sandbox_workspace_write.network_access"),
    cwd,
    cwdFromFile: resumed.cwdFromFile,
    path: resumed.thread.path,
  });
  if (warning) warn(warning);
  return policy;
}

/** Whether the last environment_context in `items` says what `context` says. */
/** Whether the latest user message of this kind (found by `marker`) in a resumed history equals `message`. */
function alreadySent(items: ResponseItem[], message: ResponseItem, marker: string): boolean {
  const text = (m: ResponseItem) => JSON.stringify((m as { content?: unknown }).content);
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.type === "message" && it.role === "user" && text(it).includes(marker)) return text(it) === text(message);
  }
  return false;
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
      if (o.forkedFrom) await copyThread(runtime, o.forkedFrom.path, writer);
    }
    return writer;
  } catch (e) {
    o.warn(`could not write the session file ${path}: ${describeError(e)}; this run cannot be resumed`);
    return undefined;
  }
}

/** How a run waits for a session another run is writing (session_lock_wait_ms). */
function sessionLockOptions(config: Config, warn: (m: string) => void): LockOptions {
  const waitMs = config.session_lock_wait_ms ?? DEFAULT_SESSION_LOCK_WAIT_MS;
  return {
    waitMs,
    onWait: ({ pid }) => warn(`the session is being written by process ${pid}; waiting up to ${waitMs} ms for it to finish`),
  };
}

/**
 * Starts the enabled MCP servers of config.toml (nothing is loaded when there are none). Their
 * stderr reaches ocx's stderr only with OCX_DEBUG set.
 */
async function startMcp(runtime: Runtime, config: Config, cwd: string, stderr: OutputSink, warn: (m: string) => void) {
  const servers = Object.entries(config.mcp_servers ?? {}).filter(([, c]) => c.enabled !== false);
  if (servers.length === 0) return undefined;
  const { startMcpServers } = await import("./mcp/start.ts");
  const debug = Boolean(runtime.env("OCX_DEBUG"));
  return startMcpServers(Object.fromEntries(servers), {
    runtime,
    cwd,
    credentialVars: ["CODEX_API_KEY", "OPENAI_API_KEY", ...credentialEnvVars(config, config.model_provider ?? DEFAULT_PROVIDER)],
    warn,
    ...(debug ? { stderr: (name: string, text: string) => stderr.write(text.replace(/^(?=.)/gm, `mcp ${name} stderr: `).replace(/([^\n])$/, "$1\n")) } : {}),
  });
}

/**
 * Waits for the MCP servers (each up to its startup timeout). A server that failed is one
 * warning and an `error` item, and the run goes on; a required one stops it (exit 3).
 */
async function mcpReady(mcp: NonNullable<Awaited<ReturnType<typeof startMcp>>>, signal: AbortSignal, report: (m: string) => void): Promise<Tool[]> {
  // Interrupted meanwhile: the turn reports it at once (the servers are ended at exit).
  const aborted = new Promise<undefined>((r) => (signal.aborted ? r(undefined) : signal.addEventListener("abort", () => r(undefined), { once: true })));
  const ready = await Promise.race([mcp.ready(), aborted]);
  if (!ready) return [];
  const { tools, failures } = ready;
  const required = failures.find((f) => f.required);
  if (required) throw new OcxError("config", `${required.message} (required = true)`);
  for (const f of failures) report(`${f.message}; the run goes on without its tools`);
  return tools;
}

/** The tools offered to the model, in the reference's order. */
/** Chat Completions has no freeform tools: apply_patch is then a JSON function. */
function toolset(config: Config, wireApi: ProviderInfo["wireApi"]): Tool[] {
  return [
    execCommandTool,
    writeStdinTool,
    ...(config.tools?.update_plan?.enabled === false ? [] : [updatePlanTool]),
    wireApi === "chat" ? applyPatchFunctionTool : applyPatchCustomTool,
    ...(config.tools?.view_image === false ? [] : [viewImageTool]),
  ];
}

/** A review's tools: commands to inspect the change (and the reference's patch and image tools), nothing else. */
function reviewToolset(wireApi: ProviderInfo["wireApi"]): Tool[] {
  return [execCommandTool, writeStdinTool, wireApi === "chat" ? applyPatchFunctionTool : applyPatchCustomTool, viewImageTool];
}

/**
 * A tool whose answer to the model is redacted (the model never learns a key from a command's
 * output), after auth.json's current values are known.
 */
function redactedTool(tool: Tool, redactor: Redactor, beforeCall: () => Promise<void>): Tool {
  return {
    ...tool,
    async run(raw, ctx) {
      await beforeCall();
      try {
        const output = await tool.run(raw, ctx);
        if (typeof output === "string") return redactor.text(output);
        return output.map((p) => (p.type === "input_text" ? { ...p, text: redactor.text(p.text) } : p));
      } catch (e) {
        // Becomes the call's output (`tool X failed: ...`) unless it ends the turn.
        if (e instanceof Error && !isOcxError(e)) e.message = redactor.text(e.message);
        throw e;
      }
    },
  };
}

/** The values of environment variables, as a secret source (read once). */
function secretEnvValues(runtime: Runtime, names: readonly string[]): () => Array<string | undefined> {
  const values = names.map((n) => runtime.env(n));
  return () => values;
}

function outputProcessor(runtime: Runtime, opts: ExecOptions, stdout: OutputSink, stderr: OutputSink): OutputProcessor {
  if (opts.json) return jsonlProcessor(stdout, stderr);
  const color =
    opts.color === "always" ||
    (opts.color === "auto" && stderr.isTTY && !runtime.env("NO_COLOR") && runtime.env("TERM") !== "dumb");
  return humanProcessor({ stdout, stderr, color, monotonic: () => runtime.monotonic() });
}

function reasoningParams(config: Config) {
  if (!config.model_reasoning_effort && !config.model_reasoning_summary) return undefined;
  return {
    ...(config.model_reasoning_effort ? { effort: config.model_reasoning_effort } : {}),
    ...(config.model_reasoning_summary ? { summary: config.model_reasoning_summary } : {}),
  };
}

/** The most an --output-schema file may hold (schemas are kilobytes; /dev/zero is endless). */
const OUTPUT_SCHEMA_MAX_BYTES = 1024 * 1024;

/** --output-schema FILE: the strict copy for the request, and a check of the final answer against the original. */
async function readOutputSchema(runtime: Runtime, file: string) {
  let text: string;
  try {
    text = new TextDecoder().decode(await runtime.fs.readFile(resolve(runtime.cwd(), file), { maxBytes: OUTPUT_SCHEMA_MAX_BYTES }));
  } catch (e) {
    if (e instanceof FileTooLargeError) {
      throw new OcxError("config", `Failed to read output schema file ${file}: it is larger than ${formatBytes(OUTPUT_SCHEMA_MAX_BYTES)}, the most ocx reads`);
    }
    throw new OcxError("config", `Failed to read output schema file ${file}: ${describeError(e)}`);
  }
  // Loaded only when asked for: the validator is the largest module ocx has.
  const { correctionPrompt, parseOutputSchema, schemaDraft, validateAnswer } = await import("./output-schema.ts");
  const parsed = parseOutputSchema(text, file);
  const draft = schemaDraft(parsed.schema, file);
  return {
    textFormat: { type: "json_schema", strict: true, schema: parsed.strict, name: "codex_output_schema" },
    check: (answer: string | undefined) => {
      const result = validateAnswer(parsed.schema, draft, answer ?? "");
      return result.ok ? undefined : { problems: result.errors, correction: correctionPrompt(result.errors) };
    },
  };
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
