// `ocx exec [OPTIONS] [PROMPT]`: flags of contract section 1.1 (all accepted; some ignored
// until their capability lands) plus ocx's own (ocx-extensions.md).
import type { CommandDef } from "citty";
import { OcxError } from "../core/errors.ts";
import type { ExecOptions } from "../core/run/options.ts";
import type { Runtime } from "../core/runtime.ts";
import type { SandboxMode } from "../core/sandbox/policy.ts";
import type { ReviewTarget } from "../core/review/target.ts";
import { sandboxModes } from "../core/sandbox/policy.ts";
import { cittyArgs, parseDurationMs, parseFlags, parsePositiveInt, parsePositiveNumber, type FlagTable } from "./flags.ts";

export const EXEC_FLAGS: FlagTable = {
  config: { type: "string", short: "c", multiple: true, valueHint: "key=value", description: "Override a config.toml value (dotted key, TOML value)" },
  enable: { type: "string", multiple: true, valueHint: "FEATURE", description: "Enable a feature (accepted; ocx has no feature flags yet)" },
  disable: { type: "string", multiple: true, valueHint: "FEATURE", description: "Disable a feature (accepted; ocx has no feature flags yet)" },
  "strict-config": { type: "boolean", description: "Treat unknown config keys as errors" },
  image: { type: "string", short: "i", multiple: true, valueHint: "FILE", description: "Attach an image to the prompt" },
  model: { type: "string", short: "m", valueHint: "MODEL", description: "Model to use" },
  oss: { type: "boolean", description: "Use a local model provider (see --local-provider)" },
  "local-provider": { type: "string", valueHint: "PROVIDER", choices: ["ollama", "lmstudio"], description: "Local provider for --oss" },
  profile: { type: "string", short: "p", valueHint: "NAME", description: "Layer $CODEX_HOME/NAME.config.toml over config.toml" },
  sandbox: { type: "string", short: "s", valueHint: "MODE", choices: sandboxModes, description: "Sandbox policy for model-run commands (default read-only)" },
  "full-auto": { type: "boolean", description: "Deprecated alias of --sandbox workspace-write" },
  "approve-for-me": { type: "boolean", description: "Accepted for compatibility; exec never asks for approval" },
  "dangerously-bypass-approvals-and-sandbox": { type: "boolean", description: "Run commands without any sandbox and skip the git check (only inside an external sandbox)" },
  yolo: { type: "boolean", description: "Alias of --dangerously-bypass-approvals-and-sandbox" },
  "dangerously-bypass-hook-trust": { type: "boolean", description: "Run project hooks that are not trusted in config.toml" },
  cd: { type: "string", short: "C", valueHint: "DIR", description: "Working directory of the agent" },
  worktree: { type: "boolean", description: "Accepted for compatibility; ignored" },
  "add-dir": { type: "string", multiple: true, valueHint: "DIR", description: "Extra writable directory under workspace-write" },
  "thread-source": { type: "string", valueHint: "SOURCE", description: "Accepted for compatibility; ignored" },
  "cyber-access-program": { type: "string", valueHint: "PROGRAM", description: "Accepted for compatibility; ignored" },
  "skip-git-repo-check": { type: "boolean", description: "Allow running outside a git repository" },
  trust: { type: "boolean", description: "Accepted for compatibility; ignored" },
  ephemeral: { type: "boolean", description: "Do not persist the session" },
  "ignore-user-config": { type: "boolean", description: "Do not read $CODEX_HOME/config.toml" },
  "ignore-rules": { type: "boolean", description: "Accepted for compatibility; ignored" },
  "output-schema": { type: "string", valueHint: "FILE", description: "JSON Schema the final answer must follow" },
  color: { type: "string", valueHint: "WHEN", choices: ["always", "never", "auto"], description: "Colour on stderr (default auto)" },
  json: { type: "boolean", description: "Print every event as JSONL on stdout" },
  "experimental-json": { type: "boolean", description: "Alias of --json" },
  "output-last-message": { type: "string", short: "o", valueHint: "FILE", description: "Write the final agent message to FILE" },
  "stdin-timeout": { type: "string", valueHint: "MS", description: "With a prompt argument, wait this long for piped stdin before going on without it (default 5000; 0 waits forever)" },
  "max-turns": { type: "string", valueHint: "N", description: "Budget: at most N model requests in this run (exit 6 when reached; the session can be resumed)" },
  "max-tool-calls": { type: "string", valueHint: "N", description: "Budget: at most N tool calls in this run (exit 6)" },
  "max-tokens": { type: "string", valueHint: "N", description: "Budget: at most N tokens (input + output, as the provider reports them) in this run (exit 6)" },
  "max-cost-usd": { type: "string", valueHint: "USD", description: "Budget: at most this many US dollars of model usage in this run, priced by model_prices (exit 6; exit 2 when the model has no price)" },
  timeout: { type: "string", valueHint: "DURATION", description: "Budget: wall clock of the run, e.g. 90s, 15m, 1h, 1h30m; a plain number is seconds (exit 6)" },
  last: { type: "boolean", description: "resume, fork: the most recent session in this directory" },
  all: { type: "boolean", description: "resume, fork: look in every directory (with --last or a name)" },
  uncommitted: { type: "boolean", description: "review: the uncommitted changes (staged, unstaged, untracked)" },
  base: { type: "string", valueHint: "BRANCH", description: "review: the changes against BRANCH (from its merge base)" },
  commit: { type: "string", valueHint: "SHA", description: "review: the changes of one commit" },
  title: { type: "string", valueHint: "TITLE", description: "review: the commit's title (with --commit)" },
  help: { type: "boolean", short: "h", description: "Show this help" },
};

/** The flags that choose the directory and the config, shared by `ocx mcp` and `ocx sandbox run`. */
export const CONFIG_FLAGS: FlagTable = {
  cd: EXEC_FLAGS.cd!,
  config: EXEC_FLAGS.config!,
  profile: EXEC_FLAGS.profile!,
  "ignore-user-config": EXEC_FLAGS["ignore-user-config"]!,
};

/** The parsed CONFIG_FLAGS, as the core's commands take them. */
export function configOptions(values: Record<string, unknown>) {
  return {
    cd: values.cd as string | undefined,
    configOverrides: (values.config as string[] | undefined) ?? [],
    profile: values.profile as string | undefined,
    ignoreUserConfig: values["ignore-user-config"] === true,
  };
}

export const execCommand: CommandDef = {
  meta: {
    name: "exec",
    description:
      "Run the agent non-interactively on one prompt. Also: `ocx exec resume|fork <SESSION_ID|--last> [PROMPT]`, " +
      "`ocx exec review --uncommitted | --base BRANCH | --commit SHA [--title T] | PROMPT`",
  },
  args: () => cittyArgs(EXEC_FLAGS, {
    prompt: { type: "positional", required: false, description: "Instructions; omit or use - to read them from stdin" },
  }),
};

/** Turns exec's argv into ExecOptions, or throws a usage error. */
export function execOptions(argv: string[], warn: (msg: string) => void): ExecOptions {
  const { values, positionals } = parseFlags(EXEC_FLAGS, argv);
  const first = positionals[0];
  const str = (k: string) => values[k] as string | undefined;
  const bool = (k: string) => values[k] === true;
  // `resume [SESSION_ID] [PROMPT]`; with --last a lone positional is the prompt. Every exec
  // flag is accepted before or after `resume`.
  // `fork <SESSION_ID|--last> [PROMPT]` takes the same arguments, into a new thread.
  let resume: ExecOptions["resume"];
  let fork: ExecOptions["fork"];
  let review: ExecOptions["review"];
  let rest = positionals;
  if (first === "resume" || first === "fork") {
    const target = bool("last") ? undefined : positionals[1];
    const req = { target, last: bool("last"), all: bool("all") };
    rest = positionals.slice(bool("last") ? 1 : 2);
    if (!req.last && target === undefined) {
      throw new OcxError("usage", `error: \`ocx exec ${first}\` needs a SESSION_ID (or name) or --last\n\nFor more information, try '--help'.`);
    }
    if (first === "resume") resume = req;
    else fork = { ...req, action: "fork" };
  } else if (first === "review" && !bool("last") && !bool("all")) {
    rest = positionals.slice(1);
    review = reviewTarget(bool("uncommitted"), str("base"), str("commit"), str("title"), rest[0]);
  } else if (bool("last") || bool("all")) {
    throw new OcxError("usage", `error: '--${bool("last") ? "last" : "all"}' can only be used with \`ocx exec resume\` or \`ocx exec fork\`\n\nFor more information, try '--help'.`);
  }
  const reviewFlag = values.uncommitted !== undefined ? "uncommitted" : values.base !== undefined ? "base" : values.commit !== undefined ? "commit" : values.title !== undefined ? "title" : undefined;
  if (first !== "review" && reviewFlag) {
    throw new OcxError("usage", `error: '--${reviewFlag}' can only be used with \`ocx exec review\`\n\nFor more information, try '--help'.`);
  }
  if (rest.length > 1) {
    throw new OcxError("usage", `error: unexpected argument '${rest[1]}' found\n\nFor more information, try '--help'.`);
  }
  const list = (k: string) => (values[k] as string[] | undefined) ?? [];

  const bypass = bool("dangerously-bypass-approvals-and-sandbox") || bool("yolo");
  if (bypass && bool("approve-for-me")) {
    throw new OcxError(
      "usage",
      "error: the argument '--dangerously-bypass-approvals-and-sandbox' cannot be used with '--approve-for-me'",
    );
  }
  let sandbox = str("sandbox") as SandboxMode | undefined;
  if (bool("full-auto")) {
    warn("`--full-auto` is deprecated; use `--sandbox workspace-write` instead.");
    sandbox ??= "workspace-write";
  }
  const stdinTimeout = str("stdin-timeout");
  return {
    resume,
    fork,
    review,
    prompt: rest[0],
    images: imageFlags(list("image")),
    model: str("model"),
    ...configOptions(values),
    sandbox,
    addDirs: list("add-dir"),
    skipGitRepoCheck: bool("skip-git-repo-check"),
    ephemeral: bool("ephemeral"),
    json: bool("json") || bool("experimental-json"),
    outputLastMessage: str("output-last-message"),
    outputSchema: str("output-schema"),
    color: (str("color") as ExecOptions["color"]) ?? "auto",
    strictConfig: bool("strict-config"),
    oss: bool("oss") ? { provider: str("local-provider") } : undefined,
    bypass,
    bypassHookTrust: bool("dangerously-bypass-hook-trust"),
    stdinTimeoutMs: stdinTimeout === undefined ? undefined : parseDurationMs("stdin-timeout", stdinTimeout, { allowZero: true }),
    budgets: budgetFlags(str),
  };
}

/** -i FILE, repeatable, each a comma-separated list (an empty name is no file). */
function imageFlags(values: string[]): string[] {
  const files: string[] = [];
  for (const value of values) for (const name of value.split(",")) if (name !== "") files.push(name);
  return files;
}

/** `review [--uncommitted | --base BRANCH | --commit SHA [--title T] | PROMPT]`: exactly one target. */
function reviewTarget(uncommitted: boolean, base: string | undefined, commit: string | undefined, title: string | undefined, prompt: string | undefined): ReviewTarget {
  const given = [uncommitted && "--uncommitted", base !== undefined && "--base", commit !== undefined && "--commit", prompt !== undefined && "PROMPT"].filter(Boolean);
  if (given.length === 0) {
    throw new OcxError("usage", "error: Specify --uncommitted, --base, --commit, or provide custom review instructions\n\nFor more information, try '--help'.");
  }
  if (given.length > 1) {
    throw new OcxError("usage", `error: ${given.join(" and ")} cannot be used together: review one target\n\nFor more information, try '--help'.`);
  }
  if (title !== undefined && commit === undefined) {
    throw new OcxError("usage", "error: '--title' can only be used with '--commit'\n\nFor more information, try '--help'.");
  }
  if (uncommitted) return { kind: "uncommitted" };
  if (base !== undefined) return { kind: "base", branch: base };
  if (commit !== undefined) return { kind: "commit", sha: commit, ...(title !== undefined ? { title } : {}) };
  return { kind: "custom" };
}

function budgetFlags(str: (k: string) => string | undefined): ExecOptions["budgets"] {
  const count = (flag: string) => {
    const text = str(flag);
    return text === undefined ? undefined : parsePositiveInt(flag, text);
  };
  const timeout = str("timeout");
  return {
    maxTurns: count("max-turns"),
    maxToolCalls: count("max-tool-calls"),
    maxTokens: count("max-tokens"),
    maxCostUsd: str("max-cost-usd") === undefined ? undefined : parsePositiveNumber("max-cost-usd", str("max-cost-usd")!),
    timeoutMs: timeout === undefined ? undefined : parseDurationMs("timeout", timeout, { plainUnit: "s" }),
  };
}

export async function runExecCommand(runtime: Runtime, argv: string[]): Promise<number> {
  const opts = execOptions(argv, (msg) => runtime.stderr.write(`warning: ${msg}\n`));
  // `--last` (or a name) looks through every rollout: that starts now, alongside loading the
  // agent and its config, where the runtime can do it on other threads. A failure shows where
  // the lookup's answer is taken, as it would without this.
  const source = opts.resume ?? opts.fork;
  if (source) {
    const [{ lookAhead }, { codexHome }, { isUuid }] = await Promise.all([import("../core/session/find.ts"), import("../core/workspace.ts"), import("../core/util/uuid.ts")]);
    if (source.target === undefined || !isUuid(source.target)) await lookAhead(runtime, codexHome(runtime)).catch(() => undefined);
  }
  // The agent loads once the flags are known to be good.
  const { runExec } = await import("../core/run/exec.ts");
  return runExec(runtime, opts);
}
