// The one port between ocx's pure core and the host runtime. Everything that touches the
// operating system (files, processes, stdio, signals, environment, network) arrives through an
// object of this shape; src/adapters/*.ts implement it, one file per runtime.
//
// Web-standard globals (ReadableStream, TextEncoder, AbortController, crypto.getRandomValues,
// setTimeout) are shared by every runtime and may be used in core directly; `fetch` is not: it is
// injected here so tests and adapters decide where requests go.

import type { SandboxCapabilities, SandboxSpec } from "./sandbox/types.ts";

export interface OutputSink {
  /** Writes text or bytes; ordering is preserved. */
  write(chunk: string | Uint8Array): void;
  /** Resolves when everything written so far has been handed to the OS. */
  flush(): Promise<void>;
  readonly isTTY: boolean;
}

export interface InputSource {
  readonly isTTY: boolean;
  /** Whether standard input is /dev/null (a spawner's "ignore"): it holds nothing. Optional. */
  readonly isDevNull?: boolean;
  /** The process's standard input as a byte stream (read at most once). */
  readable(): ReadableStream<Uint8Array>;
}

export interface SandboxPort {
  /**
   * What this host can enforce; measured on the first call, then remembered. `carveOuts` is
   * measured only when asked (on Linux it clones a throwaway process), else left null.
   */
  probe(opts?: { carveOuts?: boolean }): Promise<SandboxCapabilities>;
  /** The argv that runs `argv` confined as `spec` says (only after probe() said it can). */
  wrap(spec: SandboxSpec, argv: string[]): string[];
  /**
   * The argv that starts this program again (the compiled binary alone, or runtime + entry
   * file): for its hidden entries, e.g. apply_patch's confined writer.
   */
  readonly selfArgv: readonly string[];
  /**
   * Closes this process to its own commands: on Linux it becomes non-dumpable
   * (prctl PR_SET_DUMPABLE 0), so /proc/<pid>/environ, mem and friends belong to root and
   * ptrace is refused. Done once (later calls return the first answer); nothing to do elsewhere.
   * Null when done, else what failed.
   */
  hardenSelf(): Promise<string | null>;
  /**
   * Removes the placeholder mount points (empty folders of mode 01555 the sandbox helper made
   * for absent protected names) at `paths` that no command holds any more. Optional: only the
   * Linux namespace view makes them.
   */
  releasePlaceholders?(paths: readonly string[]): Promise<void>;
}

/** A line of text: one string, or pieces whose concatenation it is (see util/json-pieces.ts). */
export type TextLine = string | readonly string[];

/** A file opened for appending (FileSystem.openAppendSync). */
export interface AppendHandle {
  /**
   * Appends each of `lines` (a string, or pieces written one after the other) and a newline
   * after it, synchronously (O_APPEND), in one write where the system takes it whole (the text is
   * never joined into one string first: a line of megabytes would be copied again).
   */
  appendLines(lines: readonly TextLine[]): void;
  close(): void;
}

/**
 * Tags of byte strings under a key made for this digest alone, random and held only in this
 * process's memory: bytes that are not the ones a tag was made of do not match it, whoever made
 * them, short of guessing the key (a message authentication code).
 */
export interface KeyedDigest {
  /** The tag of `bytes` (a short string; it holds what the check needs besides the key). */
  tag(bytes: Uint8Array): string;
  /** Whether `bytes` are the bytes `tag` (made by this digest) was made of. */
  matches(bytes: Uint8Array, tag: string): boolean;
}

/** A file opened for reading at any offset (FileSystem.openReadSync). */
export interface ReadHandle {
  /**
   * Up to `length` bytes from `offset` (fewer at the end of the file), synchronously; read into
   * `into` (at its start, a view of it returned) when given.
   */
  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array;
  /** The same, asynchronously (the caller goes on while the bytes are read). */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** The file's size now. */
  size(): number;
  close(): void;
}

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
  mode: number;
}

export interface FileSystem {
  /**
   * The whole file. With `maxBytes`, reading stops past that many bytes and rejects with
   * FileTooLargeError: the bound holds for what stat cannot size (/dev/zero, pipes, growing files).
   */
  readFile(path: string, opts?: { maxBytes?: number }): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  /** Writes a whole file (creating or truncating it). */
  writeFile(path: string, data: string | Uint8Array, opts?: { mode?: number }): Promise<void>;
  appendFile(path: string, data: string | Uint8Array, opts?: { mode?: number }): Promise<void>;
  /** Creates a new file (O_CREAT|O_EXCL); false when something already exists at the path. */
  createExclusive(path: string, data: string, opts: { mode: number }): Promise<boolean>;
  /** Appends synchronously (O_APPEND, one write): for lines that must be on disk before going on. */
  appendFileSync(path: string, data: string): void;
  /**
   * Opens `path` for appending (created with mode 0600): appendFileSync's writes through one
   * handle, without opening the file for each. A write throws, as appendFileSync's would, once
   * the file is no longer at its path (removed). Optional: without it, appendFileSync.
   */
  openAppendSync?(path: string): AppendHandle;
  /**
   * Up to `length` bytes from `offset` (fewer at the end of the file); read into `into` (at its
   * start, a view of it returned) when given, so that a large file can be read piece by piece
   * into the same buffers.
   */
  readRange(path: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Opens `path` for reading at any offset, synchronously (the handle reads the file it opened,
   * even once another file takes its path). Optional: without it, nothing is read that way.
   */
  openReadSync?(path: string): ReadHandle;
  mkdir(path: string, opts?: { recursive?: boolean; mode?: number }): Promise<void>;
  /** null when nothing exists at the path. Follows symlinks. */
  stat(path: string): Promise<FileStat | null>;
  realpath(path: string): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string, opts?: { recursive?: boolean }): Promise<void>;
  readDir(path: string): Promise<string[]>;
  chmod(path: string, mode: number): Promise<void>;
  /**
   * Many folders at once (`--last` among thousands of rollouts): readDir of each path (an empty
   * list where it fails), without a promise per call. Optional: readDir serves otherwise.
   */
  readDirs?(paths: readonly string[]): Promise<string[][]>;
  /**
   * The entries of each folder whose names start with `match.prefix` and end with `match.suffix`
   * (never `.` or `..`), each with its stat (following symlinks), in any order; a folder that
   * cannot be read has none. Started at once where the runtime can work meanwhile (on other
   * threads; the promise resolves once it is under way), else when asked for: the function it
   * resolves to gives the answer, once. Optional: readDir and stat serve otherwise.
   */
  startStatEntries?(dirs: readonly string[], match: EntryMatch): Promise<() => Promise<EntryStats>>;
  /**
   * The date folders under `root` (root/YYYY/MM/DD: three levels of folders named by digits,
   * each level greatest number first, a folder that cannot be read empty) and, for them, what
   * startStatEntries gives. Started at once on other threads, listing included; the function it
   * resolves to gives the answer, once. Null, or a null answer, where the runtime cannot (the
   * caller then lists the folders itself and uses startStatEntries). Optional.
   */
  startStatDays?(root: string, match: EntryMatch): Promise<(() => Promise<DatedEntryStats | null>) | null>;
}

export interface EntryMatch {
  prefix: string;
  suffix: string;
}

/**
 * What passes over the server-sent events nobody reads faster than JavaScript can (a stream is
 * mostly deltas exec does not show): from bytes[at], a line start between events, the whole
 * events before `limit` that are each the line `head` and a LF, then lines beginning with `data:`
 * that end in LF, then a blank line (LF), are passed over. Returns where the first other event
 * starts, and adds to counts[0] the events passed over that had a data line.
 */
export type SkipEvents = (bytes: Uint8Array, at: number, limit: number, head: Uint8Array, counts: Int32Array) => number;

/**
 * The loops over every byte of a model's stream that the runtime does natively where it can
 * (Runtime.loadByteLoops): in JavaScript they run hot enough for the JIT to compile
 * them at full optimisation, which costs more than the loops themselves on a slow machine. Each
 * gives exactly the answer of the JavaScript it stands in for.
 */
export interface ByteLoops {
  skipEvents: SkipEvents;
  /**
   * The string values (not keys) of the JSON text `bytes` whose contents, the bytes between the
   * quotes, are at least `minLong` bytes: where each one's contents start and end, in pairs, in
   * order. Null when a string is not closed. Only quotes are looked for.
   */
  longStrings(bytes: Uint8Array, minLong: number): Int32Array | null;
  /**
   * The contents of a JSON string (between its quotes) with its escapes undone, as UTF-8 (other
   * bytes as they are). Null when they are not a JSON string's (a control character, an unknown
   * escape) or hold a \u escape of an unpaired surrogate.
   */
  unescape(contents: Uint8Array): Uint8Array | null;
}

/** FileSystem.startStatEntries' answer: one column per field, entry k in row k (no object per file). */
export interface EntryStats {
  /** The index of the entry's folder in the request. */
  folder: Uint32Array;
  /** The name of entry k (made when asked: `--last` needs only a few of thousands). */
  name(k: number): string;
  /** stat's mode (file type and permission bits); 0 where stat failed. */
  mode: Uint32Array;
  mtimeMs: Float64Array;
  size: Float64Array;
}

/** FileSystem.startStatDays' answer: the date folders, newest first, which `folder` indexes. */
export interface DatedEntryStats extends EntryStats {
  days: readonly string[];
  /**
   * The row of the regular file with the greatest mtime when no other regular file has that
   * mtime, else -1 (what `--last` takes first, without a pass over every row). Optional.
   */
  newest?: number;
}

/** The file type bits of a mode (S_IFMT), and those of a regular file. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;

export interface SpawnOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** "pipe" keeps stdin open for writeStdin; "ignore" connects /dev/null. */
  stdin: "pipe" | "ignore";
  /**
   * Hands the child's stdout and stderr, interleaved in arrival order, to this listener instead
   * of the `stdout` and `stderr` streams (which are then empty). A runtime that does so returns a
   * ChildProcess with `stopOutput`; one without it ignores the listener.
   */
  output?: OutputListener;
}

/** Receives a child's output (SpawnOptions.output). */
export interface OutputListener {
  /** Output as it arrives. The bytes are valid only during the call: copy what is kept. */
  data(chunk: Uint8Array): void;
  /** Called once when no more output comes: every writer closed it, reading failed, or stopOutput(). */
  end(): void;
}

export interface ExitStatus {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  /** Signal name (e.g. "SIGKILL") when the process was ended by a signal. */
  signal: string | null;
}

export interface ChildProcess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Writes to the child's stdin; rejects if stdin is closed or was not piped. */
  writeStdin(data: string | Uint8Array): Promise<void>;
  closeStdin(): void;
  readonly exited: Promise<ExitStatus>;
  /** Signals the child's whole process group (every child runs in its own group). */
  kill(signal?: Signal): void;
  /** With SpawnOptions.output: stops reading the output (the listener's end() follows). */
  stopOutput?(): void;
  /**
   * With SpawnOptions.output: hands what the child wrote and was not delivered yet to the
   * listener now, synchronously (a runtime that delivers at once may leave it out).
   */
  takeOutput?(): void;
}

/** A local HTTP server (the browser login's callback). */
export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  handler: (request: Request) => Response | Promise<Response>;
}

/** Thrown by readFile() when the file holds more than `maxBytes`. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
    this.name = "FileTooLargeError";
  }
}

/** Thrown by listen() when the port is taken. */
export class AddressInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use`);
    this.name = "AddressInUseError";
  }
}

export type Signal = "SIGINT" | "SIGTERM" | "SIGKILL" | "SIGHUP";

export interface Runtime {
  readonly name: string;
  /** The runtime's own version (Bun's, Deno's), for `ocx version`. */
  readonly runtimeVersion?: string;
  /** Operating system as Node names it: "linux", "darwin", "win32". */
  readonly platform: string;
  readonly arch: string;
  /** Command-line arguments after the program name. */
  readonly args: string[];
  /** Absolute path of the running executable (the compiled ocx, or the runtime binary). */
  readonly execPath: string;
  /** This process's id. */
  readonly pid: number;
  /**
   * Whether process `pid` runs: null when it does not (or is a zombie), else a string telling
   * this process apart from a later one given the same pid (its start time where the OS says,
   * else ""). For locks whose holder may have been killed.
   */
  processStamp(pid: number): Promise<string | null>;
  env(name: string): string | undefined;
  envAll(): Record<string, string>;
  cwd(): string;
  homeDir(): string;
  /** Hostname-free description of the OS for the user agent, e.g. "Linux 6.1". */
  osDescription(): string;
  readonly fetch: typeof fetch;
  /**
   * Starts connecting to `url`'s server (DNS, TCP, TLS) ahead of a request to it, where the
   * runtime can; the request made later then finds the connection ready. Optional.
   */
  preconnect?(url: string): void;
  /**
   * Start-up is over (the first request is on its way, or work that can run long begins): from
   * here on the runtime compiles code that runs often as it normally would. A binary may start
   * with its compiler held back, because nearly all code before the first request runs once and
   * compiling it only delays that request. Optional; calling it again does nothing more.
   */
  afterStartup?(): void;
  /**
   * Keeps `fns` out of the JIT's top tier for the rest of the process, where the runtime can:
   * they are about to run hot for a short while (reading a large session), and compiling them at
   * full optimisation would take a core, and memory first touched, for longer than it saves
   * before they are done. Optional.
   */
  keepBelowTopTier?(fns: readonly ((...args: never[]) => unknown)[]): void;
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  /**
   * Collects garbage now (a few ms), where the runtime can: called between the pieces of work
   * that make tens of MB of it at once (reading a large rollout, streaming its history), so that
   * the process's peak memory stays near what it keeps. With `concurrent`, the collection is
   * started and runs alongside (the caller goes on at once). Optional: absent, nothing happens.
   */
  collectGarbage?(opts?: { concurrent?: boolean }): void;
  /**
   * ByteLoops, loaded when first asked for (while a request is on its way); null where there are
   * none, and the JavaScript ones serve. Optional.
   */
  loadByteLoops?(): Promise<ByteLoops | null>;
  /**
   * A new keyed digest (see KeyedDigest): what tells a resumed history's bytes, read again from
   * its session file, from any bytes written there since, also ones made to pass a check that
   * can be computed without the key (a CRC is forged in milliseconds). Optional: absent, such
   * bytes are not read again (the history stays in memory).
   */
  keyedDigest?(): KeyedDigest;
  /**
   * Fills `bytes` from the operating system's random source, where that is cheaper than
   * crypto.getRandomValues' first call (which starts WebCrypto's generator: about 0.1 ms of a
   * compiled binary's start-up, and a run makes two ids before its first request). Optional:
   * absent, crypto.getRandomValues.
   */
  randomFill?(bytes: Uint8Array): void;
  /**
   * Loads what every command needs from the host (file system, OS) ahead of its first use, the
   * way that costs least; `--version` and `--help` never call it. Optional.
   */
  preload?(): Promise<void>;
  /** IANA time zone of the host as Intl names it, e.g. "UTC", "Europe/Paris". */
  timeZone(): string;
  /**
   * The offset of timeZone() from UTC at `ms`, in ms (east positive), when the adapter knows it
   * without ICU; undefined (or absent): core asks Intl.
   */
  utcOffsetMs?(ms: number): number | undefined;
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  readonly stdin: InputSource;
  readonly fs: FileSystem;
  spawn(opts: SpawnOptions): ChildProcess;
  /** Starts a local HTTP server; rejects with AddressInUseError when the port is taken. */
  listen(opts: ListenOptions): Promise<HttpServer>;
  /** The host's command sandbox (Landlock + seccomp on Linux, Seatbelt on macOS). */
  readonly sandbox: SandboxPort;
  /** Registers a handler; returns a function that removes it. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void;
  /** Flushes stdout/stderr, then ends the program. Only the entry point calls this. */
  exit(code: number): Promise<never>;
}
