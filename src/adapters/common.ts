// The part of the Runtime port that Bun and Deno share through their Node-compatible modules
// (node:fs, node:os, node:process). Each adapter adds its stdin, spawn and sandbox.
import { appendFileSync, readdirSync, statSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import { setImmediate } from "node:timers";
import process from "node:process";
import { type FileStat, FileTooLargeError, type InputSource, type OutputSink, type Runtime, type SandboxPort } from "../core/runtime.ts";

/** A new file (O_CREAT|O_EXCL); false when something already exists at the path. */
export async function createExclusive(path: string, data: string, o: { mode: number }): Promise<boolean> {
  try {
    await fsp.writeFile(path, data, { flag: "wx", mode: o.mode });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * stdout/stderr. A reader that went away (`ocx exec --json | head -1`) makes writes fail with
 * EPIPE; later output is dropped quietly instead of printing a stack trace.
 */
function sink(stream: NodeJS.WriteStream): OutputSink {
  let gone = false;
  stream.on("error", () => {
    gone = true;
  });
  const write = (chunk: string | Uint8Array, done?: () => void) => {
    if (gone) return done?.();
    try {
      stream.write(chunk, done);
    } catch {
      gone = true;
      done?.();
    }
  };
  return {
    write: (chunk) => write(chunk),
    flush: () => new Promise<void>((resolve) => write("", resolve)),
    isTTY: Boolean(stream.isTTY),
  };
}

async function stat(path: string): Promise<FileStat | null> {
  try {
    const s = await fsp.stat(path);
    return { isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs, mode: s.mode };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

/** The local time zone, asked of Intl again only when TZ changed (each ask builds a formatter: milliseconds). */
let zone: { tz: string | undefined; name: string } | undefined;
function timeZone(): string {
  const tz = process.env.TZ;
  if (zone === undefined || zone.tz !== tz) zone = { tz, name: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" };
  return zone.name;
}

/** Calls between two turns of the event loop in readDirs and statAll (signals are heard meanwhile). */
const SYNC_BATCH = 4096;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** readDir of each path, an empty list where it fails: synchronous calls, in batches. */
async function readDirs(paths: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < paths.length; i++) {
    if (i > 0 && i % SYNC_BATCH === 0) await nextTurn();
    try {
      out.push(readdirSync(paths[i]!));
    } catch {
      out.push([]);
    }
  }
  return out;
}

/** stat of each path, null where it fails: synchronous calls, in batches. */
async function statAll(paths: readonly string[]): Promise<Array<FileStat | null>> {
  const out: Array<FileStat | null> = [];
  for (let i = 0; i < paths.length; i++) {
    if (i > 0 && i % SYNC_BATCH === 0) await nextTurn();
    try {
      const s = statSync(paths[i]!);
      out.push({ isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs, mode: s.mode });
    } catch {
      out.push(null);
    }
  }
  return out;
}

/**
 * null when process `pid` is gone (or a zombie); else its start time from /proc (clock ticks
 * since boot), or "" where there is no /proc.
 */
async function processStamp(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is the state (field 3 of proc(5)), fields[19] the start time (field 22).
    return fields[0] === "Z" || fields[0] === "X" ? null : (fields[19] ?? "");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && (await stat("/proc/self/stat").catch(() => null))) return null;
  }
  try {
    process.kill(pid, 0);
    return "";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? "" : null;
  }
}

export interface RuntimeParts {
  name: string;
  readStdin(): ReadableStream<Uint8Array>;
  spawn: Runtime["spawn"];
  listen: Runtime["listen"];
  sandbox: SandboxPort;
}

export function nodeCompatibleRuntime(parts: RuntimeParts): Runtime {
  const stdout = sink(process.stdout);
  const stderr = sink(process.stderr);
  const stdin: InputSource = { isTTY: Boolean(process.stdin.isTTY), readable: parts.readStdin };
  return {
    name: parts.name,
    runtimeVersion: (process.versions as Record<string, string | undefined>)[parts.name],
    platform: process.platform,
    arch: process.arch,
    args: process.argv.slice(2),
    execPath: process.execPath,
    pid: process.pid,
    processStamp,
    env: (name) => process.env[name],
    envAll: () => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      return env;
    },
    cwd: () => process.cwd(),
    homeDir: () => os.homedir(),
    osDescription: () => `${os.type()} ${os.release()}`,
    fetch: globalThis.fetch.bind(globalThis),
    now: () => Date.now(),
    monotonic: () => performance.now(),
    timeZone,
    stdout,
    stderr,
    stdin,
    fs: {
      readFile: async (p, o) => (o?.maxBytes === undefined ? plainBytes(await fsp.readFile(p)) : readBounded(p, o.maxBytes)),
      readTextFile: (p) => fsp.readFile(p, "utf8"),
      writeFile: (p, data, o) => fsp.writeFile(p, data, o?.mode === undefined ? undefined : { mode: o.mode }),
      appendFile: (p, data, o) => fsp.appendFile(p, data, o?.mode === undefined ? undefined : { mode: o.mode }),
      createExclusive,
      appendFileSync: (p, data) => appendFileSync(p, data, { mode: 0o600 }),
      readRange: async (p, offset, length) => {
        const handle = await fsp.open(p, "r");
        try {
          const buf = new Uint8Array(length);
          const { bytesRead } = await handle.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      },
      mkdir: async (p, o) => void (await fsp.mkdir(p, o)),
      stat,
      realpath: (p) => fsp.realpath(p),
      rename: (a, b) => fsp.rename(a, b),
      remove: (p, o) => fsp.rm(p, { force: true, recursive: o?.recursive ?? false }),
      readDir: (p) => fsp.readdir(p),
      chmod: (p, mode) => fsp.chmod(p, mode),
      readDirs,
      statAll,
    },
    spawn: parts.spawn,
    listen: parts.listen,
    sandbox: parts.sandbox,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => void process.off(signal, handler);
    },
    async exit(code) {
      await Promise.all([stdout.flush(), stderr.flush()]);
      process.exit(code);
    },
  };
}

/** A plain Uint8Array view of a Buffer's bytes, without copying them (a 52 MB session costs 50 ms to copy). */
function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads `path` in chunks, refusing past `maxBytes` (one byte more is read to tell). */
async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await fsp.open(path, "r");
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(1024 * 1024, maxBytes + 1 - total);
      const buf = new Uint8Array(want);
      const { bytesRead } = await handle.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    await handle.close();
  }
}
