// `npm run build`: compile dist/ocx for this host, then smoke-run it. A broken bytecode build can
// exit 0 and still write a binary that crashes, so the smoke run is what decides success.
import { mkdirSync, readFileSync } from "node:fs";
import { compileArgs, hostTarget } from "./scripts/build-common.ts";
import { OCX_VERSION } from "./src/core/version.ts";

const outfile = process.env.OCX_BUILD_OUTFILE ?? "dist/ocx";
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };
if (pkg.version !== OCX_VERSION) {
  console.error(`build: package.json version ${pkg.version} differs from OCX_VERSION ${OCX_VERSION} in src/core/exec.ts`);
  process.exit(1);
}

const started = performance.now();

// The C parts (the sandbox's, the folder scan of `resume --last`), compiled here so that the
// binary need not compile them with TinyCC each time a command starts (several ms); without a C
// compiler the binary falls back to TinyCC. The object's name is what native-bun.ts looks for.
const cParts = [
  { source: "src/adapters/sandbox/namespace.c", object: "dist/obj/ocx-namespace.so" },
  // Linux only (statx, Linux's dirent); elsewhere node:fs serves.
  ...(process.platform === "linux"
    ? [
        { source: "src/adapters/dir-stats.c", object: "dist/obj/ocx-dir-stats.so" },
        { source: "src/adapters/byte-loops.c", object: "dist/obj/ocx-byte-loops.so" },
      ]
    : []),
];
mkdirSync("dist/obj", { recursive: true });
const compiler = ["cc", "gcc", "clang"].find((c) => Bun.which(c));
for (const part of compiler ? cParts : []) {
  const cc = Bun.spawnSync([compiler!, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", part.object, part.source], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (cc.exitCode !== 0) {
    console.error(`build: ${compiler} failed on ${part.source}`);
    process.exit(1);
  }
}
if (!compiler) console.error("build: no C compiler found; the binary compiles its C parts with TinyCC at run time instead");

const build = Bun.spawnSync(compileArgs({ outfile, target: hostTarget(), objects: compiler ? cParts.map((p) => p.object) : [] }), {
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
