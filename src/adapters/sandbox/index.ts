// The SandboxPort on Bun: Linux confines through the binary's own `__sandbox` helper (Landlock,
// seccomp), macOS through sandbox-exec with a generated Seatbelt profile.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SandboxPort } from "../../core/runtime.ts";
import { seatbeltProfile } from "../../core/sandbox/seatbelt.ts";
import { helperArgv, type SandboxCapabilities } from "../../core/sandbox/spec.ts";

const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

/** How to start this program again: the compiled binary alone, or bun with the entry file. */
function selfArgv(): string[] {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("%24bunfs");
  return compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../../bin/bun.ts")];
}

export function bunSandbox(): SandboxPort {
  let probed: Promise<SandboxCapabilities> | undefined;
  let carveOuts: Promise<Pick<SandboxCapabilities, "carveOuts" | "problems">> | undefined;
  return {
    async probe(opts) {
      const caps = await (probed ??= probe());
      if (!opts?.carveOuts || caps.carveOuts !== null) return caps;
      const extra = await (carveOuts ??= probeCarveOuts());
      return { ...caps, carveOuts: extra.carveOuts, problems: [...caps.problems, ...extra.problems] };
    },
    wrap(spec, argv) {
      if (process.platform === "darwin") return [SANDBOX_EXEC, "-p", seatbeltProfile(spec), "--", ...argv];
      return helperArgv(selfArgv(), spec, argv);
    },
  };
}

async function probe(): Promise<SandboxCapabilities> {
  if (process.platform === "linux") {
    const { probeLinux } = await import("./linux.ts");
    return probeLinux();
  }
  const caps: SandboxCapabilities = { platform: process.platform, landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: false, problems: [] };
  if (process.platform === "darwin") caps.seatbelt = caps.carveOuts = existsSync(SANDBOX_EXEC);
  return caps;
}

/** Linux: whether a user + mount namespace can carry read-only bind mounts here. */
async function probeCarveOuts(): Promise<Pick<SandboxCapabilities, "carveOuts" | "problems">> {
  const { probeNamespace } = await import("./namespace.ts");
  const problem = probeNamespace();
  return problem === null ? { carveOuts: true, problems: [] } : { carveOuts: false, problems: [`user namespace: ${problem}`] };
}
