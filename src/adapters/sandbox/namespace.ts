// Loads namespace.c with Bun's embedded TinyCC. TinyCC reads its source from a path and cannot
// see the compiled binary's embedded files, so the text goes through a memfd.
import { cc, dlopen, FFIType, ptr } from "bun:ffi";
import { writeSync } from "node:fs";
import source from "./namespace.c" with { type: "text" };
import { cArray, cstr } from "./libc.ts";

/** clone(2) for each architecture ocx ships (the raw syscall, not glibc's wrapper). */
const SYS_CLONE: Record<string, number> = { x64: 56, arm64: 220 };
const MFD_CLOEXEC = 1;

type NamespaceLib = ReturnType<typeof compile>;
let compiled: NamespaceLib | undefined;

function compile() {
  const { memfd_create } = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  }).symbols;
  const fd = memfd_create(ptr(Buffer.from("ocx-namespace.c\0")), MFD_CLOEXEC);
  if (fd < 0) throw new Error("memfd_create failed");
  writeSync(fd, source);
  return cc({
    source: `/proc/self/fd/${fd}`,
    symbols: {
      ocx_ns_probe: {
        args: [FFIType.i64, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32],
        returns: FFIType.i32,
      },
      ocx_ns_run: {
        args: [FFIType.i64, FFIType.i64, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.ptr],
        returns: FFIType.i32,
      },
    },
  }).symbols;
}

const lib = () => (compiled ??= compile());
const addresses = { addressOf: (b: Uint8Array) => BigInt(ptr(b)) };

function sysClone(): number {
  const n = SYS_CLONE[process.arch];
  if (n === undefined) throw new Error(`no clone syscall number for ${process.arch}`);
  return n;
}

const ids = () => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });

/**
 * Null when a command can be given read-only bind mounts on this host (a user + mount namespace
 * with `/` bound read-only was set up in a throwaway child); otherwise what failed.
 */
export function probeNamespace(): string | null {
  let l: NamespaceLib;
  try {
    l = lib();
  } catch (e) {
    return `cannot compile the namespace helper (${(e as Error).message.split("\n")[0]})`;
  }
  const out = new Uint8Array(512);
  const { uid, gid } = ids();
  const target = cstr("/");
  const r = l.ocx_ns_probe(sysClone(), uid, gid, ptr(target), ptr(out), out.length);
  if (r === 0) return null;
  const text = new TextDecoder().decode(out.subarray(0, out.indexOf(0))).trim();
  return text || "user namespace setup failed";
}

/**
 * Runs argv in a new user + mount namespace where `readOnly` are read-only bind mounts, confined
 * by the prepared Landlock ruleset and seccomp program (null: network allowed). Returns the raw
 * wait status, or -1 when no command was started (the reason is already on stderr).
 */
export function runInNamespace(opts: {
  readOnly: readonly string[];
  rulesetFd: number;
  fprog: Uint8Array | null;
  restrictSelfSyscall: number;
  argv: readonly string[];
}): number {
  const keep: unknown[] = [];
  const ro = cArray(addresses, opts.readOnly, keep);
  const argv = cArray(addresses, opts.argv, keep);
  const { uid, gid } = ids();
  return lib().ocx_ns_run(
    sysClone(),
    opts.restrictSelfSyscall,
    uid,
    gid,
    ptr(ro),
    opts.rulesetFd,
    opts.fprog ? ptr(opts.fprog) : null,
    ptr(argv),
  );
}
