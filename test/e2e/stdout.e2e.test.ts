// stdout and stderr are written to fd 1 and 2 directly (src/adapters/common.ts fdSink): a
// non-blocking pipe that fills up (EAGAIN) still gets everything, in order, once its reader
// reads; a slow blocking reader too. (A reader that goes away is in cli.e2e.test.ts.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { reply, startMockResponses, type Mock } from "../mock/responses-server.ts";
import { cleanupTemp, makeDir, makeHome, ocxBin, parseJsonl } from "./harness.ts";

let mock: Mock;
let home: string;
beforeAll(async () => {
  mock = await startMockResponses();
  home = makeHome(mock.url);
});
afterAll(async () => {
  await mock.close();
  cleanupTemp();
});

const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => existsSync(p)) ?? Bun.which("python3");
const BIG = 300_000;

/** Runs ocx with stdout on a pipe set O_NONBLOCK, read only after 300 ms (so writes meet EAGAIN). */
const DRIVER = `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
p = subprocess.Popen(sys.argv[1:], stdout=w, stdin=subprocess.DEVNULL)
os.close(w)
time.sleep(0.3)
chunks = []
while True:
    b = os.read(r, 65536)
    if not b:
        break
    chunks.append(b)
sys.stdout.buffer.write(b"".join(chunks))
sys.exit(p.wait())
`;

test.skipIf(!python)("a full non-blocking stdout pipe (EAGAIN): every line arrives, in order, exit 0", async () => {
  const text = "x".repeat(BIG);
  mock.push(reply(text));
  const proc = Bun.spawn([python!, "-c", DRIVER, ocxBin(), "exec", "--json", "--skip-git-repo-check", "hi"], {
    cwd: makeDir(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-test" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited).toBe(0);
  expect(err).not.toContain("EAGAIN");
  const events = parseJsonl(out)!;
  expect(events.map((e) => e.type)).toEqual(["thread.started", "turn.started", "item.completed", "turn.completed"]);
  expect(events[2].item.text).toBe(text);
});

test("a slow reader of a blocking pipe gets all of a large answer", async () => {
  const text = "y".repeat(BIG);
  mock.push(reply(text));
  const proc = Bun.spawn(["bash", "-c", `"$OCX" exec --skip-git-repo-check hi </dev/null | (sleep 0.3; cat)`], {
    cwd: makeDir(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-test", OCX: ocxBin() },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited).toBe(0);
  expect(out).toBe(`${text}\n`);
});
