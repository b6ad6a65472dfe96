// Loads ocx's C parts on Bun: the shared object that build.ts compiled with the host's C compiler
// and embedded in the binary (about 0.3 ms to load), else the source compiled at run time by
// Bun's embedded TinyCC (several ms). Neither a binary's embedded files nor TinyCC's input can be
// opened by path from the outside, so both go through a memfd.
import { cc, dlopen, FFIType, ptr, type FFIFunction, type Library } from "bun:ffi";
import { readFileSync } from "node:fs";
import { writeAllSync } from "./common.ts";

const MFD_CLOEXEC = 1;

/** A memfd holding `bytes`; its /proc/self/fd path. */
function memfdPath(name: string, bytes: Uint8Array | string): string {
  const { memfd_create } = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  }).symbols;
  const fd = memfd_create(ptr(Buffer.from(`${name}\0`)), MFD_CLOEXEC);
  if (fd < 0) throw new Error("memfd_create failed");
  writeAllSync(fd, bytes);
  return `/proc/self/fd/${fd}`;
}

/** The shared object build.ts embedded (`<name>-<hash>.so`), when this binary has one for this host. */
function loadPrebuilt<Fns extends Record<string, FFIFunction>>(name: string, symbols: Fns): Library<Fns>["symbols"] | null {
  const files = (Bun as { embeddedFiles?: readonly Blob[] }).embeddedFiles ?? [];
  const pattern = new RegExp(`^${name}(-[0-9a-z]+)?\\.so$`);
  const file = files.find((f) => pattern.test((f as Blob & { name?: string }).name ?? ""));
  if (!file) return null;
  try {
    const bytes = readFileSync(`/$bunfs/root/${(file as Blob & { name: string }).name}`);
    return dlopen(memfdPath(`${name}.so`, bytes), symbols).symbols;
  } catch {
    return null; // built for another architecture or libc: compile instead
  }
}

/** The functions `symbols` of C file `name` (build.ts's dist/obj/<name>.so), prebuilt or compiled from `source`. */
export function loadNative<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Library<Fns>["symbols"] {
  return loadPrebuilt(name, symbols) ?? cc({ source: memfdPath(`${name}.c`, source), symbols }).symbols;
}
