// Benchmark: how fast dist/ocx starts, next to what a Bun-compiled program cannot beat.
// Builds, with this project's bun and build.ts's `bun build --compile` flags, two reference
// programs into a temporary directory (removed at the end):
//   floor: reads $CODEX_HOME/config.toml with smol-toml and makes one streamed POST to the mock,
//          reading the SSE answer to its end;
//   hello: prints "hello world".
// Then, interleaving the programs run by run (the machine is shared), prints medians of
//   1. process start -> first request received: `ocx exec` vs floor (target: at most 1.6x);
//   2. wall time of `ocx --version` vs hello (target: at most 1.3x), and of `ocx --help`;
//   3. the same for the reference `codex` when a real one is installed (CODEX_BIN, or `codex` on
//      PATH / in node_modules/.bin that answers `--version` with "codex-cli ...").
// Figures only; nothing is asserted.
//   bun bench/startup.bench.ts [runs]        (OCX_BIN overrides the binary; OCX_BASELINE=<another
//                                             ocx> measures it too, in the same runs: before/after)
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { reportTarget } from "./lib/targets.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dynamic, reply, startMockResponses } from "../test/mock/responses-server.ts";
import { buildBunProgram, READ_BODY_SOURCE } from "./lib/bun-program.ts";

const runs = Number(process.argv[2] ?? 30);
const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const work = mkdtempSync(join(tmpdir(), "ocx-bench-startup-"));
const home = join(work, "home");
const mock = await startMockResponses();

// The moment each request reached the mock, on this process's monotonic clock.
let arrivedAt = 0;
const answer = () =>
  dynamic(() => {
    arrivedAt = performance.now();
    return reply("ok");
  });

const smolToml = Bun.resolveSync("smol-toml", import.meta.dir);
const floorBin = buildBunProgram(
  work,
  "floor",
  `import { readFileSync } from "node:fs";
import { parse } from ${JSON.stringify(smolToml)};
const config = parse(readFileSync(process.env.CODEX_HOME + "/config.toml", "utf8")) as any;
const provider = config.model_providers[config.model_provider];
const res = await fetch(provider.base_url + "/responses", {
  method: "POST",
  headers: { "content-type": "application/json", accept: "text/event-stream", authorization: "Bearer " + process.env[provider.env_key] },
  body: JSON.stringify({ model: config.model, stream: true, input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }] }),
});
${READ_BODY_SOURCE}`,
);
const helloBin = buildBunProgram(work, "hello", `console.log("hello world");\n`);

Bun.spawnSync(["mkdir", "-p", home]);
writeFileSync(
  join(home, "config.toml"),
  `model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "Mock"\nbase_url = "${mock.url}"\nenv_key = "CODEX_API_KEY"\nwire_api = "responses"\n`,
);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-bench" };

/** A real reference CLI, or null (node_modules/@openai/codex is a test stub here). */
function referenceCodex(): string | null {
  const candidates = [process.env.CODEX_BIN, resolve("node_modules/.bin/codex"), Bun.which("codex") ?? undefined];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const p = Bun.spawnSync([c, "--version"], { stdio: ["ignore", "pipe", "pipe"] });
    if (p.exitCode === 0 && /^codex(-cli)? \d/.test(p.stdout.toString().trim())) return c;
  }
  return null;
}
const codex = referenceCodex();

/** Process start -> the mock has the request; the run must succeed. */
async function firstRequest(argv: string[], check: (out: string) => boolean): Promise<number> {
  mock.push(answer());
  arrivedAt = 0;
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  if (code !== 0 || !check(out) || arrivedAt === 0) throw new Error(`${argv[0]} failed (exit ${code}): ${out}${err}`);
  return arrivedAt - t0;
}

/** Wall time of a run that prints and exits 0. */
async function wall(argv: string[], expect: RegExp): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  const t = performance.now() - t0;
  if (code !== 0 || !expect.test(out)) throw new Error(`${argv.join(" ")} failed (exit ${code}): ${out}`);
  return t;
}

type Probe = { label: string; run: () => Promise<number> };
const probes: Probe[] = [
  { label: "ocx exec: start -> first request", run: () => firstRequest([bin, "exec", "--skip-git-repo-check", "--json", "hi"], (o) => o.includes('"turn.completed"')) },
  { label: "floor: start -> first request", run: () => firstRequest([floorBin], (o) => Number(o) > 0) },
  { label: "ocx --version: wall", run: () => wall([bin, "--version"], /^ocx /) },
  { label: "ocx --help: wall", run: () => wall([bin, "--help"], /USAGE/i) },
  { label: "hello world: wall", run: () => wall([helloBin], /^hello world/) },
];
const baseline = process.env.OCX_BASELINE ? resolve(process.env.OCX_BASELINE) : undefined;
if (baseline) {
  probes.push(
    { label: "baseline exec: start -> first req", run: () => firstRequest([baseline, "exec", "--skip-git-repo-check", "--json", "hi"], (o) => o.includes('"turn.completed"')) },
    { label: "baseline --version: wall", run: () => wall([baseline, "--version"], /^ocx /) },
    { label: "baseline --help: wall", run: () => wall([baseline, "--help"], /USAGE/i) },
  );
}
if (codex) {
  probes.push(
    { label: "codex exec: start -> first request", run: () => firstRequest([codex, "exec", "--skip-git-repo-check", "--json", "hi"], (o) => o.includes('"turn.completed"')) },
    { label: "codex --version: wall", run: () => wall([codex, "--version"], /^codex/) },
  );
}

const samples = new Map<string, number[]>(probes.map((p) => [p.label, []]));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!;

try {
  for (let i = 0; i < 3; i++) for (const p of probes) await p.run(); // warm the page cache
  for (let i = 0; i < runs; i++) for (const p of probes) samples.get(p.label)!.push(await p.run());
  console.log(`ocx start-up benchmark: ${bin}, ${runs} runs each, interleaved; bun ${Bun.version}`);
  for (const p of probes) {
    const xs = samples.get(p.label)!;
    console.log(`${p.label.padEnd(36)} median ${median(xs).toFixed(1)} ms  p10 ${quantile(xs, 0.1).toFixed(1)}  p90 ${quantile(xs, 0.9).toFixed(1)}`);
  }
  const m = (label: string) => median(samples.get(label)!);
  const ratio = (a: string, b: string, target: number) => {
    const r = m(a) / m(b);
    return `${r.toFixed(2)}x (target <= ${target}x: ${r <= target ? "met" : "NOT met"})`;
  };
  console.log(`spawn -> first request, ocx / floor:     ${ratio("ocx exec: start -> first request", "floor: start -> first request", 1.6)}`);
  console.log(`--version wall time, ocx / hello world:  ${ratio("ocx --version: wall", "hello world: wall", 1.3)}`);
  console.log(`--help wall time, ocx / hello world:     ${(m("ocx --help: wall") / m("hello world: wall")).toFixed(2)}x`);
  const first = m("ocx exec: start -> first request") / m("floor: start -> first request");
  reportTarget("spawn -> first request, ocx / floor program", `${first.toFixed(2)}x (${m("ocx exec: start -> first request").toFixed(1)} vs ${m("floor: start -> first request").toFixed(1)} ms)`, "≤ 1.6x", first <= 1.6);
  const version = m("ocx --version: wall") / m("hello world: wall");
  reportTarget("--version wall time, ocx / Bun hello world", `${version.toFixed(2)}x (${m("ocx --version: wall").toFixed(1)} vs ${m("hello world: wall").toFixed(1)} ms)`, "≤ 1.3x", version <= 1.3);
  if (baseline) {
    console.log(`baseline (${baseline}): spawn -> first request ${(m("baseline exec: start -> first req") / m("floor: start -> first request")).toFixed(2)}x the floor, --version ${(m("baseline --version: wall") / m("hello world: wall")).toFixed(2)}x hello world, --help ${(m("baseline --help: wall") / m("hello world: wall")).toFixed(2)}x`);
  }
  if (codex) {
    console.log(`spawn -> first request, ocx / codex:     ${(m("ocx exec: start -> first request") / m("codex exec: start -> first request")).toFixed(2)}x (${codex})`);
    const sooner = m("codex exec: start -> first request") / m("ocx exec: start -> first request");
    reportTarget("spawn -> first request, sooner than the reference", `${sooner.toFixed(1)}x`, "≥ 9x", sooner >= 9);
    console.log(`--version wall time, ocx / codex:        ${(m("ocx --version: wall") / m("codex --version: wall")).toFixed(2)}x`);
  } else {
    console.log("reference codex: reference not installed (node_modules/@openai/codex is a test stub; set CODEX_BIN)");
    reportTarget("spawn -> first request, sooner than the reference", "reference not installed (set CODEX_BIN)", "≥ 9x", undefined);
  }
} finally {
  await mock.close();
  rmSync(work, { recursive: true, force: true });
}
