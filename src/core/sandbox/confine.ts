// The one place that decides how a command runs under the run's policy: as it is (full access),
// wrapped by the host's sandbox, or not at all (exit 5) when the host cannot enforce the policy.
import { OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { isInside } from "../workspace.ts";
import { PROTECTED_DIRS, type SandboxPolicy } from "./policy.ts";
import { sandboxSpec, unconfinedSpec, unenforceableReason, type SandboxCapabilities } from "./spec.ts";

/**
 * Set to a reason to make the probe report that nothing can be enforced: for trying the
 * fail-closed path (tests, CI dry runs) on a host that could enforce.
 */
export const FORCE_UNAVAILABLE_ENV = "OCX_SANDBOX_FORCE_UNAVAILABLE";

/** Set to a reason to make the probe report that read-only carve-outs cannot be enforced. */
export const FORCE_NO_CARVE_OUTS_ENV = "OCX_SANDBOX_FORCE_NO_CARVE_OUTS";

/** What the host can enforce, with the forced overrides applied. */
export async function hostCapabilities(runtime: Runtime, opts?: { carveOuts?: boolean }): Promise<SandboxCapabilities> {
  const forced = runtime.env(FORCE_UNAVAILABLE_ENV);
  const caps = await runtime.sandbox.probe(opts);
  const noCarveOuts = runtime.env(FORCE_NO_CARVE_OUTS_ENV);
  if (forced) {
    return { ...caps, landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: false, problems: [`forced by ${FORCE_UNAVAILABLE_ENV}: ${forced}`] };
  }
  if (noCarveOuts && caps.carveOuts !== null) {
    return { ...caps, carveOuts: false, problems: [...caps.problems, `forced by ${FORCE_NO_CARVE_OUTS_ENV}: ${noCarveOuts}`] };
  }
  return caps;
}

/** Policies already warned about what this host cannot enforce (one warning per run). */
const warned = new WeakSet<SandboxPolicy>();
/**
 * Hosts (sandbox ports) already warned that ocx could not be hardened: a fact of ocx's own
 * process, said once per run whichever full-access policy a child starts under.
 */
const warnedHarden = new WeakSet<Runtime["sandbox"]>();
/** Policies whose commands got the namespace view (their helpers may have made placeholders). */
const viewed = new WeakSet<SandboxPolicy>();

/**
 * The argv to spawn for `argv` under `policy`; throws OcxError("sandbox") rather than run
 * unconfined. On Linux with user namespaces the command gets the namespace view; without them it
 * still runs confined to the roots, `warn` names once what this host cannot enforce, and a
 * CODEX_HOME inside a writable root (which only the view can keep read-only) stops the run.
 * Before the first command, ocx's own process is closed to its commands (hardenSelf), after the
 * namespace probe: a non-dumpable process cannot write its cloned child's uid_map.
 */
export async function confinedArgv(
  runtime: Runtime,
  policy: SandboxPolicy,
  argv: string[],
  warn: (message: string) => void = () => {},
): Promise<string[]> {
  const spec = sandboxSpec(policy);
  if (!spec) {
    // Full access: nothing is confined, but where the init exists the command runs under it, so
    // that no process it starts outlives the call or ocx (even a kill -9 of ocx).
    const runner = runtime.platform === "linux" && (await hostCapabilities(runtime, { carveOuts: true })).runner === true;
    // The command could read what ocx holds in other ways too; a warning will do.
    const problem = await runtime.sandbox.hardenSelf();
    if (problem && !warnedHarden.has(runtime.sandbox)) {
      warnedHarden.add(runtime.sandbox);
      warn(`ocx's own memory and environment stay readable to its commands on this host (${problem})`);
    }
    return runner ? runtime.sandbox.wrap(unconfinedSpec(), argv) : argv;
  }
  const caps = await hostCapabilities(runtime, { carveOuts: true });
  const reason = unenforceableReason(caps, policy.mode);
  if (reason) throw new OcxError("sandbox", reason);
  if (caps.platform === "linux" && caps.carveOuts) {
    spec.view = { namespaces: true, freshProc: caps.freshProc === true, privatePts: caps.privatePts === true, supervised: caps.supervisor === true };
    viewed.add(policy);
  } else if (caps.platform === "linux") {
    const home = policy.codexHome ? await rootHolding(runtime, policy.codexHome, policy.writableRoots) : null;
    if (home) {
      throw new OcxError(
        "sandbox",
        `cannot keep CODEX_HOME (${policy.codexHome}) read-only for commands: it lies inside the writable root ${home} and ` +
          `this host has no user namespaces (${lastProblem(caps)}); the command was not run. Set CODEX_HOME outside the writable ` +
          "roots (for /tmp: -c sandbox_workspace_write.exclude_slash_tmp=true), or allow unprivileged user namespaces",
      );
    }
    spec.view.supervised = caps.supervisor === true;
    if (!warned.has(policy)) {
      warned.add(policy);
      warn(fallbackWarning(policy, caps));
    }
  } else if (!caps.carveOuts) {
    const present = await existing(runtime, spec.readOnly);
    spec.readOnly = [];
    if (present.length > 0 && !warned.has(policy)) {
      warned.add(policy);
      warn(`the sandbox cannot keep ${present.join(", ")} read-only for commands on this host (${lastProblem(caps)}); commands are still confined to the writable roots`);
    }
  }
  const problem = await runtime.sandbox.hardenSelf();
  if (problem) throw new OcxError("sandbox", `cannot keep ocx's memory and environment from its commands: ${problem}`);
  return runtime.sandbox.wrap(spec, argv);
}

/**
 * At the end of a run (no command of it runs any more): the placeholder mount points its
 * commands stood on go, unless another command (of another run) still holds one. The helpers
 * remove their own when their command ends; this catches a helper that was killed.
 */
export async function releaseSandbox(runtime: Runtime, policy: SandboxPolicy): Promise<void> {
  if (!viewed.has(policy)) return;
  viewed.delete(policy);
  const spec = sandboxSpec(policy);
  const names = spec ? spec.readOnly.filter((p) => p !== policy.codexHome) : [];
  await runtime.sandbox.releasePlaceholders?.(names);
}

async function existing(runtime: Runtime, paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(paths.map(async (p) => ((await runtime.fs.stat(p).catch(() => null)) ? p : null)));
  return found.filter((p): p is string => p !== null);
}


/** The writable root that holds `path` (as written or as resolved), or null. */
async function rootHolding(runtime: Runtime, path: string, roots: readonly string[]): Promise<string | null> {
  const real = await runtime.fs.realpath(path).catch(() => path);
  for (const root of roots) {
    const realRoot = await runtime.fs.realpath(root).catch(() => root);
    if (isInside(path, root) || isInside(real, realRoot)) return root;
  }
  return null;
}

const lastProblem = (caps: SandboxCapabilities) =>
  caps.problems.length > 0 ? caps.problems[caps.problems.length - 1]!.replace(/\s+/g, " ") : "not supported";

/** One line: every guarantee the namespace view would give that this host cannot (see guarantees.ts). */
export function fallbackWarning(policy: SandboxPolicy, caps: SandboxCapabilities): string {
  const gaps = policy.mode === "workspace-write" ? [`commands can write ${PROTECTED_DIRS.join(", ")} in the writable roots and rename the roots`] : [];
  if (!caps.supervisor && policy.mode === "workspace-write") gaps.push("change timestamps outside them");
  gaps.push("see other processes", "and leave background processes running after ocx is killed");
  const metadata = caps.supervisor
    ? "chmod, chown, extended attributes and timestamps are checked by ocx and refused outside the writable roots"
    : "chmod, chown and extended attributes are refused everywhere";
  return (
    `this host cannot build the sandbox's namespace view (${lastProblem(caps)}): ${gaps.join(", ")}; ` +
    `${metadata}, and commands stay confined to the writable roots. ${USERNS_HINT}`
  );
}

/** How to get the full view where the host forbids it (the usual cases, one line). */
export const USERNS_HINT =
  "For the full sandbox allow unprivileged user namespaces (Ubuntu 24.04: sysctl kernel.apparmor_restrict_unprivileged_userns=0; Docker: a seccomp profile that allows them)";
