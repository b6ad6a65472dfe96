// The bytes handed to the kernel: the seccomp program (run through a small classic-BPF
// interpreter) and the Landlock structures and rights per ABI.
import { describe, expect, test } from "bun:test";
import {
  FS,
  grantedFs,
  handledFs,
  knownFsRights,
  pathBeneathAttr,
  readExclusions,
  rulesetAttr,
  SCOPE,
  scopes,
} from "../../src/core/sandbox/landlock.ts";
import {
  encodeProgram,
  EPERM,
  commandFilterProgram,
  ENOSYS,
  INODE_FLAG_IOCTLS,
  SECCOMP_RET_USER_NOTIF,
  SUPERVISED_SYSCALLS,
  supervisedNumbers,
  supervisorFilterProgram,
  TIOCLINUX,
  TIOCSTI,
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
    } else if (code === 0x54) {
      acc = (acc & k) >>> 0;
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

const networkFilterProgram = (arch: SeccompArch) => commandFilterProgram(arch, { network: false, refuseMetadata: false });
const ALLOW = SECCOMP_RET_ALLOW;

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
    test(`${arch}: io_uring refused; ordinary syscalls allowed`, () => {
      for (const nr of [425, 426, 427]) expect(run(prog, { nr, arch: ARCH[arch] })).toBe(DENY);
      const ordinary = arch === "x64" ? [0, 1, 2, 3, 9, 57, 59, 61, 63, 257, 262] : [63, 64, 56, 57, 221, 222, 260, 79];
      for (const nr of ordinary) expect(run(prog, { nr, arch: ARCH[arch] })).toBe(SECCOMP_RET_ALLOW);
    });
    test(`${arch}: with the network on, every socket family is allowed`, () => {
      const open = commandFilterProgram(arch, { network: true, refuseMetadata: false });
      for (const family of [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK]) {
        expect(run(open, { nr: SOCKET[arch], arch: ARCH[arch], args: [family, 1, 0] })).toBe(ALLOW);
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

const NR = {
  x64: { ioctl: 16, mknod: 133, mknodat: 259, clone: 56, clone3: 435, unshare: 272, ptrace: 101, mount: 165, setns: 308, keyctl: 250, bpf: 321, reboot: 169, chmod: 90, fchmod: 91, fchmodat: 268, fchownat: 260, fsetxattr: 190, utimensat: 280, process_vm_readv: 310 },
  arm64: { ioctl: 29, mknod: null, mknodat: 33, clone: 220, clone3: 435, unshare: 97, ptrace: 117, mount: 40, setns: 268, keyctl: 219, bpf: 280, reboot: 142, chmod: null, fchmod: 52, fchmodat: 53, fchownat: 54, fsetxattr: 7, utimensat: 88, process_vm_readv: 270 },
} as const;

describe("seccomp command filter: what no sandboxed command may do", () => {
  for (const arch of ["x64", "arm64"] as SeccompArch[]) {
    const prog = commandFilterProgram(arch, { network: true, refuseMetadata: false });
    const nr = NR[arch];
    const call = (n: number, args: number[] = []) => run(prog, { nr: n, arch: ARCH[arch], args });
    test(`${arch}: TIOCSTI and TIOCLINUX refused whatever the upper bits of the request; other ioctls allowed`, () => {
      expect(call(nr.ioctl, [0, TIOCSTI])).toBe(DENY);
      expect(call(nr.ioctl, [0, TIOCLINUX])).toBe(DENY);
      expect(call(nr.ioctl, [0, TIOCSTI + 2 ** 32])).toBe(DENY);
      for (const req of [0x5401 /* TCGETS */, 0x5413 /* TIOCGWINSZ */, 0x541b /* FIONREAD */, ...INODE_FLAG_IOCTLS]) expect(call(nr.ioctl, [0, req])).toBe(ALLOW);
    });
    test(`${arch}: character and block device nodes refused; fifos, sockets and files allowed`, () => {
      const modeArg = (mode: number) => (arch === "x64" ? [0, mode, 0] : [0, 0, mode, 0]);
      const mknodat = (mode: number) => call(nr.mknodat, [-100 >>> 0, 0, mode, 0]);
      expect(mknodat(0o020644)).toBe(DENY);
      expect(mknodat(0o060644)).toBe(DENY);
      for (const mode of [0o010644, 0o140644, 0o100644, 0o644]) expect(mknodat(mode)).toBe(ALLOW);
      if (nr.mknod !== null) {
        expect(call(nr.mknod, modeArg(0o020600))).toBe(DENY);
        expect(call(nr.mknod, [0, 0o010600])).toBe(ALLOW);
      }
    });
    test(`${arch}: new namespaces refused (clone flags, unshare), clone3 answers ENOSYS so libc falls back to clone`, () => {
      expect(call(nr.clone, [0x01200011 /* fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD */])).toBe(ALLOW);
      expect(call(nr.clone, [0x003d0f00 /* pthread_create */])).toBe(ALLOW);
      for (const ns of [0x10000000, 0x00020000, 0x20000000, 0x40000000, 0x08000000, 0x04000000, 0x02000000]) {
        expect(call(nr.clone, [ns | 17])).toBe(DENY);
        expect(call(nr.unshare, [ns])).toBe(DENY);
      }
      expect(call(nr.unshare, [0x80 /* CLONE_NEWTIME */])).toBe(DENY);
      expect(call(nr.unshare, [0x00000400 /* CLONE_FILES */])).toBe(ALLOW);
      expect(call(nr.clone3)).toBe((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);
    });
    test(`${arch}: mounts, setns, ptrace, other processes' memory, keyrings, bpf and reboot refused`, () => {
      for (const n of [nr.mount, nr.setns, nr.ptrace, nr.process_vm_readv, nr.keyctl, nr.bpf, nr.reboot]) expect(call(n)).toBe(DENY);
    });
    test(`${arch}: metadata calls allowed with the mount view, refused without it; timestamps only when asked`, () => {
      const meta = [nr.fchmod, nr.fchmodat, nr.fchownat, nr.fsetxattr, ...(nr.chmod === null ? [] : [nr.chmod])];
      for (const n of [...meta, nr.utimensat]) expect(call(n)).toBe(ALLOW);
      const strict = commandFilterProgram(arch, { network: true, refuseMetadata: true });
      for (const n of meta) expect(run(strict, { nr: n, arch: ARCH[arch] })).toBe(DENY);
      for (const req of INODE_FLAG_IOCTLS) expect(run(strict, { nr: nr.ioctl, arch: ARCH[arch], args: [3, req] })).toBe(DENY);
      expect(run(strict, { nr: nr.utimensat, arch: ARCH[arch] })).toBe(ALLOW);
      const noTimes = commandFilterProgram(arch, { network: true, refuseMetadata: true, refuseTimes: true });
      expect(run(noTimes, { nr: nr.utimensat, arch: ARCH[arch] })).toBe(DENY);
    });
  }
});

describe("seccomp: the metadata supervisor's filters", () => {
  for (const arch of ["x64", "arm64"] as SeccompArch[]) {
    const nr = NR[arch];
    test(`${arch}: the notify filter hands every supervised call to the supervisor and nothing else`, () => {
      const prog = supervisorFilterProgram(arch, { metadata: true, connect: false });
      const notify = SECCOMP_RET_USER_NOTIF >>> 0;
      const numbers = supervisedNumbers(arch);
      expect(numbers).toHaveLength(SUPERVISED_SYSCALLS.length);
      const connect = numbers.at(-1)!;
      for (const n of numbers.filter((n) => n >= 0 && n !== connect)) expect(run(prog, { nr: n, arch: ARCH[arch] })).toBe(notify);
      expect(run(prog, { nr: connect, arch: ARCH[arch] })).toBe(ALLOW);
      // connect alone (namespaces, network off), and both (no namespaces, network off)
      const onlyConnect = supervisorFilterProgram(arch, { metadata: false, connect: true });
      expect(run(onlyConnect, { nr: connect, arch: ARCH[arch] })).toBe(notify);
      expect(run(onlyConnect, { nr: nr.fchmod, arch: ARCH[arch] })).toBe(ALLOW);
      const both = supervisorFilterProgram(arch, { metadata: true, connect: true });
      for (const n of [connect, nr.fchmod, nr.utimensat]) expect(run(both, { nr: n, arch: ARCH[arch] })).toBe(notify);
      for (const n of [nr.fchmod, nr.fchmodat, nr.fchownat, nr.fsetxattr, nr.utimensat]) expect(run(prog, { nr: n, arch: ARCH[arch] })).toBe(notify);
      for (const n of [nr.ioctl, nr.clone, nr.mount, 0, 1, 63, 64]) {
        if (!numbers.includes(n)) expect(run(prog, { nr: n, arch: ARCH[arch] })).toBe(ALLOW);
      }
      // another ABI is left to the command filter, which kills it
      expect(run(prog, { nr: nr.fchmod, arch: arch === "x64" ? ARCH.arm64 : ARCH.x64 })).toBe(ALLOW);
    });
    test(`${arch}: with the supervisor, the command filter lets metadata calls through to it but still refuses what it cannot check`, () => {
      const prog = commandFilterProgram(arch, { network: true, refuseMetadata: true, refuseTimes: true, supervised: true });
      for (const n of [nr.fchmod, nr.fchmodat, nr.fchownat, nr.fsetxattr, nr.utimensat]) expect(run(prog, { nr: n, arch: ARCH[arch] })).toBe(ALLOW);
      for (const n of [463, 466]) expect(run(prog, { nr: n, arch: ARCH[arch] })).toBe(DENY); // setxattrat, removexattrat
      for (const req of INODE_FLAG_IOCTLS) expect(run(prog, { nr: nr.ioctl, arch: ARCH[arch], args: [3, req] })).toBe(DENY);
      expect(run(prog, { nr: nr.ioctl, arch: ARCH[arch], args: [0, TIOCSTI] })).toBe(DENY);
    });
  }
  test("x64 and arm64 numbers of the supervised calls (the supervisor's OP_* order)", () => {
    expect(supervisedNumbers("x64")).toEqual([90, 91, 268, 452, 92, 93, 94, 260, 188, 189, 190, 197, 198, 199, 132, 235, 261, 280, 42]);
    expect(supervisedNumbers("arm64")).toEqual([-1, 52, 53, 452, -1, 55, -1, 54, 5, 6, 7, 14, 15, 16, -1, -1, -1, 88, 203]);
  });
  test("with the network off, sendto() with a destination address is refused (both halves of the pointer count)", () => {
    for (const arch of ["x64", "arm64"] as SeccompArch[]) {
      const sendto = arch === "x64" ? 44 : 206;
      const prog = commandFilterProgram(arch, { network: false, refuseMetadata: false, refuseAddressedSends: true });
      expect(run(prog, { nr: sendto, arch: ARCH[arch], args: [3, 0, 10, 0, 0, 0] })).toBe(ALLOW);
      expect(run(prog, { nr: sendto, arch: ARCH[arch], args: [3, 0, 10, 0, 0x7ffd1234, 16] })).toBe(DENY);
      expect(run(prog, { nr: sendto, arch: ARCH[arch], args: [3, 0, 10, 0, 2 ** 40, 16] })).toBe(DENY); // low word 0
      const open = commandFilterProgram(arch, { network: true, refuseMetadata: false });
      expect(run(open, { nr: sendto, arch: ARCH[arch], args: [3, 0, 10, 0, 0x7ffd1234, 16] })).toBe(ALLOW);
    }
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
  test("from ABI 6: signals always scoped, abstract unix sockets with the network off", () => {
    expect(scopes(6, false)).toBe(SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
    expect(scopes(7, false)).toBe(SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
    expect(scopes(7, true)).toBe(SCOPE.SIGNAL);
    expect(scopes(5, false)).toBe(0);
  });
  test("path_beneath_attr is packed: 12 bytes, u64 rights then s32 fd", () => {
    const bytes = pathBeneathAttr(FS.WRITE_FILE | FS.MAKE_REG, 7);
    expect(bytes.length).toBe(12);
    const view = new DataView(bytes.buffer);
    expect(view.getBigUint64(0, true)).toBe(BigInt(FS.WRITE_FILE | FS.MAKE_REG));
    expect(view.getInt32(8, true)).toBe(7);
  });
});

describe("Landlock read layer around hidden files", () => {
  test("every directory on the way down maps to the name that must not be granted", () => {
    const map = readExclusions(["/root/.codex/auth.json", "/root/.codex/auth.json.ocx.lock"]);
    expect([...map.keys()]).toEqual(["/", "/root", "/root/.codex"]);
    expect([...map.get("/")!]).toEqual(["root"]);
    expect([...map.get("/root")!]).toEqual([".codex"]);
    expect([...map.get("/root/.codex")!].sort()).toEqual(["auth.json", "auth.json.ocx.lock"]);
  });
  test("two homes: both chains excluded, shared ancestors merged", () => {
    const map = readExclusions(["/a/h1/auth.json", "/a/b/h2/auth.json"]);
    expect([...map.get("/a")!].sort()).toEqual(["b", "h1"]);
    expect(map.get("/a/b")!.has("h2")).toBe(true);
  });
});

describe("the view's pinned folders", () => {
  test("every folder between a root or read-only path and a writable root holding it is bound, parents first", async () => {
    const { pinnedBinds } = await import("../../src/adapters/sandbox/linux.ts");
    expect(pinnedBinds(["/tmp", "/tmp/a/b/ws"], ["/tmp/a/b/ws/.git", "/tmp/h/codex"])).toEqual(["/tmp", "/tmp/a", "/tmp/h", "/tmp/a/b", "/tmp/a/b/ws"]);
    // a root with nothing writable above it pins nothing more
    expect(pinnedBinds(["/work/ws"], ["/work/ws/.git", "/root/.codex"])).toEqual(["/work/ws"]);
    // / as a root: everything above any path is inside it
    expect(pinnedBinds(["/", "/x/y"], [])).toEqual(["/", "/x", "/x/y"]);
  });
});
