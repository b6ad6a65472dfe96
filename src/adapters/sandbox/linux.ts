// Linux sandbox through bun:ffi: probe what the kernel offers, and the hidden helper
// (`ocx __sandbox [--write P]... [--no-net] -- CMD...`) that confines itself with Landlock,
// no_new_privs and seccomp, then execs the command. Every call runs on the JS main thread,
// which is the thread that execs (Landlock and no_new_privs are per thread).
import { statSync } from "node:fs";
import { CString, dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
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
import { runInNamespace } from "./namespace.ts";
import { LANDLOCK_NET_ABI, parseHelperArgs, type SandboxCapabilities, type SandboxSpec } from "../../core/sandbox/spec.ts";

const PR_SET_SECCOMP = 22;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_MODE_FILTER = 2;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const EFAULT = 14;
const SIG_SETMASK = 2;

const i64 = FFIType.i64;
let libc: ReturnType<typeof openLibc> | undefined;
function openLibc() {
  return dlopen("libc.so.6", {
    syscall: { args: [i64, i64, i64, i64, i64], returns: FFIType.i32 },
    prctl: { args: [FFIType.i32, i64, i64, i64, i64], returns: FFIType.i32 },
    open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    signal: { args: [FFIType.i32, i64], returns: i64 },
    sigprocmask: { args: [FFIType.i32, FFIType.ptr, i64], returns: FFIType.i32 },
    execvp: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    kill: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
    strerror: { args: [FFIType.i32], returns: FFIType.ptr },
  }).symbols;
}
const lib = () => (libc ??= openLibc());

const errno = () => read.i32(lib().__errno_location() as Pointer, 0);
const strerror = (e: number) => new CString(lib().strerror(e) as Pointer).toString();
const cstr = (s: string) => Buffer.from(`${s}\0`, "utf8");

/** The Landlock ABI version, or -1 (errno set) when the kernel has none. */
const landlockAbi = (l: ReturnType<typeof openLibc>) =>
  l.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0);

class SandboxSetupError extends Error {}
const fail = (what: string): never => {
  const e = errno();
  throw new SandboxSetupError(`${what}: ${strerror(e)} (errno ${e})`);
};

/** What this kernel offers; cheap (two syscalls), nothing is changed in this process. */
export function probeLinux(): SandboxCapabilities {
  const caps: SandboxCapabilities = { platform: "linux", landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: null, problems: [] };
  let l: ReturnType<typeof openLibc>;
  try {
    l = lib();
  } catch (e) {
    caps.problems.push(`cannot load libc.so.6 (${(e as Error).message})`);
    return caps;
  }
  const abi = landlockAbi(l);
  if (abi > 0) caps.landlockAbi = abi;
  else caps.problems.push(`landlock_create_ruleset: ${strerror(errno())}`);
  if (!seccompArch(process.arch)) {
    caps.problems.push(`no seccomp filter for ${process.arch}`);
  } else {
    // A NULL filter is refused with EFAULT by kernels that support filters, EINVAL otherwise.
    const r = l.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0, 0, 0);
    const e = r === -1 ? errno() : 0;
    if (e === EFAULT) caps.seccomp = true;
    else caps.problems.push(`seccomp filter mode: ${e ? strerror(e) : "unexpected success"}`);
  }
  return caps;
}

/** A Landlock ruleset for `spec`, its rules added; the caller restricts itself with it. */
function prepareRuleset(spec: SandboxSpec): number {
  const l = lib();
  const abi = landlockAbi(l);
  if (abi <= 0) fail("Landlock is not available");
  const netRights = !spec.network && abi >= LANDLOCK_NET_ABI ? NET.BIND_TCP | NET.CONNECT_TCP : 0;
  const attr = rulesetAttr(abi, handledFs(abi), netRights, scopes(abi, spec.network));
  const rulesetFd = l.syscall(SYS_LANDLOCK_CREATE_RULESET, ptr(attr), attr.length, 0, 0);
  if (rulesetFd < 0) fail("landlock_create_ruleset");

  for (const path of spec.writable) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      continue; // a root that does not exist (yet) grants nothing
    }
    const name = cstr(path);
    const fd = l.open(ptr(name), O_PATH | O_CLOEXEC);
    if (fd < 0) fail(`open ${path}`);
    const rule = pathBeneathAttr(grantedFs(abi, isDirectory), fd);
    if (l.syscall(SYS_LANDLOCK_ADD_RULE, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, ptr(rule), 0) < 0) fail(`landlock_add_rule ${path}`);
    l.close(fd);
  }
  return rulesetFd;
}

/** struct sock_fprog for the network filter (it points into `keep`), or null with the network on. */
function seccompFprog(spec: SandboxSpec, keep: unknown[]): Uint8Array | null {
  if (spec.network) return null;
  const arch = seccompArch(process.arch);
  if (!arch) throw new SandboxSetupError(`no seccomp filter for ${process.arch}`);
  const filter = encodeProgram(networkFilterProgram(arch));
  keep.push(filter);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (pointer at offset 8)
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  view.setBigUint64(8, BigInt(ptr(filter)), true);
  return fprog;
}

/** Confines this process with a prepared ruleset and filter. Throws SandboxSetupError with what failed. */
function restrictSelf(rulesetFd: number, fprog: Uint8Array | null): void {
  const l = lib();
  if (l.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
  if (fprog && l.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ptr(fprog), 0, 0) !== 0) fail("seccomp filter");
  if (l.syscall(SYS_LANDLOCK_RESTRICT_SELF, rulesetFd, 0, 0, 0) !== 0) fail("landlock_restrict_self");
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

/** Ignored signals and the blocked mask survive exec; the command gets the defaults. */
function resetSignals(): void {
  const l = lib();
  for (let sig = 1; sig < 32; sig++) if (sig !== 9 && sig !== 19) l.signal(sig, 0);
  const empty = new Uint8Array(128);
  l.sigprocmask(SIG_SETMASK, ptr(empty), 0);
}

function execvp(argv: string[]): never {
  const l = lib();
  const bufs = argv.map(cstr); // referenced until exec
  const ptrs = new BigUint64Array(argv.length + 1);
  bufs.forEach((b, i) => (ptrs[i] = BigInt(ptr(b))));
  l.execvp(ptr(bufs[0]!), ptr(ptrs));
  const e = errno();
  process.stderr.write(`ocx sandbox: cannot run ${argv[0]}: ${strerror(e)}\n`);
  process.exit(e === 2 ? 127 : 126);
}

/** Ends the helper the way the command ended: its exit code, or the same signal. */
function mirrorStatus(status: number): never {
  const signal = status & 0x7f;
  if (signal === 0) process.exit((status >> 8) & 0xff);
  const l = lib();
  l.signal(signal, 0);
  const empty = new Uint8Array(128);
  l.sigprocmask(SIG_SETMASK, ptr(empty), 0);
  l.kill(process.pid, signal);
  process.exit(128 + signal);
}

/** The helper: `args` are what follows `__sandbox`. Never returns. */
export function runSandboxHelper(args: string[]): never {
  const parsed = parseHelperArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`ocx sandbox: ${parsed}\n`);
    process.exit(126);
  }
  const { spec, argv } = parsed;
  const readOnly = existingPaths(spec.readOnly);
  const keep: unknown[] = [];
  let rulesetFd: number;
  let fprog: Uint8Array | null;
  try {
    rulesetFd = prepareRuleset(spec);
    fprog = seccompFprog(spec, keep);
    if (readOnly.length === 0) restrictSelf(rulesetFd, fprog);
  } catch (e) {
    // One line, never a stack: a failed sandbox must not run the command.
    process.stderr.write(`ocx sandbox: could not confine the command: ${(e as Error).message}\n`);
    process.exit(126);
  }
  if (readOnly.length === 0) {
    resetSignals();
    return execvp(argv);
  }
  // Read-only carve-outs need a mount namespace: a child is cloned into one and execs there,
  // and this process waits and ends as the command did.
  const status = runInNamespace({ readOnly, rulesetFd, fprog, restrictSelfSyscall: SYS_LANDLOCK_RESTRICT_SELF, argv });
  if (status < 0) process.exit(126);
  return mirrorStatus(status);
}
