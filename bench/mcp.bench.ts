// Benchmark: start-up cost of MCP servers. dist/ocx against the local mock with an instant
// answer, with no server configured and with two stdio servers (test/fixtures/mcp/server.ts on
// Bun). Prints, over N runs (default 15) each: process start -> first model request, and the
// whole run's wall time. The first request waits for the servers (each up to its startup
// timeout); they start alongside the rest of start-up. Figures only; nothing is asserted.
//   bun bench/mcp.bench.ts [runs]        (OCX_BIN overrides the binary)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { reply, startMockResponses } from "../test/mock/responses-server.ts";

const runs = Number(process.argv[2] ?? 15);
const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const fixture = resolve("test/fixtures/mcp/server.ts");
const mock = await startMockResponses();
const base = `model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "Mock"\nbase_url = "${mock.url}"\nenv_key = "CODEX_API_KEY"\n`;
const server = (name: string) => `[mcp_servers.${name}]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(fixture)}]\n`;

async function measure(label: string, toml: string) {
  const home = mkdtempSync(join(tmpdir(), "ocx-bench-mcp-"));
  writeFileSync(join(home, "config.toml"), toml);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-bench" };
  const first: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    mock.push(reply("ok"));
    const before = mock.requests.length;
    const t0 = performance.now();
    const t0Wall = Date.now();
    const proc = Bun.spawn([bin, "exec", "--skip-git-repo-check", "--json", "hi"], { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const code = await proc.exited;
    if (code !== 0 || !out.includes('"turn.completed"')) throw new Error(`${label}: run failed (exit ${code}): ${out}${err}`);
    if (i < 2) continue; // warm-up
    first.push(mock.requests[before]!.at - t0Wall);
    wall.push(performance.now() - t0);
  }
  rmSync(home, { recursive: true, force: true });
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!.toFixed(1);
  console.log(`${label.padEnd(28)} first request: median ${med(first)} ms   whole run: median ${med(wall)} ms   (${runs} runs)`);
}

try {
  await measure("no MCP server", base);
  await measure("two stdio MCP servers", base + server("one") + server("two"));
} finally {
  await mock.close();
}
