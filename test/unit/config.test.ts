import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config/load.ts";
import { parseOverride } from "../../src/core/config/overrides.ts";
import { resolveProvider } from "../../src/core/config/providers.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();

describe("-c overrides", () => {
  test("TOML values", () => {
    expect(parseOverride("model_providers.mock.stream_max_retries=2")).toEqual({
      path: ["model_providers", "mock", "stream_max_retries"],
      value: 2,
    });
    expect(parseOverride('openai_base_url="http://x/v1"').value).toBe("http://x/v1");
    expect(parseOverride("a.b=true").value).toBe(true);
    expect(parseOverride("list=[1, 2]").value).toEqual([1, 2]);
  });
  test("raw string fallback", () => {
    expect(parseOverride("model=gpt-5.5")).toEqual({ path: ["model"], value: "gpt-5.5" });
  });
  test("quoted keys", () => {
    expect(parseOverride('projects."/p.q".trust_level="trusted"').path).toEqual(["projects", "/p.q", "trust_level"]);
  });
  test("missing '=' is a config error with the reference's wording", () => {
    expect(() => parseOverride("model")).toThrow("Error parsing -c overrides: Invalid override (missing '='): model");
  });
});

describe("config.toml layers", () => {
  const home = () => tempDir("ocx-cfg-");
  test("file, profile and -c: later wins; unknown keys ignored", async () => {
    const h = home();
    writeFileSync(join(h, "config.toml"), 'model = "a"\nbogus = 1\n[model_providers.m]\nbase_url = "http://f/v1"\n');
    writeFileSync(join(h, "fast.config.toml"), 'model = "b"\n');
    const rt = fakeRuntime();
    expect((await loadConfig(rt, { codexHome: h, overrides: [] })).model).toBe("a");
    expect((await loadConfig(rt, { codexHome: h, overrides: [], profile: "fast" })).model).toBe("b");
    const c = await loadConfig(rt, { codexHome: h, overrides: ["model=c"], profile: "fast" });
    expect(c.model).toBe("c");
    expect(c.model_providers?.m?.base_url).toBe("http://f/v1");
    expect("bogus" in c).toBe(false);
  });
  test("a TOML syntax error names file, line and column", async () => {
    const h = home();
    writeFileSync(join(h, "config.toml"), 'model = "a"\nmodel_provider = \n');
    const err = await loadConfig(fakeRuntime(), { codexHome: h, overrides: [] }).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`${join(h, "config.toml")}:2:`);
  });
  test("a wrongly typed key is named with what was expected", async () => {
    const h = home();
    writeFileSync(join(h, "config.toml"), "[model_providers.m]\nstream_max_retries = \"lots\"\n");
    const err = await loadConfig(fakeRuntime(), { codexHome: h, overrides: [] }).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain("model_providers.m.stream_max_retries");
  });
  test("a provider table is checked key by key in the schema's order, whatever order the file uses; unknown keys are dropped", async () => {
    const h = home();
    // Written last in the file, base_url comes first in the schema: it is the issue reported.
    writeFileSync(join(h, "config.toml"), '[model_providers.m]\nstream_max_retries = "lots"\nbase_url = 5\n');
    const err = await loadConfig(fakeRuntime(), { codexHome: h, overrides: [] }).catch((e) => e);
    expect(err.message).toContain("invalid value for `model_providers.m.base_url`");
    writeFileSync(join(h, "config.toml"), '[model_providers.m]\nwire_api = "chat"\nbogus = 1\nname = "M"\n[model_providers.n]\n');
    const c = await loadConfig(fakeRuntime(), { codexHome: h, overrides: [] });
    expect(c.model_providers).toEqual({ m: { name: "M", wire_api: "chat" }, n: {} });
    expect(Object.keys(c.model_providers!.m!)).toEqual(["name", "wire_api"]);
    writeFileSync(join(h, "config.toml"), "model_providers = { m = 5 }\n");
    const notTable = await loadConfig(fakeRuntime(), { codexHome: h, overrides: [] }).catch((e) => e);
    expect(notTable.message).toContain("invalid value for `model_providers.m`: Invalid type: Expected Object but received 5");
  });
});

describe("providers", () => {
  test("openai_base_url overrides the built-in provider; CODEX_API_KEY is its key", async () => {
    const rt = fakeRuntime({ envVars: { CODEX_API_KEY: "sk-abc" } });
    const p = await resolveProvider(rt, { openai_base_url: "http://127.0.0.1:9/v1/" }, "/nonexistent", "openai");
    expect(p.baseUrl).toBe("http://127.0.0.1:9/v1");
    expect(await p.auth?.headers(new AbortController().signal)).toEqual({ authorization: "Bearer sk-abc" });
    expect(p.streamMaxRetries).toBe(5);
    expect(p.requestMaxRetries).toBe(4);
  });
  test("no key at all is an auth error (exit 4)", async () => {
    const err = await resolveProvider(fakeRuntime(), {}, "/nonexistent", "openai").catch((e) => e);
    expect(err.exitCode).toBe(4);
  });
  test("a custom provider reads its env_key; missing variable is an auth error naming it", async () => {
    const cfg = { model_providers: { m: { base_url: "http://x/v1", env_key: "MY_KEY" } } };
    const p = await resolveProvider(fakeRuntime({ envVars: { MY_KEY: "k1" } }), cfg, "/x", "m");
    expect(await p.auth?.headers(new AbortController().signal)).toEqual({ authorization: "Bearer k1" });
    const err = await resolveProvider(fakeRuntime(), cfg, "/x", "m").catch((e) => e);
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain("MY_KEY");
  });
  test("an unknown provider id is a config error", async () => {
    const err = await resolveProvider(fakeRuntime(), {}, "/x", "nope").catch((e) => e);
    expect(err.exitCode).toBe(3);
  });
});

describe("layers, strict mode and where errors point", () => {
  const homeWith = (files: Record<string, string>) => {
    const h = tempDir("ocx-cfg-");
    for (const [name, text] of Object.entries(files)) writeFileSync(join(h, name), text);
    return h;
  };
  const load = (h: string, o: Partial<Parameters<typeof loadConfig>[1]> = {}) => loadConfig(fakeRuntime(), { codexHome: h, overrides: [], ...o });

  test("later layers win: file < profile < -c", async () => {
    const h = homeWith({
      "config.toml": `model = "file"\nmodel_provider = "file-p"\nstdin_timeout_ms = 1\n[sandbox_workspace_write]\nnetwork_access = false\nwritable_roots = ["/a"]\n`,
      "fast.config.toml": `model = "profile"\n[sandbox_workspace_write]\nnetwork_access = true\n`,
    });
    const c = await load(h, { profile: "fast", overrides: ["stdin_timeout_ms=9"] });
    expect([c.model, c.model_provider, c.stdin_timeout_ms]).toEqual(["profile", "file-p", 9]);
    expect(c.sandbox_workspace_write).toEqual({ network_access: true, writable_roots: ["/a"] });
    expect((await load(h, { profile: "fast", ignoreUserConfig: true })).model_provider).toBeUndefined();
  });

  test("unknown keys are ignored, or an error naming file, line and key under --strict-config", async () => {
    const h = homeWith({ "config.toml": `model = "m"\n\n[model_providers.local]\nbase_url = "http://x"\nbase_ulr = "typo"\n` });
    expect((await load(h)).model).toBe("m");
    const err = await load(h, { strict: true }).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`Error loading config: ${join(h, "config.toml")}:5: unknown key \`model_providers.local.base_ulr\` (--strict-config); remove it or correct its name`);
    const fromC = await load(homeWith({}), { strict: true, overrides: ["sandbox_workspace_write.network=true"] }).catch((e) => e);
    expect(fromC.message).toContain("-c override: unknown key `sandbox_workspace_write.network`");
    // mcp_servers: the reference's keys are known; a typo in one is named under --strict-config
    expect((await load(homeWith({ "config.toml": `[mcp_servers.docs]\ncommand = "x"\nargs = ["y"]\n` }), { strict: true })).mcp_servers).toEqual({ docs: { command: "x", args: ["y"] } });
    const mcpTypo = await load(homeWith({ "config.toml": `[mcp_servers.docs]\ncommand = "x"\nstartup_timeout = 5\n` }), { strict: true }).catch((e) => e);
    expect(mcpTypo.message).toContain(":3: unknown key `mcp_servers.docs.startup_timeout`");
  });

  test("mcp_servers: every reference key for stdio and HTTP; a server must have command or url", async () => {
    const toml = [
      `[mcp_servers.local]`,
      `command = "node"`,
      `args = ["s.js"]`,
      `env = { A = "1" }`,
      `env_vars = ["B"]`,
      `cwd = "/srv"`,
      `enabled = true`,
      `required = true`,
      `startup_timeout_sec = 2.5`,
      `tool_timeout_sec = 30`,
      `enabled_tools = ["a"]`,
      `disabled_tools = ["b"]`,
      `default_tools_approval_mode = "approve"`,
      `[mcp_servers.local.tools.a]`,
      `approval_mode = "prompt"`,
      `[mcp_servers.remote]`,
      `url = "https://mcp.example/mcp"`,
      `bearer_token_env_var = "TOKEN"`,
      `http_headers = { "X-A" = "1" }`,
      `env_http_headers = { "X-B" = "B_VAR" }`,
      `startup_timeout_ms = 1500`,
      ``,
    ].join("\n");
    const c = await load(homeWith({ "config.toml": toml }), { strict: true });
    expect(c.mcp_servers?.local?.tools).toEqual({ a: { approval_mode: "prompt" } });
    expect(c.mcp_servers?.remote?.startup_timeout_ms).toBe(1500);
    const neither = await load(homeWith({ "config.toml": `[mcp_servers.x]\nenabled = true\n` })).catch((e) => e);
    expect(neither.exitCode).toBe(3);
    expect(neither.message).toContain("expected either `command` (a stdio server) or `url` (a streamable HTTP server)");
    const badMode = await load(homeWith({}), { overrides: ['mcp_servers.x.command="a"', 'mcp_servers.x.default_tools_approval_mode="yes"'] }).catch((e) => e);
    expect(badMode.message).toContain("-c override: invalid value for `mcp_servers.x.default_tools_approval_mode`");
  });

  test("a wrong type names the layer's file and line, the key and what was expected", async () => {
    const h = homeWith({
      "config.toml": `model = "m"\n[sandbox_workspace_write]\nnetwork_access = "yes"\n`,
      "p.config.toml": `# profile\nmodel_verbosity = "loud"\n`,
    });
    const a = await load(h).catch((e) => e);
    expect(a.message).toMatch(new RegExp(`^Error loading config: ${join(h, "config.toml")}:3: invalid value for \`sandbox_workspace_write.network_access\`: .*boolean`));
    const b = await load(homeWith({ "p.config.toml": `# profile\nmodel_verbosity = "loud"\n` }), { profile: "p" }).catch((e) => e);
    expect(b.message).toContain("p.config.toml:2: invalid value for `model_verbosity`");
    expect(b.exitCode).toBe(3);
  });

  test("a value outside a fixed set is reported as valibot's picklist reports it, and a good one is kept", async () => {
    const wire = await load(homeWith({ "config.toml": `[model_providers.m]\nwire_api = "grpc"\n` })).catch((e) => e);
    expect(wire.exitCode).toBe(3);
    expect(wire.message).toEndWith('invalid value for `model_providers.m.wire_api`: Invalid type: Expected ("responses" | "chat") but received "grpc"');
    const mode = await load(homeWith({ "config.toml": `sandbox_mode = 5\n` })).catch((e) => e);
    expect(mode.message).toEndWith('invalid value for `sandbox_mode`: Invalid type: Expected ("read-only" | "workspace-write" | "danger-full-access") but received 5');
    const table = await load(homeWith({ "config.toml": `web_search = [1]\n` })).catch((e) => e);
    expect(table.message).toEndWith('invalid value for `web_search`: Invalid type: Expected ("disabled" | "cached" | "live") but received Array');
    const good = await load(homeWith({ "config.toml": `sandbox_mode = "workspace-write"\n[model_providers.m]\nwire_api = "chat"\n` }));
    expect(good.sandbox_mode).toBe("workspace-write");
    expect(good.model_providers?.m?.wire_api).toBe("chat");
  });

  test("what was expected is said in words (a duration, a price)", async () => {
    const soon = await load(homeWith({ "config.toml": `timeout = "soon"\n` })).catch((e) => e);
    expect(soon.message).toEndWith('invalid value for `timeout`: expected a duration above zero like "90s", "15m", "1h" or a number of seconds');
    const kind = await load(homeWith({ "config.toml": `timeout = true\n` })).catch((e) => e);
    expect(kind.message).toEndWith('invalid value for `timeout`: expected a duration like "90s", "15m", "1h" or a number of seconds');
    const price = await load(homeWith({ "config.toml": `[model_prices.m]\ninput = "cheap"\noutput = 1\n` })).catch((e) => e);
    expect(price.message).toEndWith("invalid value for `model_prices.m.input`: expected a price in USD per million tokens");
  });
});

describe("shell_environment_policy", () => {
  const { applyEnvPolicy } = require("../../src/core/process/env-policy.ts");
  const env = { PATH: "/bin", HOME: "/h", MY_API_KEY: "k", GH_TOKEN: "t", OTHER: "o", Secret_thing: "s" };
  test("inherit all by default, no default excludes", () => {
    expect(applyEnvPolicy(env)).toEqual(env);
  });
  test("core, none, default excludes, exclude, set, include_only", () => {
    expect(applyEnvPolicy(env, { inherit: "core" })).toEqual({ PATH: "/bin", HOME: "/h" });
    expect(applyEnvPolicy(env, { inherit: "none", set: { A: "1" } })).toEqual({ A: "1" });
    expect(Object.keys(applyEnvPolicy(env, { ignore_default_excludes: false }))).toEqual(["PATH", "HOME", "OTHER"]);
    expect(Object.keys(applyEnvPolicy(env, { exclude: ["o*", "p?th"] }))).toEqual(["HOME", "MY_API_KEY", "GH_TOKEN", "Secret_thing"]);
    expect(applyEnvPolicy(env, { include_only: ["PATH", "X*"], set: { XY: "1" } })).toEqual({ PATH: "/bin", XY: "1" });
  });
});
