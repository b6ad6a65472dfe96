// What build.ts (the host binary) and scripts/build-release.ts (every release target) share: the
// `bun build --compile` flags and the build facts injected with --define.

/** The commit the binary is built from (`-dirty` with uncommitted changes), or "unknown". */
export function buildCommit(): string {
  const rev = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] });
  if (rev.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { stdio: ["ignore", "pipe", "ignore"] });
  return rev.stdout.toString().trim() + (dirty.exitCode === 0 && dirty.stdout.toString().trim() !== "" ? "-dirty" : "");
}

/** The release target name of this host (linux-x64, darwin-arm64, windows-x64, linux-x64-musl, …). */
export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const musl = process.platform === "linux" && !(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime;
  return `${os}-${process.arch}${musl ? "-musl" : ""}`;
}

/**
 * Arguments for `bun build --compile`. `target` is a release target name; `bunTarget` Bun's
 * (`bun-linux-x64`…), omitted for the host; `entry` another entry file (the start-up benchmark's
 * reference programs). Never strip the result: the application is appended
 * to Bun's executable and `strip` removes it (the binary then behaves as plain bun).
 */
export function compileArgs(opts: { outfile: string; target: string; bunTarget?: string; objects?: string[]; executablePath?: string; entry?: string }): string[] {
  return [
    process.execPath,
    "build",
    "--compile",
    ...(opts.bunTarget ? [`--target=${opts.bunTarget}`] : []),
    ...(opts.executablePath ? [`--compile-executable-path=${opts.executablePath}`] : []),
    "--minify",
    "--bytecode",
    "--format=esm",
    // One chunk per lazily imported part: `ocx --version` and `--help` load none of the agent, and
    // a chunk that is never imported costs nothing (one bundle file is loaded whole: ~7 ms).
    "--splitting",
    // JavaScriptCore's JIT tier-up thresholds times 10 at start: nearly everything before the
    // first request runs once, and compiling it delayed that request by about 0.7 ms (paired
    // runs, bench/startup.bench.ts). The runtime sets the normal policy back once start-up is
    // over (Runtime.afterStartup; at once for every command but exec).
    "--compile-jit-policy=10",
    // Bun's --smol (smaller heaps, collected more often): the process touches about 120 fewer
    // fresh pages before its first request, which came 0.1-0.17x the floor sooner, paired; the
    // long paths (SSE, resume, command output) stay within their targets (bench/all.ts).
    "--compile-exec-argv=--smol",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=OCX_BUILD_COMMIT=${JSON.stringify(buildCommit())}`,
    `--define=OCX_BUILD_TARGET=${JSON.stringify(opts.target)}`,
    opts.entry ?? "src/bin/bun.ts",
    ...(opts.objects ?? []),
    "--outfile",
    opts.outfile,
  ];
}
