// The Runtime port implemented on Bun (also what the compiled binary runs).
import { resolve } from "node:path";
import { AddressInUseError, type ListenOptions, type Runtime } from "../core/runtime.ts";
import { spawnBun } from "./bun-spawn.ts";
import { nodeCompatibleRuntime } from "./common.ts";
import { hostSandbox } from "./sandbox/index.ts";

/** How to start this program again: the compiled binary alone, or bun with the entry file. */
function selfArgv(): string[] {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("%24bunfs");
  return compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../bin/bun.ts")];
}

export function bunRuntime(): Runtime {
  return nodeCompatibleRuntime({
    name: "bun",
    readStdin: () => Bun.stdin.stream(),
    spawn: spawnBun,
    listen: listenBun,
    sandbox: hostSandbox(selfArgv(), openLibc),
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

/** libc through bun:ffi (loaded at the sandbox's first use). */
export const openLibc = async () => (await import("./sandbox/libc-bun.ts")).openLibc();
