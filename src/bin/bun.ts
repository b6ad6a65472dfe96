// Entry point of the compiled binary (and of `bun src/bin/bun.ts`). `__sandbox` turns the
// binary into the sandbox helper before anything else loads (it confines itself, then execs).
import { HELPER_ARG } from "../core/sandbox/spec.ts";

if (process.argv[2] === HELPER_ARG) {
  const { runSandboxHelper } = await import("../adapters/sandbox/linux.ts");
  await runSandboxHelper(process.argv.slice(3));
}
const { bunRuntime } = await import("../adapters/bun.ts");
const { main } = await import("../cli/main.ts");
const runtime = bunRuntime();
const code = await main(runtime);
await runtime.exit(code);
