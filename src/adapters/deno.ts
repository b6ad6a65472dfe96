// The Runtime port implemented on Deno (`deno run -A src/bin/deno.ts ...`).
import { fileURLToPath } from "node:url";
import { AddressInUseError, type ListenOptions, type Runtime } from "../core/runtime.ts";
import { intlTimeZone, isatty, nodeCompatibleRuntime, nodeFdSink } from "./common.ts";
import { spawnNode } from "./node-spawn.ts";
import { hostSandbox } from "./sandbox/index.ts";

// The few Deno APIs used here (the project type-checks against Bun's types).
interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
const Deno = (globalThis as unknown as {
  Deno: {
    execPath(): string;
    stdin: { readable: ReadableStream<Uint8Array> };
    serve(opts: { hostname: string; port: number; onListen(): void; handler: ListenOptions["handler"] }): DenoServer;
    errors: { AddrInUse: new () => Error };
  };
}).Deno;

/** deno, with the permissions the agent needs, and the entry file: how the helper is started. */
function selfArgv(): string[] {
  return [Deno.execPath(), "run", "--allow-all", "--no-prompt", fileURLToPath(new URL("../bin/deno.ts", import.meta.url))];
}

export function denoRuntime(): Runtime {
  return nodeCompatibleRuntime({
    name: "deno",
    stdout: nodeFdSink(1),
    stderr: nodeFdSink(2),
    stdinIsTTY: () => isatty(0),
    readStdin: () => Deno.stdin.readable,
    spawn: spawnNode,
    listen: listenDeno,
    sandbox: () => hostSandbox(selfArgv(), openLibc),
    timeZone: intlTimeZone,
  });
}

async function listenDeno(opts: ListenOptions) {
  let server: DenoServer;
  try {
    server = Deno.serve({ hostname: opts.hostname, port: opts.port, onListen() {}, handler: opts.handler });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) throw new AddressInUseError(opts.port);
    throw e;
  }
  return { port: server.addr.port, close: () => server.shutdown() };
}

/** libc through Deno.dlopen (loaded at the sandbox's first use). */
const openLibc = async () => (await import("./sandbox/libc-deno.ts")).openLibc();
