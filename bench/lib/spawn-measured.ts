// Runs a command and prints, as one JSON line, its exit code, output, when it was started
// (Date.now() just before the spawn) and its own peak RSS in bytes:
//   bun bench/lib/spawn-measured.ts CMD [ARGS...]
// Why a process in between: on Linux, a child that Bun spawns (vfork, then exec) reports as its
// peak RSS (wait4's ru_maxrss) at least the peak of the process that spawned it, since exec saves
// the high-water mark of the memory it leaves, the spawner's. A benchmark that holds 50 MB
// strings and parsed bodies would read its own peak as the child's. Spawned from this small
// process, the figure is the child's (or this process's few tens of MiB, when more).
export {};

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) throw new Error("usage: spawn-measured.ts CMD [ARGS...]");
const started = Date.now();
const proc = Bun.spawn([cmd, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
const code = await proc.exited;
console.log(JSON.stringify({ code, started, maxRSS: proc.resourceUsage()?.maxRSS ?? 0, out, err }));
