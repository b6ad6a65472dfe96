// `ocx exec [OPTIONS] [PROMPT]`: its argv (flags in exec-flags.ts) turned into ExecOptions, then
// the run. This module loads with the agent (core/run/exec.ts), in one piece: a boundary between
// the two, which only let a usage error skip loading the agent, cost every run about 0.4 ms before
// its first request (more chunks to load, one more dynamic import to wait for).
import { OcxError } from "../core/errors.ts";
import type { ExecOptions } from "../core/run/options.ts";
import type { Runtime } from "../core/runtime.ts";
import type { SandboxMode } from "../core/sandbox/policy.ts";
import type { ReviewTarget } from "../core/review/target.ts";
import { runExec } from "../core/run/exec.ts";
import { isUuid } from "../core/util/uuid.ts";
import { codexHome } from "../core/workspace.ts";
import { configOptions, EXEC_FLAGS } from "./exec-flags.ts";
import { parseDurationMs, parseFlags, parsePositiveInt, parsePositiveNumber } from "./flags.ts";

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
  // Reading a session to resume or fork, or a review's diff, can be long work: start-up ends here
  // for those (a plain run's ends with its first request).
  if (opts.resume || opts.fork || opts.review) runtime.afterStartup?.();
  // `--last` (or a name) looks through every rollout: that starts now, alongside reading the
  // config, where the runtime can do it on other threads. A failure shows where the lookup's
  // answer is taken, as it would without this.
  const source = opts.resume ?? opts.fork;
  if (source && (source.target === undefined || !isUuid(source.target))) {
    const { lookAhead } = await import("../core/session/find.ts");
    await lookAhead(runtime, codexHome(runtime)).catch(() => undefined);
  }
  return runExec(runtime, opts);
}
