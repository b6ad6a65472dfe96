// MCP servers end to end on the compiled binary: servers of the test's own (test/fixtures/mcp)
// and the official reference server, over stdio and streamable HTTP, against the mock model.
import { afterAll, describe, expect, test } from "bun:test";
import { callOutput, dynamic, functionCall, inputItems, reply, sse, turn, type OutputItem } from "../mock/responses-server.ts";
import {
  DENO_OCX,
  REPO_ROOT,
  checkEventStream,
  cleanupTemp,
  freePort,
  items,
  join,
  makeDir,
  processAlive,
  readFileSync,
  runOcx,
  startOcx,
  useMockServers,
  waitFor,
  existsSync,
  filesUnder,
} from "./harness.ts";

const T = 40_000;
const JSON_ = ["--json", "--color", "never"];
const FIXTURE = join(REPO_ROOT, "test/fixtures/mcp/server.ts");
const EVERYTHING = join(REPO_ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const BUN = process.execPath;

const setup = useMockServers();
afterAll(() => cleanupTemp());

/** A `[mcp_servers.<name>]` table running the fixture in `mode`; its pids go to the returned file. */
function fixture(name: string, mode = "normal", extra: string[] = []) {
  const pidFile = join(makeDir("pids-"), "pids");
  const toml = [
    `[mcp_servers.${JSON.stringify(name)}]`,
    `command = ${JSON.stringify(BUN)}`,
    `args = [${JSON.stringify(FIXTURE)}]`,
    `env = { MCP_FIXTURE_MODE = ${JSON.stringify(mode)}, MCP_FIXTURE_PID_FILE = ${JSON.stringify(pidFile)} }`,
    ...extra,
    "",
  ].join("\n");
  return { toml, pids: () => (existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n").filter(Boolean).map(Number) : []) };
}

const call = (name: string, args: unknown, id: string) => functionCall(name, args, id);
const nsCall = (ns: string, name: string, args: unknown, id: string): OutputItem => ({ ...functionCall(name, args, id), namespace: ns }) as unknown as OutputItem;
const output = (body: any, id: string) => inputItems(body, "function_call_output").find((i: any) => i.call_id === id)?.output;
const wall = (s: string) => s.replace(/^Wall time: \d+\.\d{4} seconds\n/, "Wall time: W\n");

describe("MCP tools", () => {
  test("offered as flat functions; a call gives mcp_tool_call items and the reference's output; the server is gone after", async () => {
    const fx = fixture("fx", "normal", [`disabled_tools = ["env"]`]);
    const { mock, home } = await setup(
      [
        sse(turn([call("mcp__fx__echo", { text: "hello" }, "c1"), call("mcp__fx__get-sum", { a: 2, b: 3 }, "c2")])),
        sse(turn([nsCall("mcp__fx", "echo", { text: "ns" }, "c3"), call("mcp__fx__env", {}, "c4")])),
        dynamic((req) => {
          // the shortened name as offered, and the reference's namespaced form of the whole name
          const long = req.body.tools.find((t: any) => t.name?.startsWith("mcp__fx__look_up_")).name;
          return sse(turn([call(long, {}, "c5"), nsCall("mcp__fx", `look_up_${"x".repeat(60)}_tail`, {}, "c6"), nsCall("mcp__fx", "dotted_name_with_space", {}, "c7")]));
        }),
        reply("done"),
      ],
      fx.toml,
    );
    const r = await runOcx(["exec", ...JSON_, "use the tools"], { home });
    expect(r.stderr).not.toContain("failed to start");
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);

    // The tool list of the first request: every enabled tool, with its schema, names valid everywhere.
    const tools = mock.requests[0]!.body.tools.filter((t: any) => t.name?.startsWith("mcp__"));
    const names = tools.map((t: any) => t.name);
    const long = names.find((n: string) => n.startsWith("mcp__fx__look_up_"));
    expect(names.filter((n: string) => n !== long).sort()).toEqual([
      "mcp__fx__dotted_name_with_space",
      "mcp__fx__echo",
      "mcp__fx__fail",
      "mcp__fx__get_sum",
      "mcp__fx__hang",
      "mcp__fx__write",
    ]);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/_[0-9a-f]{8}$/);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const echo = tools.find((t: any) => t.name === "mcp__fx__echo");
    expect(echo).toMatchObject({ type: "function", description: "Echoes the text back.", strict: false });
    expect(echo.parameters.properties.text.type).toBe("string");
    expect(echo.parameters.required).toEqual(["text"]);

    // A flat name with the sanitised tool name, as offered (get-sum -> get_sum); the raw name is unknown.
    const second = mock.requests[1]!.body;
    const echoed = output(second, "c1");
    expect(echoed.map((p: any) => ({ ...p, text: wall(p.text) }))).toEqual([
      { type: "input_text", text: "Wall time: W\nOutput:" },
      { type: "input_text", text: "Echo: hello" },
    ]);
    expect(callOutput(second, "c2")).toBe("unsupported call: mcp__fx__get-sum");

    // The namespaced form (the reference's) reaches the same tool; a disabled tool is unsupported.
    const third = mock.requests[2]!.body;
    expect(callOutput(third, "c3")).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:Echo: ns$/);
    expect(callOutput(third, "c4")).toBe("unsupported call: mcp__fx__env");

    const fourth = mock.requests[3]!.body;
    expect(callOutput(fourth, "c5")).toEndWith("Output:long ok");
    expect(callOutput(fourth, "c6")).toEndWith("Output:long ok");
    expect(callOutput(fourth, "c7")).toEndWith("Output:odd ok");

    const started = items(r.events, "item.started", "mcp_tool_call");
    const completed = items(r.events, "item.completed", "mcp_tool_call");
    expect(started[0]).toEqual({ id: started[0].id, type: "mcp_tool_call", server: "fx", tool: "echo", arguments: { text: "hello" }, result: null, error: null, status: "in_progress" });
    expect(completed[0]).toEqual({
      id: started[0].id,
      type: "mcp_tool_call",
      server: "fx",
      tool: "echo",
      arguments: { text: "hello" },
      result: { content: [{ type: "text", text: "Echo: hello" }], structured_content: null },
      error: null,
      status: "completed",
    });
    expect(completed).toHaveLength(5);
    // the item names the tool as the server spells it (calls of one response complete in any order)
    expect(completed.find((i: any) => i.tool === "dotted.name with space")).toMatchObject({ server: "fx", status: "completed" });
    expect(r.events!.at(-1).type).toBe("turn.completed");

    const pids = fx.pids();
    expect(pids.length).toBe(1);
    await waitFor(() => pids.every((p) => !processAlive(p)), 5000, "the server to be gone");
  }, T);

  test("structuredContent goes back as JSON text; isError is a failed item with its result", async () => {
    const fx = fixture("fx");
    const { mock, home } = await setup([sse(turn([call("mcp__fx__get_sum", { a: 2, b: 3 }, "c1"), call("mcp__fx__fail", {}, "c2")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "sum"], { home });
    expect(r.code).toBe(0);
    const body = mock.requests[1]!.body;
    expect(output(body, "c1")).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:\n\{"sum":5\}$/);
    expect(callOutput(body, "c2")).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:fixture failure: boom$/);
    const done = items(r.events, "item.completed", "mcp_tool_call");
    const sum = done.find((i: any) => i.tool === "get-sum");
    const fail = done.find((i: any) => i.tool === "fail");
    expect(sum).toMatchObject({ tool: "get-sum", status: "completed", result: { content: [{ type: "text", text: "5" }], structured_content: { sum: 5 } }, error: null });
    expect(fail).toMatchObject({ tool: "fail", status: "failed", result: { content: [{ type: "text", text: "fixture failure: boom" }], structured_content: null }, error: null });
  }, T);

  test("a tool that hangs past tool_timeout_sec fails the call, not the run", async () => {
    const fx = fixture("fx", "normal", ["tool_timeout_sec = 1"]);
    const { mock, home } = await setup([sse(turn([call("mcp__fx__hang", {}, "c1")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "hang"], { home });
    expect(r.code).toBe(0);
    const message = "tool call error: tool call failed for `fx/hang`\n\nCaused by:\n    timed out awaiting tools/call after 1000ms";
    expect(callOutput(mock.requests[1]!.body, "c1")).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:/);
    expect(callOutput(mock.requests[1]!.body, "c1")).toEndWith(message);
    const [item] = items(r.events, "item.completed", "mcp_tool_call");
    expect(item).toMatchObject({ tool: "hang", status: "failed", result: null, error: { message } });
  }, T);

  test("approvals: an unannotated tool is refused naming the key; approve and full access run it", async () => {
    const fx = fixture("fx");
    const { mock, home } = await setup([sse(turn([call("mcp__fx__write", {}, "c1"), call("mcp__fx__write", {}, "c2")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "write"], { home });
    expect(r.code).toBe(0);
    const key = 'mcp_servers.fx.tools.write.approval_mode = "approve"';
    expect(callOutput(mock.requests[1]!.body, "c1")).toContain("MCP tool call requires approval, but approval policy is never");
    expect(callOutput(mock.requests[1]!.body, "c1")).toContain(key);
    const refused = items(r.events, "item.completed", "mcp_tool_call");
    expect(refused[0]).toMatchObject({ status: "failed", result: null });
    expect(refused[0].error.message).toStartWith("MCP tool call requires approval, but approval policy is never");
    // stderr says it once per tool
    expect(r.stderr.split(key).length - 1).toBe(1);
    expect(fx.pids()).toHaveLength(1);

    for (const args of [["-c", "mcp_servers.fx.tools.write.approval_mode=\"approve\""], ["-c", "mcp_servers.fx.default_tools_approval_mode=\"approve\""], ["--sandbox", "danger-full-access"]]) {
      mock.push(sse(turn([call("mcp__fx__write", {}, "c9")])), reply("done"));
      const ok = await runOcx(["exec", ...JSON_, ...args, "write"], { home });
      expect(ok.code).toBe(0);
      expect(items(ok.events, "item.completed", "mcp_tool_call")[0]).toMatchObject({ status: "completed", error: null });
    }
  }, T);

  test("enabled_tools: only those are offered and callable", async () => {
    const fx = fixture("fx", "normal", [`enabled_tools = ["echo", "fail"]`, `disabled_tools = ["fail"]`]);
    const { mock, home } = await setup([sse(turn([call("mcp__fx__hang", {}, "c1")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "go"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.body.tools.map((t: any) => t.name).filter((n: string) => n?.startsWith("mcp__"))).toEqual(["mcp__fx__echo"]);
    expect(callOutput(mock.requests[1]!.body, "c1")).toBe("unsupported call: mcp__fx__hang");
    expect(items(r.events, "item.started", "mcp_tool_call")).toEqual([]);
  }, T);

  test("a stdio server gets a minimal environment and its cwd, never ocx's credentials", async () => {
    const cwd = makeDir("srv-cwd-");
    const fx = fixture("fx", "normal", [`env_vars = ["PASS_ME", "CODEX_API_KEY"]`, `cwd = ${JSON.stringify(cwd)}`]);
    const { mock, home } = await setup([sse(turn([call("mcp__fx__env", {}, "c1")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "env"], { home, env: { PASS_ME: "yes", NOT_ME: "no", OPENAI_API_KEY: "sk-ocx-FAKE-KEY" } });
    expect(r.code).toBe(0);
    const text = items(r.events, "item.completed", "mcp_tool_call")[0].result.content[0].text;
    const { env, cwd: serverCwd } = JSON.parse(text);
    expect(serverCwd).toBe(cwd);
    expect(env.PASS_ME).toBe("yes");
    expect(env.MCP_FIXTURE_MODE).toBe("normal");
    expect(env.PATH).toBeDefined();
    expect(env.NOT_ME).toBeUndefined();
    expect(env.CODEX_API_KEY).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(r.stderr).toContain("env_vars names CODEX_API_KEY");
    expect(mock.requests).toHaveLength(2);
  }, T);
});

describe("MCP failures are visible", () => {
  test("a server that crashes at start: a warning and an error item, the others work; required stops before any request", async () => {
    const bad = fixture("crashy", "crash");
    const good = fixture("fx");
    const nocmd = `[mcp_servers.nocmd]\ncommand = "no-such-command-xyz"\n`;
    const { mock, home } = await setup([sse(turn([call("mcp__fx__echo", { text: "x" }, "c1")])), reply("done")], bad.toml + good.toml + nocmd);
    const r = await runOcx(["exec", ...JSON_, "go"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: MCP server `crashy` failed to start: the server exited with code 7 before it was ready (its last stderr line: fixture: cannot start); the run goes on without its tools\n");
    expect(r.stderr).toContain("warning: MCP server `nocmd` failed to start: could not run `no-such-command-xyz` (exit code 127)");
    // the server's other stderr lines stay out
    expect(r.stderr).not.toContain("fixture server starting");
    expect(checkEventStream(r.events)).toEqual([]);
    expect(r.events![2]).toMatchObject({ type: "item.completed", item: { type: "error" } });
    const errors = items(r.events, "item.completed", "error").filter((i: any) => i.message.includes("failed to start"));
    expect(errors).toHaveLength(2);
    expect(items(r.events, "item.completed", "mcp_tool_call")[0].status).toBe("completed");
    expect(mock.requests[0]!.body.tools.some((t: any) => t.name?.startsWith("mcp__crashy"))).toBe(false);

    const req = await runOcx(["exec", ...JSON_, "-c", "mcp_servers.crashy.required=true", "go"], { home });
    expect(req.code).toBe(3);
    expect(req.stderr).toContain("MCP server `crashy` failed to start");
    expect(req.stderr).toContain("required = true");
    expect(req.stderr).not.toContain("    at ");
    expect(mock.requests).toHaveLength(2);
    // Ended before its first request, the run still printed thread.started and wrote its session.
    expect(req.events![0]).toMatchObject({ type: "thread.started" });
    const rollout = filesUnder(join(home, "sessions")).find((f) => f.endsWith(`-${req.events![0].thread_id}.jsonl`));
    expect(readFileSync(rollout!, "utf8")).toContain('"type":"session_meta"');
    await waitFor(() => good.pids().every((p) => !processAlive(p)), 5000, "servers gone");
  }, T);

  test("a server that never answers initialize misses its startup timeout and is ended", async () => {
    const mute = fixture("mute", "mute", ["startup_timeout_ms = 1000"]);
    const { mock, home } = await setup([reply("done")], mute.toml);
    const r = await runOcx(["exec", "--color", "never", "go"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("done\n");
    expect(r.stderr).toContain("warning: MCP server `mute` failed to start: timed out after 1000 ms");
    expect(r.stderr.split("`mute` failed").length - 1).toBe(1);
    const [pid] = mute.pids();
    expect(pid).toBeGreaterThan(0);
    await waitFor(() => !processAlive(pid!), 5000, "the mute server to be gone");

    const req = await runOcx(["exec", "-c", "mcp_servers.mute.required=true", "go"], { home });
    expect(req.code).toBe(3);
    expect(req.stderr).toContain("timed out after 1000 ms");
    expect(mock.requests).toHaveLength(1);
  }, T);

  test("a server that ignores SIGTERM and leaves a child holding stdout: ocx still exits, and nothing of it remains", async () => {
    const fx = fixture("stubborn", "stubborn");
    const { home } = await setup([sse(turn([call("mcp__stubborn__echo", { text: "x" }, "c1")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "go"], { home, timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    const pids = fx.pids();
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((p) => !processAlive(p)), 5000, "the server and its child to be gone");
  }, T);

  test("kill -9 of ocx ends its servers too", async () => {
    const fx = fixture("stubborn", "stubborn");
    const { home } = await setup([sse(turn([call("mcp__stubborn__hang", {}, "c1")]))], fx.toml);
    const run = startOcx(["exec", ...JSON_, "go"], { home });
    await waitFor(() => fx.pids().length === 2, 15_000, "the server to start");
    run.kill("SIGKILL");
    await run.result;
    const pids = fx.pids();
    await waitFor(() => pids.every((p) => !processAlive(p)), 5000, "the servers to die with ocx");
  }, T);
});

describe("MCP and the end of a run", () => {
  test("SIGINT during a call that hangs: the item is closed, turn.failed, exit 130, the server ended", async () => {
    const fx = fixture("fx", "stubborn");
    const { mock, home } = await setup([sse(turn([call("mcp__fx__hang", {}, "c1")]))], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "go"], {
      home,
      signalAfter: {
        after: async () => {
          await mock.waitForRequests(1);
          await waitFor(() => fx.pids().length === 2, 10_000, "the server");
          await Bun.sleep(300);
        },
      },
    });
    expect(r.code).toBe(130);
    expect(checkEventStream(r.events)).toEqual([]);
    const [item] = items(r.events, "item.completed", "mcp_tool_call");
    expect(item).toMatchObject({ tool: "hang", status: "failed", result: null });
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
    const pids = fx.pids();
    await waitFor(() => pids.every((p) => !processAlive(p)), 5000, "the server and its child to be gone");
  }, T);

  test("SIGINT while waiting for a slow server: exit 130 with turn.failed, no model request, the server ended", async () => {
    const mute = fixture("mute", "mute", ["startup_timeout_sec = 60"]);
    const { mock, home } = await setup([reply("never")], mute.toml);
    const r = await runOcx(["exec", ...JSON_, "go"], {
      home,
      timeoutMs: 20_000,
      signalAfter: { after: () => waitFor(() => mute.pids().length === 1, 10_000, "the server") },
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(130);
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
    expect(mock.requests).toHaveLength(0);
    const [pid] = mute.pids();
    await waitFor(() => !processAlive(pid!), 5000, "the server to be gone");
  }, T);

  test("a server's stderr reaches ocx's stderr only with OCX_DEBUG", async () => {
    const fx = fixture("fx");
    const { home } = await setup([reply("done"), reply("done")], fx.toml);
    const quiet = await runOcx(["exec", "go"], { home });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("fixture server starting");
    expect(quiet.stdout).toBe("done\n");
    const loud = await runOcx(["exec", "go"], { home, env: { OCX_DEBUG: "1" } });
    expect(loud.code).toBe(0);
    expect(loud.stderr).toContain("mcp fx stderr: fixture server starting in mode normal\n");
    expect(loud.stdout).toBe("done\n");
  }, T);

  test("enabled = false: the server is never started and offers nothing", async () => {
    const fx = fixture("fx", "normal", ["enabled = false"]);
    const { mock, home } = await setup([reply("done")], fx.toml);
    const r = await runOcx(["exec", "go"], { home });
    expect(r.code).toBe(0);
    expect(fx.pids()).toEqual([]);
    expect(mock.requests[0]!.body.tools.some((t: any) => t.name?.startsWith("mcp__"))).toBe(false);
  }, T);
});

describe("ocx mcp list / check", () => {
  test("list shows every server with secrets masked; check starts them and names failures (exit 1 when required)", async () => {
    const fx = fixture("fx", "normal", [`disabled_tools = ["env"]`]);
    const bad = fixture("crashy", "crash");
    const http = [`[mcp_servers.web]`, `url = "https://user:pw@mcp.example/mcp?key=s3cret"`, `http_headers = { "X-Key" = "hdr-secret" }`, `enabled = false`, ""].join("\n");
    const { home } = await setup([], fx.toml + bad.toml + http);
    const list = await runOcx(["mcp", "list", "--json"], { home });
    expect(list.code).toBe(0);
    const { servers } = JSON.parse(list.stdout);
    expect(servers.map((s: any) => [s.name, s.transport, s.enabled])).toEqual([["fx", "stdio", true], ["crashy", "stdio", true], ["web", "streamable_http", false]]);
    expect(servers[0].env).toEqual({ MCP_FIXTURE_MODE: "*****", MCP_FIXTURE_PID_FILE: "*****" });
    expect(list.stdout).not.toContain("s3cret");
    expect(list.stdout).not.toContain("hdr-secret");
    expect(list.stdout).not.toContain(":pw@");
    const human = await runOcx(["mcp", "list"], { home });
    expect(human.stdout).toContain("web\tstreamable_http, disabled\thttps://user:*****@mcp.example/mcp?key=*****\n");

    const check = await runOcx(["mcp", "check"], { home });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("fx: ok, 8 tools\n  mcp__fx__echo - Echoes the text back.\n");
    expect(check.stdout).toContain("  mcp__fx__env (filtered out by enabled_tools/disabled_tools)");
    expect(check.stdout).toContain("crashy: failed\n");
    expect(check.stderr).toContain("error: MCP server `crashy` failed to start: the server exited with code 7");
    const named = await runOcx(["mcp", "check", "crashy", "--json"], { home });
    expect(named.code).toBe(1);
    expect(JSON.parse(named.stdout).servers[0]).toMatchObject({ name: "crashy", ok: false });
    const unknown = await runOcx(["mcp", "check", "nope"], { home });
    expect(unknown.code).toBe(3);
    await waitFor(() => fx.pids().every((p) => !processAlive(p)), 5000, "servers gone");
  }, T);
});

describe("the reference server (@modelcontextprotocol/server-everything)", () => {
  test("over stdio: echo, and an image block as input_image", async () => {
    const toml = [`[mcp_servers.ev]`, `command = ${JSON.stringify(BUN)}`, `args = [${JSON.stringify(EVERYTHING)}, "stdio"]`, ""].join("\n");
    const { mock, home } = await setup([sse(turn([call("mcp__ev__echo", { message: "hi" }, "c1"), call("mcp__ev__get_tiny_image", {}, "c2")])), reply("done")], toml);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "go"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.body.tools.map((t: any) => t.name)).toContain("mcp__ev__get_sum");
    expect(callOutput(mock.requests[1]!.body, "c1")).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:Echo: hi$/);
    expect(items(r.events, "item.completed", "mcp_tool_call").find((i: any) => i.tool === "echo")).toMatchObject({ server: "ev", status: "completed" });
    // an image block reaches the model as input_image
    const image = output(mock.requests[1]!.body, "c2");
    expect(image.some((p: any) => p.type === "input_image" && p.image_url.startsWith("data:image/png;base64,"))).toBe(true);
    expect(items(r.events, "item.completed", "mcp_tool_call").find((i: any) => i.tool === "get-tiny-image")).toMatchObject({ status: "completed" });
  }, T);

  test("over streamable HTTP with a bearer token from an env var and headers on every request", async () => {
    const port = await freePort();
    const server = Bun.spawn([BUN, EVERYTHING, "streamableHttp"], { env: { PATH: process.env.PATH ?? "", PORT: String(port) }, stdout: "ignore", stderr: "pipe" });
    const seen: Array<Record<string, string>> = [];
    // A recording proxy in front of it: what ocx sends, header by header.
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        seen.push(Object.fromEntries(req.headers));
        const url = new URL(req.url);
        const headers = new Headers(req.headers);
        headers.delete("host");
        return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { method: req.method, headers, body: req.body, duplex: "half" } as RequestInit);
      },
    });
    try {
      // server-everything listens after a moment
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        try {
          await fetch(`http://127.0.0.1:${port}/mcp`, { method: "GET" });
          break;
        } catch {
          await Bun.sleep(50);
        }
      }
      const toml = [
        `[mcp_servers.ev]`,
        `url = "http://127.0.0.1:${proxy.port}/mcp"`,
        `bearer_token_env_var = "EV_TOKEN"`,
        `http_headers = { "X-Team" = "ocx" }`,
        `env_http_headers = { "X-From-Env" = "EV_HEADER" }`,
        "",
      ].join("\n");
      const { mock, home } = await setup([sse(turn([call("mcp__ev__echo", { message: "over http" }, "c1")])), reply("done")], toml);
      const r = await runOcx(["exec", ...JSON_, "go"], { home, env: { EV_TOKEN: "ocx-test-token", EV_HEADER: "from-env" } });
      expect(r.code).toBe(0);
      expect(callOutput(mock.requests[1]!.body, "c1")).toMatch(/Output:Echo: over http$/);
      expect(seen.length).toBeGreaterThan(1);
      for (const h of seen) {
        expect(h.authorization).toBe("Bearer ocx-test-token");
        expect(h["x-team"]).toBe("ocx");
        expect(h["x-from-env"]).toBe("from-env");
      }
    } finally {
      proxy.stop(true);
      server.kill("SIGKILL");
      await server.exited;
    }
  }, T);
});

describe.skipIf(!existsSync(DENO_OCX[0]!))("MCP on Deno", () => {
  test("the same source on Deno: a call through the SDK client, the server gone after", async () => {
    const fx = fixture("fx");
    const { mock, home } = await setup([sse(turn([call("mcp__fx__echo", { text: "deno" }, "c1")])), reply("done")], fx.toml);
    const r = await runOcx(["exec", ...JSON_, "go"], {
      home,
      command: DENO_OCX,
      env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(home, "deno-cache") },
      timeoutMs: 50_000,
    });
    expect(r.stderr).not.toContain("failed to start");
    expect(r.code).toBe(0);
    expect(callOutput(mock.requests[1]!.body, "c1")).toMatch(/Output:Echo: deno$/);
    expect(items(r.events, "item.completed", "mcp_tool_call")[0]).toMatchObject({ status: "completed" });
    const pids = fx.pids();
    await waitFor(() => pids.every((p) => !processAlive(p)), 5000, "the server to be gone");
  }, 60_000);
});
