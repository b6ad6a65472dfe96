// The GitHub Action's steps (action/install.sh, action/run.sh) run the way a runner runs them:
// bash with the INPUT_* variables action.yml maps, GITHUB_OUTPUT, RUNNER_TEMP, RUNNER_OS/ARCH,
// against the mock model server and a local release server.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execCommand, reply, sse, turn } from "../mock/responses-server.ts";
import { cleanupTemp, makeDir, makeRepo, ocxBin, REPO_ROOT, useMockServers } from "./harness.ts";

afterAll(() => cleanupTemp());
const setup = useMockServers();
const KEY = "sk-test-e2e";

interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
}

/** GITHUB_OUTPUT's `name=value` and `name<<DELIM` … `DELIM` lines. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (lines[i]!.includes("=")) {
      const at = lines[i]!.indexOf("=");
      out[lines[i]!.slice(0, at)] = lines[i]!.slice(at + 1);
    }
  }
  return out;
}

async function runStep(script: "install" | "run", env: Record<string, string>, cwd = makeDir("ws-")): Promise<StepResult> {
  const temp = makeDir("runner-temp-");
  const output = join(temp, "github_output");
  writeFileSync(output, "");
  const proc = Bun.spawn(["bash", join(REPO_ROOT, "action", `${script}.sh`)], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: makeDir("home-"),
      RUNNER_TEMP: temp,
      RUNNER_OS: "Linux",
      RUNNER_ARCH: process.arch === "arm64" ? "ARM64" : "X64",
      GITHUB_OUTPUT: output,
      GITHUB_ACTION_PATH: REPO_ROOT,
      NO_COLOR: "1",
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return { code: proc.exitCode, stdout, stderr, outputs: parseOutputs(readFileSync(output, "utf8")) };
}

describe("action.yml", () => {
  const action = Bun.YAML.parse(readFileSync(join(REPO_ROOT, "action.yml"), "utf8")) as any;

  test("a composite action whose steps hand every input over as INPUT_* in the environment", () => {
    expect(action.runs.using).toBe("composite");
    const steps = action.runs.steps as Array<{ id: string; run: string; env: Record<string, string> }>;
    expect(steps.map((s) => s.run)).toEqual(['bash "$GITHUB_ACTION_PATH/action/install.sh"', 'bash "$GITHUB_ACTION_PATH/action/run.sh"']);
    const mapped = steps.flatMap((s) => Object.values(s.env).join("\n"));
    for (const name of Object.keys(action.inputs)) expect(mapped.join("\n")).toContain(`inputs.${name}`);
    for (const s of steps) for (const [k, v] of Object.entries(s.env)) if (v.includes("inputs.")) expect(k).toMatch(/^INPUT_[A-Z_]+$/);
    for (const name of ["prompt", "prompt-file", "output-file", "working-directory", "sandbox", "model", "output-schema-file", "openai-api-key", "ocx-args", "max-turns", "max-cost-usd"]) {
      expect(action.inputs).toHaveProperty(name);
    }
    expect(action.outputs["final-message"].value).toBe("${{ steps.run.outputs.final-message }}");
    // No step puts an input on a command line (keys and prompts stay out of argv and logs).
    for (const s of steps) expect(s.run).not.toContain("${{");
  });
});

describe("install step", () => {
  test("ocx-path is used as given", async () => {
    const r = await runStep("install", { INPUT_OCX_PATH: ocxBin() });
    expect(r.code).toBe(0);
    expect(r.outputs["ocx-path"]).toBe(ocxBin());
  });

  test("an ocx-path that is not executable stops the step with one line", async () => {
    const r = await runStep("install", { INPUT_OCX_PATH: "/nonexistent/ocx" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("::error::ocx action: ocx-path /nonexistent/ocx is not an executable file\n");
  });

  async function releaseServer(files: Record<string, string | Blob>) {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const name = new URL(req.url).pathname.split("/").pop()!;
        const body = files[name];
        return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
      },
    });
    return { url: `http://127.0.0.1:${server.port}/v9.9.9`, close: () => server.stop(true) };
  }
  const target = `ocx-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;

  test("downloads the runner's release binary, checks SHA256SUMS, and the binary runs", async () => {
    const bytes = readFileSync(ocxBin());
    const sum = createHash("sha256").update(bytes).digest("hex");
    const rel = await releaseServer({ [target]: Bun.file(ocxBin()), SHA256SUMS: `${"0".repeat(64)}  ocx-darwin-arm64\n${sum}  ${target}\n` });
    try {
      const r = await runStep("install", { INPUT_RELEASE_URL: rel.url });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.outputs["ocx-path"]).toEndWith(`/ocx-bin/${target}`);
      const v = Bun.spawnSync([r.outputs["ocx-path"]!, "--version"]);
      expect(v.stdout.toString()).toMatch(/^ocx \d+\.\d+\.\d+\n$/);
    } finally {
      rel.close();
    }
  });

  test("a binary that does not match SHA256SUMS is refused and removed", async () => {
    const rel = await releaseServer({ [target]: "not ocx", SHA256SUMS: `${"a".repeat(64)}  ${target}\n` });
    try {
      const r = await runStep("install", { INPUT_RELEASE_URL: rel.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith(`::error::ocx action: checksum mismatch for ${target}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.outputs["ocx-path"]).toBeUndefined();
    } finally {
      rel.close();
    }
  });

  test("no release for the runner is named", async () => {
    const r = await runStep("install", { RUNNER_OS: "Windows", RUNNER_ARCH: "ARM64", INPUT_RELEASE_URL: "http://127.0.0.1:9/x" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("::error::ocx action: no ocx release for Windows on arm64\n");
  });
});

describe("run step", () => {
  test("runs ocx exec with the prompt, writes final-message and the -o file; the key reaches ocx only through the environment", async () => {
    const { mock, home } = await setup([reply("All done.\nTwo lines.")]);
    const repo = makeRepo();
    const r = await runStep(
      "run",
      {
        OCX_BIN: ocxBin(),
        INPUT_PROMPT: "say 'done' $(whoami)",
        INPUT_OUTPUT_FILE: "out/final.txt",
        INPUT_WORKING_DIRECTORY: repo,
        INPUT_SANDBOX: "read-only",
        INPUT_MODEL: "gpt-test",
        INPUT_OPENAI_API_KEY: KEY,
        INPUT_CODEX_HOME: home,
        INPUT_MAX_TURNS: "5",
        INPUT_OCX_ARGS: "-c\nmodel_reasoning_effort=\"low\"\n",
      },
      join(repo, ".."),
    );
    expect(r.stderr).not.toContain(KEY);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("::add-mask::");
    expect(r.outputs["final-message"]).toBe("All done.\nTwo lines.");
    expect(r.outputs["exit-code"]).toBe("0");
    expect(r.outputs["codex-home"]).toBe(home);
    expect(r.outputs["output-file"]).toBe(join(repo, "..", "out/final.txt"));
    expect(readFileSync(r.outputs["output-file"]!, "utf8")).toBe("All done.\nTwo lines.");
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(mock.requests[0]!.body.model).toBe("gpt-test");
    expect(JSON.stringify(mock.requests[0]!.body.input)).toContain("say 'done' $(whoami)");
  });

  test("the command line ocx gets: flags from the inputs, the prompt on stdin, no key", async () => {
    const dir = makeDir("stub-");
    const stub = join(dir, "ocx");
    writeFileSync(stub, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${dir}/argv"\ncat > "${dir}/stdin"\nprintf '%s' "$CODEX_API_KEY" > "${dir}/key"\nenv > "${dir}/env"\n`);
    chmodSync(stub, 0o755);
    const schema = join(dir, "schema.json");
    writeFileSync(schema, "{}");
    const promptFile = join(dir, "task.md");
    writeFileSync(promptFile, "fix the tests\n");
    const r = await runStep("run", {
      OCX_BIN: stub,
      INPUT_PROMPT_FILE: promptFile,
      INPUT_OUTPUT_SCHEMA_FILE: schema,
      INPUT_OPENAI_API_KEY: KEY,
      INPUT_MAX_TOOL_CALLS: "7",
      INPUT_MAX_TOKENS: "1000",
      INPUT_MAX_COST_USD: "0.5",
      INPUT_OCX_ARGS: "--json\r\n--skip-git-repo-check",
    });
    expect(r.code).toBe(0);
    const argv = readFileSync(join(dir, "argv"), "utf8").trimEnd().split("\n");
    expect(argv).toEqual([
      "exec", "--sandbox", "workspace-write", "-o", expect.stringMatching(/\/ocx-final-message\.txt$/),
      "--output-schema", schema, "--max-tool-calls", "7", "--max-tokens", "1000", "--max-cost-usd", "0.5",
      "--json", "--skip-git-repo-check", "-",
    ]);
    expect(readFileSync(join(dir, "stdin"), "utf8")).toBe("fix the tests\n");
    expect(readFileSync(join(dir, "key"), "utf8")).toBe(KEY);
    expect(readFileSync(join(dir, "env"), "utf8")).not.toContain("INPUT_OPENAI_API_KEY");
  });

  test("a budget reached: the step fails with ocx's exit code 6 and still sets its outputs", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("echo hi")])), reply("never")]);
    const repo = makeRepo();
    const r = await runStep("run", { OCX_BIN: ocxBin(), INPUT_PROMPT: "loop", INPUT_MAX_TURNS: "1", INPUT_OPENAI_API_KEY: KEY, INPUT_CODEX_HOME: home, INPUT_SANDBOX: "danger-full-access" }, repo);
    expect(r.code).toBe(6);
    expect(r.outputs["exit-code"]).toBe("6");
    expect(r.outputs["final-message"]).toBe("");
    expect(mock.requests).toHaveLength(1);
    expect(r.stderr).toContain("budget exceeded: --max-turns 1");
  });

  test("neither prompt nor prompt-file: one line, exit 1, ocx not started", async () => {
    const r = await runStep("run", { OCX_BIN: "/nonexistent/ocx" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("::error::ocx action: set prompt or prompt-file\n");
  });
});
