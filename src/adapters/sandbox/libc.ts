// The few libc calls the Linux sandbox makes, independent of the runtime's FFI. Pointer
// arguments are byte buffers; each binding (libc-bun.ts: bun:ffi, libc-deno.ts: Deno.dlopen)
// turns them into addresses. The caller keeps every buffer referenced until the call returns.

/** An integer, or a buffer passed by address. */
export type Arg = number | bigint | Uint8Array | null;

export interface Libc {
  syscall(n: number, a?: Arg, b?: Arg, c?: Arg, d?: Arg): number;
  prctl(option: number, a?: Arg, b?: Arg, c?: Arg, d?: Arg): number;
  /** open(2) of a NUL-terminated path. */
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  /** signal(2) with SIG_DFL (0) or SIG_IGN (1). */
  signal(sig: number, handler: number): void;
  sigprocmask(how: number, set: Uint8Array): number;
  /** execvp(file, argv) with a NULL-terminated char*[] built by cArray(); returns only on failure. */
  execvp(file: Uint8Array, argv: BigUint64Array): number;
  kill(pid: number, sig: number): number;
  errno(): number;
  strerror(e: number): string;
  /** The address of a buffer, for structures that hold pointers (sock_fprog, char*[]). */
  addressOf(buf: Uint8Array): bigint;
}

export const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

/** A NULL-terminated char*[] of `items`; the strings are pushed to `keep` to stay alive. */
export function cArray(libc: Pick<Libc, "addressOf">, items: readonly string[], keep: unknown[]): BigUint64Array {
  const bufs = items.map(cstr);
  keep.push(bufs);
  const ptrs = new BigUint64Array(items.length + 1);
  bufs.forEach((b, i) => (ptrs[i] = libc.addressOf(b)));
  return ptrs;
}

/**
 * Opens the binding of the runtime this process runs on. The entry (src/bin/*.ts, through its
 * runtime adapter) picks one; the port never imports its implementations.
 */
export type OpenLibc = () => Promise<Libc>;
