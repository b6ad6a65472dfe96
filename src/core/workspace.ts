// Where the run happens: the working directory, CODEX_HOME, and the git-repository check.
import { dirname, isAbsolute, join, resolve } from "./util/path.ts";
import { OcxError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export function codexHome(runtime: Pick<Runtime, "env" | "cwd" | "homeDir">): string {
  const fromEnv = runtime.env("CODEX_HOME");
  if (fromEnv) return isAbsolute(fromEnv) ? fromEnv : resolve(runtime.cwd(), fromEnv);
  return join(runtime.homeDir(), ".codex");
}

/**
 * CODEX_HOME, checked: something there that is not a directory (a file, a dangling mount) is a
 * config error (exit 3) rather than a run that finds no config and no credentials. A missing one
 * is fine: it is created when something is saved.
 */
export async function checkedCodexHome(runtime: Runtime): Promise<string> {
  const home = codexHome(runtime);
  let st;
  try {
    st = await runtime.fs.stat(home);
  } catch (e) {
    throw new OcxError("config", `CODEX_HOME ${home} cannot be read (${(e as { code?: string }).code ?? (e as Error).message}); check its permissions or point CODEX_HOME at another directory`);
  }
  if (st && !st.isDirectory) {
    const which = runtime.env("CODEX_HOME") ? "CODEX_HOME" : "CODEX_HOME (default ~/.codex)";
    throw new OcxError("config", `${which} ${home} is not a directory; point CODEX_HOME at a directory (it is created when missing)`);
  }
  return home;
}

/** The absolute, canonical working directory for `-C DIR` (or the process cwd). */
export async function resolveWorkdir(runtime: Runtime, cd: string | undefined): Promise<string> {
  const dir = resolve(runtime.cwd(), cd ?? ".");
  const st = await runtime.fs.stat(dir);
  if (!st) throw new OcxError("config", `No such directory: ${dir} (check the -C/--cd argument)`);
  if (!st.isDirectory) throw new OcxError("config", `Not a directory: ${dir} (check the -C/--cd argument)`);
  return runtime.fs.realpath(dir);
}

/** The shell model-run commands use unless a call names one: bash when present, else sh. */
export async function defaultShell(runtime: Runtime): Promise<string> {
  return (await runtime.fs.stat("/bin/bash"))?.isFile ? "/bin/bash" : "/bin/sh";
}

/** Whether `path` is `root` or lies below it (both absolute and normalised). */
export const isInside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);

/**
 * The project's directories, where AGENTS.md and `.codex/` hooks are looked for: from the git
 * `root` down to `cwd` (root first); just `cwd` without a root, or when `cwd` does not lie in it.
 */
export function projectDirs(root: string | null | undefined, cwd: string): string[] {
  if (!root || !isInside(cwd, root)) return [cwd];
  const dirs = [root];
  for (const part of cwd.slice(root.length).split("/")) if (part !== "") dirs.push(join(dirs[dirs.length - 1]!, part));
  return dirs;
}

/** The root of the git repository containing `dir`, or null. A `.git` file (worktree) counts. */
export async function gitRoot(runtime: Runtime, dir: string): Promise<string | null> {
  for (let d = dir; ; ) {
    if (await isGitMarker(runtime, join(d, ".git"))) return d;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

/**
 * A `.git` that makes a repository, as git itself decides: a gitfile, or a folder with HEAD.
 * An empty `.git` (the sandbox's placeholder mount point while commands run, or a stray
 * folder) is passed over, and the search goes on upwards.
 */
async function isGitMarker(runtime: Runtime, path: string): Promise<boolean> {
  const st = await runtime.fs.stat(path);
  if (!st) return false;
  if (!st.isDirectory) return true;
  return (await runtime.fs.stat(join(path, "HEAD"))) !== null;
}
