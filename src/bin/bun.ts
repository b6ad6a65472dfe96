// Entry point of the compiled binary (and of `bun src/bin/bun.ts`). `__sandbox` turns the
// binary into the sandbox helper before anything else loads (it confines itself, then execs);
// `__patch-write` into apply_patch's confined writer, which the helper starts.
import { HELPER_ARG, PATCH_WRITER_ARG } from "../core/hidden-args.ts";
import { VERSION_LINE } from "../core/version.ts";

// `ocx --version` alone (what scripts run to check the binary) is answered before anything else
// loads; its other forms go through the CLI. A reader that went away is not an error.
if (process.argv.length === 3 && (process.argv[2] === "--version" || process.argv[2] === "-V")) {
  await Bun.write(Bun.stdout, VERSION_LINE).catch(() => undefined);
  process.exit(0);
}

if (process.argv[2] === HELPER_ARG) {
  const { runSandboxHelper } = await import("../adapters/sandbox/linux.ts");
  const { openLibc } = await import("../adapters/sandbox/libc-bun.ts");
  await runSandboxHelper(process.argv.slice(3), async () => openLibc());
}
if (process.argv[2] === PATCH_WRITER_ARG) {
  const { runPatchWriter } = await import("../adapters/patch-writer.ts");
  await runPatchWriter();
}
// `exec resume --last` (and `ocx sessions`) look through every rollout: on Linux that walk starts
// here, on threads of its own, while the rest of ocx loads (the lookup takes it; see dir-stats.ts).
if (process.platform === "linux") {
  const { sessionsToWalk } = await import("../cli/early.ts");
  const root = sessionsToWalk(process.argv.slice(2), process.env, () => process.cwd());
  if (root) {
    const [{ startEarly }, { ROLLOUT_NAMES }] = await Promise.all([import("../adapters/dir-stats.ts"), import("../core/session/layout.ts")]);
    await startEarly(root, ROLLOUT_NAMES);
  }
}
const { bunRuntime } = await import("../adapters/bun.ts");
const { main } = await import("../cli/main.ts");
const runtime = bunRuntime();
const code = await main(runtime);
await runtime.exit(code);
