// Runtime.spawn through node:child_process, for Deno (Deno.Command cannot start a process
// group). Same contract as bun-spawn.ts: the child leads its own process group (setsid through
// `detached: true`), so kill() reaches the whole tree the command started.
import { spawn } from "node:child_process";
import process from "node:process";
import { Readable } from "node:stream";
import type { ChildProcess, ExitStatus, OutputListener, Signal, SpawnOptions } from "../core/runtime.ts";

export function spawnNode(opts: SpawnOptions): ChildProcess {
  const proc = spawn(opts.argv[0]!, opts.argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [opts.stdin === "pipe" ? "pipe" : "ignore", "pipe", "pipe"],
    detached: true,
  });
  const started = new Promise<void>((resolve, reject) => {
    proc.once("spawn", resolve);
    proc.once("error", reject);
  });
  let running = true;
  let stdinOpen = opts.stdin === "pipe";
  const exited = new Promise<ExitStatus>((resolve) => {
    proc.once("close", (code, signal) => {
      running = false;
      resolve({ code: signal ? null : code, signal: signal ?? null });
    });
    proc.once("error", () => {
      running = false;
      resolve({ code: 127, signal: null });
    });
  });
  proc.stdin?.on("error", () => {
    stdinOpen = false; // EPIPE: the child closed its stdin
  });
  const web = (s: Readable | null) =>
    s && !opts.output ? (Readable.toWeb(s) as unknown as ReadableStream<Uint8Array>) : new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const output = opts.output && listen([proc.stdout, proc.stderr], opts.output);

  return {
    get pid() {
      return proc.pid ?? -1;
    },
    stdout: web(proc.stdout),
    stderr: web(proc.stderr),
    ...output,
    async writeStdin(data) {
      if (!proc.stdin || !stdinOpen) throw new Error("stdin is closed");
      if (!running) throw new Error("the process has exited");
      await started;
      await new Promise<void>((resolve, reject) => proc.stdin!.write(data, (e) => (e ? reject(e) : resolve())));
    },
    closeStdin() {
      if (!proc.stdin || !stdinOpen) return;
      stdinOpen = false;
      proc.stdin.end();
    },
    exited,
    kill(signal: Signal = "SIGTERM") {
      if (proc.pid === undefined) return;
      try {
        process.kill(-proc.pid, signal);
        return;
      } catch {
        // the group is gone, or not ours: try the child alone
      }
      try {
        proc.kill(signal);
      } catch {
        // already exited
      }
    },
  };
}

/** Both output streams into the listener as their data events come; end() once both are done. */
function listen(streams: (Readable | null)[], listener: OutputListener): Pick<ChildProcess, "stopOutput"> {
  const live = streams.filter((s): s is Readable => s !== null);
  let open = live.length;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    listener.end();
  };
  if (open === 0) queueMicrotask(end);
  for (const stream of live) {
    let done = false;
    const close = () => {
      if (done) return;
      done = true;
      if (--open === 0) end();
    };
    stream.on("data", (chunk: Uint8Array) => {
      if (!ended) listener.data(chunk);
    });
    stream.once("end", close);
    stream.once("close", close);
    stream.once("error", close);
  }
  return {
    stopOutput() {
      for (const s of live) s.destroy();
      end();
    },
  };
}
