import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnBun } from "../../src/adapters/bun-spawn.ts";
import { OcxError } from "../../src/core/errors.ts";
import { MAX_SESSIONS, PRUNED_REASON, ProcessManager } from "../../src/core/process/process-manager.ts";
import type { FileStat, Runtime, SpawnOptions } from "../../src/core/runtime.ts";
import type { SandboxPolicy } from "../../src/core/sandbox/policy.ts";
import { DEVICE_FILES, type SandboxCapabilities, type SandboxSpec } from "../../src/core/sandbox/spec.ts";
import { FULL_ACCESS, toolHarness, type ToolHarness } from "../support/tool-context.ts";
import { execCommandTool } from "../../src/core/tools/exec-command.ts";
import { confinedArgv, releaseSandbox } from "../../src/core/sandbox/confine.ts";
import { writeStdinTool } from "../../src/core/tools/write-stdin.ts";

interface Harness extends ToolHarness {
  spawned: SpawnOptions[];
  /** The sandbox port's calls and the spawns, in order: "probe", "probe carve-outs", "harden", "spawn". */
  calls: string[];
}

const managers: ProcessManager[] = [];
/** Scratch workspaces of the carve-out tests, removed when the file is done. */
const carveDirs: string[] = [];
const carveDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ocx-carve-"));
  carveDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of carveDirs) rmSync(d, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.terminateAll()));
});

/**
 * `caps` overrides what the fake host can enforce (Linux with Landlock and seccomp by default);
 * its wrap() prefixes argv with a marker and the spec, and the test runs the plain argv.
 */
function harness(sandbox: SandboxPolicy = FULL_ACCESS, caps: Partial<SandboxCapabilities> = {}, hardenProblem: string | null = null): Harness {
  const spawned: SpawnOptions[] = [];
  const calls: string[] = [];
  const runtime = {
    spawn(opts: SpawnOptions) {
      spawned.push(opts);
      calls.push("spawn");
      return spawnBun({ ...opts, argv: opts.argv[0] === "WRAPPED" ? opts.argv.slice(2) : opts.argv });
    },
    env: () => undefined,
    sandbox: {
      probe: async (o?: { carveOuts?: boolean }): Promise<SandboxCapabilities> => {
        calls.push(o?.carveOuts ? "probe carve-outs" : "probe");
        return { platform: "linux", landlockAbi: 7, seccomp: true, seatbelt: false, carveOuts: true, problems: [], ...caps };
      },
      wrap: (spec: SandboxSpec, argv: string[]) => ["WRAPPED", JSON.stringify(spec), ...argv],
      hardenSelf: async () => {
        calls.push("harden");
        return hardenProblem;
      },
    },
    monotonic: () => performance.now(),
    fs: {
      mkdir: async (path: string, o?: { mode?: number }) => void mkdirSync(path, o),
      readDir: async (path: string) => readdirSync(path),
      remove: async (path: string, o?: { recursive?: boolean }) => rmSync(path, { recursive: o?.recursive ?? false }),
      realpath: async (path: string) => realpathSync(path),
      async stat(path: string): Promise<FileStat | null> {
        try {
          const s = statSync(path);
          return { isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs, mode: s.mode };
        } catch {
          return null;
        }
      },
    },
  } as unknown as Runtime;
  const h = toolHarness({ runtime, sandbox });
  managers.push(h.processes);
  return { ...h, spawned, calls };
}

const exec = async (h: Harness, args: Record<string, unknown>) => (await execCommandTool.run(JSON.stringify(args), h.ctx)) as string;
const write = async (h: Harness, args: Record<string, unknown>) => (await writeStdinTool.run(JSON.stringify(args), h.ctx)) as string;

const FORMAT =
  /^Chunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\n(Process exited with code -?\d+|Process running with session ID \d+)\nOriginal token count: \d+\nOutput:\n/;

function sessionIdOf(out: string): number {
  const m = /Process running with session ID (\d+)/.exec(out);
  if (!m) throw new Error(`not running: ${out}`);
  return Number(m[1]);
}

function isGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    // A zombie waiting for a reaper counts as gone: it no longer runs.
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

describe("exec_command", () => {
  test("runs a command and reports its output and exit code", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "echo hi" });
    expect(out).toMatch(FORMAT);
    expect(out).toContain("Process exited with code 0\n");
    expect(out.endsWith("Output:\nhi\n")).toBe(true);
    expect(out).toContain("Original token count: 1\n");
    const shell = existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";
    expect(h.spawned[0].argv).toEqual([shell, "-lc", "echo hi"]);
    expect(h.started()).toEqual([
      { id: "item_0", type: "command_execution", command: `${shell} -lc 'echo hi'`, aggregated_output: "", exit_code: null, status: "in_progress" },
    ]);
    expect(h.completed()).toEqual([
      { id: "item_0", type: "command_execution", command: `${shell} -lc 'echo hi'`, aggregated_output: "hi\n", exit_code: 0, status: "completed" },
    ]);
    expect(h.processes.size).toBe(0);
  });

  test("a non-zero exit gives a failed item with the real code", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "echo hi; exit 3", shell: "/bin/sh", login: false });
    expect(out).toContain("Process exited with code 3\n");
    expect(h.started()[0]).toMatchObject({ command: "/bin/sh -c 'echo hi; exit 3'" });
    expect(h.completed()).toEqual([
      { id: "item_0", type: "command_execution", command: "/bin/sh -c 'echo hi; exit 3'", aggregated_output: "hi\n", exit_code: 3, status: "failed" },
    ]);
  });

  test("captures stdout and stderr, interleaved", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "echo out; sleep 0.05; echo err >&2; sleep 0.05; echo out2" });
    expect(out.endsWith("Output:\nout\nerr\nout2\n")).toBe(true);
    expect(h.completed()[0]).toMatchObject({ aggregated_output: "out\nerr\nout2\n", exit_code: 0 });
  });

  test("workdir is resolved against cwd and must exist", async () => {
    const h = harness();
    h.ctx.cwd = "/";
    const out = await exec(h, { cmd: "pwd", workdir: "tmp", login: false });
    expect(out.endsWith(`Output:\n/tmp\n`)).toBe(true);
    const bad = await exec(h, { cmd: "pwd", workdir: "/no/such/dir" });
    expect(bad).toContain("does not exist");
    expect(h.spawned.length).toBe(1);
  });

  test("a command outliving yield_time_ms keeps running; write_stdin polls it to completion", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "echo start; sleep 1; echo done", yield_time_ms: 250 });
    expect(out).toMatch(FORMAT);
    const id = sessionIdOf(out);
    expect(id).toBe(1000);
    expect(out.endsWith("Output:\nstart\n")).toBe(true);
    expect(h.completed()).toEqual([]);
    const t0 = performance.now();
    const polled = await write(h, { session_id: id });
    expect(performance.now() - t0).toBeLessThan(3000); // returns on exit, not after the 5 s poll floor
    expect(polled).toContain("Process exited with code 0\n");
    expect(polled.endsWith("Output:\ndone\n")).toBe(true);
    expect(h.completed()).toHaveLength(1);
    expect(h.completed()[0]).toMatchObject({ id: "item_0", aggregated_output: "start\ndone\n", status: "completed" });
    const again = await write(h, { session_id: id });
    expect(again).toContain("no running command has session ID 1000");
  });

  test("write_stdin feeds a command that reads its input", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "read x; echo got $x", yield_time_ms: 250 });
    const id = sessionIdOf(out);
    const answered = await write(h, { session_id: id, chars: "hello\n", yield_time_ms: 2000 });
    expect(answered).toContain("Process exited with code 0\n");
    expect(answered.endsWith("Output:\ngot hello\n")).toBe(true);
    expect(h.completed()[0]).toMatchObject({ aggregated_output: "got hello\n", exit_code: 0 });
  });

  test("Ctrl-D closes stdin", async () => {
    const h = harness();
    const id = sessionIdOf(await exec(h, { cmd: "cat; echo eof", yield_time_ms: 250 }));
    const out = await write(h, { session_id: id, chars: "abc\n\u0004", yield_time_ms: 2000 });
    expect(out.endsWith("Output:\nabc\neof\n")).toBe(true);
  });

  test("write_stdin to an unknown session is an error the model reads", async () => {
    const h = harness();
    const out = await write(h, { session_id: 4242, chars: "x" });
    expect(out).toContain("write_stdin failed: no running command has session ID 4242");
  });

  test("a command ocx ends to stay within the session limit: a warning names it, its item ends 143, write_stdin says why", async () => {
    const h = harness();
    const outs = await Promise.all(
      Array.from({ length: MAX_SESSIONS }, (_, i) => exec(h, { cmd: `sleep 30 # ${i}`, shell: "/bin/sh", login: false, yield_time_ms: 250 })),
    );
    outs.forEach(sessionIdOf); // all left running
    h.processes.sent(); // ...and the model told so
    expect(await exec(h, { cmd: "echo one more", shell: "/bin/sh", login: false })).toContain("Process exited with code 0\n");
    for (let i = 0; i < 100 && h.warnings.length === 0; i++) await Bun.sleep(20);
    expect(h.warnings).toHaveLength(1);
    const m = /^command \/bin\/sh -c '(sleep 30 # \d+)' \(session (\d+)\) (.*)$/.exec(h.warnings[0]!);
    expect(m?.[3]).toBe(PRUNED_REASON);
    const pruned = Number(m![2]);
    expect(h.completed().filter((i) => i.type === "command_execution" && i.exit_code !== 0)).toEqual([
      expect.objectContaining({ command: `/bin/sh -c '${m![1]}'`, exit_code: 143, status: "failed" }),
    ]);
    expect(await write(h, { session_id: pruned, chars: "" })).toContain(`session ID ${pruned} was ended by ocx`);
  });

  test("200 MB of output finishes with bounded output", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "yes | head -c 200000000", yield_time_ms: 30000, max_output_tokens: 1000 });
    expect(out).toContain("Process exited with code 0\n");
    expect(out).toContain("Original token count: 50000000\n");
    expect(out).toContain("Total output lines: 100000000\n\n");
    expect(out).toMatch(/…\d+ tokens truncated…/);
    expect(out.length).toBeLessThan(5000);
    const item = h.completed()[0] as { aggregated_output: string };
    expect(item.aggregated_output.length).toBeLessThan(140 * 1024);
    expect(item.aggregated_output.startsWith("y\ny\n")).toBe(true);
    // Memory is checked on the compiled binary (e2e, peak RSS of the ocx process); the test
    // runner's own RSS is too noisy (GC timing) to assert on here.
  }, 60_000);

  test("abort kills the process group, grandchildren included, and returns promptly", async () => {
    const h = harness();
    const running = await exec(h, { cmd: "sleep 100 & echo $!; wait", yield_time_ms: 500 });
    const id = sessionIdOf(running);
    const grandchild = Number(running.split("Output:\n")[1].trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(isGone(grandchild)).toBe(false);
    const polling = write(h, { session_id: id, yield_time_ms: 30000 });
    setTimeout(() => h.abort.abort(new OcxError("sigint", "interrupted")), 100);
    const t0 = performance.now();
    const out = await polling;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(out).toContain("Process exited with code 143\n");
    expect(h.completed()).toHaveLength(1);
    expect(h.completed()[0]).toMatchObject({ exit_code: 143, status: "failed" });
    const deadline = performance.now() + 2000;
    while (!isGone(grandchild) && performance.now() < deadline) await Bun.sleep(20);
    expect(isGone(grandchild)).toBe(true);
  });

  test("abort while exec_command itself waits", async () => {
    const h = harness();
    setTimeout(() => h.abort.abort(), 150);
    const t0 = performance.now();
    const out = await exec(h, { cmd: "sleep 100", yield_time_ms: 30000 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(out).toContain("Process exited with code 143\n");
    expect(h.completed()).toHaveLength(1);
  });

  test("a background process holding the pipes does not keep the command running", async () => {
    const h = harness();
    const t0 = performance.now();
    const out = await exec(h, { cmd: "sleep 30 & echo $!", yield_time_ms: 10000 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(out).toContain("Process exited with code 0\n");
    const pid = Number(out.split("Output:\n")[1].trim());
    expect(h.completed()).toHaveLength(1);
    process.kill(pid, "SIGKILL");
  });

  test("terminateAll completes pending items, even when SIGTERM is ignored", async () => {
    const h = harness();
    const a = sessionIdOf(await exec(h, { cmd: "sleep 100", yield_time_ms: 250 }));
    const b = sessionIdOf(await exec(h, { cmd: "trap '' TERM; echo ready; sleep 100", yield_time_ms: 250 }));
    expect(b).toBe(a + 1);
    expect(h.completed()).toEqual([]);
    await h.processes.terminateAll();
    const done = h.completed();
    expect(done.map((i) => i.id).sort()).toEqual(["item_0", "item_1"]);
    expect(done.find((i) => i.id === "item_0")).toMatchObject({ exit_code: 143, status: "failed" });
    expect(done.find((i) => i.id === "item_1")).toMatchObject({ exit_code: 137, status: "failed", aggregated_output: "ready\n" });
    expect(h.processes.size).toBe(0);
    await h.processes.terminateAll();
    expect(h.completed()).toHaveLength(2); // exactly once
  });

  test("a policy the host cannot enforce throws OcxError sandbox and spawns nothing", async () => {
    const h = harness({ mode: "read-only", writableRoots: [], networkAccess: false, bypass: false }, { landlockAbi: null });
    const err = await exec(h, { cmd: "echo hi" }).catch((e) => e);
    expect(err).toBeInstanceOf(OcxError);
    expect((err as OcxError).kind).toBe("sandbox");
    expect((err as OcxError).message).toContain("cannot enforce the read-only sandbox");
    expect(h.spawned).toEqual([]);
    expect(h.events).toEqual([]);
  });

  test("a confined policy spawns the wrapped argv; the item shows the plain command", async () => {
    const h = harness({ mode: "workspace-write", writableRoots: ["/ws"], networkAccess: false, bypass: false });
    await exec(h, { cmd: "echo hi" });
    const argv = h.spawned[0]!.argv;
    const readOnly = ["/ws/.git", "/ws/.codex", "/ws/.agents", "/ws/.aws"];
    const view = { namespaces: true, freshProc: false, privatePts: false, supervised: false };
    expect(argv.slice(0, 2)).toEqual(["WRAPPED", JSON.stringify({ writable: ["/ws", ...DEVICE_FILES], network: false, readOnly, hide: [], view })]);
    expect(argv.slice(2)).toEqual([h.ctx.shell, "-lc", "echo hi"]);
    expect((h.started()[0] as { command: string }).command).toMatch(/ -lc 'echo hi'$/);
    expect(h.started()[0]).not.toHaveProperty("command", expect.stringContaining("WRAPPED"));
  });

  test("ocx closes itself to its commands before the first one starts; the carve-out probe (a clone) comes first", async () => {
    const full = harness();
    await exec(full, { cmd: "true" });
    expect(full.calls).toEqual(["harden", "spawn"]);
    const ro = harness({ mode: "read-only", writableRoots: [], networkAccess: false, bypass: false });
    await exec(ro, { cmd: "true" });
    // Every confined command needs to know whether it gets the namespace view: probed first.
    expect(ro.calls).toEqual(["probe carve-outs", "harden", "spawn"]);
    const root = carveDir();
    const ww = harness({ mode: "workspace-write", writableRoots: [root], networkAccess: false, bypass: false });
    await exec(ww, { cmd: "true" });
    expect(ww.calls).toEqual(["probe carve-outs", "harden", "spawn"]);
  });

  test("a sandboxed command is not started when ocx cannot close itself (exit 5); full access starts it with one warning", async () => {
    const ro = harness({ mode: "read-only", writableRoots: [], networkAccess: false, bypass: false }, {}, "prctl(PR_SET_DUMPABLE): Invalid argument");
    const err = await exec(ro, { cmd: "true" }).catch((e) => e);
    expect(err).toBeInstanceOf(OcxError);
    expect((err as OcxError).kind).toBe("sandbox");
    expect((err as OcxError).message).toContain("prctl(PR_SET_DUMPABLE): Invalid argument");
    expect(ro.spawned).toEqual([]);
    const full = harness(FULL_ACCESS, {}, "cannot load libc.so.6 (missing)");
    await exec(full, { cmd: "true" });
    await exec(full, { cmd: "true" });
    expect(full.spawned).toHaveLength(2);
    expect(full.warnings).toEqual(["ocx's own memory and environment stay readable to its commands on this host (cannot load libc.so.6 (missing))"]);
  });

  test("ocx's memory staying readable is one warning per run, whichever full-access policy a child starts under (the run's own, or notify's, hooks' and MCP servers')", async () => {
    const problem = "cannot load libc.so.6 (missing)";
    const h = harness({ ...FULL_ACCESS }, {}, problem);
    await exec(h, { cmd: "true" });
    // notify, a hook under hooks_sandbox = "none" and an MCP server start their processes under full access too
    await confinedArgv(h.ctx.runtime, FULL_ACCESS, ["true"], (m) => h.warnings.push(m));
    await confinedArgv(h.ctx.runtime, FULL_ACCESS, ["true"], (m) => h.warnings.push(m));
    expect(h.warnings).toEqual([`ocx's own memory and environment stay readable to its commands on this host (${problem})`]);
  });

  describe("read-only carve-outs (.git and friends)", () => {
    const workspace = () => {
      const dir = carveDir();
      mkdirSync(join(dir, ".git"));
      return dir;
    };
    const specOf = (h: Harness, n = 0) => JSON.parse(h.spawned[n]!.argv[1]!) as SandboxSpec;
    const ws = (root: string): SandboxPolicy => ({ mode: "workspace-write", writableRoots: [root], networkAccess: false, bypass: false });

    test("a host that can enforce them gets every candidate and the view, and no warning; at the end ocx asks the host to drop leftover placeholders", async () => {
      const root = workspace();
      const released: string[][] = [];
      const h = harness(ws(root), { carveOuts: true, freshProc: true, privatePts: true });
      (h.ctx.runtime.sandbox as { releasePlaceholders?: (p: readonly string[]) => Promise<void> }).releasePlaceholders = async (p) => {
        released.push([...p]);
      };
      await exec(h, { cmd: "true" });
      await exec(h, { cmd: "true" });
      const names = [".git", ".codex", ".agents", ".aws"].map((d) => `${root}/${d}`);
      expect(specOf(h).readOnly).toEqual(names);
      expect(specOf(h).view).toEqual({ namespaces: true, freshProc: true, privatePts: true, supervised: false });
      expect(readdirSync(root)).toEqual([".git"]); // the helper makes placeholders, not ocx
      expect(h.warnings).toEqual([]);
      await releaseSandbox(h.ctx.runtime, h.ctx.sandbox);
      await releaseSandbox(h.ctx.runtime, h.ctx.sandbox);
      expect(released).toEqual([names]); // once per run
    });

    test("a host without namespaces: the command still runs confined, with one warning per run naming every gap", async () => {
      const root = carveDir();
      const h = harness(ws(root), { carveOuts: false, problems: ["user namespace: clone: Operation not permitted"] });
      await exec(h, { cmd: "true" });
      await exec(h, { cmd: "true" });
      expect(h.spawned).toHaveLength(2);
      expect(specOf(h).view.namespaces).toBe(false);
      expect(specOf(h).writable[0]).toBe(root);
      expect(readdirSync(root)).toEqual([]); // no placeholders without a mount to put on them
      expect(h.warnings).toHaveLength(1);
      expect(h.warnings[0]).toContain("clone: Operation not permitted");
      for (const gap of [".git, .codex, .agents, .aws", "timestamps", "other processes", "chmod, chown and extended attributes are refused", "apparmor_restrict_unprivileged_userns"]) {
        expect(h.warnings[0]).toContain(gap);
      }
      expect(specOf(h).view.supervised).toBe(false);
      // with the metadata supervisor, changes inside the roots are allowed and outside refused
      const sup = harness(ws(root), { carveOuts: false, supervisor: true, problems: ["user namespace: x"] });
      await exec(sup, { cmd: "true" });
      expect(specOf(sup).view.supervised).toBe(true);
      expect(sup.warnings[0]).toContain("checked by ocx and refused outside the writable roots");
      expect(sup.warnings[0]).not.toContain("timestamps outside");
      expect(h.warnings[0]).not.toContain("\n");
    });

    test("without namespaces, a CODEX_HOME inside a writable root stops the run before anything runs", async () => {
      const root = carveDir();
      const home = join(root, "codex-home");
      mkdirSync(home);
      const h = harness({ ...ws(root), codexHome: home }, { carveOuts: false, problems: ["user namespace: forced"] });
      const err = await exec(h, { cmd: "true" }).catch((e) => e);
      expect(err).toBeInstanceOf(OcxError);
      expect(err.kind).toBe("sandbox");
      expect(err.message).toContain(`CODEX_HOME (${home})`);
      expect(err.message).toContain(`writable root ${root}`);
      expect(h.spawned).toEqual([]);
      // with namespaces it runs, and CODEX_HOME and its credential files are in the spec
      const ok = harness({ ...ws(root), codexHome: home }, { carveOuts: true });
      await exec(ok, { cmd: "true" });
      expect(specOf(ok).readOnly).toContain(home);
      expect(specOf(ok).hide).toEqual(["auth.json", "auth.json.ocx.lock", "auth.json.lock"].map((f) => `${home}/${f}`));
      await releaseSandbox(ok.ctx.runtime, ok.ctx.sandbox);
    });
  });

  test("tty and escalation are refused with messages the model reads", async () => {
    const h = harness();
    expect(await exec(h, { cmd: "echo hi", tty: true })).toContain("tty is not supported by ocx yet");
    expect(await exec(h, { cmd: "echo hi", sandbox_permissions: "require_escalated" })).toContain(
      "not available in exec mode",
    );
    expect(h.spawned).toEqual([]);
    expect(h.events).toEqual([]);
  });

  test("max_output_tokens truncates the middle and says how many lines there were", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "seq 1 2000", max_output_tokens: 10 });
    const body = out.split("Output:\n")[1];
    expect(body.startsWith("Total output lines: 2000\n\n1\n2\n")).toBe(true);
    expect(body).toMatch(/…\d+ tokens truncated…/);
    expect(body.endsWith("2000\n")).toBe(true);
  });

  test("a shell that cannot be started gives an error and no item", async () => {
    const h = harness();
    const out = await exec(h, { cmd: "echo hi", shell: "/no/such/shell" });
    expect(out).toContain("exec_command failed");
    expect(h.events).toEqual([]);
  });

  test("tool specs are strict-free JSON schemas without extra properties", () => {
    for (const tool of [execCommandTool, writeStdinTool]) {
      expect(tool.spec.type).toBe("function");
      const params = (tool.spec as { parameters: Record<string, unknown> }).parameters;
      expect(params.additionalProperties).toBe(false);
    }
    expect(statSync(tmpdir()).isDirectory()).toBe(true);
  });
});
