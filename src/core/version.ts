// The ocx version; build.ts checks it against package.json.
export const OCX_VERSION = "0.1.0";

/** What `ocx --version` prints. */
export const VERSION_LINE = `ocx ${OCX_VERSION}\n`;

// Injected by build.ts / scripts/build-release.ts with `bun build --define`; absent when running
// from source.
declare const OCX_BUILD_COMMIT: string | undefined;
declare const OCX_BUILD_TARGET: string | undefined;

export interface VersionInfo {
  version: string;
  commit: string;
  /** The release target the binary was built for (linux-x64, darwin-arm64, …). */
  target: string;
  runtime: string;
  runtime_version: string;
}

/** What `ocx --version --verbose` and `ocx version --json` print, for bug reports. */
export function versionInfo(rt: { name: string; platform: string; arch: string; runtimeVersion?: string }): VersionInfo {
  return {
    version: OCX_VERSION,
    commit: typeof OCX_BUILD_COMMIT === "string" && OCX_BUILD_COMMIT !== "" ? OCX_BUILD_COMMIT : "unknown",
    target: typeof OCX_BUILD_TARGET === "string" && OCX_BUILD_TARGET !== "" ? OCX_BUILD_TARGET : `${rt.platform === "win32" ? "windows" : rt.platform}-${rt.arch} (from source)`,
    runtime: rt.name,
    runtime_version: rt.runtimeVersion ?? "unknown",
  };
}
