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

test("a long answer (non-ASCII, quotes, the key inside): stdout, the JSONL line and the session file hold it whole, the key redacted, in both modes", async () => {
  const { runOcx } = await import("./harness.ts");
  const { readdirSync, readFileSync, statSync } = await import("node:fs");
  const { join } = await import("node:path");
  const key = "sk-long-answer-key-0123456789";
  const piece = 'ünïcödé ✓ 🚀 "q" \\ tab\t';
  const text = `${piece.repeat(6000)}${key}\n${piece.repeat(6000)}`;
  const shown = text.replace(key, "[REDACTED]");
  const sessions = (h: string) => {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : out.push(join(d, n));
    };
    walk(join(h, "sessions"));
    return out;
  };
  for (const json of [true, false]) {
    const h = makeHome(mock.url);
    mock.push(reply(text));
    const r = await runOcx(["exec", ...(json ? ["--json"] : []), "--skip-git-repo-check", "hi"], { home: h, cwd: makeDir(), env: { CODEX_API_KEY: key } });
    expect(r.code).toBe(0);
    if (json) {
      const events = parseJsonl(r.stdout)!;
      expect(events[2].item.text).toBe(shown);
      expect(r.stdout.endsWith("}\n")).toBe(true);
    } else {
      expect(r.stdout).toBe(`${shown}\n`);
    }
    const [file] = sessions(h);
    const rollout = readFileSync(file!, "utf8");
    expect(rollout).not.toContain(key);
    expect(rollout.endsWith("\n")).toBe(true);
    const lines = rollout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const agent = lines.find((l) => l.type === "event_msg" && l.payload.type === "agent_message");
    expect(agent.payload.message).toBe(shown);
  }
});
