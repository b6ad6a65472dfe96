// seccomp: the classic-BPF filter that takes the network away from a command. Sockets of any
// family but AF_UNIX cannot be created, and io_uring (which can open sockets itself) cannot be
// set up; everything else is allowed. Pure; the Linux adapter installs it.
// Facts: include/uapi/linux/seccomp.h, filter.h, audit.h and the per-arch syscall tables.

export type SeccompArch = "x64" | "arm64";

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const SYS_SOCKET = { x64: 41, arm64: 198 } as const;
const SYS_IO_URING_SETUP = 425; // both
const X32_SYSCALL_BIT = 0x40000000;
const AF_UNIX = 1;
export const EPERM = 1;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;

// BPF opcodes
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;

/** offsetof(struct seccomp_data, ...) */
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LOW = 16; // little-endian low word of args[0]

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const ins = (code: number, k: number, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k });

/** The filter as instructions (tests run them through a small interpreter). */
export function networkFilterProgram(arch: SeccompArch): BpfInsn[] {
  const deny = SECCOMP_RET_ERRNO | EPERM;
  const prog: BpfInsn[] = [
    ins(LD_W_ABS, OFF_ARCH),
    ins(JEQ_K, AUDIT_ARCH[arch], 1, 0),
    ins(RET_K, SECCOMP_RET_KILL_PROCESS), // a foreign ABI would dodge every rule below
    ins(LD_W_ABS, OFF_NR),
  ];
  if (arch === "x64") prog.push(ins(JGE_K, X32_SYSCALL_BIT, 5, 0)); // x32 calls: deny
  prog.push(
    ins(JEQ_K, SYS_IO_URING_SETUP, 4, 0),
    ins(JEQ_K, SYS_SOCKET[arch], 1, 0),
    ins(RET_K, SECCOMP_RET_ALLOW),
    ins(LD_W_ABS, OFF_ARG0_LOW),
    ins(JEQ_K, AF_UNIX, 1, 0),
    ins(RET_K, deny),
    ins(RET_K, SECCOMP_RET_ALLOW),
  );
  // Both the x32 jump (5 ahead) and the io_uring jump (4 ahead) land on `ret deny`.
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

/** The syscall-table architecture of a runtime `arch` string, or null when ocx has none. */
export function seccompArch(arch: string): SeccompArch | null {
  return arch === "x64" || arch === "arm64" ? arch : null;
}
