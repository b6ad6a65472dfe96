// seccomp: the classic-BPF filter every sandboxed command runs under. It refuses what no
// command of an agent needs and what would reach outside the sandbox: terminal injection
// (TIOCSTI, TIOCLINUX), device nodes, new namespaces, mounts, ptrace and other processes'
// memory, kernel keyrings, BPF, perf, io_uring (which performs I/O beyond seccomp's sight),
// module loading and reboot; with the network off, sockets other than AF_UNIX; and, where no
// mount namespace makes the tree outside the writable roots read-only, every metadata change
// (chmod, chown, extended attributes, inode flags), since seccomp cannot tell paths apart.
// Everything else is allowed. Pure; the Linux adapter installs it.
// Facts: include/uapi/linux/seccomp.h, filter.h, audit.h, the per-arch syscall tables, and
// asm-generic/ioctls.h, linux/fs.h for the ioctl numbers.

export type SeccompArch = "x64" | "arm64";

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const X32_SYSCALL_BIT = 0x40000000;
const AF_UNIX = 1;
export const EPERM = 1;
export const ENOSYS = 38;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;

// BPF opcodes
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const AND_K = 0x54;
const RET_K = 0x06;

/** offsetof(struct seccomp_data, ...); args are u64, little-endian: the low word comes first. */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number) => 16 + i * 8;

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const ins = (code: number, k: number, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k });

/** Syscall numbers: x86_64 table, and the generic table arm64 uses (null: no such call). */
const SYS: Record<string, { x64: number | null; arm64: number | null }> = {
  ioctl: { x64: 16, arm64: 29 },
  socket: { x64: 41, arm64: 198 },
  connect: { x64: 42, arm64: 203 },
  sendto: { x64: 44, arm64: 206 },
  clone: { x64: 56, arm64: 220 },
  clone3: { x64: 435, arm64: 435 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  mknod: { x64: 133, arm64: null },
  mknodat: { x64: 259, arm64: 33 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  capset: { x64: 126, arm64: 91 },
  seccomp: { x64: 317, arm64: 277 },
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  reboot: { x64: 169, arm64: 142 },
  chmod: { x64: 90, arm64: null },
  fchmod: { x64: 91, arm64: 52 },
  fchmodat: { x64: 268, arm64: 53 },
  fchmodat2: { x64: 452, arm64: 452 },
  chown: { x64: 92, arm64: null },
  fchown: { x64: 93, arm64: 55 },
  lchown: { x64: 94, arm64: null },
  fchownat: { x64: 260, arm64: 54 },
  setxattr: { x64: 188, arm64: 5 },
  lsetxattr: { x64: 189, arm64: 6 },
  fsetxattr: { x64: 190, arm64: 7 },
  removexattr: { x64: 197, arm64: 14 },
  lremovexattr: { x64: 198, arm64: 15 },
  fremovexattr: { x64: 199, arm64: 16 },
  setxattrat: { x64: 463, arm64: 463 },
  removexattrat: { x64: 466, arm64: 466 },
  utime: { x64: 132, arm64: null },
  utimes: { x64: 235, arm64: null },
  futimesat: { x64: 261, arm64: null },
  utimensat: { x64: 280, arm64: 88 },
};

/** Timestamp changes: refused where nothing may be written and no mount view stands behind Landlock. */
export const TIME_SYSCALLS = ["utime", "utimes", "futimesat", "utimensat"] as const;

/** Refused outright, in every sandbox. */
const ALWAYS_REFUSED = [
  "setns",
  "mount",
  "umount2",
  "pivot_root",
  "chroot",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "keyctl",
  "add_key",
  "request_key",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "reboot",
];

/** chmod, chown and extended-attribute calls whose arguments the supervisor can check (namespace.c's OP_* order). */
const CHECKABLE_METADATA = [
  "chmod",
  "fchmod",
  "fchmodat",
  "fchmodat2",
  "chown",
  "fchown",
  "lchown",
  "fchownat",
  "setxattr",
  "lsetxattr",
  "fsetxattr",
  "removexattr",
  "lremovexattr",
  "fremovexattr",
] as const;

/** Metadata changes, refused when no read-only mount view stands behind Landlock. */
export const METADATA_SYSCALLS: readonly string[] = [...CHECKABLE_METADATA, "setxattrat", "removexattrat"];

export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
/** chattr: FS_IOC_SETFLAGS (and its 32-bit form), FS_IOC_FSSETXATTR. */
export const INODE_FLAG_IOCTLS = [0x40086602, 0x40046602, 0x401c5820];
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (clone's low byte is the exit signal). */
const CLONE_NEW_MASK = 0x7e020000;
const CLONE_NEWTIME = 0x80;

export interface FilterOptions {
  /** Sockets of every family allowed (else AF_UNIX only). */
  network: boolean;
  /**
   * chmod/chown/xattr calls and inode-flag ioctls refused everywhere; with `supervised`, only the
   * calls the supervisor cannot check (setxattrat, removexattrat, inode flags) are refused here.
   */
  refuseMetadata: boolean;
  /** Timestamp changes refused everywhere. */
  refuseTimes?: boolean;
  /** A notify filter hands metadata calls to the supervisor (see supervisorFilterProgram). */
  supervised?: boolean;
  /**
   * sendto() with a destination address refused: with the network off only Unix sockets exist,
   * and a datagram sent to a host socket's path would bypass the supervised connect().
   */
  refuseAddressedSends?: boolean;
}

/** One syscall's rule: refused outright, or refused when an argument (masked) takes a value. */
type Rule =
  | { kind: "refuse"; errno: number }
  | { kind: "refuse-if-set"; arg: number }
  | { kind: "refuse-if"; arg: number; mask?: number; values: number[] }
  | { kind: "allow-only"; arg: number; values: number[] };

function rules(arch: SeccompArch, opts: FilterOptions): Map<number, Rule> {
  const out = new Map<number, Rule>();
  const add = (name: string, rule: Rule) => {
    const nr = SYS[name]![arch];
    if (nr !== null) out.set(nr, rule);
  };
  for (const name of ALWAYS_REFUSED) add(name, { kind: "refuse", errno: EPERM });
  // glibc falls back to clone(2), whose flags seccomp can read; clone3 passes them in memory.
  add("clone3", { kind: "refuse", errno: ENOSYS });
  add("clone", { kind: "refuse-if", arg: 0, mask: CLONE_NEW_MASK, values: [] });
  add("unshare", { kind: "refuse-if", arg: 0, mask: CLONE_NEW_MASK | CLONE_NEWTIME, values: [] });
  add("mknod", { kind: "refuse-if", arg: 1, mask: S_IFMT, values: [S_IFCHR, S_IFBLK] });
  add("mknodat", { kind: "refuse-if", arg: 2, mask: S_IFMT, values: [S_IFCHR, S_IFBLK] });
  // ioctl's request is an unsigned int: only the low word counts, whatever the caller passes above it.
  add("ioctl", { kind: "refuse-if", arg: 1, values: [TIOCSTI, TIOCLINUX, ...(opts.refuseMetadata || opts.supervised ? INODE_FLAG_IOCTLS : [])] });
  if (!opts.network) add("socket", { kind: "allow-only", arg: 0, values: [AF_UNIX] });
  if (opts.refuseAddressedSends) add("sendto", { kind: "refuse-if-set", arg: 4 });
  if (opts.supervised) {
    for (const name of ["setxattrat", "removexattrat"]) add(name, { kind: "refuse", errno: EPERM });
  } else {
    if (opts.refuseMetadata) for (const name of METADATA_SYSCALLS) add(name, { kind: "refuse", errno: EPERM });
    if (opts.refuseTimes) for (const name of TIME_SYSCALLS) add(name, { kind: "refuse", errno: EPERM });
  }
  return out;
}

/**
 * The instructions of one rule, entered with the syscall number in the accumulator; every path
 * ends in a return. A masked rule with no values refuses any call whose masked argument is not 0.
 */
function ruleBlock(rule: Rule): BpfInsn[] {
  const deny = SECCOMP_RET_ERRNO | EPERM;
  if (rule.kind === "refuse") return [ins(RET_K, SECCOMP_RET_ERRNO | rule.errno)];
  if (rule.kind === "refuse-if-set") {
    // A pointer argument: both 32-bit halves must be zero for the call to pass.
    return [
      ins(LD_W_ABS, argLow(rule.arg)),
      ins(JEQ_K, 0, 0, 3),
      ins(LD_W_ABS, argLow(rule.arg) + 4),
      ins(JEQ_K, 0, 0, 1),
      ins(RET_K, SECCOMP_RET_ALLOW),
      ins(RET_K, deny),
    ];
  }
  const block: BpfInsn[] = [ins(LD_W_ABS, argLow(rule.arg))];
  if (rule.kind === "refuse-if" && rule.mask !== undefined) block.push(ins(AND_K, rule.mask));
  if (rule.kind === "refuse-if" && rule.values.length === 0) {
    block.push(ins(JEQ_K, 0, 0, 1), ins(RET_K, SECCOMP_RET_ALLOW), ins(RET_K, deny));
    return block;
  }
  // Each value jumps to the final return when it matches; falling through reaches the other one.
  const [hit, miss] = rule.kind === "refuse-if" ? [deny, SECCOMP_RET_ALLOW] : [SECCOMP_RET_ALLOW, deny];
  rule.values.forEach((v, i) => block.push(ins(JEQ_K, v, rule.values.length - i, 0)));
  block.push(ins(RET_K, miss), ins(RET_K, hit));
  return block;
}

/** The filter as instructions (tests run them through a small interpreter). */
export function commandFilterProgram(arch: SeccompArch, opts: FilterOptions): BpfInsn[] {
  const prog: BpfInsn[] = [
    ins(LD_W_ABS, OFF_ARCH),
    ins(JEQ_K, AUDIT_ARCH[arch], 1, 0),
    ins(RET_K, SECCOMP_RET_KILL_PROCESS), // a foreign ABI would dodge every rule below
    ins(LD_W_ABS, OFF_NR),
  ];
  // x32 calls (x86_64 numbers with bit 30 set) would dodge the numbers below: refused.
  if (arch === "x64") prog.push(ins(JGE_K, X32_SYSCALL_BIT, 0, 1), ins(RET_K, SECCOMP_RET_ERRNO | EPERM));
  // One test per syscall with a rule, its block right after it (short jumps only).
  for (const [nr, rule] of rules(arch, opts)) {
    const block = ruleBlock(rule);
    if (block.length > 255) throw new Error("seccomp block too long");
    prog.push(ins(JEQ_K, nr, 0, block.length), ...block);
  }
  prog.push(ins(RET_K, SECCOMP_RET_ALLOW));
  return prog;
}

export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;

/**
 * The calls the metadata supervisor performs for a command (namespace.c's OP_* order): without
 * the read-only mount view, each is checked against the writable roots instead of refused.
 */
export const SUPERVISED_SYSCALLS = [...CHECKABLE_METADATA, ...TIME_SYSCALLS, "connect"] as const;

/** The metadata calls among SUPERVISED_SYSCALLS (all but connect). */
const SUPERVISED_METADATA = SUPERVISED_SYSCALLS.filter((n) => n !== "connect");

/** The syscall number of each supervised call on `arch` (-1 where the architecture has none). */
export const supervisedNumbers = (arch: SeccompArch): number[] => SUPERVISED_SYSCALLS.map((name) => SYS[name]![arch] ?? -1);

/**
 * The filter installed with SECCOMP_FILTER_FLAG_NEW_LISTENER: every supervised call goes to the
 * supervisor, everything else is left to the command filter (foreign ABIs too: it kills them).
 */
export function supervisorFilterProgram(arch: SeccompArch, what: { metadata: boolean; connect: boolean }): BpfInsn[] {
  const prog: BpfInsn[] = [ins(LD_W_ABS, OFF_ARCH), ins(JEQ_K, AUDIT_ARCH[arch], 1, 0), ins(RET_K, SECCOMP_RET_ALLOW), ins(LD_W_ABS, OFF_NR)];
  const names = [...(what.metadata ? SUPERVISED_METADATA : []), ...(what.connect ? ["connect"] : [])];
  for (const name of names) {
    const nr = SYS[name]![arch];
    if (nr !== null) prog.push(ins(JEQ_K, nr, 0, 1), ins(RET_K, SECCOMP_RET_USER_NOTIF));
  }
  prog.push(ins(RET_K, SECCOMP_RET_ALLOW));
  return prog;
}

/** struct sock_filter[] bytes (u16 code, u8 jt, u8 jf, u32 k; little-endian). */
export function encodeProgram(prog: readonly BpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(prog.length * 8);
  const view = new DataView(bytes.buffer);
  prog.forEach((p, i) => {
    view.setUint16(i * 8, p.code, true);
    view.setUint8(i * 8 + 2, p.jt);
    view.setUint8(i * 8 + 3, p.jf);
    view.setUint32(i * 8 + 4, p.k >>> 0, true);
  });
  return bytes;
}

/** The number of syscall `name` on `arch` (a runtime `arch` string); throws where ocx has none. */
export function syscallNumber(name: string, arch: string): number {
  const a = seccompArch(arch);
  const n = a ? SYS[name]?.[a] : undefined;
  if (n === undefined || n === null) throw new Error(`no ${name} syscall number for ${arch}`);
  return n;
}

/** The syscall-table architecture of a runtime `arch` string, or null when ocx has none. */
export function seccompArch(arch: string): SeccompArch | null {
  return arch === "x64" || arch === "arm64" ? arch : null;
}
