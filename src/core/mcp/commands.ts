// `ocx mcp list [--json]` and `ocx mcp check [NAME] [--json]`: the configured servers, and
// whether they start (with the same messages as a run). Loaded only for these commands.
import { loadConfig } from "../config/load.ts";
import { mcpCredentialVars } from "../config/providers.ts";
import type { McpServerConfig } from "../config/schema.ts";
import { ExitCode, OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { checkedCodexHome, resolveWorkdir } from "../workspace.ts";
import { flatName } from "./names.ts";
import { offered, startFailureMessage, startServer, startupTimeoutMs } from "./server.ts";

export interface McpCommandOptions {
  json: boolean;
  configOverrides: string[];
  profile?: string;
  ignoreUserConfig: boolean;
  cd?: string;
}

const MASK = "*****";
const masked = (r: Record<string, string> | undefined) => (r ? Object.fromEntries(Object.keys(r).map((k) => [k, MASK])) : undefined);

async function servers(runtime: Runtime, o: McpCommandOptions) {
  const config = await loadConfig(runtime, {
    codexHome: await checkedCodexHome(runtime),
    overrides: o.configOverrides,
    profile: o.profile,
    ignoreUserConfig: o.ignoreUserConfig,
  });
  return { config, servers: Object.entries(config.mcp_servers ?? {}) };
}

/** A URL with its password and query values masked. */
function maskUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = MASK;
  for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, MASK);
  return u.toString();
}

function describe(name: string, c: McpServerConfig) {
  const common = {
    name,
    transport: c.url !== undefined ? "streamable_http" : "stdio",
    enabled: c.enabled !== false,
    required: c.required === true,
    startup_timeout_ms: startupTimeoutMs(c),
    ...(c.tool_timeout_sec !== undefined ? { tool_timeout_sec: c.tool_timeout_sec } : {}),
    ...(c.enabled_tools ? { enabled_tools: c.enabled_tools } : {}),
    ...(c.disabled_tools ? { disabled_tools: c.disabled_tools } : {}),
  };
  if (c.url !== undefined) {
    return {
      ...common,
      url: maskUrl(c.url),
      ...(c.bearer_token_env_var ? { bearer_token_env_var: c.bearer_token_env_var } : {}),
      ...(c.http_headers ? { http_headers: masked(c.http_headers) } : {}),
      ...(c.env_http_headers ? { env_http_headers: c.env_http_headers } : {}),
    };
  }
  return {
    ...common,
    command: c.command!,
    args: c.args ?? [],
    ...(c.cwd ? { cwd: c.cwd } : {}),
    ...(c.env ? { env: masked(c.env) } : {}),
    ...(c.env_vars ? { env_vars: c.env_vars } : {}),
  };
}

export async function mcpList(runtime: Runtime, o: McpCommandOptions): Promise<number> {
  const { servers: list } = await servers(runtime, o);
  const rows = list.map(([name, c]) => describe(name, c));
  if (o.json) {
    runtime.stdout.write(`${JSON.stringify({ servers: rows })}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    runtime.stdout.write("No MCP servers configured (add [mcp_servers.<name>] to config.toml).\n");
    return ExitCode.ok;
  }
  for (const r of rows) {
    const target = "url" in r ? r.url : [r.command, ...r.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
    const flags = [r.transport, r.enabled ? "enabled" : "disabled", ...(r.required ? ["required"] : [])].join(", ");
    runtime.stdout.write(`${r.name}\t${flags}\t${target}\n`);
  }
  return ExitCode.ok;
}

/**
 * Starts every enabled server (or only NAME, enabled or not), lists its tools and ends it.
 * Exit 1 when a required server (or the named one) fails.
 */
export async function mcpCheck(runtime: Runtime, name: string | undefined, o: McpCommandOptions): Promise<number> {
  const { config, servers: all } = await servers(runtime, o);
  const chosen = name === undefined ? all.filter(([, c]) => c.enabled !== false) : all.filter(([n]) => n === name);
  if (name !== undefined && chosen.length === 0) throw new OcxError("config", `no MCP server named \`${name}\` in the config (see \`ocx mcp list\`)`);
  const cwd = await resolveWorkdir(runtime, o.cd);
  const ctx = {
    runtime,
    cwd,
    credentialVars: mcpCredentialVars(config),
    warn: (m: string) => runtime.stderr.write(`warning: ${m}\n`),
    ...(runtime.env("OCX_DEBUG") ? { stderr: (n: string, t: string) => runtime.stderr.write(`mcp ${n} stderr: ${t}`) } : {}),
  };
  const results = await Promise.all(
    chosen.map(async ([n, c]) => {
      try {
        const s = await startServer(n, c, ctx);
        await s.close();
        const tools = s.tools.map((t) => ({
          name: t.name,
          function: flatName(n, t.name),
          offered: offered(c, t.name),
          ...(t.description ? { description: t.description } : {}),
        }));
        return { name: n, ok: true as const, required: c.required === true, tools };
      } catch (e) {
        return { name: n, ok: false as const, required: c.required === true || name !== undefined, error: startFailureMessage(n, e) };
      }
    }),
  );
  if (o.json) {
    runtime.stdout.write(`${JSON.stringify({ servers: results.map(({ required: _r, ...r }) => r) })}\n`);
  } else {
    if (results.length === 0) runtime.stdout.write("No enabled MCP servers configured.\n");
    for (const r of results) {
      if (r.ok) {
        runtime.stdout.write(`${r.name}: ok, ${r.tools.length} tool${r.tools.length === 1 ? "" : "s"}\n`);
        for (const t of r.tools) runtime.stdout.write(`  ${t.function}${t.offered ? "" : " (filtered out by enabled_tools/disabled_tools)"}${t.description ? ` - ${t.description.split("\n")[0]}` : ""}\n`);
      } else {
        runtime.stdout.write(`${r.name}: failed\n`);
        runtime.stderr.write(`error: ${r.error}\n`);
      }
    }
  }
  return results.some((r) => !r.ok && r.required) ? ExitCode.failed : ExitCode.ok;
}
