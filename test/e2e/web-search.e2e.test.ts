// Web search on the compiled binary: the hosted web_search tool in the request per mode, a
// provider's web_search_call as a `web_search` item (--json) and a `web search:` line (human),
// and a provider that cannot have the tool (the chat wire, a 400 naming it) told once on stderr.
import { afterAll, describe, expect, test } from "bun:test";
import { chat } from "../mock/chat.ts";
import { execCommand, http, inputItems, message, reply, sse, turn, webSearchCall } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, items, join, makeDir, makeRepo, runOcx, useMockServers, writeFileSync } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

const webTools = (body: any) => (body.tools as any[]).filter((t) => t.type === "web_search");
const unavailable = (stderr: string) => stderr.split("\n").filter((l) => l.includes("web search is unavailable"));

describe("the web_search tool in the request", () => {
  const cases: Array<[string, string[], boolean | undefined]> = [
    ["by default: cached (no external access)", [], false],
    ['web_search = "cached"', ["-c", 'web_search="cached"'], false],
    ['web_search = "live"', ["-c", 'web_search="live"'], true],
    ["full access makes it live", ["--sandbox", "danger-full-access"], true],
    ['web_search = "disabled": no tool', ["-c", 'web_search="disabled"'], undefined],
  ];
  for (const [name, args, live] of cases) {
    test(name, async () => {
      const { mock, home } = await setup([reply("ok")]);
      const r = await runOcx(["exec", ...JSON_, ...args, "hi"], { home });
      expect(r.code).toBe(0);
      const body = mock.requests[0]!.body;
      if (live === undefined) {
        expect(webTools(body)).toEqual([]);
      } else {
        // Last, after ocx's own tools, as the reference offers it.
        expect(body.tools.at(-1)).toEqual({ type: "web_search", external_web_access: live, search_content_types: ["text", "image"] });
        expect(webTools(body)).toHaveLength(1);
      }
      expect(unavailable(r.stderr)).toEqual([]);
    }, T);
  }
});

test("an unknown web_search value is a config error (exit 3), before any request", async () => {
  const { mock, home } = await setup([]);
  const r = await runOcx(["exec", "-c", 'web_search="sometimes"', "hi"], { home });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("web_search");
  expect(mock.requests).toHaveLength(0);
}, T);

describe("a web_search_call from the model", () => {
  test("--json: a web_search item, started then completed with the query and action (one id key); kept in the history", async () => {
    const { mock, home } = await setup([sse(turn([webSearchCall("ocx codex exec", "ws_mock1"), message("found it")])), reply("again")]);
    const repo = makeRepo();
    const r = await runOcx(["exec", ...JSON_, "search the web"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const started = r.stdout.split("\n").find((l) => l.includes('"item.started"'))!;
    expect(started).toBe('{"type":"item.started","item":{"id":"item_0","type":"web_search","query":"","action":{"type":"other"}}}');
    expect(items(r.events, "item.completed", "web_search")).toEqual([
      { id: "item_0", type: "web_search", query: "ocx codex exec", action: { type: "search", query: "ocx codex exec" } },
    ]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["found it"]);
    // A resumed turn re-sends the call as the provider returned it.
    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "more"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(inputItems(mock.requests[1]!.body, "web_search_call")).toEqual([
      { type: "web_search_call", id: "ws_mock1", status: "completed", action: { type: "search", query: "ocx codex exec" } },
    ]);
  }, T);

  test("human mode prints `web search: <query>` on stderr, the answer on stdout", async () => {
    const { home } = await setup([sse(turn([webSearchCall("rust async"), message("answer")]))]);
    const r = await runOcx(["exec", "--color", "never", "search"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("web search:"))).toEqual(["web search: rust async"]);
    expect(r.stdout).toBe("answer\n");
  }, T);
});

describe("a provider without web search", () => {
  test("refused with a 400 naming the tool: said once on stderr, the request sent again without it, and later ones too", async () => {
    const refusal = { error: { message: "Unsupported tool type: web_search", type: "invalid_request_error" } };
    const { mock, home } = await setup([http(400, refusal), sse(turn([execCommand("echo hi", {}, "call_1")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "hi"], { home });
    expect(r.code).toBe(0);
    expect(unavailable(r.stderr)).toHaveLength(1);
    expect(unavailable(r.stderr)[0]).toContain("Unsupported tool type: web_search");
    expect(mock.requests).toHaveLength(3);
    expect(webTools(mock.requests[0]!.body)).toHaveLength(1);
    expect(webTools(mock.requests[1]!.body)).toEqual([]);
    expect(webTools(mock.requests[2]!.body)).toEqual([]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["done"]);
  }, T);

  test("a 400 that does not name it still fails the turn", async () => {
    const { mock, home } = await setup([http(400, { error: { message: "bad request" } })]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(1);
    expect(mock.requests).toHaveLength(1);
    expect(unavailable(r.stderr)).toEqual([]);
  }, T);

  test('the chat wire: web_search = "live" is said to be unavailable, once; no hosted tool is sent', async () => {
    const { mock } = await setup([chat({ text: "hello" })]);
    const home = makeDir("home-");
    const toml = ['model = "local-model"', 'model_provider = "llama"', "[model_providers.llama]", 'name = "llama.cpp"', `base_url = "${mock.url}"`, 'wire_api = "chat"', ""];
    writeFileSync(join(home, "config.toml"), toml.join("\n"));
    const r = await runOcx(["exec", ...JSON_, "-c", 'web_search="live"', "hi"], { home, env: { CODEX_API_KEY: undefined } });
    expect(r.code).toBe(0);
    expect(unavailable(r.stderr)).toHaveLength(1);
    expect(unavailable(r.stderr)[0]).toContain("llama");
    expect(mock.requests[0]!.body.tools.every((t: any) => t.type === "function")).toBe(true);
    // Not asked for: nothing said.
    mock.push(chat({ text: "again" }));
    const quiet = await runOcx(["exec", ...JSON_, "hi"], { home, env: { CODEX_API_KEY: undefined } });
    expect(quiet.code).toBe(0);
    expect(unavailable(quiet.stderr)).toEqual([]);
  }, T);
});
