// Benchmark: dist/ocx against the local mock with an instant one-message answer.
// Prints, over N runs (default 30): process start -> first request received by the mock,
// total wall time of a one-turn exec, and peak RSS. Figures only; nothing is asserted.
//   bun bench/exec.bench.ts [runs]        (OCX_BIN overrides the binary)
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { mockHome } from "./lib/mock-home.ts";
import { reply, startMockResponses } from "../test/mock/responses-server.ts";

const runs = Number(process.argv[2] ?? 30);
const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const mock = await startMockResponses();
const { home, env } = mockHome("ocx-bench-", mock.url);

const firstRequest: number[] = [];
const wall: number[] = [];
const rss: number[] = [];

async function once(): Promise<void> {
  mock.push(reply("ok"));
  const before = mock.requests.length;
  const t0 = performance.now();
  const t0Wall = Date.now();
  const proc = Bun.spawn([bin, "exec", "--skip-git-repo-check", "--json", "hi"], {
    env,
    cwd: home,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const t1 = performance.now();
  if (code !== 0 || !out.includes('"turn.completed"')) throw new Error(`run failed (exit ${code}): ${out}`);
  const req = mock.requests[before];
  if (!req) throw new Error("the mock received no request");
  firstRequest.push(req.at - t0Wall);
  wall.push(t1 - t0);
  rss.push((proc.resourceUsage()?.maxRSS ?? 0) / 1024 / 1024); // bytes -> MB
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]!;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0]!, max: s[s.length - 1]! };
}
const fmt = (label: string, xs: number[], unit: string, digits = 1) => {
  const st = stats(xs);
  const f = (n: number) => n.toFixed(digits);
  return `${label.padEnd(34)} median ${f(st.median)} ${unit}  p10 ${f(st.p10)}  p90 ${f(st.p90)}  min ${f(st.min)}  max ${f(st.max)}`;
};

try {
  for (let i = 0; i < 3; i++) await once(); // warm the page cache
  firstRequest.length = wall.length = rss.length = 0;
  for (let i = 0; i < runs; i++) await once();
  console.log(`ocx exec benchmark: ${bin}, ${runs} runs, one instant answer from a local mock`);
  console.log(fmt("start -> first request received", firstRequest, "ms"));
  console.log(fmt("one-turn exec, wall time", wall, "ms"));
  console.log(fmt("peak RSS", rss, "MB"));
} finally {
  await mock.close();
  rmSync(home, { recursive: true, force: true });
}
