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

/** What the host can enforce, with the forced-unavailable override applied. */
export async function hostCapabilities(runtime: Runtime): Promise<SandboxCapabilities> {
  const forced = runtime.env(FORCE_UNAVAILABLE_ENV);
  const caps = await runtime.sandbox.probe();
  if (!forced) return caps;
  return { ...caps, landlockAbi: null, seccomp: false, seatbelt: false, problems: [`forced by ${FORCE_UNAVAILABLE_ENV}: ${forced}`] };
}

/** The argv to spawn for `argv` under `policy`; throws OcxError("sandbox") rather than run unconfined. */
export async function confinedArgv(runtime: Runtime, policy: SandboxPolicy, argv: string[]): Promise<string[]> {
  const spec = sandboxSpec(policy);
  if (!spec) return argv;
  const reason = unenforceableReason(await hostCapabilities(runtime), policy.mode);
  if (reason) throw new OcxError("sandbox", reason);
  return runtime.sandbox.wrap(spec, argv);
}
