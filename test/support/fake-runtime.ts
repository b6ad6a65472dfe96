// A Runtime for unit tests: in-memory stdio and environment, real files through the Bun adapter.
import { bunRuntime } from "../../src/adapters/bun.ts";
import type { InputSource, OutputSink, Runtime } from "../../src/core/runtime.ts";

export interface CapturedSink extends OutputSink {
  text(): string;
}

export function capture(isTTY = false): CapturedSink {
  const parts: string[] = [];
  const dec = new TextDecoder();
  return {
    isTTY,
    write: (c) => void parts.push(typeof c === "string" ? c : dec.decode(c)),
    flush: async () => {},
    text: () => parts.join(""),
  };
}

/** stdin from a list of chunks written with delays; `null` chunk list = a pipe nobody writes to. */
export function stdinFrom(chunks: Array<string | Uint8Array> | null, opts: { isTTY?: boolean; delayMs?: number } = {}): InputSource {
  return {
    isTTY: opts.isTTY ?? false,
    readable: () =>
      new ReadableStream<Uint8Array>({
        async start(controller) {
          if (chunks === null) return; // never closes
          for (const c of chunks) {
            if (opts.delayMs) await Bun.sleep(opts.delayMs);
            controller.enqueue(typeof c === "string" ? new TextEncoder().encode(c) : c);
          }
          controller.close();
        },
      }),
  };
}

let shared: Runtime | undefined;

export function fakeRuntime(over: Partial<Runtime> & { envVars?: Record<string, string> } = {}): Runtime & {
  stdout: CapturedSink;
  stderr: CapturedSink;
} {
  // One real runtime per test process: each one adds listeners to process.stdout/stderr.
  const base = (shared ??= bunRuntime());
  const env = over.envVars ?? {};
  return {
    ...base,
    env: (n) => env[n],
    envAll: () => ({ ...env }),
    stdout: capture(),
    stderr: capture(),
    stdin: stdinFrom([]),
    // The test process itself stays dumpable (hardenSelf would change it for every later test).
    sandbox: { ...base.sandbox, hardenSelf: async () => null },
    ...over,
  } as Runtime & { stdout: CapturedSink; stderr: CapturedSink };
}
