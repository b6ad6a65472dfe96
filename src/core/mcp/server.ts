// One configured MCP server: launched (a process through the runtime, or a streamable HTTP
// connection), initialized and asked for its tools within its startup timeout, and closed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { resolve } from "../util/path.ts";
import type { McpServerConfig } from "../config/schema.ts";
import { describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { FULL_ACCESS } from "../sandbox/policy.ts";
import { confinedArgv } from "../sandbox/confine.ts";
import { once } from "../util/once.ts";
import { OCX_VERSION } from "../version.ts";
import { ChildTransport } from "./child-transport.ts";

/** The reference's default startup timeout. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;
/** The reference's default tool timeout. */
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

/**
 * What a stdio server inherits from ocx's environment (the reference's default list, those that
 * are set); `env_vars` adds names, `env` adds values. Never ocx's credentials.
 */
const DEFAULT_ENV_VARS = ["HOME", "LOGNAME", "PATH", "SHELL", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ"];


export interface ServerContext {
  runtime: Runtime;
  /** The run's working directory: a stdio server's default cwd, and what a relative `cwd` is against. */
  cwd: string;
  /** Names of variables that hold ocx's credentials: never passed, even when `env_vars` names them. */
  credentialVars: readonly string[];
  /** Notices for the user (stderr). */
  warn(message: string): void;
  /** Servers' stderr goes to ocx's stderr only when this is set (debug). */
  stderr?(server: string, text: string): void;
}

export interface StartedServer {
  name: string;
  config: McpServerConfig;
  client: Client;
  tools: McpTool[];
  instructions?: string;
  close(): Promise<void>;
}

export const startupTimeoutMs = (c: McpServerConfig): number =>
  c.startup_timeout_ms ?? (c.startup_timeout_sec !== undefined ? Math.round(c.startup_timeout_sec * 1000) : DEFAULT_STARTUP_TIMEOUT_MS);

/** Thrown when a server cannot be used; the message is the reason a user reads. */
/** Whether a server's tool is offered to the model (enabled_tools / disabled_tools). */
export function offered(config: McpServerConfig, toolName: string): boolean {
  return !(config.enabled_tools && !config.enabled_tools.includes(toolName)) && !config.disabled_tools?.includes(toolName);
}

/** The one-line message of a server that did not start. */
export function startFailureMessage(name: string, e: unknown): string {
  return `MCP server \`${name}\` failed to start: ${e instanceof McpStartError ? e.message : describeError(e)}`;
}

export class McpStartError extends Error {
  override name = "McpStartError";
}

/**
 * Launches `name`, connects, lists its tools. Rejects with McpStartError (the server is then
 * closed) when it fails or misses its startup timeout.
 */
export async function startServer(
  name: string,
  config: McpServerConfig,
  ctx: ServerContext,
  /** Called with the server's close as soon as it is launched (to end it while it starts). */
  opened?: (close: () => Promise<void>) => void,
): Promise<StartedServer> {
  const timeoutMs = startupTimeoutMs(config);
  const { transport, describeExit } = await openTransport(name, config, ctx);
  const client = new Client({ name: "ocx", title: "ocx", version: OCX_VERSION }, { capabilities: {} });
  const close = once(async () => {
    // An HTTP session is ended as the reference ends it (DELETE), briefly: exit must not wait.
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
      await Promise.race([transport.terminateSession().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    }
    await client.close().catch(() => {});
    await transport.close().catch(() => {});
  });
  opened?.(close);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new McpStartError(`timed out after ${timeoutMs} ms waiting for the server to start (startup_timeout_sec / startup_timeout_ms)`)),
      timeoutMs,
    );
  });
  try {
    const tools = await Promise.race([
      (async () => {
        await client.connect(transport, { timeout: timeoutMs });
        return listAllTools(client, timeoutMs);
      })(),
      deadline,
    ]);
    return { name, config, client, tools, instructions: client.getInstructions(), close };
  } catch (e) {
    await close();
    if (e instanceof McpStartError) throw e;
    const exit = describeExit();
    throw new McpStartError(exit ?? `handshaking with the server failed: ${describeError(e)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function listAllTools(client: Client, timeoutMs: number): Promise<McpTool[]> {
  if (!client.getServerCapabilities()?.tools) return [];
  const tools: McpTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

async function openTransport(
  name: string,
  config: McpServerConfig,
  ctx: ServerContext,
): Promise<{ transport: Transport; describeExit(): string | undefined }> {
  if (config.url !== undefined) {
    const headers: Record<string, string> = { ...(config.http_headers ?? {}) };
    for (const [header, variable] of Object.entries(config.env_http_headers ?? {})) {
      const value = ctx.runtime.env(variable);
      if (value !== undefined && value !== "") headers[header] = value;
    }
    if (config.bearer_token_env_var !== undefined) {
      const token = ctx.runtime.env(config.bearer_token_env_var);
      if (!token) throw new McpStartError(`the environment variable ${config.bearer_token_env_var} (bearer_token_env_var) is not set`);
      headers.Authorization = `Bearer ${token}`;
    }
    const transport = new StreamableHTTPClientTransport(new URL(config.url), {
      fetch: ctx.runtime.fetch,
      requestInit: { headers },
    });
    return { transport, describeExit: () => undefined };
  }
  const runtime = ctx.runtime;
  const env: Record<string, string> = {};
  const blocked = new Set(ctx.credentialVars);
  for (const v of [...DEFAULT_ENV_VARS, ...(config.env_vars ?? [])]) {
    const value = runtime.env(v);
    if (value === undefined) continue;
    if (blocked.has(v)) {
      ctx.warn(`MCP server \`${name}\`: env_vars names ${v}, which holds ocx's credentials; it is not passed`);
      continue;
    }
    env[v] = value;
  }
  Object.assign(env, config.env ?? {});
  const cwd = resolve(ctx.cwd, config.cwd ?? ".");
  const argv = [config.command!, ...(config.args ?? [])];
  let child;
  try {
    const spawnArgv = await confinedArgv(runtime, FULL_ACCESS, argv, ctx.warn);
    child = runtime.spawn({ argv: spawnArgv, cwd, env, stdin: "pipe" });
  } catch (e) {
    throw new McpStartError(`could not start \`${config.command}\`: ${describeError(e)}`);
  }
  // The last line the server wrote on stderr goes into a start failure's reason (only there).
  let tail = "";
  const transport = new ChildTransport(child, {
    onStderr: (t) => {
      tail = `${tail}${t}`.slice(-4096);
      ctx.stderr?.(name, t);
    },
  });
  return {
    transport,
    describeExit: () => {
      const s = transport.status;
      if (!s) return undefined;
      const last = tail.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
      const said = last ? ` (its last stderr line: ${last.length > 300 ? `${last.slice(0, 300)}...` : last})` : "";
      if (s.signal) return `the server was ended by ${s.signal} before it was ready${said}`;
      if (s.code === 127) return `could not run \`${config.command}\` (exit code 127)${said}`;
      return `the server exited with code ${s.code} before it was ready${said}`;
    },
  };
}
