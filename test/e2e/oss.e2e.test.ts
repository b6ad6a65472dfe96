// --oss: a local Ollama / LM Studio server, probed before the run.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { type Mock, reply, startMockResponses } from "../mock/responses-server.ts";
import { cleanupTemp, freePort, makeDir, runOcx } from "./harness.ts";

afterAll(cleanupTemp);
let mocks: Mock[] = [];
afterEach(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  mocks = [];
});
const noKey = { CODEX_API_KEY: undefined };

async function fakeOllama(models: string[], script = [reply("from ollama")]) {
  const m = await startMockResponses(script, { "/api/tags": { models: models.map((name) => ({ name, model: name })) } });
  mocks.push(m);
  return m;
}

describe("--oss", () => {
  test("Ollama: the server is probed, then the default model's request goes to it (port from CODEX_OSS_PORT)", async () => {
    const ollama = await fakeOllama(["llama3:latest", "gpt-oss:20b"]);
    const r = await runOcx(["exec", "--oss", "--local-provider", "ollama", "--skip-git-repo-check", "hi"], { home: makeDir("home-"), env: { ...noKey, CODEX_OSS_PORT: String(ollama.port) } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("from ollama");
    expect(ollama.otherRequests.map((q) => `${q.method} ${q.path}`)).toEqual(["GET /api/tags"]);
    expect(ollama.requests[0]!.body.model).toBe("gpt-oss:20b");
    expect(ollama.requests[0]!.headers.authorization).toBeUndefined();
  });

  test("-m picks another model; a model the server lacks is exit 3 naming it and how to pull it; oss_provider from config", async () => {
    const ollama = await fakeOllama(["llama3:latest"]);
    const env = { ...noKey, CODEX_OSS_BASE_URL: `http://127.0.0.1:${ollama.port}/v1` };
    const ok = await runOcx(["exec", "--oss", "-m", "llama3", "--skip-git-repo-check", "-c", 'oss_provider="ollama"', "hi"], { home: makeDir("home-"), env });
    expect(ok.code).toBe(0);
    expect(ollama.requests[0]!.body.model).toBe("llama3");
    const missing = await runOcx(["exec", "--oss", "--local-provider", "ollama", "--skip-git-repo-check", "hi"], { home: makeDir("home-"), env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("Model `gpt-oss:20b` is not available");
    expect(missing.stderr).toContain("ollama pull gpt-oss:20b");
    expect(ollama.requests.length).toBe(1);
  });

  test("nothing listening: exit 3 with how to start the server, no thread started", async () => {
    const port = await freePort();
    for (const local of ["ollama", "lmstudio"]) {
      const r = await runOcx(["exec", "--json", "--oss", "--local-provider", local, "--skip-git-repo-check", "hi"], { home: makeDir("home-"), env: { ...noKey, CODEX_OSS_PORT: String(port) } });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(local === "ollama" ? "No Ollama server answered" : "No LM Studio server answered");
      expect(r.stderr).toContain("CODEX_OSS_PORT");
      expect(r.stdout).toBe("");
    }
  });

  test("--oss without a provider is a config error", async () => {
    const r = await runOcx(["exec", "--oss", "--skip-git-repo-check", "hi"], { home: makeDir("home-"), env: noKey });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("--local-provider ollama|lmstudio");
  });

  test("LM Studio: /v1/models lists the model", async () => {
    const lm = await startMockResponses([reply("from lm studio")], { "/v1/models": { data: [{ id: "qwen3-coder" }] } });
    mocks.push(lm);
    const r = await runOcx(["exec", "--oss", "--local-provider", "lmstudio", "-m", "qwen3-coder", "--skip-git-repo-check", "hi"], { home: makeDir("home-"), env: { ...noKey, CODEX_OSS_PORT: String(lm.port) } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("from lm studio");
  });
});
