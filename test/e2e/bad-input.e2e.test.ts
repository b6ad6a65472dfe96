// Bad input is one line saying what to do, a defined exit code and no stack trace: stdin that is
// a directory, an unknown profile, a base URL that is not http(s), a CODEX_HOME that is a file, a
// session file without history; and text from the model or a command cannot drive the terminal.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, statSync, truncateSync } from "node:fs";
import { execCommand, message, reply, sse, turn } from "../mock/responses-server.ts";
import { cleanupTemp, existsSync, join, makeDir, makeHome, makeRepo, ocxBin, readFileSync, runOcx, useMockServers, writeFileSync } from "./harness.ts";

const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

/** The one "Error: ..." line, and no stack trace anywhere. */
function oneErrorLine(stderr: string): string {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toContain("unexpected failure");
  const errors = stderr.split("\n").filter((l) => l.startsWith("Error"));
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

function rolloutOf(home: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".jsonl")) out.push(p);
    }
  };
  walk(join(home, "sessions"));
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe("stdin", () => {
  test("a directory on stdin with a prompt argument: one warning, the run goes on without it; without a prompt: exit 2", async () => {
    const { mock, home } = await setup([reply("fine")]);
    const dir = makeDir("stdin-dir-");
    // `< dir` through a shell: the harness's own stdin options are strings and pipes.
    const withDir = (args: string[]) => ["/bin/sh", "-c", `exec "$0" "$@" < "${dir}"`, ocxBin(), ...args];
    const r = await runOcx([], { home, command: withDir(["exec", "--skip-git-repo-check", "--color", "never", "the prompt"]) });
    expect(r.stderr).not.toContain("unexpected failure");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fine\n");
    expect(r.stderr.split("\n").filter((l) => l.startsWith("warning:"))).toEqual(["warning: stdin is a directory; continuing without it"]);
    expect(JSON.stringify(mock.requests[0]!.body.input)).not.toContain("<stdin>");

    const none = await runOcx([], { home, command: withDir(["exec", "--skip-git-repo-check"]) });
    expect(none.code).toBe(2);
    expect(oneErrorLine(none.stderr)).toContain("stdin is a directory");
  });
});

describe("config", () => {
  test("-p NAME without $CODEX_HOME/NAME.config.toml: exit 3 naming the file looked for", async () => {
    const { mock, home } = await setup([reply("unused")]);
    const r = await runOcx(["exec", "--skip-git-repo-check", "-p", "nosuch", "hi"], { home });
    expect(r.code).toBe(3);
    const line = oneErrorLine(r.stderr);
    expect(line).toContain("profile `nosuch` not found");
    expect(line).toContain(join(home, "nosuch.config.toml"));
    expect(mock.requests).toHaveLength(0);
    // An existing profile still layers.
    writeFileSync(join(home, "fast.config.toml"), 'model = "from-profile"\n');
    const ok = await runOcx(["exec", "--skip-git-repo-check", "-p", "fast", ...JSON_, "hi"], { home });
    expect(ok.code).toBe(0);
    expect(mock.requests[0]!.body.model).toBe("from-profile");
  });

  test("a base URL that is not http(s): exit 3 at once naming the key and where it was set", async () => {
    const { mock, home } = await setup([]);
    const cases: Array<{ args: string[]; home?: string; key: string; where: string }> = [
      { args: ["-c", 'openai_base_url="localhost:8080/v1"', "-c", 'model_provider="openai"'], key: "openai_base_url", where: "-c override" },
      { args: ["-c", 'chatgpt_base_url="ftp://example.com"'], key: "chatgpt_base_url", where: "-c override" },
    ];
    const bad = makeDir("home-bad-url-");
    writeFileSync(join(bad, "config.toml"), 'model_provider = "x"\n\n[model_providers.x]\nname = "X"\nbase_url = "127.0.0.1:8000/v1"\n');
    cases.push({ args: [], home: bad, key: "model_providers.x.base_url", where: `${join(bad, "config.toml")}:5` });
    for (const c of cases) {
      const r = await runOcx(["exec", "--skip-git-repo-check", ...c.args, "hi"], { home: c.home ?? home, timeoutMs: 10_000 });
      expect(r.code).toBe(3);
      const line = oneErrorLine(r.stderr);
      expect(line).toContain(`\`${c.key}\``);
      expect(line).toContain(c.where);
      expect(line).toContain("http:// or https:// URL");
    }
    expect(mock.requests).toHaveLength(0);
  });

  test("CODEX_HOME that exists but is not a directory: exit 3 saying so (not a login error)", async () => {
    const file = join(makeDir("home-file-"), "codex-home");
    writeFileSync(file, "not a directory\n");
    for (const args of [["exec", "--skip-git-repo-check", "hi"], ["sessions"]]) {
      const r = await runOcx(args, { home: file, env: { CODEX_API_KEY: undefined } });
      expect(r.code).toBe(3);
      expect(oneErrorLine(r.stderr)).toContain(`CODEX_HOME ${file} is not a directory`);
    }
  });
});

describe("resume", () => {
  test("an empty or header-less session file: exit 3 saying the session has no history", async () => {
    const { mock, home } = await setup([reply("first")]);
    const repo = makeRepo();
    const first = await runOcx(["exec", ...JSON_, "hello"], { home, cwd: repo });
    expect(first.code).toBe(0);
    const id = first.events!.find((e) => e.type === "thread.started").thread_id;
    const file = rolloutOf(home);
    const headerless = readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && JSON.parse(l).type !== "session_meta");

    truncateSync(file, 0);
    const empty = await runOcx(["exec", "resume", id, "go on"], { home, cwd: repo });
    expect(empty.code).toBe(3);
    expect(oneErrorLine(empty.stderr)).toContain(`The session has no history: ${file} is empty`);

    writeFileSync(file, `${headerless.join("\n")}\n`);
    const noHeader = await runOcx(["exec", "resume", id, "go on"], { home, cwd: repo });
    expect(noHeader.code).toBe(3);
    expect(oneErrorLine(noHeader.stderr)).toContain(`The session has no history: ${file} has no session_meta line`);
    expect(mock.requests).toHaveLength(1);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe("terminal control sequences", () => {
  const OSC52 = "\x1b]52;c;cHduZWQ=\x07";
  const CLEAR = "\x1b[2J\x1b[H";

  test("human mode shows the model's and a command's control characters escaped on stderr; stdout's final message is byte-exact", async () => {
    const answer = `done ${OSC52}${CLEAR}\x9b31m`;
    const { home } = await setup([
      sse(turn([message(`looking ${CLEAR}`), execCommand(`printf 'out\\033]0;title\\007\\033[31mred\\r\\n'`, {}, "call_1")])),
      reply(answer),
    ]);
    const r = await runOcx(["exec", "--skip-git-repo-check", "--sandbox", "danger-full-access", "--color", "never", "go"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${answer}\n`);
    // Nothing a terminal would obey reaches stderr: no ESC, BEL, CSI or CR byte at all.
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(r.stderr).toContain("looking \\x1b[2J\\x1b[H");
    expect(r.stderr).toContain("out\\x1b]0;title\\x07\\x1b[31mred\n");
    expect(r.stderr).toContain("done \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\x1b[H\\x9b31m");
  });

  test("--color always keeps ocx's own colours while escaping the model's", async () => {
    const { home } = await setup([reply(`x${CLEAR}`)]);
    const r = await runOcx(["exec", "--skip-git-repo-check", "--color", "always", "go"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("\x1b[35;1mocx\x1b[0m");
    expect(r.stderr).toContain("x\\x1b[2J\\x1b[H");
    expect(r.stderr).not.toContain(CLEAR);
  });
});
