// Benchmark: what the sandbox adds to starting a command. Spawns `true` directly, and through
// dist/ocx's __sandbox helper as exec_command does: without namespaces (Landlock, seccomp, no
// capabilities; the init is a subreaper), and with the namespace view (user + mount + pid
// namespace, everything read-only but the roots, .git and CODEX_HOME read-only, fresh /proc,
// private devpts), also with auth.json hidden (Landlock's read layer). N times each (default
// 50); medians. OCX_BEFORE=path adds the same figures for another build's helper. Figures only.
//   [OCX_BEFORE=/path/to/old/ocx] bun bench/sandbox.bench.ts [runs]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEVICE_FILES, helperArgv, NO_VIEW } from "../src/core/sandbox/spec.ts";

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

// The helper of another build (OCX_BEFORE=path), e.g. the one before the namespace view, for
// a side-by-side figure; it takes the older argument set (no --hide, no view flags).
const before = process.env.OCX_BEFORE;
const legacy = (self: string, writable: string[], readOnly: string[] = []) => [
  self,
  "__sandbox",
  ...writable.flatMap((p) => ["--write", p]),
  ...readOnly.flatMap((p) => ["--read-only", p]),
  "--no-net",
  "--",
  truePath,
];

const view = { namespaces: true, freshProc: true, privatePts: true, supervised: false };
const home = join(dir, "codex-home");
mkdirSync(home);
writeFileSync(join(home, "auth.json"), "{}");
mkdirSync(join(dir, ".git"));
const roots = [dir, "/tmp", ...DEVICE_FILES];
const protectedNames = [".git", ".codex", ".agents", ".aws"].map((n) => join(dir, n));

console.log(`spawn of \`true\`, ${runs} runs each`);
const plain = await measure("unsandboxed", [truePath]);
const rows: [string, number][] = [];
if (before) {
  rows.push(["before: read-only", await measure("before: read-only", legacy(before, [...DEVICE_FILES]))]);
  rows.push(["before: workspace-write, .git", await measure("before: workspace-write, .git", legacy(before, roots, [join(dir, ".git")]))]);
}
const spec = (writable: string[], readOnly: string[], hide: string[], v = view) => ({ writable, network: false, readOnly, hide, view: { ...v } });
rows.push(["no namespaces: read-only", await measure("no namespaces: read-only", helperArgv([ocx], spec([...DEVICE_FILES], [], [], NO_VIEW), [truePath]))]);
rows.push([
  "no namespaces, supervisor: workspace-write",
  await measure("no namespaces, supervisor: ww", helperArgv([ocx], spec(roots, [], [], { ...NO_VIEW, supervised: true }), [truePath])),
]);
rows.push(["view: read-only", await measure("view: read-only", helperArgv([ocx], spec([...DEVICE_FILES], [home], []), [truePath]))]);
rows.push(["view: workspace-write", await measure("view: workspace-write", helperArgv([ocx], spec(roots, [...protectedNames.slice(0, 1), home], []), [truePath]))]);
rows.push([
  "view: workspace-write + auth.json hidden",
  await measure("view: ww + auth.json hidden", helperArgv([ocx], spec(roots, [...protectedNames.slice(0, 1), home], [join(home, "auth.json")]), [truePath])),
]);
console.log(`overhead over an unsandboxed spawn: ${rows.map(([l, t]) => `${l} +${(t - plain).toFixed(2)} ms`).join(", ")}`);
rmSync(dir, { recursive: true, force: true });
