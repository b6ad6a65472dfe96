// A child's output through one plain pipe read by ocx itself (Linux, bun:ffi), for commands that
// may print a lot. Bun.spawn's own "pipe" is a socket pair read through a ReadableStream: every
// few KiB the writer wakes ocx, which allocates a chunk and resolves promises, about 1 s of CPU
// per GB and a slower writer. Here stdout and stderr are the write end of one pipe (so their
// order is the order of arrival), grown to 1 MiB once it fills, and the read end is non-blocking
// and read on a timer into one shared buffer: after output 1 ms later (the pipe fills meanwhile,
// so a fast writer is read 1 MiB at a time), after nothing with a backoff up to 50 ms; at once
// when the child exits (poke) or when the output is asked for (takeOutput).
import type { Pointer } from "bun:ffi";
import type { OutputListener } from "../core/runtime.ts";

/**
 * bun:ffi, taken at the first command's spawn: imported with the module, it would cost every
 * start-up ~0.25 ms, also of runs that never start a command.
 */
type Ffi = typeof import("bun:ffi");
let ffiModule: Ffi | undefined;
const ffi = (): Ffi => (ffiModule ??= import.meta.require("bun:ffi") as Ffi);

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const F_GETFL = 3;
const F_SETFL = 4;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const EINTR = 4;
const EAGAIN = 11;

/** The size a pipe is grown to once the writer fills it (the kernel's default pipe-max-size). */
const BIG_PIPE = 1024 * 1024;
/** Reads per timer turn at most, so one noisy command cannot hold the event loop. */
const MAX_READS_PER_TURN = 16;
const BUSY_DELAY_MS = 1;
const MAX_IDLE_DELAY_MS = 50;

type Lib = ReturnType<typeof open>;
let lib: Lib | null | undefined;

function open() {
  const { dlopen, FFIType } = ffi();
  return dlopen("libc.so.6", {
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function libc(): Lib | null {
  if (lib !== undefined) return lib;
  if (process.platform !== "linux") return (lib = null);
  try {
    lib = open();
  } catch {
    lib = null;
  }
  return lib;
}

/** One buffer for every reader: a chunk is handed over synchronously and copied by the listener. */
let shared: Uint8Array | undefined;
let sharedPtr: Pointer | undefined;
function buffer(): [Uint8Array, Pointer] {
  if (!shared) {
    shared = new Uint8Array(BIG_PIPE);
    sharedPtr = ffi().ptr(shared);
  }
  return [shared, sharedPtr!];
}

export interface OutputPipe {
  /** The write end, for the child's stdout and stderr; close it once the child is spawned. */
  readonly writeFd: number;
  closeWriteEnd(): void;
  /** Starts reading (call after the spawn); the listener gets every chunk, then end() once. */
  start(listener: OutputListener): void;
  /** Reads what is in the pipe now. */
  take(): void;
  /** The child exited: read soon and often until the pipe closes. */
  poke(): void;
  /** Stops reading and closes the read end (end() is called if it was not yet). */
  stop(): void;
}

/** A new pipe, or null where this path is unavailable (not Linux, no libc). */
export function openOutputPipe(): OutputPipe | null {
  const l = libc();
  if (!l) return null;
  const fds = new Int32Array(2);
  if (l.pipe2(ffi().ptr(fds), O_CLOEXEC) !== 0) return null;
  const readFd = fds[0]!;
  const writeFd = fds[1]!;
  // Only the read end is non-blocking: the child's writes block as they would on any pipe.
  const flags = l.fcntl(readFd, F_GETFL, 0);
  if (flags < 0 || l.fcntl(readFd, F_SETFL, flags | O_NONBLOCK) < 0) {
    l.close(readFd);
    l.close(writeFd);
    return null;
  }
  let writeOpen = true;
  let listener: OutputListener | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = BUSY_DELAY_MS;
  let capacity = l.fcntl(readFd, F_GETPIPE_SZ, 0);
  let grown = capacity >= BIG_PIPE;

  const finish = () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    l.close(readFd);
    const to = listener;
    listener = null;
    to?.end();
  };

  /** Reads until the pipe is empty (or the turn's limit); "data", "empty" or "more". */
  const drain = (): "data" | "empty" | "more" => {
    const [buf, at] = buffer();
    let got = false;
    for (let i = 0; i < MAX_READS_PER_TURN && !closed; i++) {
      const n = Number(l.read(readFd, at, buf.length));
      if (n > 0) {
        got = true;
        if (!grown && n >= capacity) {
          // The writer filled the pipe: grow it so that it is read in big pieces (may be refused
          // past the user's pipe quota; it then stays as it is).
          grown = true;
          const size = l.fcntl(readFd, F_SETPIPE_SZ, BIG_PIPE);
          if (size > 0) capacity = size;
        }
        listener?.data(buf.subarray(0, n));
        if (n < buf.length) return "data"; // a pipe's read takes all there is, up to the size
        continue;
      }
      if (n === 0) {
        finish();
        return "data";
      }
      const e = ffi().read.i32(l.__errno_location() as Pointer, 0);
      if (e === EINTR) continue;
      if (e === EAGAIN) return got ? "data" : "empty";
      finish();
      return "data";
    }
    return got ? "more" : "empty";
  };

  const schedule = (ms: number) => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(turn, ms);
  };

  function turn() {
    timer = undefined;
    const r = drain();
    if (r === "more") delay = 0;
    else if (r === "data") delay = BUSY_DELAY_MS;
    else delay = Math.min(MAX_IDLE_DELAY_MS, Math.max(BUSY_DELAY_MS, delay * 2));
    schedule(delay);
  }

  return {
    writeFd,
    closeWriteEnd() {
      if (!writeOpen) return;
      writeOpen = false;
      l.close(writeFd);
    },
    start(to) {
      listener = to;
      schedule(0);
    },
    take() {
      if (closed || !listener) return;
      const r = drain();
      if (r !== "empty") {
        delay = BUSY_DELAY_MS;
        schedule(r === "more" ? 0 : delay);
      }
    },
    poke() {
      delay = BUSY_DELAY_MS;
      schedule(0);
    },
    stop() {
      this.closeWriteEnd();
      finish();
    },
  };
}
