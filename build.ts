// `npm run build`: compile dist/ocx for this host, then smoke-run it. A broken bytecode build can
// exit 0 and still write a binary that crashes, so the smoke run is what decides success.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { compileArgs, hostTarget } from "./scripts/build-common.ts";
import { OCX_VERSION } from "./src/core/version.ts";

const outfile = process.env.OCX_BUILD_OUTFILE ?? "dist/ocx";
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };
if (pkg.version !== OCX_VERSION) {
  console.error(`build: package.json version ${pkg.version} differs from OCX_VERSION ${OCX_VERSION} in src/core/exec.ts`);
  process.exit(1);
}

const started = performance.now();

// The sandbox's C part, compiled here so that the binary need not compile it with TinyCC each
// time a command starts (several ms); without a C compiler the binary falls back to TinyCC.
const nsObject = "dist/obj/ocx-namespace.so";
mkdirSync(dirname(nsObject), { recursive: true });
const compiler = ["cc", "gcc", "clang"].find((c) => Bun.which(c));
const cc = compiler
  ? Bun.spawnSync([compiler, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", nsObject, "src/adapters/sandbox/namespace.c"], {
      stdio: ["ignore", "inherit", "inherit"],
    })
  : null;
if (cc && cc.exitCode !== 0) {
  console.error(`build: ${compiler} failed on src/adapters/sandbox/namespace.c`);
  process.exit(1);
}
if (!cc) console.error("build: no C compiler found; the binary compiles its sandbox code with TinyCC at run time instead");

const build = Bun.spawnSync(compileArgs({ outfile, target: hostTarget(), objects: cc ? [nsObject] : [] }), {
  stdio: ["ignore", "inherit", "inherit"],
});
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
