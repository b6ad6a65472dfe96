// Figures for the retry and size bounds (issue 14); nothing is asserted.
//   bun bench/bounds.bench.ts        (OCX_BIN overrides the binary)
// 1. A model server answering 500 forever, default retry settings: requests, wall time, the gaps.
// 2. A gzip bomb (one line inflating to 1 GiB) with the default caps: wall time and peak RSS.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createGzip } from "node:zlib";

const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const at: number[] = [];
let answer: () => Response = () => new Response("", { status: 500 });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(req) {
    await req.arrayBuffer();
    at.push(performance.now());
    return answer();
  },
});
const home = mkdtempSync(join(tmpdir(), "ocx-bench-"));
writeFileSync(
  join(home, "config.toml"),
  `model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "Mock"\nbase_url = "http://127.0.0.1:${server.port}/v1"\nenv_key = "CODEX_API_KEY"\n`,
);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-bench" };

async function run() {
  at.length = 0;
  const t0 = performance.now();
  const proc = Bun.spawn([bin, "exec", "--skip-git-repo-check", "--json", "hi"], { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const last = out.trim().split("\n").at(-1) ?? "";
  return { code, wallMs: performance.now() - t0, rssMb: (proc.resourceUsage()?.maxRSS ?? 0) / 1024 / 1024, last };
}

try {
  answer = () => Response.json({ error: { message: "boom", type: "server_error" } }, { status: 500 });
  const r = await run();
  const gaps = at.slice(1).map((t, i) => ((t - at[i]!) / 1000).toFixed(1));
  console.log(`500 forever, defaults: exit ${r.code}, ${at.length} requests over ${(r.wallMs / 1000).toFixed(1)} s`);
  console.log(`  gaps (s): ${gaps.join(" ")}`);
  console.log(`  final: ${r.last.slice(0, 200)}`);

  const gz = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on("data", (b: Buffer) => parts.push(b));
  const done = new Promise((ok) => gz.on("end", ok));
  gz.write("data: ");
  const block = Buffer.alloc(1024 * 1024, "a");
  for (let i = 0; i < 1024; i++) if (!gz.write(block)) await new Promise((ok) => gz.once("drain", ok));
  gz.end();
  await done;
  const bomb = Buffer.concat(parts);
  answer = () => new Response(bomb, { headers: { "content-type": "text/event-stream", "content-encoding": "gzip" } });
  const b = await run();
  console.log(`gzip bomb ${(bomb.length / 1024).toFixed(0)} KiB -> 1 GiB, default caps: exit ${b.code}, ${b.wallMs.toFixed(0)} ms, peak RSS ${b.rssMb.toFixed(0)} MB`);
  console.log(`  final: ${b.last.slice(0, 200)}`);
} finally {
  server.stop(true);
  rmSync(home, { recursive: true, force: true });
}
