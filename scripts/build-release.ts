// `npm run build:release`: dist/release/ocx-<target> for every release target, and SHA256SUMS.
// The host's binary is smoke-run; the others are checked by their header bytes (format, CPU,
// and for Linux the dynamic loader, which tells glibc from musl).
//
// Bun builds a foreign target from that target's Bun runtime, which it downloads into its cache
// (~/.bun/install/cache) on first use. Air-gapped builders seed it: OCX_BUN_RUNTIMES=<dir> makes
// this script pass --compile-executable-path=<dir>/<bun package>/bin/bun(.exe) for each target
// whose runtime is there (see the README, "Release binaries").
// Only the host binary embeds the sandbox's C object (compiled with the host's cc); the others
// compile it with TinyCC at run time.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readSync, closeSync, rmSync, statSync, writeFileSync, createReadStream } from "node:fs";
import { join } from "node:path";
import { binaryFormat } from "./binary-format.ts";
import { compileArgs, hostTarget } from "./build-common.ts";
import { OCX_VERSION } from "../src/core/version.ts";

interface Target {
  name: string;
  bun: string;
  /** The npm package holding this target's Bun runtime (for seeding offline builders). */
  pkg: string;
  format: "elf" | "macho" | "pe";
  arch: "x64" | "arm64";
  musl?: boolean;
  exe?: boolean;
}

export const TARGETS: Target[] = [
  { name: "linux-x64", bun: "bun-linux-x64", pkg: "bun-linux-x64", format: "elf", arch: "x64" },
  { name: "linux-arm64", bun: "bun-linux-arm64", pkg: "bun-linux-aarch64", format: "elf", arch: "arm64" },
  { name: "linux-x64-musl", bun: "bun-linux-x64-musl", pkg: "bun-linux-x64-musl", format: "elf", arch: "x64", musl: true },
  { name: "linux-arm64-musl", bun: "bun-linux-arm64-musl", pkg: "bun-linux-aarch64-musl", format: "elf", arch: "arm64", musl: true },
  { name: "darwin-x64", bun: "bun-darwin-x64", pkg: "bun-darwin-x64", format: "macho", arch: "x64" },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", pkg: "bun-darwin-aarch64", format: "macho", arch: "arm64" },
  { name: "windows-x64", bun: "bun-windows-x64", pkg: "bun-windows-x64", format: "pe", arch: "x64", exe: true },
];

/** Empty when `file`'s header matches `t`; else what is wrong, one line. */
export function checkBinary(t: Target, head: Uint8Array): string | null {
  const f = binaryFormat(head);
  if (typeof f === "string") return f;
  if (f.format !== t.format || f.arch !== t.arch) return `is ${f.format} ${f.arch}, expected ${t.format} ${t.arch}`;
  if (t.format === "elf") {
    const musl = /ld-musl/.test(f.interpreter ?? "");
    if (musl !== Boolean(t.musl)) return `dynamic loader ${f.interpreter ?? "(none)"} does not fit a ${t.musl ? "musl" : "glibc"} build`;
  }
  return null;
}

function readHead(file: string, n = 65536): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

async function sha256(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

if (import.meta.main) {
  const outDir = "dist/release";
  const only = process.env.OCX_RELEASE_TARGETS?.split(",").map((s) => s.trim()).filter(Boolean);
  const targets = only ? TARGETS.filter((t) => only.includes(t.name)) : TARGETS;
  if (only && targets.length !== only.length) {
    console.error(`build:release: unknown target in OCX_RELEASE_TARGETS (known: ${TARGETS.map((t) => t.name).join(", ")})`);
    process.exit(1);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const host = hostTarget();
  const runtimes = process.env.OCX_BUN_RUNTIMES;
  const sums: string[] = [];
  const startedAll = performance.now();

  for (const t of targets) {
    const started = performance.now();
    const file = join(outDir, `ocx-${t.name}${t.exe ? ".exe" : ""}`);
    const isHost = t.name === host;
    if (isHost) {
      // build.ts compiles the C object; reuse its logic by running it into the release file.
      const b = Bun.spawnSync([process.execPath, "build.ts"], { env: { ...process.env, OCX_BUILD_OUTFILE: file }, stdio: ["ignore", "inherit", "inherit"] });
      if (b.exitCode !== 0) {
        console.error(`build:release: host build of ${t.name} failed`);
        process.exit(1);
      }
    } else {
      const seeded = runtimes ? join(runtimes, `@oven/${t.pkg}`, "bin", t.exe ? "bun.exe" : "bun") : undefined;
      if (seeded && !existsSync(seeded)) {
        console.error(`build:release: OCX_BUN_RUNTIMES is set but ${seeded} does not exist (npm pack @oven/${t.pkg}@${Bun.version} and unpack it there)`);
        process.exit(1);
      }
      const b = Bun.spawnSync(compileArgs({ outfile: file, target: t.name, bunTarget: t.bun, executablePath: seeded }), {
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (b.exitCode !== 0 || !existsSync(file)) {
        const why = (b.stderr.toString() + b.stdout.toString()).split("\n").find((l) => /error|fail/i.test(l))?.trim() ?? `exit ${b.exitCode}`;
        console.error(`build:release: ${t.name}: ${why} (offline? see README "Release binaries" to seed Bun's runtimes)`);
        process.exit(1);
      }
      const problem = checkBinary(t, readHead(file));
      if (problem) {
        console.error(`build:release: ${file} ${problem}`);
        process.exit(1);
      }
    }
    const size = statSync(file).size;
    sums.push(`${await sha256(file)}  ${file.slice(outDir.length + 1)}`);
    console.error(`build:release: ${file} ${(size / 1e6).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms${isHost ? " (host, smoke-run)" : " (header checked)"}`);
  }
  writeFileSync(join(outDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.error(`build:release: ${targets.length} binaries of ocx ${OCX_VERSION} and SHA256SUMS in ${Math.round(performance.now() - startedAll)} ms`);
}
