// Linux sandbox through the runtime's FFI (libc.ts: bun:ffi or Deno.dlopen): probe what the
// kernel offers, and the hidden helper (`ocx __sandbox [--write P]... [--read-only P]...
// [--hide P]... [--no-net] [--ns] ... -- CMD...`) that prepares the Landlock ruleset and the
// seccomp filter, then has the command run confined: on Bun through namespace.c (an init process
// in new namespaces, or a subreaper, forks the command, which drops every capability, leaves the
// session, restricts itself and execs), on Deno by confining itself and execing (no init). Every
// call runs on the JS main thread, which is the thread that execs or clones (Landlock,
// no_new_privs and capabilities are per thread).
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from "node:fs";
import { PROTECTED_DIRS } from "../../core/sandbox/policy.ts";
import {
  FS,
  grantedFs,
  handledFs,
  READ_RIGHTS,
  readExclusions,
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
import {
  commandFilterProgram,
  encodeProgram,
  seccompArch,
  supervisedNumbers,
  supervisorFilterProgram,
  syscallNumber,
  type BpfInsn,
} from "../../core/sandbox/seccomp.ts";
import { DEVICE_FILES, LANDLOCK_NET_ABI, parseHelperArgs, type SandboxCapabilities, type SandboxSpec } from "../../core/sandbox/spec.ts";
import { cArray, cstr, type Libc, type OpenLibc } from "./libc.ts";

const PR_SET_PDEATHSIG = 1;
const PR_SET_SECCOMP = 22;
const PR_CAPBSET_DROP = 24;
const PR_SET_SECUREBITS = 28;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const SECURE_BITS = 0xe3; // NOROOT, NOROOT_LOCKED, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE(_LOCKED)
const SIGKILL = 9;
const EPERM = 1;
const EINVAL = 22;
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
export async function probeLinux(loadLibc: OpenLibc): Promise<SandboxCapabilities> {
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

/**
 * A rule granting `rights` beneath (or on) `path`; false when the path is gone. A read grant that
 * the kernel refuses (`optional`: /dev/stderr leads to a pipe, which takes no rule) only leaves
 * that entry unreadable, so it is skipped; a write grant that fails stops the helper.
 */
function addRule(l: Libc, rulesetFd: number, path: string, rights: number, optional = false): boolean {
  const fd = l.open(cstr(path), O_PATH | O_CLOEXEC);
  if (fd < 0) return false;
  const rule = pathBeneathAttr(rights, fd);
  const r = l.syscall(SYS_LANDLOCK_ADD_RULE, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, rule, 0);
  l.close(fd);
  if (r < 0 && !optional) fail(l, `landlock_add_rule ${path}`);
  return r >= 0;
}

const isDirectory = (path: string): boolean | null => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return null;
  }
};

/**
 * A Landlock ruleset for `spec`, its rules added; the caller restricts itself with it. Writes
 * are handled always; reads only when a hidden file exists, by granting reads on everything
 * around it (readExclusions).
 */
function prepareRuleset(l: Libc, abi: number, spec: SandboxSpec, hidden: readonly string[]): number {
  if (abi <= 0) fail(l, "Landlock is not available");
  const reads = hidden.length > 0;
  const netRights = !spec.network && abi >= LANDLOCK_NET_ABI ? NET.BIND_TCP | NET.CONNECT_TCP : 0;
  const handled = handledFs(abi) | (reads ? READ_RIGHTS.dir : 0);
  const attr = rulesetAttr(abi, handled, netRights, scopes(abi, spec.network));
  const rulesetFd = l.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, attr.length, 0, 0);
  if (rulesetFd < 0) fail(l, "landlock_create_ruleset");

  for (const path of spec.writable) {
    const dir = isDirectory(path);
    if (dir === null) continue; // a root that does not exist (yet) grants nothing
    addRule(l, rulesetFd, path, grantedFs(abi, dir) | (reads ? (dir ? READ_RIGHTS.dir : READ_RIGHTS.file) : 0));
  }
  if (reads) {
    addRule(l, rulesetFd, "/", FS.READ_DIR);
    for (const [dir, excluded] of readExclusions(hidden)) {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (excluded.has(entry.name)) continue;
        const path = dir === "/" ? `/${entry.name}` : `${dir}/${entry.name}`;
        const isDir = entry.isSymbolicLink() ? isDirectory(path) : entry.isDirectory();
        if (isDir !== null) addRule(l, rulesetFd, path, isDir ? READ_RIGHTS.dir : READ_RIGHTS.file, true);
      }
    }
  }
  return rulesetFd;
}

/** struct sock_fprog for a program (it points into `keep`). */
function fprogOf(l: Libc, program: BpfInsn[], keep: unknown[]): Uint8Array {
  const filter = encodeProgram(program);
  keep.push(filter);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (pointer at offset 8)
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  view.setBigUint64(8, l.addressOf(filter), true);
  return fprog;
}

/** The command's filter. */
function seccompFprog(l: Libc, spec: SandboxSpec, keep: unknown[]): Uint8Array {
  const arch = seccompArch(process.arch);
  if (!arch) throw new SandboxSetupError(`no seccomp filter for ${process.arch}`);
  // Without the read-only mount view, metadata calls could reach outside the roots: the
  // supervisor checks them, or (without one) they are refused, timestamps too where nothing is
  // writable.
  const fallback = !spec.view.namespaces;
  return fprogOf(
    l,
    commandFilterProgram(arch, {
      network: spec.network,
      refuseMetadata: fallback,
      refuseTimes: fallback && bindableRoots(spec.writable).length === 0,
      supervised: fallback && spec.view.supervised,
      refuseAddressedSends: !spec.network,
    }),
    keep,
  );
}

/**
 * The metadata supervisor's settings for namespace.c (struct supervisor as five u64): its notify
 * filter, the writable roots as real paths, the supervised syscall numbers, seccomp(2) and
 * process_vm_readv(2). All zero: no supervisor.
 */
function supervisorSettings(l: Libc, spec: SandboxSpec, keep: unknown[]): BigUint64Array {
  const arch = seccompArch(process.arch);
  const settings = new BigUint64Array(5);
  const metadata = !spec.view.namespaces;
  const connect = !spec.network;
  if (!arch || !spec.view.supervised || !(metadata || connect)) return settings;
  const roots: string[] = [];
  for (const root of bindableRoots(spec.writable)) {
    try {
      roots.push(realpathSync(root));
    } catch {
      // a root that does not exist holds nothing
    }
  }
  const ops = new Int32Array(supervisedNumbers(arch));
  keep.push(ops);
  settings[0] = l.addressOf(fprogOf(l, supervisorFilterProgram(arch, { metadata, connect }), keep));
  keep.push(settings);
  const rootList = cArray(l, roots, keep);
  keep.push(rootList);
  settings[1] = l.addressOf(new Uint8Array(rootList.buffer));
  settings[2] = l.addressOf(new Uint8Array(ops.buffer));
  const known = seccompArch(process.arch) !== null;
  settings[3] = BigInt(known ? syscallNumber("seccomp", process.arch) : 0);
  settings[4] = BigInt(known ? syscallNumber("process_vm_readv", process.arch) : 0);
  return settings;
}

/** Every capability gone (namespace.c does the same for the Bun build). */
function dropCapabilities(l: Libc): void {
  l.prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0); // refused without CAP_SETPCAP: then there is nothing to drop
  for (let cap = 0; cap < 64; cap++) {
    if (l.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) !== 0) {
      const e = l.errno();
      if (e === EINVAL) break;
      if (e !== EPERM) fail(l, "prctl(PR_CAPBSET_DROP)");
    }
  }
  if (l.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) !== 0 && l.errno() !== EINVAL) fail(l, "prctl(PR_CAP_AMBIENT)");
  let capset: number;
  try {
    capset = syscallNumber("capset", process.arch);
  } catch (e) {
    throw new SandboxSetupError((e as Error).message);
  }
  const header = new Uint32Array([0x20080522, 0]);
  const data = new Uint32Array(6);
  if (l.syscall(capset, new Uint8Array(header.buffer), new Uint8Array(data.buffer), 0, 0) !== 0) fail(l, "capset");
}

/** Confines this process with a prepared ruleset and filter. Throws SandboxSetupError with what failed. */
function restrictSelf(l: Libc, rulesetFd: number, fprog: Uint8Array): void {
  dropCapabilities(l);
  if (l.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) fail(l, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (l.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) !== 0) fail(l, "seccomp filter");
  if (l.syscall(SYS_LANDLOCK_RESTRICT_SELF, rulesetFd, 0, 0, 0) !== 0) fail(l, "landlock_restrict_self");
  l.close(rulesetFd);
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

/**
 * The rules for what the init mounts anew: Landlock ignores a rule on a covered mount point, so
 * the fresh /proc (read) and the private devpts and its ptmx (write) get their own.
 */
function lateRules(abi: number, spec: SandboxSpec, reads: boolean) {
  const rules: { path: string; rights: number }[] = [];
  if (spec.view.freshProc && reads) rules.push({ path: "/proc", rights: READ_RIGHTS.dir });
  if (spec.view.privatePts) {
    rules.push({ path: "/dev/pts", rights: grantedFs(abi, true) | (reads ? READ_RIGHTS.dir : 0) });
    rules.push({ path: "/dev/ptmx", rights: grantedFs(abi, false) | (reads ? READ_RIGHTS.file : 0) });
  }
  return rules;
}

/** Writable roots to bind read-write in the view: the device files are written through any mount. */
const bindableRoots = (writable: readonly string[]) =>
  writable.filter((p) => !DEVICE_FILES.includes(p)).sort((a, b) => a.length - b.length);

/**
 * The read-write binds of the view: the roots, and every folder between a root (or a read-only
 * path) and a writable root that holds it. A mount point cannot be renamed, so neither a root
 * nor CODEX_HOME can be swapped for a look-alike by renaming a folder above it (`mv ../.. x`).
 * Parents first.
 */
export function pinnedBinds(roots: readonly string[], readOnly: readonly string[]): string[] {
  const inside = (p: string, r: string) => r === "/" || p === r || p.startsWith(`${r}/`);
  const binds = new Set(roots);
  for (const path of [...roots, ...readOnly]) {
    for (let dir = path.slice(0, path.lastIndexOf("/")); dir.length > 0; dir = dir.slice(0, dir.lastIndexOf("/"))) {
      if (roots.some((r) => r !== dir && inside(dir, r))) binds.add(dir);
    }
  }
  return [...binds].sort((a, b) => a.length - b.length);
}

/**
 * The read-only paths that exist, and how: a protected name (.git, ...) as it is, so that a
 * symlink there is covered itself (namespace.c); anything else (CODEX_HOME) by its real path,
 * which is what must stay read-only.
 */
function readOnlyTargets(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const name = p.slice(p.lastIndexOf("/") + 1);
    if (PROTECTED_DIRS.includes(name)) {
      if (lstatOrNull(p)) out.push(p);
      continue;
    }
    try {
      out.push(realpathSync(p));
    } catch {
      // absent: nothing to protect
    }
  }
  return out;
}

const lstatOrNull = (p: string) => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};

/** The real paths of the hidden files that exist (Landlock rules follow the real tree). */
function realHidden(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    try {
      out.push(realpathSync(p));
    } catch {
      // absent (or a dangling link): nothing to hide
    }
  }
  return out;
}

/** danger-full-access under the init: nothing confined, nothing left behind. Never returns. */
async function runUnconfined(argv: string[], loadLibc: OpenLibc): Promise<never> {
  const l = await loadLibc();
  l.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (process.ppid === 1) return confineFailed("ocx ended before the command started");
  if (!("Bun" in globalThis)) {
    resetSignals(l);
    return execvp(l, argv);
  }
  const { runConfined, RUN } = await import("./namespace.ts");
  const status = runConfined({
    flags: RUN.unconfined,
    rw: [],
    readOnly: [],
    hide: [],
    lateRules: [],
    rulesetFd: -1,
    fprog: new Uint8Array(16),
    landlock: { restrictSelf: SYS_LANDLOCK_RESTRICT_SELF, addRule: SYS_LANDLOCK_ADD_RULE },
    argv,
    supervise: new BigUint64Array(5),
  });
  if (status < 0) process.exit(126);
  return mirrorStatus(l, status);
}

/** The helper: `args` are what follows `__sandbox`. Never returns. */
export async function runSandboxHelper(args: string[], loadLibc: OpenLibc): Promise<never> {
  const parsed = parseHelperArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`ocx sandbox: ${parsed}\n`);
    process.exit(126);
  }
  const { spec, argv } = parsed;
  // Placeholders first (they make absent protected names exist), then what to bind.
  let placeholders: { release(): void } = { release() {} };
  if (spec.view.namespaces && "Bun" in globalThis) {
    const { holdPlaceholders } = await import("./namespace.ts");
    try {
      placeholders = holdPlaceholders(spec.readOnly.filter((p) => PROTECTED_DIRS.includes(p.slice(p.lastIndexOf("/") + 1))));
    } catch (e) {
      return confineFailed((e as Error).message);
    }
  }
  if (spec.unconfined) return runUnconfined(argv, loadLibc);
  const readOnly = readOnlyTargets(spec.readOnly);
  const hidden = realHidden(spec.hide);
  const keep: unknown[] = [];
  let l: Libc;
  let abi: number;
  let rulesetFd: number;
  let fprog: Uint8Array;
  try {
    l = await loadLibc();
    // If ocx dies, so does the helper (and with it the command's init).
    l.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (process.ppid === 1) return confineFailed("ocx ended before the command started");
    abi = landlockAbi(l);
    rulesetFd = prepareRuleset(l, abi, spec, hidden);
    fprog = seccompFprog(l, spec, keep);
  } catch (e) {
    return confineFailed((e as Error).message.split("\n")[0]!);
  }
  if ("Bun" in globalThis) {
    const { runConfined, RUN } = await import("./namespace.ts");
    const flags =
      (spec.view.namespaces ? RUN.namespaces : 0) | (spec.view.freshProc ? RUN.freshProc : 0) | (spec.view.privatePts ? RUN.privatePts : 0);
    const status = runConfined({
      flags,
      rw: pinnedBinds(bindableRoots(spec.writable), readOnly),
      readOnly,
      hide: spec.hide,
      lateRules: spec.view.namespaces ? lateRules(abi, spec, hidden.length > 0) : [],
      rulesetFd,
      fprog,
      landlock: { restrictSelf: SYS_LANDLOCK_RESTRICT_SELF, addRule: SYS_LANDLOCK_ADD_RULE },
      argv,
      supervise: supervisorSettings(l, spec, keep),
    });
    placeholders.release();
    if (status < 0) process.exit(126);
    return mirrorStatus(l, status);
  }
  // Deno: no TinyCC, so no init process; the parent never asks for namespaces here.
  if (spec.view.namespaces) return confineFailed("the namespace view needs the Bun build of ocx");
  try {
    restrictSelf(l, rulesetFd, fprog);
  } catch (e) {
    return confineFailed((e as Error).message.split("\n")[0]!);
  }
  resetSignals(l);
  return execvp(l, argv);
}
