// Loads namespace.c (native-bun.ts: prebuilt by build.ts, else compiled by TinyCC every time a
// helper starts).
import { FFIType, ptr } from "bun:ffi";
import { loadNative } from "../native-bun.ts";
import source from "./namespace.c" with { type: "text" };
import { syscallNumber } from "../../core/sandbox/seccomp.ts";
import { cArray } from "./libc.ts";

/** ocx_run flags and ocx_probe result bits (namespace.c). */
export const RUN = { namespaces: 1, freshProc: 2, privatePts: 4, unconfined: 8 } as const;
const PROBE = { namespaces: 1, freshProc: 2, privatePts: 4 } as const;

type NamespaceLib = ReturnType<typeof compile>;
let compiled: NamespaceLib | undefined;

const i64 = FFIType.i64;
const i32 = FFIType.i32;
const p = FFIType.ptr;
const SYMBOLS = {
  ocx_probe: { args: [i64, i32, i32, p, i32], returns: i32 },
  ocx_probe_supervisor: { args: [i64, i64], returns: i32 },
  ocx_hold_placeholders: { args: [p, p], returns: FFIType.i32 },
  ocx_release_placeholders: { args: [p, p], returns: FFIType.void },
  ocx_run: { args: [p, i32, i32, i32, p, p, p, p, p, i32, p, p, p], returns: i32 },
} as const;

function compile() {
  return loadNative("ocx-namespace", source, SYMBOLS);
}

const lib = () => (compiled ??= compile());
const addresses = { addressOf: (b: Uint8Array) => BigInt(ptr(b)) };

/** Syscall numbers of this architecture (clone is the raw syscall, not glibc's wrapper). */
const sysno = (name: "clone" | "capset" | "seccomp"): number => syscallNumber(name, process.arch);

const ids = () => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });

/**
 * Null when commands' calls can be handed to the init's supervisor (a seccomp listener can be
 * installed below this process), else why not.
 */
export function probeSupervisor(): string | null {
  let l: NamespaceLib;
  try {
    l = lib();
  } catch (e) {
    return `cannot load the sandbox's C part (${(e as Error).message.split("\n")[0]})`;
  }
  const err = l.ocx_probe_supervisor(sysno("clone"), sysno("seccomp"));
  if (err === 0) return null;
  return err === 16 ? "a seccomp listener exists already (ocx inside another ocx sandbox)" : `seccomp listener: errno ${err}`;
}

/**
 * Placeholder mount points for the absent protected names among `paths` (see namespace.c),
 * shared-locked while the command runs; `release` lets go and removes those nobody else holds.
 */
export function holdPlaceholders(paths: readonly string[]): { release(): void } {
  if (paths.length === 0) return { release() {} };
  const keep: unknown[] = [];
  const list = cArray(addresses, paths, keep);
  const fds = new Int32Array(paths.length);
  const unheld = lib().ocx_hold_placeholders(ptr(list), ptr(fds));
  const release = () => lib().ocx_release_placeholders(ptr(list), ptr(fds));
  if (unheld > 0) {
    release();
    throw new Error(`could not hold the read-only placeholder ${paths[unheld - 1]} (other commands kept making and removing it)`);
  }
  return { release };
}

/** Removes the placeholders at `paths` that no command holds any more (ocx, at the end of a run). */
export function releasePlaceholders(paths: readonly string[]): void {
  if (paths.length === 0) return;
  const keep: unknown[] = [];
  lib().ocx_release_placeholders(ptr(cArray(addresses, paths, keep)), null);
}

/** What the namespace probe found: which parts of the view this host allows, or why none. */
export interface NamespaceSupport {
  namespaces: boolean;
  freshProc: boolean;
  privatePts: boolean;
  problem: string | null;
}

/**
 * Whether commands can run in their own user + mount + pid namespace here, with everything
 * read-only but the writable roots: a throwaway child builds such a view and says what worked.
 */
export function probeNamespace(): NamespaceSupport {
  let l: NamespaceLib;
  try {
    l = lib();
  } catch (e) {
    return { namespaces: false, freshProc: false, privatePts: false, problem: `cannot compile the namespace helper (${(e as Error).message.split("\n")[0]})` };
  }
  const out = new Uint8Array(512);
  const { uid, gid } = ids();
  const bits = l.ocx_probe(sysno("clone"), uid, gid, ptr(out), out.length);
  const text = new TextDecoder().decode(out.subarray(0, out.indexOf(0))).trim();
  return {
    namespaces: (bits & PROBE.namespaces) !== 0,
    freshProc: (bits & PROBE.freshProc) !== 0,
    privatePts: (bits & PROBE.privatePts) !== 0,
    problem: bits & PROBE.namespaces ? null : text || "user namespace setup failed",
  };
}

/**
 * Runs argv confined (see namespace.c): `flags` RUN_* bits; with namespaces, `rw` are bound
 * writable, `readOnly` read-only and `hide` covered. Returns the raw wait status, or -1 when no
 * command was started (the reason is already on stderr).
 */
export function runConfined(opts: {
  flags: number;
  rw: readonly string[];
  readOnly: readonly string[];
  hide: readonly string[];
  /** Landlock rules the init adds after mounting /proc and /dev/pts (their new mounts hide the old rules). */
  lateRules: readonly { path: string; rights: number }[];
  rulesetFd: number;
  fprog: Uint8Array;
  landlock: { restrictSelf: number; addRule: number };
  argv: readonly string[];
  /** struct supervisor (namespace.c), all zero for none. */
  supervise: BigUint64Array;
}): number {
  const keep: unknown[] = [];
  const list = (items: readonly string[]) => ptr(cArray(addresses, items, keep));
  const { uid, gid } = ids();
  const sysnos = new BigInt64Array([sysno("clone"), opts.landlock.restrictSelf, sysno("capset"), opts.landlock.addRule].map(BigInt));
  const rights = new BigUint64Array([...opts.lateRules.map((r) => BigInt(r.rights)), 0n]);
  return lib().ocx_run(
    ptr(sysnos),
    opts.flags,
    uid,
    gid,
    list(opts.rw),
    list(opts.readOnly),
    list(opts.hide),
    list(opts.lateRules.map((r) => r.path)),
    ptr(rights),
    opts.rulesetFd,
    ptr(opts.fprog),
    list(opts.argv),
    ptr(opts.supervise),
  );
}
