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
