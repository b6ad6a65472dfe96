// The sandbox policy of a run: decided once from flags and config, consulted by every tool that
// touches the system, and described to the model in <environment_context>.

import { resolve } from "../util/path.ts";
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime.ts";
import { codexHome } from "../workspace.ts";

export type SandboxMode = "read-only" | "workspace-write" | "danger-full-access";

export const sandboxModes: readonly SandboxMode[] = ["read-only", "workspace-write", "danger-full-access"];

export interface SandboxPolicy {
  mode: SandboxMode;
  /** Absolute writable roots under workspace-write (cwd, --add-dir, config roots, /tmp, $TMPDIR). */
  writableRoots: string[];
  networkAccess: boolean;
  /** --dangerously-bypass-approvals-and-sandbox: no sandbox, no git check. */
  bypass: boolean;
  /** CODEX_HOME: read-only for commands, its credential files unreadable. */
  codexHome?: string;
}

/**
 * Full access, the one policy of what ocx starts unconfined whatever the run's policy: notify,
 * hooks under hooks_sandbox = "none", and MCP servers (which still run under the sandbox
 * helper's init, where it exists, so that they die with ocx).
 */
export const FULL_ACCESS: Readonly<SandboxPolicy> = Object.freeze({ mode: "danger-full-access", writableRoots: [], networkAccess: true, bypass: false });

/** The choices that decide a policy besides config.toml (flags of exec and `sandbox run`). */
export interface SandboxChoice {
  sandbox?: SandboxMode;
  addDirs: string[];
  bypass: boolean;
}

/** The policy of a run: flag, else config, else read-only; roots normalised and absolute. */
export function resolveSandboxPolicy(runtime: Runtime, config: Config, choice: SandboxChoice, cwd: string): SandboxPolicy {
  const mode: SandboxMode = choice.bypass ? "danger-full-access" : (choice.sandbox ?? config.sandbox_mode ?? "read-only");
  const ww = config.sandbox_workspace_write ?? {};
  const roots = [cwd, ...choice.addDirs, ...(ww.writable_roots ?? [])];
  if (!ww.exclude_slash_tmp) roots.push("/tmp");
  const tmpdir = runtime.env("TMPDIR");
  if (!ww.exclude_tmpdir_env_var && tmpdir) roots.push(tmpdir);
  return {
    mode,
    writableRoots: mode === "workspace-write" ? [...new Set(roots.map((r) => resolve(cwd, r)))] : [],
    networkAccess: mode === "danger-full-access" || (mode === "workspace-write" && ww.network_access === true),
    bypass: choice.bypass,
    codexHome: codexHome(runtime),
  };
}

/** Marks the environment of a command whose network is off (commands check this variable). */
export function markNetwork(env: Record<string, string>, policy: SandboxPolicy): Record<string, string> {
  if (!policy.networkAccess) env.CODEX_SANDBOX_NETWORK_DISABLED = "1";
  else delete env.CODEX_SANDBOX_NETWORK_DISABLED;
  return env;
}

/** The header's `sandbox:` line. */
export function describeSandbox(p: SandboxPolicy): string {
  if (p.mode !== "workspace-write") return p.mode;
  return `workspace-write [${p.writableRoots.join(", ")}]${p.networkAccess ? " (network access enabled)" : ""}`;
}

/** Top-level folders of a writable root that stay read-only under workspace-write. */
export const PROTECTED_DIRS: readonly string[] = [".git", ".codex", ".agents", ".aws"];

export type WriteDenial =
  | { reason: "read-only" }
  | { reason: "outside" }
  | { reason: "protected"; dir: string };

/**
 * Whether ocx itself (apply_patch) may write the absolute, normalised `path` under `policy`;
 * null when it may. Purely lexical: callers check the path and its real path (symlinks), each
 * against the roots in the same form.
 */
export function writeDenial(policy: SandboxPolicy, path: string, roots: readonly string[] = policy.writableRoots): WriteDenial | null {
  if (policy.bypass || policy.mode === "danger-full-access") return null;
  if (policy.mode === "read-only") return { reason: "read-only" };
  let inside = false;
  for (const root of roots) {
    const base = root.endsWith("/") ? root : `${root}/`;
    if (path !== root && !path.startsWith(base)) continue;
    inside = true;
    // A protected folder of any root that holds the path wins (roots may nest: /tmp and /tmp/ws).
    const first = path === root ? "" : path.slice(base.length).split("/")[0]!;
    if (PROTECTED_DIRS.includes(first)) return { reason: "protected", dir: `${base}${first}` };
  }
  return inside ? null : { reason: "outside" };
}
