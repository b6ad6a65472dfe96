// Benchmark: what the sandbox adds to starting a command. Spawns `true` directly, and through
// dist/ocx's __sandbox helper (Landlock + no_new_privs + seccomp, then exec) as exec_command
// does, and with a .git in the workspace (the helper also compiles the namespace code, clones
// into a user + mount namespace and binds .git read-only), N times each (default 50), and prints
// medians. Figures only.
//   bun bench/sandbox.bench.ts [runs]
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEVICE_FILES, helperArgv } from "../src/core/sandbox/spec.ts";

const runs = Number(process.argv[2] ?? 50);
const ocx = resolve(import.meta.dir, "../dist/ocx");
if (!existsSync(ocx)) throw new Error("build dist/ocx first: npm run build");
const truePath = Bun.which("true") ?? "/bin/true";
const dir = mkdtempSync(join(tmpdir(), "ocx-bench-sbx-"));

async function measure(label: string, argv: string[]) {
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    const p = Bun.spawn(argv, { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    const code = await p.exited;
    const t = performance.now() - t0;
    if (code !== 0) throw new Error(`${label}: exit ${code}`);
    if (i >= 3) times.push(t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.floor(p * (times.length - 1))]!.toFixed(2);
  console.log(`${label.padEnd(34)} median ${q(0.5)} ms  p10 ${q(0.1)}  p90 ${q(0.9)}`);
  return Number(q(0.5));
}

console.log(`spawn of \`true\`, ${runs} runs each`);
const plain = await measure("unsandboxed", [truePath]);
const ro = await measure("read-only (network off)", helperArgv([ocx], { writable: [...DEVICE_FILES], network: false, readOnly: [] }, [truePath]));
const ww = await measure("workspace-write (network off)", helperArgv([ocx], { writable: [dir, "/tmp", ...DEVICE_FILES], network: false, readOnly: [] }, [truePath]));
mkdirSync(join(dir, ".git"));
const git = await measure("workspace-write, .git read-only", helperArgv([ocx], { writable: [dir, "/tmp", ...DEVICE_FILES], network: false, readOnly: [join(dir, ".git")] }, [truePath]));
console.log(
  `overhead: read-only +${(ro - plain).toFixed(2)} ms, workspace-write +${(ww - plain).toFixed(2)} ms, ` +
    `workspace-write with .git +${(git - plain).toFixed(2)} ms`,
);
rmSync(dir, { recursive: true, force: true });
