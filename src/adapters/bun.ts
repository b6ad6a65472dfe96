// The Runtime port implemented on Bun (also what the compiled binary runs).
import { AddressInUseError, type ListenOptions, type Runtime, type SandboxPort } from "../core/runtime.ts";
import { spawnBun } from "./bun-spawn.ts";
import { fdSink, isatty as nodeIsatty, nodeCompatibleRuntime, nodeFsLoaded, nodeHostZone, writeSomeSync, type WriteSome } from "./common.ts";
import { keepBelowTopTier, normalJitPolicy } from "./jit-policy.ts";
import type { HostZone } from "./timezone.ts";

/** How to start this program again: the compiled binary alone, or bun with the entry file. */
function selfArgv(): string[] {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("%24bunfs");
  return compiled ? [process.execPath] : [process.execPath, Bun.fileURLToPath(new URL("../bin/bun.ts", import.meta.url))];
}

/** isatty(fd) without node:tty, which costs a compiled binary ~11 ms to load. */
function isatty(fd: number): boolean {
  try {
    return (process as unknown as { binding(name: string): { isTTY(fd: number): boolean } }).binding("tty_wrap").isTTY(fd);
  } catch {
    return nodeIsatty(fd);
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

/**
 * The host sandbox, its code loaded by the first probe() or hardenSelf() (`ocx --version` never
 * loads it). wrap() comes only after those (confinedArgv awaits hardenSelf() first).
 */
function lazySandbox(selfArgv: string[]): SandboxPort {
  let port: SandboxPort | undefined;
  const load = async () => (port ??= (await import("./sandbox/index.ts")).hostSandbox(selfArgv, openLibc));
  return {
    selfArgv,
    probe: async (opts) => (await load()).probe(opts),
    hardenSelf: async () => (await load()).hardenSelf(),
    releasePlaceholders: async (paths) => (await load()).releasePlaceholders?.(paths),
    wrap(spec, argv) {
      if (!port) throw new Error("sandbox.wrap() before probe() or hardenSelf()");
      return port.wrap(spec, argv);
    },
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
    sandbox: () => lazySandbox(selfArgv()),
    timeZone: () => hostZone().name,
    utcOffsetMs: (ms) => hostZone().offsetMs(ms),
    // Bun.gc(false) starts a full collection that JavaScriptCore runs on its own threads.
    collectGarbage: (opts) => Bun.gc(!opts?.concurrent),
    preconnect: bunPreconnect,
    // The binary starts with JIT tier-up thresholds scaled up (build-common.ts): normal from here.
    afterStartup: normalJitPolicy,
    keepBelowTopTier,
    // In C (byte-loops.c), loaded while the first request is on its way.
    ...(process.platform === "linux" ? { loadByteLoops: async () => (await import("./byte-loops.ts")).byteLoops() } : {}),
    // In C on other threads (dir-stats.c), loaded when first used (or by the entry, startEarly).
    ...(process.platform === "linux" ? { startStatDays: async (root, match) => (await import("./dir-stats.ts")).startStatDays(root, match) } : {}),
  });
}

/**
 * fetch.preconnect, unless a proxy is configured: fetch would go through the proxy, and a
 * direct connection is at best wasted (and may be what a firewall is there to stop).
 */
function bunPreconnect(url: string): void {
  const env = process.env;
  if (env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy || env.ALL_PROXY || env.all_proxy) return;
  try {
    fetch.preconnect(url);
  } catch {
    // not a URL fetch could connect to: the request will say so
  }
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
const openLibc = async () => (await import("./sandbox/libc-bun.ts")).openLibc();
