// The reference programs benchmarks compare ocx with: small TypeScript sources compiled with this
// project's bun and build.ts's `bun build --compile` flags, so that they start as ocx does.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileArgs, hostTarget } from "../../scripts/build-common.ts";

/** Compiles `source` into `dir`/`name` (the source is left beside it); the binary's path. */
export function buildBunProgram(dir: string, name: string, source: string): string {
  const entry = join(dir, `${name}.ts`);
  const outfile = join(dir, name);
  writeFileSync(entry, source);
  const proc = Bun.spawnSync(compileArgs({ outfile, target: hostTarget(), entry }), { stdio: ["ignore", "pipe", "pipe"] });
  if (proc.exitCode !== 0) throw new Error(`building ${name} failed: ${proc.stderr}`);
  return outfile;
}

/** Source that reads the body of the Response `res` to its end and prints its length in bytes. */
export const READ_BODY_SOURCE = `const reader = res.body!.getReader();
let bytes = 0;
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  bytes += value.length;
}
process.stdout.write(bytes + "\\n");
`;
