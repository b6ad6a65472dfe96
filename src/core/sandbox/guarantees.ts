// What the sandbox promises a command, item by item, and whether this host keeps each promise:
// the list `ocx sandbox check` prints. Pure: derived from the measured SandboxCapabilities.
import { PROTECTED_DIRS } from "./policy.ts";
import { LANDLOCK_SCOPE_ABI } from "./landlock.ts";
import { LANDLOCK_NET_ABI, type SandboxCapabilities } from "./spec.ts";

export interface Guarantee {
  id: string;
  /** What holds for every sandboxed command when enforced. */
  text: string;
  enforced: boolean;
  /** How it is enforced, or why not and what holds instead. */
  detail: string;
}

/** The Linux guarantees (Landlock, seccomp, and the namespace view when user namespaces work). */
export function linuxGuarantees(c: SandboxCapabilities): Guarantee[] {
  const kernel = c.landlockAbi !== null && c.seccomp;
  const ns = kernel && c.carveOuts === true;
  const noNs = c.carveOuts === null ? "not probed" : "no user namespaces on this host";
  const g = (id: string, text: string, enforced: boolean, yes: string, no: string): Guarantee => ({ id, text, enforced, detail: enforced ? yes : no });
  const network = [
    "seccomp refuses sockets other than AF_UNIX",
    ...(c.landlockAbi !== null && c.landlockAbi >= LANDLOCK_NET_ABI ? ["Landlock TCP rules"] : []),
    ...(c.landlockAbi !== null && c.landlockAbi >= LANDLOCK_SCOPE_ABI ? ["abstract unix sockets outside the sandbox unreachable"] : []),
  ].join("; ");
  return [
    g("writes-confined", "writes only inside the writable roots", c.landlockAbi !== null, `Landlock ABI ${c.landlockAbi}`, "Landlock is not available"),
    g("network-off", "network off unless enabled", c.seccomp, network, "seccomp is not available"),
    g(
      "no-privilege",
      "no capabilities in any set, no_new_privs, securebits locked",
      kernel,
      "capabilities dropped before exec (an unprivileged user without namespaces keeps a bounding set that no_new_privs makes unreachable)",
      "needs Landlock and seccomp",
    ),
    g("new-session", "own session, no controlling terminal; TIOCSTI and TIOCLINUX refused", kernel, "setsid and seccomp", "needs seccomp"),
    g(
      "host-sockets",
      "with the network off, no Unix socket outside the writable roots can be reached (docker.sock, systemd, D-Bus)",
      kernel && c.supervisor === true,
      "ocx's supervisor makes each connect() itself, to socket files inside the roots only; abstract sockets and datagrams sent to an address are refused",
      "needs seccomp user notification and the ocx binary: host sockets stay reachable",
    ),
    g(
      "refused-calls",
      "device nodes, mounts, new namespaces, ptrace, keyrings, bpf, perf, io_uring, modules and reboot refused",
      kernel,
      "seccomp",
      "needs seccomp",
    ),
    g(
      "read-only-view",
      "everything outside the writable roots read-only, metadata included",
      ns || (kernel && c.supervisor === true),
      ns
        ? "user + mount namespace, every mount read-only but the roots (EROFS)"
        : `${noNs}: Landlock refuses writes, and ocx's supervisor (seccomp user notification) checks every chmod, chown, extended attribute and timestamp change, performing it only inside the roots`,
      `${noNs}: chmod, chown, extended attributes and inode flags are refused everywhere; timestamps outside the roots can change under workspace-write`,
    ),
    g("roots-pinned", "writable roots cannot be renamed or replaced", ns, "each root is a mount point of its own", noNs),
    g(
      "protected-names",
      `${PROTECTED_DIRS.join(", ")} read-only in every writable root, also when absent`,
      ns,
      "read-only bind mounts (an empty mount point stands in for an absent one while commands run)",
      `${noNs}: commands can write them`,
    ),
    g(
      "codex-home-read-only",
      "CODEX_HOME read-only",
      ns,
      "read-only bind mount",
      `${noNs}: read-only only when it lies outside every writable root; inside one, ocx refuses to run commands (exit 5)`,
    ),
    g(
      "credentials-unreadable",
      "auth.json and its lock files unreadable",
      c.landlockAbi !== null,
      ns ? "covered by /dev/null, and Landlock grants no read on them" : "Landlock grants no read on them",
      "needs Landlock",
    ),
    g(
      "pid-namespace",
      "own pid namespace and /proc: ocx and other processes out of sight",
      ns && c.freshProc === true,
      "pid namespace with a fresh /proc",
      ns ? "a fresh /proc cannot be mounted here (a masked /proc, as in containers)" : `${noNs}: other processes are visible (ocx's own are not readable: it is non-dumpable)`,
    ),
    g("private-pts", "own /dev/pts: other terminals out of reach", ns && c.privatePts === true, "devpts instance of its own", ns ? "devpts cannot be mounted here" : noNs),
    g(
      "processes-end",
      "no process outlives the command, also when ocx is killed",
      ns,
      "the pid namespace ends with its init",
      `${noNs}: background processes are ended when the command exits, but survive a kill -9 of ocx`,
    ),
  ];
}
