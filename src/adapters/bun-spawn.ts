// Runtime.spawn for Bun: every child leads its own process group (setsid through
// `detached: true`), so kill() reaches the whole tree the command started.
import type { ChildProcess, ExitStatus, Signal, SpawnOptions } from "../core/runtime.ts";

export function spawnBun(opts: SpawnOptions): ChildProcess {
  const proc = Bun.spawn({
    cmd: opts.argv,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === "pipe" ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  // Bun.spawn's stdin is a FileSink when piped. Writes after end() or after the child is gone
  // succeed silently in Bun 1.4, so track the state here and reject instead.
  const sink = opts.stdin === "pipe" ? proc.stdin : undefined;
  let stdinOpen = sink !== undefined;
  let running = true;

  const exited: Promise<ExitStatus> = proc.exited.then(() => {
    running = false;
    const signal = proc.signalCode;
    return { code: signal ? null : proc.exitCode, signal: signal ? String(signal) : null };
  });

  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
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
