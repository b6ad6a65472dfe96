// The first step of a run: everything decided before the thread starts — config, where it runs,
// the thread it continues, model and provider, the task, the sandbox. Expected failures throw
// OcxError; the order of the steps is the order in which problems are reported.
import { resolve } from "../util/path.ts";
import { resolveBudgets, type Budgets } from "../agent/budgets.ts";
import { resolvePrice, type ModelPrice } from "../agent/usage.ts";
import { authFileSecrets } from "../auth/storage.ts";
import { loadConfig } from "../config/load.ts";
import { OSS_DEFAULT_MODEL, ossProvider, probeLocalServer } from "../config/oss.ts";
import { DEFAULT_MODEL, DEFAULT_PROVIDER, credentialEnvVars, resolveProvider } from "../config/providers.ts";
import type { Config } from "../config/schema.ts";
import { describeError, OcxError } from "../errors.ts";
import type { ProviderInfo } from "../model/types.ts";
import { jsonlProcessor } from "../output/jsonl.ts";
import { HoldableOutput } from "../output/processor.ts";
import { BASE_INSTRUCTIONS } from "../prompt/base-instructions.ts";
import { imageParts } from "../prompt/images.ts";
import { readPrompt } from "../prompt/read-prompt.ts";
import { createRedactor, redactingSink, type Redactor } from "../redact.ts";
import { FileTooLargeError, type OutputSink, type Runtime } from "../runtime.ts";
import { resolveSandboxPolicy, type SandboxPolicy } from "../sandbox/policy.ts";
import { DEFAULT_SESSION_LOCK_WAIT_MS, type LockOptions, type SessionLock } from "../session/lock.ts";
import { overridesKey } from "../config/overrides.ts";
import type { ResumedThread } from "../session/resume.ts";
import { formatBytes } from "../util/format.ts";
import { uuidv7 } from "../util/uuid.ts";
import { checkedCodexHome, gitRoot, resolveWorkdir } from "../workspace.ts";
import { startMcp, type McpServers } from "./mcp.ts";
import type { ExecOptions } from "./options.ts";

const DEFAULT_STDIN_TIMEOUT_MS = 5000;

/** What the run holds until it ends, however it ends: session locks, MCP servers, signal handlers. */
export class RunScope {
  readonly locks: SessionLock[] = [];
  private readonly ends: Array<() => Promise<void> | void> = [];
  onEnd(end: () => Promise<void> | void): void {
    this.ends.push(end);
  }
  async close(): Promise<void> {
    await Promise.all(this.ends.map((end) => end()));
    for (const lock of this.locks) await lock.release();
  }
}

/** Everything a run decided before its thread starts. */
export interface RunSetup {
  opts: ExecOptions;
  /** runtime.monotonic() when the run began: --timeout counts from here. */
  startedAt: number;
  home: string;
  config: Config;
  budgets: Budgets;
  redactor: Redactor;
  /** stdout and stderr, redacted. */
  stderr: OutputSink;
  /** Held from the thread's start until its rollout is written (StartedThread.ready). */
  out: HoldableOutput;
  warn(message: string): void;
  /** Where ocx was started (-C applied); `cwd` is where the thread runs. */
  startDir: string;
  cwd: string;
  /** The git repository's root above cwd, if any. */
  root: string | null | undefined;
  /** How this run waits for a session another run is writing; none with --ephemeral. */
  lockOptions: LockOptions | undefined;
  /** `exec resume` / `exec fork`: the thread read from its rollout. */
  resumed: ResumedThread | undefined;
  mcp: McpServers | undefined;
  outputSchema: OutputSchemaUse | undefined;
  model: string;
  providerId: string;
  provider: ProviderInfo;
  price: ModelPrice | undefined;
  prompt: string;
  instructions: string;
  /** How the final answer is shown (a review's findings are formatted). */
  present(text: string): string;
  /** The provider's credentials in use (for the redactor and the command environment). */
  secrets(): string[];
  authFile: ReturnType<typeof authFileSecrets>;
  sandbox: SandboxPolicy;
  images: Awaited<ReturnType<typeof imageParts>>;
  threadId: string;
}

export async function resolveRun(runtime: Runtime, opts: ExecOptions, scope: RunScope): Promise<RunSetup> {
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
  const out = await outputProcessor(runtime, opts, stdout, stderr);
  const warn = (m: string) => out.warn(m);

  const where = await resolveThread(runtime, opts, config, home, scope, warn);
  // MCP servers start now, alongside the rest of start-up; the first request waits for them.
  const mcp = opts.review ? undefined : await startMcp(runtime, config, where.cwd, stderr, warn);
  if (mcp) scope.onEnd(() => mcp.close());
  const outputSchema = opts.outputSchema ? await readOutputSchema(runtime, opts.outputSchema) : undefined;
  const { model, providerId, oss, price } = resolveModel(opts, config, budgets, where.resumed);
  // With stdin at /dev/null there is nothing to wait for: from here on, what is printed (the
  // "Reading additional input" notice first) waits, in order, with the rest of the run's output
  // until the first request is on its way.
  if (runtime.stdin.isDevNull) out.hold();
  try {
    const task = await resolveTask(runtime, opts, config, out, stderr, where.cwd);

    const provider = await resolveProvider(runtime, config, home, providerId, warn);
    // The connection to the model's server is made while the rest of the run is prepared.
    runtime.preconnect?.(provider.baseUrl);
    if (oss) await probeLocalServer(runtime, oss, provider.baseUrl, model);
    const secrets = () => provider.auth?.secrets() ?? [];
    redactor.add(secrets);
    redactor.add(secretEnvValues(runtime, credentialEnvVars(config, providerId)));
    // auth.json may hold other credentials than the ones in use; read when the first tool runs.
    const authFile = authFileSecrets(runtime, home);
    redactor.add(authFile.values);
    const sandbox = await resolveRunSandbox(runtime, config, opts, where.cwd, where.resumed && { thread: where.resumed, cwdFromFile: where.cwd !== where.startDir }, warn);
    const images = await imageParts(runtime, where.cwd, opts.images);
    const threadId = (opts.fork ? undefined : where.resumed?.id) ?? uuidv7(runtime.now(), runtime.randomFill);
    return {
      opts, startedAt, home, config, budgets, redactor, stderr, out, warn, ...where, mcp, outputSchema,
      model, providerId, provider, price, ...task, secrets, authFile, sandbox, images, threadId,
    };
  } catch (e) {
    out.release();
    throw e;
  }
}

/** Where the run works, and the thread it continues (`exec resume`) or starts from (`exec fork`). */
async function resolveThread(runtime: Runtime, opts: ExecOptions, config: Config, home: string, scope: RunScope, warn: (m: string) => void) {
  const startDir = await resolveWorkdir(runtime, opts.cd);
  // --ephemeral writes nothing, so it takes no lock.
  const lockOptions = opts.ephemeral ? undefined : sessionLockOptions(config, warn);
  // A fork reads its source and never writes it: no lock on the source.
  const source = opts.resume ?? opts.fork;
  // (The session code loads only for `resume` and `fork`.)
  const resumed = source ? await (await import("../session/resume.ts")).loadResumed(runtime, home, source, startDir, warn, opts.fork ? undefined : lockOptions) : undefined;
  if (resumed?.lock) scope.locks.push(resumed.lock);
  // A resumed thread runs where it last ran unless -C says otherwise.
  const cwd = opts.cd === undefined && resumed?.cwd !== undefined ? await resolveWorkdir(runtime, resumed.cwd) : startDir;
  return { startDir, lockOptions, resumed, cwd };
}

/**
 * The model and its provider: flags and -c override what a resumed session recorded; the session
 * overrides config files. --oss: a local server, its default model unless -m. A cost budget
 * needs the model's price.
 */
function resolveModel(opts: ExecOptions, config: Config, budgets: Budgets, resumed: ResumedThread | undefined) {
  const overridden = (key: string) => overridesKey(opts.configOverrides, key);
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
  return { model, providerId, oss, price };
}

/** The prompt, the repository check, and for `exec review` its prompt, instructions and answer format. */
async function resolveTask(runtime: Runtime, opts: ExecOptions, config: Config, out: HoldableOutput, stderr: OutputSink, cwd: string) {
  // A review target's prompt is ocx's, once git says there is something to review.
  let prompt = opts.review && opts.review.kind !== "custom" ? "" : await readPrompt({
    arg: opts.prompt,
    stdin: runtime.stdin,
    stdinTimeoutMs: opts.stdinTimeoutMs ?? config.stdin_timeout_ms ?? DEFAULT_STDIN_TIMEOUT_MS,
    notice: (l) => out.later(() => stderr.write(`${l}\n`)),
  });
  const root = await gitRoot(runtime, cwd);
  if (!opts.skipGitRepoCheck && !opts.bypass && !root) {
    throw new OcxError("config", "Not inside a trusted directory and --skip-git-repo-check was not specified.");
  }
  // `exec review` (loaded only then): its target's prompt, its instructions, its answer formatted
  // (unless --output-schema asked for JSON of its own).
  const review = opts.review && (await import("../review/index.ts"));
  if (review && opts.review!.kind !== "custom") {
    if (!root) throw new OcxError("config", `Cannot review: ${cwd} is not inside a git repository`);
    prompt = (await review.reviewPrompt(runtime, cwd, opts.review!)) ?? prompt;
  }
  const instructions = review ? review.REVIEW_INSTRUCTIONS : BASE_INSTRUCTIONS;
  const present = review && !opts.outputSchema ? review.formatReviewAnswer : (text: string) => text;
  return { prompt, root, instructions, present };
}

/**
 * The run's sandbox. A resumed thread keeps its recorded read-only or workspace-write mode unless
 * a flag (-s, --full-auto, --yolo, -c sandbox_mode) says otherwise, but never gets more from its
 * session file than this run's flags and config grant (see resumedSandbox).
 */
async function resolveRunSandbox(
  runtime: Runtime,
  config: Config,
  opts: ExecOptions,
  cwd: string,
  resumed: { thread: ResumedThread; cwdFromFile: boolean } | undefined,
  warn: (message: string) => void,
): Promise<SandboxPolicy> {
  if (!resumed) return resolveSandboxPolicy(runtime, config, opts, cwd);
  const { resumedSandbox } = await import("../session/resume.ts");
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

/** How a run waits for a session another run is writing (session_lock_wait_ms). */
function sessionLockOptions(config: Config, warn: (m: string) => void): LockOptions {
  const waitMs = config.session_lock_wait_ms ?? DEFAULT_SESSION_LOCK_WAIT_MS;
  return {
    waitMs,
    onWait: ({ pid }) => warn(`the session is being written by process ${pid}; waiting up to ${waitMs} ms for it to finish`),
  };
}

/** The values of environment variables, as a secret source (read once). */
function secretEnvValues(runtime: Runtime, names: readonly string[]): () => Array<string | undefined> {
  const values: Array<string | undefined> = [];
  for (const n of names) values.push(runtime.env(n));
  return () => values;
}

/** The JSONL printer, or the human one (loaded only then). */
async function outputProcessor(runtime: Runtime, opts: ExecOptions, stdout: OutputSink, stderr: OutputSink): Promise<HoldableOutput> {
  if (opts.json) return new HoldableOutput(jsonlProcessor(stdout, stderr));
  const { humanProcessor } = await import("../output/human.ts");
  const color =
    opts.color === "always" ||
    (opts.color === "auto" && stderr.isTTY && !runtime.env("NO_COLOR") && runtime.env("TERM") !== "dumb");
  return new HoldableOutput(humanProcessor({ stdout, stderr, color, monotonic: () => runtime.monotonic() }));
}

/** The most an --output-schema file may hold (schemas are kilobytes; /dev/zero is endless). */
const OUTPUT_SCHEMA_MAX_BYTES = 1024 * 1024;

export type OutputSchemaUse = Awaited<ReturnType<typeof readOutputSchema>>;

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
