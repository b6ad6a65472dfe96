// The Libc port through Deno.dlopen (needs --allow-ffi).
import type { Arg, Libc } from "./libc.ts";

// The few Deno FFI types used here (the project type-checks against Bun's types).
interface DenoPointerView {
  getInt32(offset?: number): number;
  getCString(offset?: number): string;
}
interface DenoFfi {
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointer: { of(buf: Uint8Array): unknown; value(p: unknown): bigint };
  UnsafePointerView: new (p: unknown) => DenoPointerView;
}
const Deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;

export function openLibc(): Libc {
  const l = Deno.dlopen("libc.so.6", {
    syscall: { parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i32" },
    prctl: { parameters: ["i32", "i64", "i64", "i64", "i64"], result: "i32" },
    open: { parameters: ["buffer", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    signal: { parameters: ["i32", "i64"], result: "i64" },
    sigprocmask: { parameters: ["i32", "buffer", "i64"], result: "i32" },
    execvp: { parameters: ["buffer", "buffer"], result: "i32" },
    kill: { parameters: ["i32", "i32"], result: "i32" },
    __errno_location: { parameters: [], result: "pointer" },
    strerror: { parameters: ["i32"], result: "pointer" },
  }).symbols;
  const addressOf = (buf: Uint8Array) => Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf));
  const int = (a: Arg | undefined): bigint => (a instanceof Uint8Array ? addressOf(a) : BigInt(a ?? 0));
  const call = (name: string, ...args: unknown[]) => Number(l[name]!(...args));
  return {
    syscall: (n, a, b, c, d) => call("syscall", BigInt(n), int(a), int(b), int(c), int(d)),
    prctl: (o, a, b, c, d) => call("prctl", o, int(a), int(b), int(c), int(d)),
    open: (path, flags) => call("open", path, flags),
    close: (fd) => call("close", fd),
    signal: (sig, handler) => void l.signal!(sig, BigInt(handler)),
    sigprocmask: (how, set) => call("sigprocmask", how, set, 0n),
    execvp: (file, argv) => call("execvp", file, new Uint8Array(argv.buffer)),
    kill: (pid, sig) => call("kill", pid, sig),
    errno: () => new Deno.UnsafePointerView(l.__errno_location!()).getInt32(0),
    strerror: (e) => new Deno.UnsafePointerView(l.strerror!(e)).getCString(0),
    addressOf,
  };
}
