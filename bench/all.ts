// `npm run bench`: every benchmark in turn (never in parallel: they would measure each other),
// their output as it comes, then one table of each target beside its figure.
//   bun bench/all.ts [name...]     (e.g. `bun bench/all.ts startup sse`)
export {};

// The machine's own figures last: its probes (fresh memory, 30,000 files) would disturb the others.
const BENCHES = ["startup", "exec", "sse", "big-output", "output-buffer", "patch", "sandbox", "sessions", "mcp", "machine"];
const only = process.argv.slice(2);
const targets: string[] = [];
/** What the machine charges (bench/machine.bench.ts), printed above the targets. */
const machine: string[] = [];
let failed = 0;
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  const file = `bench/${name}.bench.ts`;
  if (!(await Bun.file(file).exists())) throw new Error(`${file} is listed in bench/all.ts but does not exist`);
  console.log(`\n== ${file}`);
  const proc = Bun.spawn([process.execPath, file], { stdout: "pipe", stderr: "inherit", env: process.env });
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of proc.stdout) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      console.log(line);
      if (line.startsWith("TARGET ")) targets.push(line.slice(7));
      if (line.startsWith("MACHINE ")) machine.push(line);
    }
  }
  if (rest) console.log(rest);
  const code = await proc.exited;
  if (code !== 0) {
    failed++;
    console.log(`${file} exited with ${code}`);
  }
}
console.log("\n== targets (issue 19), measured in this run");
for (const m of machine) console.log(m);
for (const t of targets) console.log(t);
if (failed > 0) process.exit(1);
