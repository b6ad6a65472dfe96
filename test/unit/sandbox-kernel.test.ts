// The bytes handed to the kernel: the seccomp program (run through a small classic-BPF
// interpreter) and the Landlock structures and rights per ABI.
import { describe, expect, test } from "bun:test";
import {
  FS,
  grantedFs,
  handledFs,
  knownFsRights,
  pathBeneathAttr,
  rulesetAttr,
  SCOPE,
  scopes,
} from "../../src/core/sandbox/landlock.ts";
import {
  encodeProgram,
  EPERM,
  networkFilterProgram,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  type BpfInsn,
  type SeccompArch,
} from "../../src/core/sandbox/seccomp.ts";

/** Runs a classic-BPF seccomp program over struct seccomp_data {nr, arch, ip, args[6]}. */
function run(prog: BpfInsn[], data: { nr: number; arch: number; args?: number[] }): number {
  const mem = new DataView(new ArrayBuffer(64));
  mem.setUint32(0, data.nr >>> 0, true);
  mem.setUint32(4, data.arch >>> 0, true);
  (data.args ?? []).forEach((a, i) => mem.setBigUint64(16 + i * 8, BigInt(a), true));
  let acc = 0;
  for (let pc = 0; pc < prog.length; ) {
    const { code, jt, jf, k } = prog[pc]!;
    if (code === 0x20) {
      acc = mem.getUint32(k, true);
      pc++;
    } else if (code === 0x15 || code === 0x35) {
      const hit = code === 0x15 ? acc === k >>> 0 : acc >>> 0 >= k >>> 0;
      pc += 1 + (hit ? jt : jf);
    } else if (code === 0x06) {
      return k >>> 0;
    } else {
      throw new Error(`unknown opcode ${code}`);
    }
  }
  throw new Error("fell off the end of the program");
}

const ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 };
const SOCKET = { x64: 41, arm64: 198 };
const DENY = (SECCOMP_RET_ERRNO | EPERM) >>> 0;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

describe("seccomp network filter", () => {
  for (const arch of ["x64", "arm64"] as SeccompArch[]) {
    const prog = networkFilterProgram(arch);
    test(`${arch}: AF_UNIX sockets allowed, every other family refused with EPERM`, () => {
      expect(run(prog, { nr: SOCKET[arch], arch: ARCH[arch], args: [AF_UNIX, 1, 0] })).toBe(SECCOMP_RET_ALLOW);
      for (const family of [AF_INET, AF_INET6, AF_NETLINK, 17, 0]) {
        expect(run(prog, { nr: SOCKET[arch], arch: ARCH[arch], args: [family, 1, 0] })).toBe(DENY);
      }
      // only the low word of args[0] is the int argument
      expect(run(prog, { nr: SOCKET[arch], arch: ARCH[arch], args: [AF_UNIX + 2 ** 32] })).toBe(SECCOMP_RET_ALLOW);
    });
    test(`${arch}: io_uring_setup refused; ordinary syscalls allowed`, () => {
      expect(run(prog, { nr: 425, arch: ARCH[arch] })).toBe(DENY);
      for (const nr of [0, 1, 2, 56, 59, 63, 221, 257, 435]) {
        if (nr === SOCKET[arch]) continue;
        expect(run(prog, { nr, arch: ARCH[arch] })).toBe(SECCOMP_RET_ALLOW);
      }
    });
    test(`${arch}: a call from another architecture kills the process`, () => {
      const other = arch === "x64" ? ARCH.arm64 : ARCH.x64;
      expect(run(prog, { nr: SOCKET[arch], arch: other, args: [AF_INET] })).toBe(SECCOMP_RET_KILL_PROCESS >>> 0);
      expect(run(prog, { nr: 0, arch: 0x40000003 })).toBe(SECCOMP_RET_KILL_PROCESS >>> 0); // i386
    });
  }
  test("x64: x32-ABI syscall numbers are refused (they would dodge the socket rule)", () => {
    const prog = networkFilterProgram("x64");
    expect(run(prog, { nr: 0x40000000 + 41, arch: ARCH.x64, args: [AF_INET] })).toBe(DENY);
    expect(run(prog, { nr: 0x40000000, arch: ARCH.x64 })).toBe(DENY);
  });
  test("encoding: 8 bytes per instruction, little-endian code/jt/jf/k", () => {
    const bytes = encodeProgram([{ code: 0x15, jt: 2, jf: 3, k: 0xc000003e }]);
    expect([...bytes]).toEqual([0x15, 0x00, 2, 3, 0x3e, 0x00, 0x00, 0xc0]);
    expect(encodeProgram(networkFilterProgram("arm64")).length).toBe(networkFilterProgram("arm64").length * 8);
  });
});

describe("Landlock rights and structures", () => {
  test("rights unknown to an ABI are never passed (the kernel would answer EINVAL)", () => {
    for (let abi = 1; abi <= 7; abi++) {
      expect(handledFs(abi) & ~knownFsRights(abi)).toBe(0);
      expect(grantedFs(abi, true) & ~handledFs(abi)).toBe(0);
      expect(grantedFs(abi, false) & ~handledFs(abi)).toBe(0);
    }
    expect(knownFsRights(1) & (FS.REFER | FS.TRUNCATE | FS.IOCTL_DEV)).toBe(0);
    expect(handledFs(2) & FS.REFER).toBe(FS.REFER);
    expect(handledFs(3) & FS.TRUNCATE).toBe(FS.TRUNCATE);
    expect(handledFs(5) & FS.IOCTL_DEV).toBe(FS.IOCTL_DEV);
  });
  test("reads and execution are not handled: everything stays readable", () => {
    for (let abi = 1; abi <= 7; abi++) expect(handledFs(abi) & (FS.READ_FILE | FS.READ_DIR | FS.EXECUTE)).toBe(0);
  });
  test("a rule on a file carries only file rights; on a directory, every write right but REFER", () => {
    expect(grantedFs(7, false)).toBe(FS.WRITE_FILE | FS.TRUNCATE | FS.IOCTL_DEV);
    expect(grantedFs(7, true) & FS.MAKE_REG).toBe(FS.MAKE_REG);
    expect(grantedFs(7, true) & FS.REMOVE_DIR).toBe(FS.REMOVE_DIR);
    expect(grantedFs(7, true) & FS.REFER).toBe(0);
  });
  test("ruleset_attr is 8 bytes up to ABI 3, 16 from 4 (net), 24 from 6 (scoped)", () => {
    expect(rulesetAttr(1, 0xff, 0).length).toBe(8);
    expect(rulesetAttr(3, 0xff, 0).length).toBe(8);
    expect(rulesetAttr(4, 0xff, 3).length).toBe(16);
    expect(rulesetAttr(6, 0xff, 3).length).toBe(24);
    const view = new DataView(rulesetAttr(7, 0x1234, 3).buffer);
    expect(view.getBigUint64(0, true)).toBe(0x1234n);
    expect(view.getBigUint64(8, true)).toBe(3n);
    expect(view.getBigUint64(16, true)).toBe(0n);
    const scoped = new DataView(rulesetAttr(6, 0xff, 3, SCOPE.ABSTRACT_UNIX_SOCKET).buffer);
    expect(scoped.getBigUint64(16, true)).toBe(1n);
  });
  test("abstract unix sockets are scoped from ABI 6 with the network off; signals never", () => {
    expect(scopes(6, false)).toBe(SCOPE.ABSTRACT_UNIX_SOCKET);
    expect(scopes(7, false)).toBe(SCOPE.ABSTRACT_UNIX_SOCKET);
    expect(scopes(7, true)).toBe(0);
    expect(scopes(5, false)).toBe(0);
    expect(scopes(7, false) & SCOPE.SIGNAL).toBe(0);
  });
  test("path_beneath_attr is packed: 12 bytes, u64 rights then s32 fd", () => {
    const bytes = pathBeneathAttr(FS.WRITE_FILE | FS.MAKE_REG, 7);
    expect(bytes.length).toBe(12);
    const view = new DataView(bytes.buffer);
    expect(view.getBigUint64(0, true)).toBe(BigInt(FS.WRITE_FILE | FS.MAKE_REG));
    expect(view.getInt32(8, true)).toBe(7);
  });
});
