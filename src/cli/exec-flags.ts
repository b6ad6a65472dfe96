// `ocx exec`'s flags (contract section 1.1, all accepted; some ignored until their capability
// lands, plus ocx's own, ocx-extensions.md) and its help entry: apart from the command itself, which
// loads the agent with it, so that `--help` and the other commands that share these flags do not.
import type { CommandDef } from "citty";
import { sandboxModes } from "../core/sandbox/policy.ts";
import { cittyArgs, type FlagTable } from "./flags.ts";

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
