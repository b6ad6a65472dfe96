// What the kernel sandbox must enforce for one command, derived from the run's SandboxPolicy,
// and how it travels to the hidden helper (`ocx __sandbox ... -- CMD`) that applies it and then
// execs the command. Pure: the adapters apply it (Landlock + seccomp on Linux, Seatbelt on macOS).
import { HELPER_ARG } from "../hidden-args.ts";
import { PROTECTED_DIRS, type SandboxPolicy } from "./policy.ts";
import type { SandboxCapabilities, SandboxSpec, SandboxView } from "./types.ts";

export type { SandboxCapabilities, SandboxSpec, SandboxView } from "./types.ts";

/** The spec of a full-access command run under the init (see SandboxSpec.unconfined). */
export const unconfinedSpec = (): SandboxSpec => ({ writable: [], network: true, readOnly: [], hide: [], view: { ...NO_VIEW }, unconfined: true });

export const NO_VIEW: SandboxView = { namespaces: false, freshProc: false, privatePts: false, supervised: false };

/** Device files every command may write (`>/dev/null`, terminals). */
export const DEVICE_FILES: readonly string[] = [
  "/dev/null",
  "/dev/zero",
  "/dev/full",
  "/dev/random",
  "/dev/urandom",
  "/dev/tty",
  "/dev/ptmx",
  "/dev/pts",
];

/** The spec of a confined policy; null when the policy runs commands unconfined. */
export function sandboxSpec(policy: SandboxPolicy): SandboxSpec | null {
  if (policy.bypass || policy.mode === "danger-full-access") return null;
  const roots = policy.mode === "workspace-write" ? policy.writableRoots : [];
  return {
    writable: [...new Set([...roots, ...DEVICE_FILES])],
    network: policy.networkAccess,
    readOnly: [...new Set([...roots.flatMap((root) => PROTECTED_DIRS.map((dir) => joinPath(root, dir))), ...(policy.codexHome ? [policy.codexHome] : [])])],
    hide: policy.codexHome ? CREDENTIAL_FILES.map((f) => joinPath(policy.codexHome!, f)) : [],
    view: { ...NO_VIEW },
  };
}

/** Files in CODEX_HOME that hold credentials (auth.json, ocx's and the reference's lock files). */
export const CREDENTIAL_FILES: readonly string[] = ["auth.json", "auth.json.ocx.lock", "auth.json.lock"];

const joinPath = (root: string, name: string) => (root.endsWith("/") ? `${root}${name}` : `${root}/${name}`);

/** The first argument that turns the binary into the sandbox helper. */
export { HELPER_ARG };

/**
 * argv of the helper: `SELF... __sandbox [--write PATH]... [--read-only PATH]... [--hide PATH]...
 * [--no-net] [--ns] [--fresh-proc] [--private-pts] [--supervise] -- CMD...`
 */
export function helperArgv(self: readonly string[], spec: SandboxSpec, argv: readonly string[]): string[] {
  return [
    ...self,
    HELPER_ARG,
    ...spec.writable.flatMap((p) => ["--write", p]),
    ...spec.readOnly.flatMap((p) => ["--read-only", p]),
    ...spec.hide.flatMap((p) => ["--hide", p]),
    ...(spec.network ? [] : ["--no-net"]),
    ...(spec.view.namespaces ? ["--ns"] : []),
    ...(spec.view.freshProc ? ["--fresh-proc"] : []),
    ...(spec.view.privatePts ? ["--private-pts"] : []),
    ...(spec.view.supervised ? ["--supervise"] : []),
    ...(spec.unconfined ? ["--unconfined"] : []),
    "--",
    ...argv,
  ];
}

/** Parses the helper's arguments (after `__sandbox`); a string is the error to print. */
export function parseHelperArgs(args: readonly string[]): { spec: SandboxSpec; argv: string[] } | string {
  const spec: SandboxSpec = { writable: [], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      const argv = args.slice(i + 1);
      if (argv.length === 0) return "no command given after --";
      return { spec, argv };
    }
    if (a === "--no-net") spec.network = false;
    else if (a === "--ns") spec.view.namespaces = true;
    else if (a === "--fresh-proc") spec.view.freshProc = true;
    else if (a === "--private-pts") spec.view.privatePts = true;
    else if (a === "--supervise") spec.view.supervised = true;
    else if (a === "--unconfined") spec.unconfined = true;
    else if (a === "--hide" && i + 1 < args.length) spec.hide.push(args[++i]!);
    else if (a === "--write" && i + 1 < args.length) spec.writable.push(args[++i]!);
    else if (a === "--read-only" && i + 1 < args.length) spec.readOnly.push(args[++i]!);
    else return `unexpected argument ${JSON.stringify(a)}`;
  }
  return "missing -- before the command";
}

/** Landlock ABI from which TCP bind/connect can be denied by Landlock itself. */
export const LANDLOCK_NET_ABI = 4;

/**
 * Null when `spec` can be enforced with `caps`; otherwise the one-line message ocx stops with
 * (exit 5): what is missing and the two ways forward.
 */
export function unenforceableReason(caps: SandboxCapabilities, mode: string): string | null {
  let missing: string;
  if (caps.platform === "linux") {
    const gaps: string[] = [];
    if (caps.landlockAbi === null) gaps.push("Landlock is not available (kernel older than 5.13, or Landlock not enabled in the LSM list)");
    if (!caps.seccomp) gaps.push("seccomp filters cannot be installed");
    if (gaps.length === 0) return null;
    missing = gaps.join(" and ");
  } else if (caps.platform === "darwin") {
    if (caps.seatbelt) return null;
    missing = "/usr/bin/sandbox-exec was not found";
  } else {
    missing = `ocx has no sandbox for ${caps.platform}`;
  }
  const detail = caps.problems.length > 0 ? ` (${caps.problems.join("; ").replace(/\s+/g, " ")})` : "";
  return (
    `cannot enforce the ${mode} sandbox on this host: ${missing}${detail}; the command was not run. ` +
    "Run inside an external sandbox (a container or VM) with --sandbox danger-full-access, " +
    "or use a Linux host with Landlock (5.13+) and seccomp"
  );
}
