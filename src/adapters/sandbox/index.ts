// The SandboxPort on Bun and Deno: Linux confines through the program's own `__sandbox` helper
// (Landlock, seccomp, and a user + mount namespace for read-only folders on Bun), macOS through
// sandbox-exec with a generated Seatbelt profile.
import type { SandboxPort } from "../../core/runtime.ts";
import { seatbeltProfile } from "../../core/sandbox/seatbelt.ts";
import { helperArgv, type SandboxCapabilities } from "../../core/sandbox/spec.ts";
import type { OpenLibc } from "./libc.ts";

const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

/**
 * `selfArgv` starts this program again (the compiled binary alone, or runtime + entry file);
 * `openLibc` is the runtime's FFI binding of libc (loaded at the first use).
 */
export function hostSandbox(selfArgv: readonly string[], openLibc: OpenLibc): SandboxPort {
  let probed: Promise<SandboxCapabilities> | undefined;
  let carveOuts: Promise<Pick<SandboxCapabilities, "carveOuts" | "freshProc" | "privatePts" | "supervisor" | "runner" | "problems">> | undefined;
  let hardened: Promise<string | null> | undefined;
  return {
    async probe(opts) {
      const caps = await (probed ??= probe(openLibc));
      if (!opts?.carveOuts || caps.carveOuts !== null) return caps;
      const extra = await (carveOuts ??= probeCarveOuts());
      return { ...caps, ...extra, problems: [...caps.problems, ...extra.problems] };
    },
    wrap(spec, argv) {
      if (process.platform === "darwin") return [SANDBOX_EXEC, "-p", seatbeltProfile(spec), "--", ...argv];
      return helperArgv(selfArgv, spec, argv);
    },
    selfArgv,
    async releasePlaceholders(paths) {
      if (process.platform !== "linux" || !("Bun" in globalThis) || paths.length === 0) return;
      const { releasePlaceholders } = await import("./namespace.ts");
      releasePlaceholders(paths);
    },
    hardenSelf() {
      return (hardened ??= process.platform === "linux" ? notDumpable(openLibc) : Promise.resolve(null));
    },
  };
}

const PR_SET_DUMPABLE = 4;

/** prctl(PR_SET_DUMPABLE, 0): loads the FFI binding only now, right before the first command. */
async function notDumpable(openLibc: OpenLibc): Promise<string | null> {
  try {
    const libc = await openLibc();
    if (libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) === 0) return null;
    return `prctl(PR_SET_DUMPABLE): ${libc.strerror(libc.errno())}`;
  } catch (e) {
    return `cannot load libc.so.6 (${(e as Error).message.split("\n")[0]})`;
  }
}

async function probe(openLibc: OpenLibc): Promise<SandboxCapabilities> {
  if (process.platform === "linux") {
    const { probeLinux } = await import("./linux.ts");
    return probeLinux(openLibc);
  }
  const caps: SandboxCapabilities = { platform: process.platform, landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: false, problems: [] };
  if (process.platform === "darwin") caps.seatbelt = caps.carveOuts = process.getBuiltinModule("node:fs").existsSync(SANDBOX_EXEC);
  return caps;
}

/** Linux: whether commands can run in a user + mount + pid namespace with the read-only view. */
async function probeCarveOuts(): Promise<Pick<SandboxCapabilities, "carveOuts" | "freshProc" | "privatePts" | "supervisor" | "runner" | "problems">> {
  if (!("Bun" in globalThis)) {
    return {
      carveOuts: false,
      freshProc: false,
      privatePts: false,
      supervisor: false,
      problems: ["user namespace: the namespace step is C compiled by Bun's TinyCC, which this runtime lacks; use the ocx binary for the full sandbox"],
    };
  }
  const { probeNamespace, probeSupervisor } = await import("./namespace.ts");
  const found = probeNamespace();
  const noSupervisor = probeSupervisor();
  const problems = noSupervisor ? [`supervisor: ${noSupervisor}`] : [];
  const supervisor = noSupervisor === null;
  if (found.namespaces) return { carveOuts: true, freshProc: found.freshProc, privatePts: found.privatePts, supervisor, runner: true, problems };
  return {
    runner: true,
    carveOuts: false,
    freshProc: false,
    privatePts: false,
    supervisor,
    problems: [...problems, `user namespace: ${found.problem}; allow unprivileged user namespaces for the full sandbox`],
  };
}
