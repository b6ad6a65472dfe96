// The one place that decides how a command runs under the run's policy: as it is (full access),
// wrapped by the host's sandbox, or not at all (exit 5) when the host cannot enforce the policy.
import { OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxPolicy } from "../sandbox-policy.ts";
import { sandboxSpec, unenforceableReason, type SandboxCapabilities } from "./spec.ts";

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

/** Policies already warned about unprotected carve-outs (one warning per run). */
const warnedCarveOuts = new WeakSet<SandboxPolicy>();
/** Policies already warned about a process that could not be hardened. */
const warnedHarden = new WeakSet<SandboxPolicy>();

/**
 * The argv to spawn for `argv` under `policy`; throws OcxError("sandbox") rather than run
 * unconfined. When `.git` and friends exist in a writable root but the host cannot keep them
 * read-only for commands, the command still runs confined to the roots and `warn` says so once.
 * Before the first command, ocx's own process is closed to its commands (hardenSelf).
 */
export async function confinedArgv(
  runtime: Runtime,
  policy: SandboxPolicy,
  argv: string[],
  warn: (message: string) => void = () => {},
): Promise<string[]> {
  const spec = sandboxSpec(policy);
  if (!spec) {
    // Full access: the command could read what ocx holds in other ways too; a warning will do.
    const problem = await runtime.sandbox.hardenSelf();
    if (problem && !warnedHarden.has(policy)) {
      warnedHarden.add(policy);
      warn(`ocx's own memory and environment stay readable to its commands on this host (${problem})`);
    }
    return argv;
  }
  const reason = unenforceableReason(await hostCapabilities(runtime), policy.mode);
  if (reason) throw new OcxError("sandbox", reason);
  // The carve-out probe clones this process into a user namespace, which only works while the
  // process is still dumpable (a non-dumpable child's uid_map belongs to root): it runs before
  // hardenSelf, on the first command, even if no protected folder exists yet.
  const caps = spec.readOnly.length > 0 ? await hostCapabilities(runtime, { carveOuts: true }) : undefined;
  const present = await existing(runtime, spec.readOnly);
  if (present.length > 0 && caps && !caps.carveOuts) {
    spec.readOnly = [];
    if (!warnedCarveOuts.has(policy)) {
      warnedCarveOuts.add(policy);
      warn(carveOutWarning(present, caps));
    }
  }
  const problem = await runtime.sandbox.hardenSelf();
  if (problem) throw new OcxError("sandbox", `cannot keep ocx's memory and environment from its commands: ${problem}`);
  return runtime.sandbox.wrap(spec, argv);
}

async function existing(runtime: Runtime, paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(paths.map(async (p) => ((await runtime.fs.stat(p).catch(() => null)) ? p : null)));
  return found.filter((p): p is string => p !== null);
}

/** One line: what stays writable for commands, and why (the host's problem says what to do). */
export function carveOutWarning(paths: readonly string[], caps: SandboxCapabilities): string {
  const why = caps.problems.length > 0 ? caps.problems[caps.problems.length - 1]!.replace(/\s+/g, " ") : "not supported";
  return (
    `the sandbox cannot keep ${paths.join(", ")} read-only for commands on this host (${why}); ` +
    "commands are still confined to the writable roots"
  );
}
