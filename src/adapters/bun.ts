// The Runtime port implemented on Bun (also what the compiled binary runs).
import { resolve } from "node:path";
import type { Runtime } from "../core/runtime.ts";
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
    sandbox: hostSandbox(selfArgv()),
  });
}
