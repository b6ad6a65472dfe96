// The part of the Runtime port that Bun and Deno share through their Node-compatible modules
// (node:fs, node:os, node:process). Each adapter adds its stdin, spawn and sandbox.
//
// Start-up: `ocx --version` and `--help` load none of node:fs, node:os and node:tty. A command
// takes node:fs first thing (Runtime.preload), as an ESM import: in a compiled binary
// `import("node:fs")` costs about 1.1 ms where process.getBuiltinModule("node:fs") costs 2.1
// (node:fs/promises: 0.8 against 2.5), so getBuiltinModule is only the fallback of a synchronous
// use before that. node:tty costs ~9 ms either way: it is avoided (isatty below).
//
// Metadata operations (stat, realpath, mkdir, rename, chmod) and reading
// small text files (config, auth, locks) are synchronous system calls behind the async port: a
// few microseconds each, where a round trip through the thread pool costs 0.05-0.3 ms, more on
// a loaded machine, and start-up makes dozens of them before the first request. Reading and
// writing file contents of any size stays asynchronous.
import process from "node:process";
import { concatBytes } from "../core/util/bytes.ts";
import { hostZone, type HostZone } from "./timezone.ts";
import {
  type AppendHandle,
  type EntryMatch,
  type EntryStats,
  type FileStat,
  type FileSystem,
  FileTooLargeError,
  type InputSource,
  type KeyedDigest,
  type OutputSink,
  type ReadHandle,
  type Runtime,
  type SandboxPort,
  type TextLine,
} from "../core/runtime.ts";

let fsModule: typeof import("node:fs") | undefined;
let fspModule: typeof import("node:fs/promises") | undefined;
let osModule: typeof import("node:os") | undefined;
export const nodeFs = () => (fsModule ??= process.getBuiltinModule("node:fs"));
const fsp = async () => (fspModule ??= await import("node:fs/promises"));
const os = () => (osModule ??= process.getBuiltinModule("node:os"));

/** Runtime.preload: node:fs, imported the fast way (node:os is not needed before the first request). */
async function preloadBuiltins(): Promise<void> {
  fsModule ??= await import("node:fs");
}

/** The home folder: $HOME when set, as os.homedir() answers, without loading node:os. */
const homeDir = () => process.env.HOME || os().homedir();

/**
 * `${os.type()} ${os.release()}`. On Linux (whose type is always "Linux") the kernel's release
 * is in /proc (uname(2) reads the same), for a fraction of what loading node:os costs a compiled
 * binary (0.25 ms).
 */
function osDescription(): string {
  if (process.platform === "linux") {
    try {
      return `Linux ${nodeFs().readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}`;
    } catch {
      // no /proc (or not readable): node:os asks uname(2)
    }
  }
  return `${os().type()} ${os().release()}`;
}

/**
 * FileSystem.createExclusive for the runtime (session locks): open(O_CREAT|O_EXCL), one write,
 * close, all synchronous. (The confined patch writer keeps createExclusive below: Deno's
 * writeFileSync sets the mode with a chmod that the sandbox refuses.)
 */
async function createExclusiveNow(path: string, data: string, o: { mode: number }): Promise<boolean> {
  const fs = nodeFs();
  let fd: number;
  try {
    fd = fs.openSync(path, "wx", o.mode);
  } catch (e) {
    if ((e as { code?: string }).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeAllSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** A new file (O_CREAT|O_EXCL); false when something already exists at the path. */
export async function createExclusive(path: string, data: string, o: { mode: number }): Promise<boolean> {
  try {
    await (await fsp()).writeFile(path, data, { flag: "wx", mode: o.mode });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * How a sink writes `chunk`: returns what is left to write after a short write (null when all
 * was written), or throws (EAGAIN, EPIPE…). A Promise means the write is under way: nothing else
 * is written until it settles.
 */
export type WriteSome = (chunk: string | Uint8Array) => Uint8Array | null | Promise<Uint8Array | null>;

/**
 * stdout/stderr written to the file descriptor directly, synchronously, in order. A short write
 * (a full pipe) goes on with the rest; EAGAIN (a non-blocking pipe that is full) keeps the rest
 * queued and tries again shortly, later writes queued behind it. A reader that went away
 * (`ocx exec --json | head -1`) makes writes fail with EPIPE: that and any other failure drops
 * the output quietly from then on, without a stack trace and without ending the run.
 */
export function fdSink(writeSome: WriteSome, isTTY: () => boolean): OutputSink {
  const queue: Array<string | Uint8Array> = [];
  let gone = false;
  /** A retry after EAGAIN, or a write under way: the queue waits for it. */
  let waiting = false;
  let backoffMs = 1;
  let drained: Array<() => void> = [];
  let tty: boolean | undefined;

  const wrote = (rest: Uint8Array | null) => {
    backoffMs = 1;
    if (rest && rest.length > 0) queue[0] = rest;
    else queue.shift();
  };
  const failed = (e: unknown): void => {
    const code = (e as { code?: string }).code;
    if (code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR") {
      waiting = true;
      setTimeout(() => {
        waiting = false;
        pump();
      }, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 50);
      return;
    }
    gone = true;
  };
  const pump = () => {
    while (queue.length > 0 && !gone && !waiting) {
      let rest: ReturnType<WriteSome>;
      try {
        rest = writeSome(queue[0]!);
      } catch (e) {
        failed(e);
        continue;
      }
      if (!(rest instanceof Promise)) {
        wrote(rest);
        continue;
      }
      waiting = true;
      rest.then(
        (r) => {
          waiting = false;
          wrote(r);
          pump();
        },
        (e) => {
          waiting = false;
          failed(e);
          pump();
        },
      );
    }
    if (waiting) return;
    queue.length = 0;
    if (drained.length === 0) return;
    const resolved = drained;
    drained = [];
    for (const resolve of resolved) resolve();
  };

  return {
    write(chunk) {
      if (gone || chunk.length === 0) return;
      const idle = queue.length === 0 && !waiting;
      // A long string goes in pieces, each encoded into the scratch in turn (never all at once).
      if (typeof chunk === "string") queue.push(...pieces(chunk));
      else queue.push(chunk);
      if (idle) pump();
    },
    flush: () => (queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => drained.push(resolve))),
    get isTTY() {
      return (tty ??= isTTY());
    },
  };
}

const encoder = new TextEncoder();

/**
 * One write(2) of `chunk` to `fd` through node:fs; what is left after a short write. A string of
 * at most PIECE_CHARS units is encoded into the scratch (a longer one into a buffer of its own).
 */
export function writeSomeSync(fd: number, chunk: string | Uint8Array): Uint8Array | null {
  // A short ASCII line (a notice, an event) is written as it is: its bytes are its characters.
  if (typeof chunk === "string" && chunk.length <= ASCII_CHECK_MAX && isAscii(chunk)) {
    const n = nodeFs().writeSync(fd, chunk);
    return n < chunk.length ? encoder.encode(chunk.slice(n)) : null;
  }
  if (typeof chunk === "string") {
    // Encoded into the scratch the next write reuses: what a short write leaves is copied out.
    const bytes = chunk.length <= PIECE_CHARS ? encodeInScratch(chunk) : encoder.encode(chunk);
    const n = nodeFs().writeSync(fd, bytes, 0, bytes.length);
    return n < bytes.length ? bytes.slice(n) : null;
  }
  const n = nodeFs().writeSync(fd, chunk, 0, chunk.length);
  return n < chunk.length ? chunk.subarray(n) : null;
}

/** The longest string writeSomeSync looks through for a character outside ASCII. */
const ASCII_CHECK_MAX = 4096;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * `size` bytes that are not zeroed (a plain Uint8Array, whose slice() copies, over memory of its
 * own): only what is written is ever touched, by whoever writes it, where a zeroed array of a few
 * MB costs the calling thread milliseconds on a machine where fresh pages are dear.
 */
export function unzeroedBytes(size: number): Uint8Array {
  const block = process.getBuiltinModule("node:buffer").Buffer.allocUnsafeSlow(size);
  return new Uint8Array(block.buffer, block.byteOffset, block.length);
}

/**
 * The one buffer strings are encoded into on their way to a file descriptor, reused call after
 * call (nothing is left in it between calls). A string of megabytes goes through it in pieces: a
 * buffer its size would be memory touched for the first time (dear on some machines) and enough
 * fresh allocation to set off a garbage collection, for every long answer.
 */
let scratch: Uint8Array | undefined;
const SCRATCH_BYTES = 192 * 1024;
/** The most UTF-16 units encoded in one go: at most 3 bytes each, they fit the scratch. */
export const PIECE_CHARS = SCRATCH_BYTES / 3;

/** `text` as UTF-8 in the scratch (text.length ≤ PIECE_CHARS): valid until the next call. */
function encodeInScratch(text: string): Uint8Array {
  const buf = (scratch ??= new Uint8Array(SCRATCH_BYTES));
  return buf.subarray(0, encoder.encodeInto(text, buf).written);
}

/** `text` cut into pieces of at most PIECE_CHARS units, none cut inside a surrogate pair. */
export function pieces(text: string): string[] {
  if (text.length <= PIECE_CHARS) return [text];
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + PIECE_CHARS, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate waits for its pair
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/**
 * `lines`, each followed by a newline, as UTF-8 to `fd`, through the scratch: as many writes as
 * the bytes need (a blocking descriptor; a short write goes on with the rest). Each line is
 * encoded where it goes: a long one is neither joined to its newline nor copied.
 */
export function writeLinesSync(fd: number, lines: readonly TextLine[]): void {
  const buf = (scratch ??= new Uint8Array(SCRATCH_BYTES));
  let at = 0;
  const flush = () => {
    writeAllSync(fd, buf.subarray(0, at));
    at = 0;
  };
  const put = (piece: string) => {
    for (let rest = piece; ; ) {
      const { read, written } = encoder.encodeInto(rest, buf.subarray(at));
      at += written;
      if (read === rest.length) return;
      // The scratch is full (a character does not fit whole): out with it, on with the rest.
      rest = rest.slice(read);
      flush();
    }
  };
  for (const line of lines) {
    if (typeof line === "string") put(line);
    else for (const piece of line) put(piece);
    if (at === buf.length) flush();
    buf[at++] = 0x0a;
  }
  if (at > 0) flush();
}

/** All of `chunk` to `fd`, through as many writes as a blocking descriptor needs. */
export function writeAllSync(fd: number, chunk: string | Uint8Array): void {
  for (const piece of typeof chunk === "string" ? pieces(chunk) : [chunk]) {
    for (let rest = writeSomeSync(fd, piece); rest; rest = writeSomeSync(fd, rest));
  }
}

/** fdSink through node:fs writeSync (taken at the first write). */
export function nodeFdSink(fd: number): OutputSink {
  return fdSink((chunk) => writeSomeSync(fd, chunk), () => isatty(fd));
}

/** Whether `fd` is a terminal (node:tty, taken when first asked). */
export function isatty(fd: number): boolean {
  return process.getBuiltinModule("node:tty").isatty(fd);
}

/** Whether node:fs has been taken (by a file operation or a sink). */
export const nodeFsLoaded = () => fsModule !== undefined || fspModule !== undefined;

async function stat(path: string): Promise<FileStat | null> {
  try {
    // A missing file is answered without an exception (each costs a few microseconds, and a run
    // looks for a dozen files that are not there before its first request).
    const s = nodeFs().statSync(path, { throwIfNoEntry: false });
    if (!s) return null;
    return { isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs, mode: s.mode };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

/** Calls between two turns of the event loop in readDirs and statEntries (signals are heard meanwhile). */
const SYNC_BATCH = 4096;
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** readDir of each path, an empty list where it fails: synchronous calls, in batches. */
async function readDirs(paths: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  const fs = nodeFs();
  for (let i = 0; i < paths.length; i++) {
    if (i > 0 && i % SYNC_BATCH === 0) await nextTurn();
    try {
      out.push(fs.readdirSync(paths[i]!));
    } catch {
      out.push([]);
    }
  }
  return out;
}

/** FileSystem.startStatEntries' work through node:fs: readdirSync and statSync of each match, in batches. */
export async function statEntries(dirs: readonly string[], match: EntryMatch): Promise<EntryStats> {
  const fs = nodeFs();
  const folder: number[] = [];
  const name: string[] = [];
  const mode: number[] = [];
  const mtimeMs: number[] = [];
  const size: number[] = [];
  let calls = 0;
  for (let d = 0; d < dirs.length; d++) {
    if (++calls % SYNC_BATCH === 0) await nextTurn();
    let names: string[];
    try {
      names = fs.readdirSync(dirs[d]!);
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.length < match.prefix.length + match.suffix.length || !n.startsWith(match.prefix) || !n.endsWith(match.suffix)) continue;
      if (++calls % SYNC_BATCH === 0) await nextTurn();
      let s: import("node:fs").Stats | undefined;
      try {
        s = fs.statSync(`${dirs[d]}/${n}`);
      } catch {
        s = undefined;
      }
      folder.push(d);
      name.push(n);
      mode.push(s?.mode ?? 0);
      mtimeMs.push(s?.mtimeMs ?? 0);
      size.push(s?.size ?? 0);
    }
  }
  return { folder: Uint32Array.from(folder), name: (k) => name[k]!, mode: Uint32Array.from(mode), mtimeMs: Float64Array.from(mtimeMs), size: Float64Array.from(size) };
}

/**
 * null when process `pid` is gone (or a zombie); else its start time from /proc (clock ticks
 * since boot), or "" where there is no /proc.
 */
async function processStamp(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = nodeFs().readFileSync(`/proc/${pid}/stat`, "utf8");
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
  stdout: OutputSink;
  stderr: OutputSink;
  /** Whether standard input is a terminal (asked when first needed). */
  stdinIsTTY(): boolean;
  readStdin(): ReadableStream<Uint8Array>;
  spawn: Runtime["spawn"];
  listen: Runtime["listen"];
  /** Made when first used (the sandbox code is only loaded for commands). */
  sandbox: () => SandboxPort;
  /** The host's IANA time zone, as Intl names it. */
  timeZone: () => string;
  /** Its offset at an instant, when known without ICU (see Runtime.utcOffsetMs). */
  utcOffsetMs?: (ms: number) => number | undefined;
  /** See Runtime.collectGarbage. */
  collectGarbage?: Runtime["collectGarbage"];
  /** See Runtime.preconnect. */
  preconnect?: (url: string) => void;
  /** See Runtime.afterStartup. */
  afterStartup?: () => void;
  /** See Runtime.keepBelowTopTier. */
  keepBelowTopTier?: Runtime["keepBelowTopTier"];
  /** See Runtime.loadByteLoops. */
  loadByteLoops?: Runtime["loadByteLoops"];
  /** See FileSystem.startStatDays (where the runtime has one). */
  startStatDays?: FileSystem["startStatDays"];
}

/**
 * Runtime.randomFill: /dev/urandom, read with node:fs (0.02 ms where starting WebCrypto's
 * generator costs 0.1 ms), 256 bytes at a time: a run's ids (16 bytes each) take theirs from one
 * read, each byte handed out once. crypto.getRandomValues where the device cannot be read.
 */
function randomFill(bytes: Uint8Array): void {
  if (randomPool.length - randomAt < bytes.length) {
    randomPool = urandom(Math.max(RANDOM_POOL_BYTES, bytes.length));
    randomAt = 0;
  }
  bytes.set(randomPool.subarray(randomAt, randomAt + bytes.length));
  // Handed out: not kept where a later dump of the pool could show it.
  randomPool.fill(0, randomAt, randomAt + bytes.length);
  randomAt += bytes.length;
}

const RANDOM_POOL_BYTES = 256;
let randomPool: Uint8Array = new Uint8Array(0);
let randomAt = 0;

/** `size` bytes from /dev/urandom, or from crypto.getRandomValues where the device cannot be read. */
function urandom(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let fd: number | undefined;
  try {
    const fs = nodeFs();
    fd = fs.openSync("/dev/urandom", "r");
    for (let done = 0; done < bytes.length; ) {
      const n = fs.readSync(fd, bytes, done, bytes.length - done, null);
      if (n <= 0) throw new Error("/dev/urandom gave no bytes");
      done += n;
    }
  } catch {
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  } finally {
    if (fd !== undefined) nodeFs().closeSync(fd);
  }
  return bytes;
}

/**
 * Runtime.keyedDigest: AES-256-GMAC (GCM with the bytes as its additional data and nothing to
 * encrypt) under a random key, through node:crypto. It runs at memory speed where SHA-256 does
 * not (here a 50 MB history's tags take 3 ms plus about 3 us a tag, its SHA-256 33 ms). Each
 * tag is made under a nonce of its own, a counter (the key is this digest's alone), written
 * into the tag with the code.
 */
function gmacDigest(): KeyedDigest {
  // node:crypto and the key when the first tag is made (a small session's resume makes none).
  let key: { crypto: typeof import("node:crypto"); bytes: Uint8Array } | undefined;
  let made = 0;
  const code = (bytes: Uint8Array, n: number): string => {
    if (!key) {
      const crypto = process.getBuiltinModule("node:crypto");
      key = { crypto, bytes: crypto.randomFillSync(new Uint8Array(32)) };
    }
    // The counter, big-endian, in the last eight bytes (no DataView: a small array's buffer is
    // made on first access, at a cost per tag).
    const nonce = new Uint8Array(12);
    for (let k = 11, v = n; k >= 4; k--, v = Math.floor(v / 256)) nonce[k] = v % 256;
    const gcm = key.crypto.createCipheriv("aes-256-gcm", key.bytes, nonce);
    gcm.setAAD(bytes);
    gcm.final();
    return `${n}:${gcm.getAuthTag().toString("base64")}`;
  };
  return {
    tag: (bytes) => code(bytes, made++),
    matches: (bytes, tag) => {
      const n = Number(tag.slice(0, tag.indexOf(":")));
      return Number.isSafeInteger(n) && n >= 0 && code(bytes, n) === tag;
    },
  };
}

/** FileSystem.openReadSync through node:fs. */
function openReadSync(path: string): ReadHandle {
  const fs = nodeFs();
  let fd: number | undefined = fs.openSync(path, "r");
  return {
    readSync(offset, length, into) {
      if (fd === undefined) throw new Error("the file was closed");
      if (into && into.length < length) length = into.length;
      const buf = into ?? new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    },
    async read(offset, length, into) {
      if (fd === undefined) throw new Error("the file was closed");
      const at = fd;
      if (into && into.length < length) length = into.length;
      const buf = into ?? new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = await new Promise<number>((resolve, reject) => fs.read(at, buf, done, length - done, offset + done, (e, bytes) => (e ? reject(e) : resolve(bytes))));
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    },
    size() {
      if (fd === undefined) throw new Error("the file was closed");
      return fs.fstatSync(fd).size;
    },
    close() {
      const open = fd;
      fd = undefined;
      if (open !== undefined) fs.closeSync(open);
    },
  };
}

/** Whether standard input is /dev/null (the same device), without reading it. */
function stdinIsDevNull(): boolean {
  try {
    const fs = nodeFs();
    const a = fs.fstatSync(0);
    if (!a.isCharacterDevice()) return false;
    const b = fs.statSync("/dev/null");
    return a.rdev === b.rdev && a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The host's time zone from Intl (starts ICU). */
export const intlTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The host's zone without ICU where possible (src/adapters/timezone.ts), read through node:fs. */
export function nodeHostZone(): HostZone {
  const fs = nodeFs();
  return hostZone({
    tz: process.env.TZ,
    readLink: (path) => {
      try {
        return fs.readlinkSync(path);
      } catch {
        return undefined;
      }
    },
    readFile: (path) => {
      try {
        return plainBytes(fs.readFileSync(path));
      } catch {
        return undefined;
      }
    },
    intlZone: intlTimeZone,
  });
}

export function nodeCompatibleRuntime(parts: RuntimeParts): Runtime {
  const { stdout, stderr } = parts;
  let stdinTTY: boolean | undefined;
  let devNull: boolean | undefined;
  const stdin: InputSource = {
    get isTTY() {
      return (stdinTTY ??= parts.stdinIsTTY());
    },
    // /dev/null (`< /dev/null`, a spawner's "ignore") holds nothing: readers need not open it.
    get isDevNull() {
      return (devNull ??= stdinIsDevNull());
    },
    readable: () => parts.readStdin(),
  };
  let sandbox: SandboxPort | undefined;
  let zone: string | undefined;
  // process.* are getters that make their value at the first read (15-20 µs each in a compiled
  // binary): the ones a run may never need are read when asked.
  return {
    name: parts.name,
    get runtimeVersion() {
      return (process.versions as Record<string, string | undefined>)[parts.name];
    },
    platform: process.platform,
    arch: process.arch,
    args: process.argv.slice(2),
    get execPath() {
      return process.execPath;
    },
    get pid() {
      return process.pid;
    },
    processStamp,
    env: (name) => process.env[name],
    envAll: () => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      return env;
    },
    cwd: () => process.cwd(),
    homeDir,
    osDescription,
    fetch: globalThis.fetch.bind(globalThis),
    now: () => Date.now(),
    monotonic: () => performance.now(),
    preload: preloadBuiltins,
    timeZone: () => (zone ??= parts.timeZone()),
    ...(parts.utcOffsetMs ? { utcOffsetMs: parts.utcOffsetMs } : {}),
    ...(parts.collectGarbage ? { collectGarbage: parts.collectGarbage } : {}),
    ...(parts.preconnect ? { preconnect: parts.preconnect } : {}),
    ...(parts.afterStartup ? { afterStartup: parts.afterStartup } : {}),
    ...(parts.keepBelowTopTier ? { keepBelowTopTier: parts.keepBelowTopTier } : {}),
    ...(parts.loadByteLoops ? { loadByteLoops: parts.loadByteLoops } : {}),
    keyedDigest: gmacDigest,
    ...(process.platform === "win32" ? {} : { randomFill }),
    stdout,
    stderr,
    stdin,
    fs: {
      readFile: async (p, o) => (o?.maxBytes === undefined ? plainBytes(await (await fsp()).readFile(p)) : readBounded(p, o.maxBytes)),
      readTextFile: async (p) => nodeFs().readFileSync(p, "utf8"),
      writeFile: async (p, data, o) => (await fsp()).writeFile(p, data, o?.mode === undefined ? undefined : { mode: o.mode }),
      appendFile: async (p, data, o) => (await fsp()).appendFile(p, data, o?.mode === undefined ? undefined : { mode: o.mode }),
      createExclusive: createExclusiveNow,
      appendFileSync: (p, data) => nodeFs().appendFileSync(p, data, { mode: 0o600 }),
      openAppendSync,
      readRange: async (p, offset, length, into) => {
        const handle = await (await fsp()).open(p, "r");
        try {
          if (into && into.length < length) length = into.length;
          const buf = into ?? new Uint8Array(length);
          const { bytesRead } = await handle.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      },
      openReadSync,
      mkdir: async (p, o) => void nodeFs().mkdirSync(p, o),
      stat,
      realpath: async (p) => nodeFs().realpathSync.native(p),
      rename: async (a, b) => nodeFs().renameSync(a, b),
      remove: async (p, o) => (await fsp()).rm(p, { force: true, recursive: o?.recursive ?? false }),
      // (synchronous: a day folder of rollouts is read in well under a millisecond, where loading
      // node:fs/promises and a round trip to the I/O threads cost a resume by id several)
      readDir: async (p) => nodeFs().readdirSync(p),
      chmod: async (p, mode) => nodeFs().chmodSync(p, mode),
      readDirs,
      startStatEntries: async (dirs, match) => () => statEntries(dirs, match),
      ...(parts.startStatDays ? { startStatDays: parts.startStatDays } : {}),
    },
    spawn: parts.spawn,
    listen: parts.listen,
    get sandbox() {
      return (sandbox ??= parts.sandbox());
    },
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

/** FileSystem.openAppendSync: one O_APPEND descriptor; a write to a file removed meanwhile throws ENOENT. */
function openAppendSync(path: string): AppendHandle {
  const fs = nodeFs();
  const fd = fs.openSync(path, "a", 0o600);
  let open = true;
  return {
    appendLines(lines) {
      if (!open) throw new Error("the file is closed");
      // Removed (or its folder): appendFileSync would fail with ENOENT, so does this.
      if (fs.fstatSync(fd).nlink === 0) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
      writeLinesSync(fd, lines);
    },
    close() {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}

/** A plain Uint8Array view of a Buffer's bytes, without copying them (a 52 MB session costs 50 ms to copy). */
function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads `path` in chunks, refusing past `maxBytes` (one byte more is read to tell). */
async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await (await fsp()).open(path, "r");
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
    return concatBytes(chunks);
  } finally {
    await handle.close();
  }
}
