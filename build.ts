// `npm run build`: compile dist/ocx for this host, then smoke-run it. A broken bytecode build can
// exit 0 and still write a binary that crashes, so the smoke run is what decides success.
import { readFileSync } from "node:fs";
import { OCX_VERSION } from "./src/core/version.ts";

const outfile = process.env.OCX_BUILD_OUTFILE ?? "dist/ocx";
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };
if (pkg.version !== OCX_VERSION) {
  console.error(`build: package.json version ${pkg.version} differs from OCX_VERSION ${OCX_VERSION} in src/core/exec.ts`);
  process.exit(1);
}

const started = performance.now();
const build = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "src/bin/bun.ts",
    "--outfile",
    outfile,
  ],
  { stdio: ["ignore", "inherit", "inherit"] },
);
if (build.exitCode !== 0) {
  console.error(`build: bun build failed with exit code ${build.exitCode}`);
  process.exit(1);
}

const smoke = Bun.spawnSync([outfile, "--version"], { stdio: ["ignore", "pipe", "pipe"] });
const printed = smoke.stdout.toString().trim();
if (smoke.exitCode !== 0 || printed !== `ocx ${OCX_VERSION}`) {
  console.error(`build: smoke run of ${outfile} --version failed (exit ${smoke.exitCode}): ${printed}\n${smoke.stderr}`);
  process.exit(1);
}
console.error(`build: ${outfile} (${printed}) in ${Math.round(performance.now() - started)} ms`);
