// The sandbox policy of a run: decided once from flags and config, consulted by every tool that
// touches the system, and described to the model in <environment_context>.

export type SandboxMode = "read-only" | "workspace-write" | "danger-full-access";

export const sandboxModes: readonly SandboxMode[] = ["read-only", "workspace-write", "danger-full-access"];

export interface SandboxPolicy {
  mode: SandboxMode;
  /** Absolute writable roots under workspace-write (cwd, --add-dir, config roots, /tmp, $TMPDIR). */
  writableRoots: string[];
  networkAccess: boolean;
  /** --dangerously-bypass-approvals-and-sandbox: no sandbox, no git check. */
  bypass: boolean;
}

/**
 * Whether commands can run under this policy on this build. Until the kernel sandbox lands,
 * only unsandboxed modes can run commands; ocx never runs a command unsandboxed that the user
 * asked to sandbox.
 */
export function canRunCommands(policy: SandboxPolicy): boolean {
  return policy.bypass || policy.mode === "danger-full-access";
}

export function sandboxUnavailableMessage(policy: SandboxPolicy): string {
  return (
    `the ${policy.mode} sandbox is not available in this build of ocx yet, so the command was not run; ` +
    `rerun with --sandbox danger-full-access (inside an external sandbox such as a container) to allow commands`
  );
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
