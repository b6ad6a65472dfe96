// What `ocx exec` (and its resume, fork and review forms) was asked to do, as the CLI parsed it.
import type { BudgetFlags } from "../agent/budgets.ts";
import type { ReviewTarget } from "../review/target.ts";
import type { SandboxMode } from "../sandbox/policy.ts";
import type { ResumeRequest } from "../session/resume.ts";

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
