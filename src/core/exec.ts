// `ocx exec`: resolve everything a run needs, run one turn, report it. Returns the exit code;
// expected failures before the turn starts throw OcxError.
import { basename, resolve } from "pathe";
import { runTurn } from "./agent/run-turn.ts";
import { loadConfig } from "./config/load.ts";
import { DEFAULT_MODEL, DEFAULT_PROVIDER, credentialEnvVars, resolveProvider } from "./config/providers.ts";
import type { Config } from "./config/schema.ts";
import { ExitCode, OcxError, describeError } from "./errors.ts";
import type { ThreadEvent } from "./events.ts";
import { ProcessManager } from "./exec/process-manager.ts";
import { createResponsesClient } from "./model/responses.ts";
import type { ResponseItem } from "./model/types.ts";
import { humanProcessor } from "./output/human.ts";
import { jsonlProcessor } from "./output/jsonl.ts";
import type { OutputProcessor } from "./output/processor.ts";
import { BASE_INSTRUCTIONS } from "./prompt/base-instructions.ts";
import { environmentContextText, localDate, userMessage } from "./prompt/environment-context.ts";
import { imageParts } from "./prompt/images.ts";
import { readPrompt } from "./prompt/read-prompt.ts";
import type { Runtime } from "./runtime.ts";
import { describeSandbox, markNetwork, resolveSandboxPolicy, type SandboxMode, type SandboxPolicy } from "./sandbox-policy.ts";
import { execCommandTool } from "./tools/exec-command.ts";
import { writeStdinTool } from "./tools/write-stdin.ts";
import { applyPatchCustomTool } from "./tools/apply-patch.ts";
import { updatePlanTool } from "./tools/update-plan.ts";
import { viewImageTool } from "./tools/view-image.ts";
import type { Tool } from "./tools/define-tool.ts";
import { uuidv7 } from "./util/uuid.ts";
import { OCX_VERSION } from "./version.ts";
import { codexHome, defaultShell, gitRoot, resolveWorkdir } from "./workspace.ts";


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
  /** --dangerously-bypass-approvals-and-sandbox / --yolo */
  bypass: boolean;
  stdinTimeoutMs?: number;
}

const DEFAULT_STDIN_TIMEOUT_MS = 5000;

export async function runExec(runtime: Runtime, opts: ExecOptions): Promise<number> {
  const home = codexHome(runtime);
  const config = await loadConfig(runtime, {
    codexHome: home,
    overrides: opts.configOverrides,
    profile: opts.profile,
    ignoreUserConfig: opts.ignoreUserConfig,
  });
  const cwd = await resolveWorkdir(runtime, opts.cd);
  const textFormat = opts.outputSchema ? await readOutputSchema(runtime, opts.outputSchema) : undefined;

  const prompt = await readPrompt({
    arg: opts.prompt,
    stdin: runtime.stdin,
    stdinTimeoutMs: opts.stdinTimeoutMs ?? config.stdin_timeout_ms ?? DEFAULT_STDIN_TIMEOUT_MS,
    notice: (l) => runtime.stderr.write(`${l}\n`),
  });

  if (!opts.skipGitRepoCheck && !opts.bypass && !(await gitRoot(runtime, cwd))) {
    throw new OcxError("config", "Not inside a trusted directory and --skip-git-repo-check was not specified.");
  }

  const model = opts.model ?? config.model ?? DEFAULT_MODEL;
  const providerId = config.model_provider ?? DEFAULT_PROVIDER;
  const provider = await resolveProvider(runtime, config, home, providerId);
  const sandbox = resolveSandboxPolicy(runtime, config, opts, cwd);
  const images = await imageParts(runtime, cwd, opts.images);

  const out = outputProcessor(runtime, opts);
  const threadId = uuidv7(runtime.now());
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
  const emit = (e: ThreadEvent) => out.emit(e);
  emit({ type: "thread.started", thread_id: threadId });

  const controller = new AbortController();
  const removeSignals = [
    runtime.onSignal("SIGINT", () => controller.abort(new OcxError("sigint", "interrupted by SIGINT"))),
    runtime.onSignal("SIGTERM", () => controller.abort(new OcxError("sigterm", "interrupted by SIGTERM"))),
  ];

  const shell = await defaultShell(runtime);
  const input: ResponseItem[] = [
    userMessage(
      environmentContextText({
        cwd,
        shell: basename(shell),
        currentDate: localDate(runtime.now(), runtime.timeZone()),
        timeZone: runtime.timeZone(),
        sandbox,
      }),
    ),
    { type: "message", role: "user", content: [...images, { type: "input_text", text: prompt }] },
  ];

  let itemCounter = 0;
  const processes = new ProcessManager(runtime);
  const client = createResponsesClient({
    fetch: runtime.fetch,
    provider,
    headers: {
      originator: runtime.env("CODEX_INTERNAL_ORIGINATOR_OVERRIDE") ?? "ocx_exec",
      "user-agent": `ocx/${OCX_VERSION} (${runtime.osDescription()}; ${runtime.arch})`,
      "session-id": threadId,
      "thread-id": threadId,
      "x-client-request-id": threadId,
    },
  });

  const result = await runTurn({
    runtime,
    client,
    model,
    instructions: BASE_INSTRUCTIONS,
    threadId,
    input,
    tools: toolset(config),
    streamMaxRetries: provider.streamMaxRetries,
    reasoning: reasoningParams(config),
    textFormat,
    cwd,
    shell,
    sandbox,
    env: commandEnv(runtime, config, providerId, threadId, sandbox),
    processes,
    emit,
    detail: (id, d) => out.detail(id, d),
    warn: (m) => out.warn(m),
    signal: controller.signal,
    nextItemId: () => `item_${itemCounter++}`,
  });
  for (const remove of removeSignals) remove();

  out.finish({ ok: result.ok, lastAgentMessage: result.lastAgentMessage });
  if (opts.outputLastMessage) {
    await writeLastMessage(runtime, opts.outputLastMessage, result.ok ? result.lastAgentMessage : undefined, out);
  }
  return result.ok ? ExitCode.ok : (result.error?.exitCode ?? ExitCode.failed);
}

/** The tools offered to the model, in the reference's order. */
function toolset(config: Config): Tool[] {
  return [
    execCommandTool,
    writeStdinTool,
    ...(config.tools?.update_plan?.enabled === false ? [] : [updatePlanTool]),
    applyPatchCustomTool,
    ...(config.tools?.view_image === false ? [] : [viewImageTool]),
  ];
}

function outputProcessor(runtime: Runtime, opts: ExecOptions): OutputProcessor {
  if (opts.json) return jsonlProcessor(runtime.stdout, runtime.stderr);
  const color =
    opts.color === "always" ||
    (opts.color === "auto" && runtime.stderr.isTTY && !runtime.env("NO_COLOR") && runtime.env("TERM") !== "dumb");
  return humanProcessor({ stdout: runtime.stdout, stderr: runtime.stderr, color, monotonic: () => runtime.monotonic() });
}

function reasoningParams(config: Config) {
  if (!config.model_reasoning_effort && !config.model_reasoning_summary) return undefined;
  return {
    ...(config.model_reasoning_effort ? { effort: config.model_reasoning_effort } : {}),
    ...(config.model_reasoning_summary ? { summary: config.model_reasoning_summary } : {}),
  };
}

/** The environment model-run commands see: the user's, minus the credentials ocx holds. */
function commandEnv(
  runtime: Runtime,
  config: Config,
  providerId: string,
  threadId: string,
  sandbox: SandboxPolicy,
): Record<string, string> {
  const env = runtime.envAll();
  for (const name of credentialEnvVars(config, providerId)) delete env[name];
  env.CODEX_CI = "1";
  env.CODEX_THREAD_ID = threadId;
  return markNetwork(env, sandbox);
}

async function readOutputSchema(runtime: Runtime, file: string) {
  let text: string;
  try {
    text = await runtime.fs.readTextFile(resolve(runtime.cwd(), file));
  } catch (e) {
    throw new OcxError("config", `Failed to read output schema file ${file}: ${describeError(e)}`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new OcxError("config", `Output schema file ${file} is not valid JSON: ${describeError(e)}`);
  }
  return { type: "json_schema", strict: true, schema, name: "codex_output_schema" };
}

/** -o FILE: the last agent message verbatim (no newline added); empty, with a warning, if none. */
async function writeLastMessage(runtime: Runtime, file: string, text: string | undefined, out: OutputProcessor) {
  const path = resolve(runtime.cwd(), file);
  try {
    await runtime.fs.writeFile(path, text ?? "");
  } catch (e) {
    out.warn(`could not write the last message to ${path}: ${describeError(e)}`);
    return;
  }
  if (text === undefined) runtime.stderr.write(`Warning: no last agent message; wrote empty content to ${file}\n`);
}
