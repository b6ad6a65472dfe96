// Linux sandbox through the runtime's FFI (libc.ts: bun:ffi or Deno.dlopen): probe what the
// kernel offers, and the hidden helper (`ocx __sandbox [--write P]... [--read-only P]...
// [--no-net] -- CMD...`) that confines itself with Landlock, no_new_privs and seccomp, then execs
// the command. Every call runs on the JS main thread, which is the thread that execs (Landlock
// and no_new_privs are per thread).
import { statSync } from "node:fs";
import {
  grantedFs,
  handledFs,
  LANDLOCK_CREATE_RULESET_VERSION,
  LANDLOCK_RULE_PATH_BENEATH,
  NET,
  pathBeneathAttr,
  rulesetAttr,
  scopes,
  SYS_LANDLOCK_ADD_RULE,
  SYS_LANDLOCK_CREATE_RULESET,
  SYS_LANDLOCK_RESTRICT_SELF,
} from "../../core/sandbox/landlock.ts";
import { encodeProgram, networkFilterProgram, seccompArch } from "../../core/sandbox/seccomp.ts";
import { LANDLOCK_NET_ABI, parseHelperArgs, type SandboxCapabilities, type SandboxSpec } from "../../core/sandbox/spec.ts";
import { cArray, cstr, loadLibc, type Libc } from "./libc.ts";

const PR_SET_SECCOMP = 22;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_MODE_FILTER = 2;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const EFAULT = 14;
const SIG_SETMASK = 2;

/** The Landlock ABI version, or -1 (errno set) when the kernel has none. */
const landlockAbi = (l: Libc) => l.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0);

class SandboxSetupError extends Error {}
const fail = (l: Libc, what: string): never => {
  const e = l.errno();
  throw new SandboxSetupError(`${what}: ${l.strerror(e)} (errno ${e})`);
};

/** What this kernel offers; cheap (two syscalls), nothing is changed in this process. */
export async function probeLinux(): Promise<SandboxCapabilities> {
  const caps: SandboxCapabilities = { platform: "linux", landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: null, problems: [] };
  let l: Libc;
  try {
    l = await loadLibc();
  } catch (e) {
    caps.problems.push(`cannot load libc.so.6 (${(e as Error).message.split("\n")[0]})`);
    return caps;
  }
  const abi = landlockAbi(l);
  if (abi > 0) caps.landlockAbi = abi;
  else caps.problems.push(`landlock_create_ruleset: ${l.strerror(l.errno())}`);
  if (!seccompArch(process.arch)) {
    caps.problems.push(`no seccomp filter for ${process.arch}`);
  } else {
    // A NULL filter is refused with EFAULT by kernels that support filters, EINVAL otherwise.
    const r = l.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0, 0, 0);
    const e = r === -1 ? l.errno() : 0;
    if (e === EFAULT) caps.seccomp = true;
    else caps.problems.push(`seccomp filter mode: ${e ? l.strerror(e) : "unexpected success"}`);
  }
  return caps;
}

/** A Landlock ruleset for `spec`, its rules added; the caller restricts itself with it. */
function prepareRuleset(l: Libc, spec: SandboxSpec): number {
  const abi = landlockAbi(l);
  if (abi <= 0) fail(l, "Landlock is not available");
  const netRights = !spec.network && abi >= LANDLOCK_NET_ABI ? NET.BIND_TCP | NET.CONNECT_TCP : 0;
  const attr = rulesetAttr(abi, handledFs(abi), netRights, scopes(abi, spec.network));
  const rulesetFd = l.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, attr.length, 0, 0);
  if (rulesetFd < 0) fail(l, "landlock_create_ruleset");

  for (const path of spec.writable) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      continue; // a root that does not exist (yet) grants nothing
    }
    const fd = l.open(cstr(path), O_PATH | O_CLOEXEC);
    if (fd < 0) fail(l, `open ${path}`);
    const rule = pathBeneathAttr(grantedFs(abi, isDirectory), fd);
    if (l.syscall(SYS_LANDLOCK_ADD_RULE, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, rule, 0) < 0) fail(l, `landlock_add_rule ${path}`);
    l.close(fd);
  }
  return rulesetFd;
}

/** struct sock_fprog for the network filter (it points into `keep`), or null with the network on. */
function seccompFprog(l: Libc, spec: SandboxSpec, keep: unknown[]): Uint8Array | null {
  if (spec.network) return null;
  const arch = seccompArch(process.arch);
  if (!arch) throw new SandboxSetupError(`no seccomp filter for ${process.arch}`);
  const filter = encodeProgram(networkFilterProgram(arch));
  keep.push(filter);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (pointer at offset 8)
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  view.setBigUint64(8, l.addressOf(filter), true);
  return fprog;
}

/** Confines this process with a prepared ruleset and filter. Throws SandboxSetupError with what failed. */
function restrictSelf(l: Libc, rulesetFd: number, fprog: Uint8Array | null): void {
  if (l.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) fail(l, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (fprog && l.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) !== 0) fail(l, "seccomp filter");
  if (l.syscall(SYS_LANDLOCK_RESTRICT_SELF, rulesetFd, 0, 0, 0) !== 0) fail(l, "landlock_restrict_self");
  l.close(rulesetFd);
}

/** The read-only carve-outs that exist now (a missing .git has nothing to protect). */
function existingPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

/** Default dispositions and an empty mask: ignored signals and the mask would survive exec. */
function resetSignals(l: Libc): void {
  for (let sig = 1; sig < 32; sig++) if (sig !== 9 && sig !== 19) l.signal(sig, 0);
  l.sigprocmask(SIG_SETMASK, new Uint8Array(128));
}

function execvp(l: Libc, argv: string[]): never {
  const keep: unknown[] = [];
  const file = cstr(argv[0]!);
  l.execvp(file, cArray(l, argv, keep));
  const e = l.errno();
  process.stderr.write(`ocx sandbox: cannot run ${argv[0]}: ${l.strerror(e)}\n`);
  process.exit(e === 2 ? 127 : 126);
}

/** Ends the helper the way the command ended: its exit code, or the same signal. */
function mirrorStatus(l: Libc, status: number): never {
  const signal = status & 0x7f;
  if (signal === 0) process.exit((status >> 8) & 0xff);
  l.signal(signal, 0);
  l.sigprocmask(SIG_SETMASK, new Uint8Array(128));
  l.kill(process.pid, signal);
  process.exit(128 + signal);
}

const confineFailed = (message: string): never => {
  // One line, never a stack: a failed sandbox must not run the command.
  process.stderr.write(`ocx sandbox: could not confine the command: ${message}\n`);
  process.exit(126);
};

/** The helper: `args` are what follows `__sandbox`. Never returns. */
export async function runSandboxHelper(args: string[]): Promise<never> {
  const parsed = parseHelperArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`ocx sandbox: ${parsed}\n`);
    process.exit(126);
  }
  const { spec, argv } = parsed;
  const readOnly = existingPaths(spec.readOnly);
  const keep: unknown[] = [];
  let l: Libc;
  let rulesetFd: number;
  let fprog: Uint8Array | null;
  try {
    l = await loadLibc();
    rulesetFd = prepareRuleset(l, spec);
    fprog = seccompFprog(l, spec, keep);
    if (readOnly.length === 0) restrictSelf(l, rulesetFd, fprog);
  } catch (e) {
    return confineFailed((e as Error).message.split("\n")[0]!);
  }
  if (readOnly.length === 0) {
    resetSignals(l);
    return execvp(l, argv);
  }
  // Read-only carve-outs need a mount namespace: a child is cloned into one and execs there,
  // and this process waits and ends as the command did. The clone step is C compiled by Bun's
  // TinyCC, so only the Bun build has it (the probe tells the parent so).
  if (!("Bun" in globalThis)) return confineFailed("read-only folders need the Bun build of ocx (user namespace step)");
  const { runInNamespace } = await import("./namespace.ts");
  const status = runInNamespace({ readOnly, rulesetFd, fprog, restrictSelfSyscall: SYS_LANDLOCK_RESTRICT_SELF, argv });
  if (status < 0) process.exit(126);
  return mirrorStatus(l, status);
}
