// A run's MCP servers: started with the rest of start-up, awaited before the first request.
import { mcpCredentialVars } from "../config/providers.ts";
import type { Config } from "../config/schema.ts";
import { OcxError } from "../errors.ts";
import type { McpServers } from "../mcp/start.ts";
import type { OutputSink, Runtime } from "../runtime.ts";
import type { Tool } from "../tools/define-tool.ts";

export type { McpServers } from "../mcp/start.ts";

/**
 * Starts the enabled MCP servers of config.toml (nothing is loaded when there are none). Their
 * stderr reaches ocx's stderr only with OCX_DEBUG set.
 */
export async function startMcp(runtime: Runtime, config: Config, cwd: string, stderr: OutputSink, warn: (m: string) => void): Promise<McpServers | undefined> {
  if (!config.mcp_servers) return undefined;
  const servers = Object.entries(config.mcp_servers).filter(([, c]) => c.enabled !== false);
  if (servers.length === 0) return undefined;
  const { startMcpServers } = await import("../mcp/start.ts");
  const debug = Boolean(runtime.env("OCX_DEBUG"));
  return startMcpServers(Object.fromEntries(servers), {
    runtime,
    cwd,
    credentialVars: mcpCredentialVars(config),
    warn,
    ...(debug ? { stderr: (name: string, text: string) => stderr.write(text.replace(/^(?=.)/gm, `mcp ${name} stderr: `).replace(/([^\n])$/, "$1\n")) } : {}),
  });
}

/**
 * Waits for the MCP servers (each up to its startup timeout). A server that failed is one
 * warning and an `error` item, and the run goes on; a required one stops it (exit 3).
 */
export async function mcpReady(mcp: McpServers, signal: AbortSignal, report: (m: string) => void): Promise<Tool[]> {
  // Interrupted meanwhile: the turn reports it at once (the servers are ended at exit).
  const aborted = new Promise<undefined>((r) => (signal.aborted ? r(undefined) : signal.addEventListener("abort", () => r(undefined), { once: true })));
  const ready = await Promise.race([mcp.ready(), aborted]);
  if (!ready) return [];
  const { tools, failures } = ready;
  const required = failures.find((f) => f.required);
  if (required) throw new OcxError("config", `${required.message} (required = true)`);
  for (const f of failures) report(`${f.message}; the run goes on without its tools`);
  return tools;
}
