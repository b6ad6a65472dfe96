// The command line itself, on the compiled binary: version, help, usage errors, and that every
// flag a wrapper may pass (contract section 1.1) is accepted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { EXEC_FLAGS } from "../../src/cli/exec-flags.ts";
import { execCommand, reply, sse, startMockResponses, turn, type Mock } from "../mock/responses-server.ts";
import { cleanupTemp, makeDir, makeHome, ocxBin, runOcx } from "./harness.ts";

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

test("ocx --version prints `ocx <version>`", async () => {
  const r = await runOcx(["--version"], { home });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^ocx \d+\.\d+\.\d+\n$/);
  expect(r.stderr).toBe("");
  expect((await runOcx(["-V"], { home })).stdout).toBe(r.stdout);
  // With stdout closed there is nothing to print to: still exit 0, nothing on stderr.
  const closed = Bun.spawnSync(["sh", "-c", 'exec 1>&-; "$0" --version', ocxBin()], { stderr: "pipe" });
  expect([closed.exitCode, closed.stderr.toString()]).toEqual([0, ""]);
});

test("ocx --version --verbose and ocx version --json name version, commit, target and Bun", async () => {
  const verbose = await runOcx(["--version", "--verbose"], { home });
  expect(verbose.code).toBe(0);
  const lines = verbose.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^ocx \d+\.\d+\.\d+$/);
  expect(lines[1]).toMatch(/^commit: ([0-9a-f]{12}(-dirty)?|unknown)$/);
  expect(lines[2]).toMatch(/^target: (linux|darwin)-(x64|arm64)(-musl)?$/);
  expect(lines[3]).toMatch(/^bun: \d+\.\d+\.\d+/);
  const json = await runOcx(["version", "--json"], { home });
  expect(json.code).toBe(0);
  const info = JSON.parse(json.stdout);
  expect(Object.keys(info)).toEqual(["version", "commit", "target", "runtime", "runtime_version"]);
  expect(`ocx ${info.version}\ncommit: ${info.commit}\ntarget: ${info.target}\n${info.runtime}: ${info.runtime_version}\n`).toBe(verbose.stdout);
  const bad = await runOcx(["version", "--yaml"], { home });
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toContain("--yaml");
});

test("ocx exec --help lists every flag, without colour when piped", async () => {
  const r = await runOcx(["exec", "--help"], { home });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain("\x1b[");
  for (const [name, def] of Object.entries(EXEC_FLAGS)) {
    expect(r.stdout).toContain(`--${name}`);
    if (def.short) expect(r.stdout).toContain(`-${def.short}, --${name}`);
  }
  const top = await runOcx(["--help"], { home });
  expect(top.code).toBe(0);
  expect(top.stdout).toContain("exec");
});

test("usage errors exit 2 with a one-line reason and a hint", async () => {
  const unknown = await runOcx(["exec", "--no-such-flag", "x"], { home });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("error: unexpected argument '--no-such-flag' found");
  expect(unknown.stderr).toContain("--help");
  expect(unknown.stdout).toBe("");
  const badValue = await runOcx(["exec", "--color", "sometimes", "x"], { home });
  expect(badValue.code).toBe(2);
  expect(badValue.stderr).toContain("possible values: always, never, auto");
  const twoPrompts = await runOcx(["exec", "one", "two"], { home });
  expect(twoPrompts.code).toBe(2);
  const noCommand = await runOcx(["frobnicate"], { home });
  expect(noCommand.code).toBe(2);
  expect(noCommand.stderr).toContain("unrecognized subcommand 'frobnicate'");
});

test("a bad -c override is a configuration error (exit 3), with the reference's wording", async () => {
  const r = await runOcx(["exec", "-c", "model", "x"], { home });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("Error parsing -c overrides: Invalid override (missing '='): model");
  expect(r.stderr.split("\n").filter((l) => l.trim() !== "")).toHaveLength(1);
});

test("every flag a wrapper may pass is accepted; the ones without a meaning yet are ignored", async () => {
  mock.push(reply("accepted"));
  const dir = makeDir("flags-");
  const r = await runOcx(
    [
      "exec",
      "--enable", "web_search",
      "--disable", "foo",
      "--strict-config",
      "--thread-source", "user",
      "--cyber-access-program", "standard",
      "--trust",
      "--ignore-rules",
      "--worktree",
      "--ephemeral",
      "--skip-git-repo-check",
      "--color", "never",
      "-m", "gpt-5.5",
      "-C", dir,
      "--add-dir", dir,
      "-c", "approval_policy=\"never\"",
      "--experimental-json",
      "say ok",
    ],
    { home },
  );
  expect(r.stderr).toBe("Reading additional input from stdin...\n"); // nothing else: no warning, no error
  expect(r.code).toBe(0);
  expect(r.events?.at(-1)?.type).toBe("turn.completed");
});

test("--full-auto is a deprecated alias of --sandbox workspace-write, with a warning", async () => {
  mock.push(reply("ok"));
  const r = await runOcx(["exec", "--full-auto", "--skip-git-repo-check", "--color", "never", "hi"], { home, cwd: makeDir() });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("`--full-auto` is deprecated; use `--sandbox workspace-write` instead.");
  expect(r.stderr).toContain("sandbox: workspace-write [");
});

test("a reader that goes away early (| head) gets no stack trace on stderr", async () => {
  // The command gives `head` time to exit, so the later events meet a closed pipe.
  mock.push(sse(turn([execCommand("sleep 0.3")])), reply("a long enough answer"));
  const proc = Bun.spawn(
    ["bash", "-c", `"$OCX" exec --json --sandbox danger-full-access --skip-git-repo-check hi </dev/null | head -c 10 >/dev/null; echo "status=\${PIPESTATUS[0]}"`],
    {
      cwd: makeDir(),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-test", OCX: ocxBin() },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  expect(out).toBe("status=0\n");
  expect(err).not.toContain("EPIPE");
  expect(err).not.toContain("    at ");
});
