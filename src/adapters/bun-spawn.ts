// Runtime.spawn for Bun: every child leads its own process group (setsid through
// `detached: true`), so kill() reaches the whole tree the command started. With an output
// listener, stdout and stderr go to one pipe that ocx reads itself (output-pipe.ts) where that is
// available, else the streams feed the listener.
import type { ChildProcess, ExitStatus, OutputListener, Signal, SpawnOptions } from "../core/runtime.ts";
import { openOutputPipe, type OutputPipe } from "./output-pipe.ts";

const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

/** `ownPipe: false` feeds the output listener from Bun's streams, as where no own pipe is possible (tests). */
export function spawnBun(opts: SpawnOptions, how: { ownPipe?: boolean } = {}): ChildProcess {
  const pipe = opts.output && how.ownPipe !== false ? openOutputPipe() : null;
  let proc: Bun.Subprocess<"pipe" | "ignore", "pipe" | number, "pipe" | number>;
  try {
    proc = Bun.spawn({
      cmd: opts.argv,
      cwd: opts.cwd,
      env: opts.env,
      stdin: opts.stdin === "pipe" ? "pipe" : "ignore",
      stdout: pipe ? pipe.writeFd : "pipe",
      stderr: pipe ? pipe.writeFd : "pipe",
      detached: true,
    });
  } catch (e) {
    pipe?.stop();
    throw e;
  }
  const output = opts.output && (pipe ? readPipe(pipe, opts.output) : readStreams(proc as Bun.Subprocess<"pipe", "pipe", "pipe">, opts.output));
  // Bun.spawn's stdin is a FileSink when piped. Writes after end() or after the child is gone
  // succeed silently in Bun 1.4, so track the state here and reject instead.
  const sink = opts.stdin === "pipe" ? proc.stdin : undefined;
  let stdinOpen = sink !== undefined;
  let running = true;

  const exited: Promise<ExitStatus> = proc.exited.then(() => {
    running = false;
    pipe?.poke();
    const signal = proc.signalCode;
    return { code: signal ? null : proc.exitCode, signal: signal ? String(signal) : null };
  });

  return {
    pid: proc.pid,
    stdout: typeof proc.stdout === "number" || opts.output ? empty() : proc.stdout,
    stderr: typeof proc.stderr === "number" || opts.output ? empty() : proc.stderr,
    ...output,
    async writeStdin(data) {
      if (!sink || !stdinOpen) throw new Error("stdin is closed");
      if (!running) throw new Error("the process has exited");
      sink.write(data);
      await sink.flush();
    },
    closeStdin() {
      if (!sink || !stdinOpen) return;
      stdinOpen = false;
      try {
        sink.end();
      } catch {
        // already closed by the child exiting
      }
    },
    exited,
    kill(signal: Signal = "SIGTERM") {
      try {
        process.kill(-proc.pid, signal);
        return;
      } catch (e) {
        // ESRCH: the group is gone; anything else: try the child alone.
        if ((e as { code?: string }).code === "ESRCH" && !running) return;
      }
      try {
        proc.kill(signal);
      } catch {
        // already exited
      }
    },
  };
}

/** The pipe read by ocx: its write end now belongs to the child. */
function readPipe(pipe: OutputPipe, listener: OutputListener): Pick<ChildProcess, "stopOutput" | "takeOutput"> {
  pipe.closeWriteEnd();
  pipe.start(listener);
  return { stopOutput: () => pipe.stop(), takeOutput: () => pipe.take() };
}

/** Where ocx cannot read a pipe itself: Bun's streams, both into the listener, end() after both. */
function readStreams(proc: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">, listener: OutputListener): Pick<ChildProcess, "stopOutput"> {
  const readers = [proc.stdout.getReader(), proc.stderr.getReader()];
  let open = readers.length;
  let stopped = false;
  const closed = () => {
    if (--open === 0) listener.end();
  };
  for (const reader of readers) {
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || stopped) return;
          listener.data(value);
        }
      } catch {
        // cancelled or the pipe broke: nothing more to read
      } finally {
        closed();
      }
    })();
  }
  return {
    stopOutput() {
      if (stopped) return;
      stopped = true;
      for (const r of readers) r.cancel().catch(() => {});
    },
  };
}
