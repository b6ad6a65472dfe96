// The Libc port through bun:ffi.
import { CString, dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import type { Arg, Libc } from "./libc.ts";

const i64 = FFIType.i64;
const int = (a: Arg | undefined): number | bigint => (a instanceof Uint8Array ? ptr(a) : (a ?? 0));

// Every i32 argument is made one with `| 0`: bun:ffi reads a number JavaScriptCore holds as a
// double (even a whole one) as 0 for an i32, and kill(0, sig) would signal the whole group.
export function openLibc(): Libc {
  const l = dlopen("libc.so.6", {
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
  return {
    syscall: (n, a, b, c, d) => l.syscall(n, int(a), int(b), int(c), int(d)),
    prctl: (o, a, b, c, d) => l.prctl(o | 0, int(a), int(b), int(c), int(d)),
    open: (path, flags) => l.open(ptr(path), flags | 0),
    close: (fd) => l.close(fd | 0),
    signal: (sig, handler) => void l.signal(sig | 0, handler),
    sigprocmask: (how, set) => l.sigprocmask(how | 0, ptr(set), 0),
    execvp: (file, argv) => l.execvp(ptr(file), ptr(argv)),
    kill: (pid, sig) => l.kill(pid | 0, sig | 0),
    errno: () => read.i32(l.__errno_location() as Pointer, 0),
    strerror: (e) => new CString(l.strerror(e | 0) as Pointer).toString(),
    addressOf: (buf) => BigInt(ptr(buf)),
  };
}
