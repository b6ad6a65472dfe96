// Entry point on Deno: `deno run -A src/bin/deno.ts exec ...`. `__sandbox` turns the process
// into the sandbox helper before anything else loads (it confines itself, then execs);
// `__patch-write` into apply_patch's confined writer, which the helper starts.
import process from "node:process";
import { HELPER_ARG, PATCH_WRITER_ARG } from "../core/hidden-args.ts";

if (process.argv[2] === HELPER_ARG) {
  const { runSandboxHelper } = await import("../adapters/sandbox/linux.ts");
  const { openLibc } = await import("../adapters/sandbox/libc-deno.ts");
  await runSandboxHelper(process.argv.slice(3), async () => openLibc());
}
if (process.argv[2] === PATCH_WRITER_ARG) {
  const { runPatchWriter } = await import("../adapters/patch-writer.ts");
  await runPatchWriter();
}
const { denoRuntime } = await import("../adapters/deno.ts");
const { main } = await import("../cli/main.ts");
const runtime = denoRuntime();
const code = await main(runtime);
await runtime.exit(code);
