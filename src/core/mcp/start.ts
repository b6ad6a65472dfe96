// The MCP servers of a run (loaded only when config.toml has enabled servers): started in parallel
// at the start of the run, awaited before the first model request (each up to its startup
// timeout), their tools offered to the model, and every one of them ended when the run ends.
import type { McpServerConfig } from "../config/schema.ts";
import type { Tool } from "../tools/define-tool.ts";
import { flatName, fullName } from "./names.ts";
import { offered, startFailureMessage, startServer, type ServerContext, type StartedServer } from "./server.ts";
import { mcpTool } from "./tool.ts";

export interface McpFailure {
  server: string;
  required: boolean;
  /** One line for the user: which server, and why. */
  message: string;
}

export interface McpServers {
  /** Waits for every server (each up to its startup timeout): the tools, and the servers that failed. */
  ready(): Promise<{ tools: Tool[]; failures: McpFailure[] }>;
  /** Ends every server (also those still starting); resolves when all are gone. */
  close(): Promise<void>;
}

export function startMcpServers(servers: Record<string, McpServerConfig>, ctx: ServerContext): McpServers {
  const closers = new Set<() => Promise<void>>();
  let closed = false;
  // Only enabled servers are given (see run/mcp.ts).
  const started = Object.entries(servers).map(([name, config]) =>
      startServer(name, config, ctx, (close) => {
        if (closed) void close();
        else closers.add(close);
      }).then(
        (s): { ok: true; server: StartedServer } => ({ ok: true, server: s }),
        (e: unknown): { ok: false; failure: McpFailure } => ({
          ok: false,
          failure: {
            server: name,
            required: config.required === true,
            message: startFailureMessage(name, e),
          },
        }),
      ),
    );
  return {
    async ready() {
      const results = await Promise.all(started);
      const tools: Tool[] = [];
      const taken = new Set<string>();
      const refused = new Set<string>();
      for (const r of results) {
        if (!r.ok) continue;
        const { name: server, config, client } = r.server;
        for (const tool of r.server.tools) {
          if (!offered(config, tool.name)) continue;
          const name = flatName(server, tool.name, (n) => taken.has(n));
          taken.add(name);
          tools.push(mcpTool({ server, config, client, tool, name, alias: fullName(server, tool.name), refused }));
        }
      }
      return { tools, failures: results.flatMap((r) => (r.ok ? [] : [r.failure])) };
    },
    async close() {
      closed = true;
      // Servers still starting too: their start then fails at once.
      await Promise.all([...closers].map((c) => c()));
    },
  };
}
