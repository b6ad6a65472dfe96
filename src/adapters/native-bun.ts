// Loads ocx's C parts on Bun: the shared object that build.ts compiled with the host's C compiler
// and embedded in the binary (about 0.3 ms to load), else the source compiled at run time by
// Bun's embedded TinyCC (several ms). Neither a binary's embedded files nor TinyCC's input can be
// opened by path from the outside, so both go through a memfd. Nothing here loads node:fs (a few
// ms): the entry loads a C part before the rest of ocx (see dir-stats.ts).
import { cc, dlopen, FFIType, ptr, type FFIFunction, type Library } from "bun:ffi";
import { cstr } from "./sandbox/libc.ts";

const MFD_CLOEXEC = 1;

let libc: { memfd_create(name: Uint8Array, flags: number): number; write(fd: number, buf: Uint8Array, n: number): number } | undefined;

/** A memfd holding `bytes`; its /proc/self/fd path. */
function memfdPath(name: string, bytes: Uint8Array | string): string {
  libc ??= (() => {
    const { symbols } = dlopen("libc.so.6", {
      memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    });
    return {
      memfd_create: (n: Uint8Array, flags: number) => symbols.memfd_create(ptr(n), flags),
      write: (fd: number, buf: Uint8Array, len: number) => Number(symbols.write(fd | 0, ptr(buf), len)),
    };
  })();
  const fd = libc.memfd_create(cstr(name), MFD_CLOEXEC);
  if (fd < 0) throw new Error("memfd_create failed");
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  for (let at = 0; at < data.length; ) {
    const n = libc.write(fd, data.subarray(at), data.length - at);
    if (n <= 0) throw new Error("writing a memfd failed");
    at += n;
  }
  return `/proc/self/fd/${fd}`;
}

/** The embedded shared object build.ts made for C file `name` (`<name>-<hash>.so`), if this binary has one. */
function embeddedObject(name: string): Blob | undefined {
  const files = (Bun as { embeddedFiles?: readonly Blob[] }).embeddedFiles ?? [];
  const pattern = new RegExp(`^${name}(-[0-9a-z]+)?\\.so$`);
  return files.find((f) => pattern.test((f as Blob & { name?: string }).name ?? ""));
}

/** `symbols` of the object `bytes`; null when it cannot be loaded (built for another architecture or libc). */
function openObject<Fns extends Record<string, FFIFunction>>(name: string, bytes: Uint8Array, symbols: Fns): Library<Fns>["symbols"] | null {
  try {
    return dlopen(memfdPath(`${name}.so`, bytes), symbols).symbols;
  } catch {
    return null;
  }
}

const compile = <Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns) => cc({ source: memfdPath(`${name}.c`, source), symbols }).symbols;

/** The functions `symbols` of C file `name` (build.ts's dist/obj/<name>.so), prebuilt or compiled from `source`. */
export function loadNative<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Library<Fns>["symbols"] {
  const file = embeddedObject(name);
  const bytes = file && (process.getBuiltinModule("node:fs").readFileSync(`/$bunfs/root/${(file as Blob & { name: string }).name}`) as Uint8Array);
  return (bytes && openObject(name, bytes, symbols)) ?? compile(name, source, symbols);
}

/** loadNative without node:fs: the object's bytes read as a Blob's. */
export async function loadNativeAsync<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Promise<Library<Fns>["symbols"]> {
  const file = embeddedObject(name);
  const bytes = file && new Uint8Array(await file.arrayBuffer());
  return (bytes && openObject(name, bytes, symbols)) ?? compile(name, source, symbols);
}
