// The Runtime port implemented on Bun (also what the compiled binary runs).
import { resolve } from "node:path";
import { AddressInUseError, type ListenOptions, type Runtime } from "../core/runtime.ts";
import { spawnBun } from "./bun-spawn.ts";
import { fdSink, nodeCompatibleRuntime, nodeFsLoaded, nodeHostZone, writeSomeSync, type WriteSome } from "./common.ts";
import { hostSandbox } from "./sandbox/index.ts";
import type { HostZone } from "./timezone.ts";

/** How to start this program again: the compiled binary alone, or bun with the entry file. */
function selfArgv(): string[] {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("%24bunfs");
  return compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../bin/bun.ts")];
}

/** isatty(fd) without node:tty, which costs a compiled binary ~11 ms to load. */
function isatty(fd: number): boolean {
  try {
    return (process as unknown as { binding(name: string): { isTTY(fd: number): boolean } }).binding("tty_wrap").isTTY(fd);
  } catch {
    return process.getBuiltinModule("node:tty").isatty(fd);
  }
}

/**
 * Writes to stdout/stderr: node:fs writeSync, except before any file was touched (`--version`,
 * `--help`, a usage error print and exit): then Bun.write, which needs no node:fs (~3 ms to
 * load) and completes at once on a terminal or a pipe with room; when it cannot, the sink waits
 * for it before writing more.
 */
function bunWriteSome(fd: 1 | 2): WriteSome {
  return (chunk) => {
    if (nodeFsLoaded()) return writeSomeSync(fd, chunk);
    // Bun.write writes the whole chunk (or fails).
    const pending = Bun.write(fd === 1 ? Bun.stdout : Bun.stderr, chunk);
    return Bun.peek.status(pending) === "fulfilled" ? null : pending.then(() => null);
  };
}

export function bunRuntime(): Runtime {
  let zone: HostZone | undefined;
  const hostZone = () => (zone ??= nodeHostZone());
  return nodeCompatibleRuntime({
    name: "bun",
    stdout: fdSink(bunWriteSome(1), () => isatty(1)),
    stderr: fdSink(bunWriteSome(2), () => isatty(2)),
    stdinIsTTY: () => isatty(0),
    readStdin: () => Bun.stdin.stream(),
    spawn: spawnBun,
    listen: listenBun,
    sandbox: () => hostSandbox(selfArgv()),
    timeZone: () => hostZone().name,
    utcOffsetMs: (ms) => hostZone().offsetMs(ms),
  });
}

async function listenBun(opts: ListenOptions) {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: opts.hostname, port: opts.port, fetch: opts.handler, idleTimeout: 0 });
  } catch (e) {
    if ((e as { code?: string }).code === "EADDRINUSE") throw new AddressInUseError(opts.port);
    throw e;
  }
  return { port: server.port!, close: () => server.stop(true) };
}
