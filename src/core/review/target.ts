// `ocx exec review`: what to review, checked before anything is sent. ocx asks git whether the
// target holds any change (nothing to review: exit 3, no model request) and writes the one-line
// prompt that names it; the model then inspects the change itself with commands.
import { OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";

export type ReviewTarget =
  | { kind: "uncommitted" }
  | { kind: "base"; branch: string }
  | { kind: "commit"; sha: string; title?: string }
  /** Custom review instructions: the prompt itself. */
  | { kind: "custom" };

/** Most bytes of git output ocx reads (it needs a few lines at most). */
const GIT_OUTPUT_MAX = 64 * 1024;

/**
 * The prompt for `target` in the repository at `cwd`, or exit 3 when there is nothing to review
 * (or the branch or commit is unknown). `custom` returns undefined: the user's prompt is sent.
 */
export async function reviewPrompt(runtime: Runtime, cwd: string, target: ReviewTarget): Promise<string | undefined> {
  const git = (...args: string[]) => runGit(runtime, cwd, args);
  switch (target.kind) {
    case "custom":
      return undefined;
    case "uncommitted": {
      const status = await git("status", "--porcelain", "--untracked-files=all");
      if (status.code !== 0) throw gitFailed("git status", status.err);
      if (status.out.trim() === "") throw nothing("no uncommitted changes (staged, unstaged or untracked) in this repository");
      return "Review the uncommitted changes of this repository (staged, unstaged and untracked files: see `git status` and `git diff HEAD`) and report your findings in order of priority.";
    }
    case "base": {
      const base = await git("merge-base", "HEAD", target.branch);
      if (base.code !== 0) throw new OcxError("config", `Cannot review against ${target.branch}: git found no merge base with HEAD (${firstLine(base.err) || "unknown branch?"})`);
      const sha = base.out.trim();
      const diff = await git("diff", "--quiet", sha, "--");
      if (diff.code === 0) throw nothing(`no changes between ${target.branch} (merge base ${sha.slice(0, 12)}) and the working tree`);
      if (diff.code !== 1) throw gitFailed("git diff", diff.err);
      return `Review the changes of the current branch against ${target.branch}: their merge base is ${sha}; run \`git diff ${sha}\` to see them, and report your findings in order of priority.`;
    }
    case "commit": {
      const resolved = await git("rev-parse", "--verify", "--quiet", `${target.sha}^{commit}`);
      if (resolved.code !== 0) throw new OcxError("config", `Cannot review commit ${target.sha}: no such commit in this repository`);
      const sha = resolved.out.trim();
      const files = await git("diff-tree", "-r", "--root", "--no-commit-id", "--name-only", sha);
      if (files.code !== 0) throw gitFailed("git diff-tree", files.err);
      if (files.out.trim() === "") throw nothing(`commit ${target.sha} changes no file`);
      const title = target.title ? ` (titled ${JSON.stringify(target.title)})` : "";
      return `Review the changes made by commit ${sha}${title}; run \`git show ${sha}\` to see them, and report your findings in order of priority.`;
    }
  }
}

const nothing = (why: string) => new OcxError("config", `Nothing to review: ${why}`);
const gitFailed = (what: string, err: string) => new OcxError("config", `Cannot review: ${what} failed: ${firstLine(err) || "no message"}`);
const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";

/** git, run by ocx itself (not the model): no credentials in its environment, no fsmonitor hook. */
async function runGit(runtime: Runtime, cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env: Record<string, string> = { LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
  for (const k of ["PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM"]) {
    const v = runtime.env(k);
    if (v !== undefined) env[k] = v;
  }
  let child;
  try {
    child = runtime.spawn({ argv: ["git", "-c", "core.fsmonitor=false", "--no-pager", ...args], cwd, env, stdin: "ignore" });
  } catch (e) {
    throw new OcxError("config", `Cannot review: git could not be started (${(e as Error).message})`);
  }
  const [out, err, status] = await Promise.all([readText(child.stdout), readText(child.stderr), child.exited]);
  return { code: status.code, out, err };
}

async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (text.length < GIT_OUTPUT_MAX) text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
