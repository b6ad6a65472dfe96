// Entry point of the compiled binary (and of `bun src/bin/bun.ts`).
import { bunRuntime } from "../adapters/bun.ts";
import { main } from "../cli/main.ts";

const runtime = bunRuntime();
const code = await main(runtime);
await runtime.exit(code);
