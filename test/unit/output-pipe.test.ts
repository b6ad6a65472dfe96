// SpawnOptions.output on Bun (bun-spawn.ts, output-pipe.ts): stdout and stderr reach the listener
// through one plain pipe, in the order written, whole, and end() comes once.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnBun } from "../../src/adapters/bun-spawn.ts";
import type { ChildProcess } from "../../src/core/runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const linux = process.platform === "linux";
const readlinkOr = (path: string) => {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
};

/** Spawns `script` with an output listener; resolves with everything it printed once end() came. */
function run(script: string, opts: { onChild?: (c: ChildProcess) => void; ownPipe?: boolean } = {}) {
  const chunks: Uint8Array[] = [];
  let ends = 0;
  let endNow!: () => void;
  const ended = new Promise<void>((r) => (endNow = r));
  const child = spawnBun({
    argv: ["/bin/sh", "-c", script],
    cwd: tmpdir(),
    env,
    stdin: "pipe",
    output: {
      data: (chunk) => chunks.push(chunk.slice()),
      end: () => {
        ends++;
        endNow();
      },
    },
  }, { ownPipe: opts.ownPipe });
  opts.onChild?.(child);
  const text = () => new TextDecoder().decode(Buffer.concat(chunks));
  return { child, ended, text, ends: () => ends, chunks };
}

describe("spawn with an output listener", () => {
  test("stdout and stderr arrive in the order written, then end() once; the streams are empty", async () => {
    const r = run("echo one; echo two >&2; echo three; printf four >&2");
    expect(await r.child.exited).toEqual({ code: 0, signal: null });
    await r.ended;
    expect(r.text()).toBe("one\ntwo\nthree\nfour");
    expect(await new Response(r.child.stdout).text()).toBe("");
    expect(await new Response(r.child.stderr).text()).toBe("");
    await Bun.sleep(20);
    expect(r.ends()).toBe(1);
  });

  test.skipIf(!linux)("the command's stdout and stderr are one plain pipe, not a socket", async () => {
    const r = run('readlink /proc/self/fd/1; readlink /proc/self/fd/2; [ -p /dev/stdout ] && echo fifo');
    await r.child.exited;
    await r.ended;
    const [out, err, kind] = r.text().trim().split("\n");
    expect(out).toMatch(/^pipe:\[\d+\]$/);
    expect(err).toBe(out);
    expect(kind).toBe("fifo");
  });

  test("many megabytes arrive whole (bigger than any pipe), in order", async () => {
    const r = run("i=0; while [ $i -lt 3 ]; do head -c 3000000 /dev/zero | tr '\\0' \"$i\"; i=$((i+1)); done");
    await r.child.exited;
    await r.ended;
    const all = Buffer.concat(r.chunks);
    expect(all.length).toBe(9_000_000);
    for (const [i, at] of [0, 2_999_999, 3_000_000, 5_999_999, 6_000_000, 8_999_999].entries()) expect(String.fromCharCode(all[at]!)).toBe(String(Math.floor(i / 2)));
  });

  test("takeOutput() delivers what was written before it, synchronously", async () => {
    const marker = join(tempDir("ocx-take-"), "written");
    const r = run(`echo ready; : > '${marker}'; sleep 5`);
    for (let i = 0; i < 500 && !existsSync(marker); i++) await Bun.sleep(5);
    r.child.takeOutput?.();
    expect(r.text()).toBe("ready\n");
    r.child.kill("SIGKILL");
    await r.child.exited;
  });

  test("stopOutput() ends the listener even while a background process keeps the pipe open", async () => {
    const r = run("(sleep 5; echo late) & echo now");
    await r.child.exited;
    await Bun.sleep(50);
    r.child.stopOutput?.();
    await r.ended;
    expect(r.text()).toBe("now\n");
    expect(r.ends()).toBe(1);
    r.child.kill("SIGKILL");
  });

  test.skipIf(!linux)("no file descriptor is left behind", async () => {
    // The pipes of this process (Bun's own stdin pipe of each child is a socket).
    const pipes = () => readdirSync("/proc/self/fd").filter((fd) => /^pipe:/.test(readlinkOr(`/proc/self/fd/${fd}`))).length;
    const before = pipes();
    for (let i = 0; i < 5; i++) {
      const r = run("echo x");
      await r.child.exited;
      await r.ended;
    }
    expect(pipes()).toBe(before);
  });

  test("without a pipe of its own (not Linux): Bun's two streams feed the listener, end() once after both", async () => {
    const r = run("echo one; echo two >&2; head -c 3000000 /dev/zero", { ownPipe: false });
    await r.child.exited;
    await r.ended;
    const text = r.text();
    expect(text.length).toBe(3_000_000 + 8);
    expect(text.includes("one\n") && text.includes("two\n")).toBe(true);
    await Bun.sleep(20);
    expect(r.ends()).toBe(1);
    const s = run("(sleep 5; echo late) & echo now", { ownPipe: false });
    await s.child.exited;
    s.child.stopOutput?.();
    await s.ended;
    expect(s.ends()).toBe(1);
    s.child.kill("SIGKILL");
  });
});
