// An MCP server's tool as one of ocx's tools: declared as the flat function
// `mcp__<server>__<tool>`, also called by the reference's namespaced form, run under the
// reference's approval rules and the server's tool timeout, shown as an `mcp_tool_call` item,
// and answered to the model the way the reference answers.
import { ErrorCode, McpError, type Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpServerConfig } from "../config/schema.ts";
import { describeError } from "../errors.ts";
import type { McpToolCallItem } from "../events.ts";
import { parseToolArguments, type Tool, type ToolContext, type ToolOutput, type ToolOutputPart } from "../tools/define-tool.ts";
import type * as v from "valibot";
import { DEFAULT_TOOL_TIMEOUT_MS } from "./server.ts";

type Item = v.InferOutput<typeof McpToolCallItem>;

/** The reference's sentence for a call exec cannot approve. */
export const APPROVAL_REFUSED = "MCP tool call requires approval, but approval policy is never";

export interface McpToolOptions {
  server: string;
  config: McpServerConfig;
  client: Client;
  tool: McpTool;
  /** The declared (flat) name and the unshortened `mcp__<server>__<tool>` a namespaced call resolves to. */
  name: string;
  alias: string;
  /** Tools already refused in this run (stderr says so once per tool). */
  refused: Set<string>;
}

export function mcpTool(o: McpToolOptions): Tool & { aliases: string[] } {
  const schema = { ...(o.tool.inputSchema as Record<string, unknown>) };
  schema.type = "object";
  schema.properties ??= {};
  const timeoutMs = o.config.tool_timeout_sec !== undefined ? Math.round(o.config.tool_timeout_sec * 1000) : DEFAULT_TOOL_TIMEOUT_MS;
  return {
    name: o.name,
    aliases: o.alias === o.name ? [] : [o.alias],
    mcp: { server: o.server, tool: o.tool.name },
    spec: { type: "function", name: o.name, description: o.tool.description ?? o.tool.title ?? "", strict: false, parameters: schema },
    async run(raw, ctx) {
      const parsed = parseToolArguments(raw);
      if (!parsed.ok) return parsed.message;
      const args = parsed.value;
      const t0 = ctx.runtime.monotonic();
      const item: Item = { id: ctx.nextItemId(), type: "mcp_tool_call", server: o.server, tool: o.tool.name, arguments: args, result: null, error: null, status: "in_progress" };
      ctx.itemStarted(item);
      const fail = (message: string): ToolOutput => {
        ctx.itemCompleted({ ...item, error: { message }, status: "failed" });
        return [{ type: "input_text", text: head(ctx, t0) }, { type: "input_text", text: message }];
      };
      const refusal = approvalRefusal(o, ctx);
      if (refusal) {
        if (!o.refused.has(o.name)) {
          o.refused.add(o.name);
          ctx.warn(`MCP tool ${o.server}/${o.tool.name} was not run: it needs approval and exec has none. ${refusal.hint}`);
        }
        return fail(`${APPROVAL_REFUSED}. ${refusal.hint}`);
      }
      try {
        const result = await o.client.callTool(
          { name: o.tool.name, arguments: (args ?? {}) as Record<string, unknown>, _meta: { callId: ctx.callId } },
          undefined,
          { timeout: timeoutMs, maxTotalTimeout: timeoutMs, signal: ctx.signal },
        );
        const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
        const structured = result.structuredContent ?? null;
        ctx.itemCompleted({ ...item, result: { content, structured_content: structured }, status: result.isError === true ? "failed" : "completed" });
        if (structured !== null) return `${head(ctx, t0)}\n${JSON.stringify(structured)}`;
        return [{ type: "input_text", text: head(ctx, t0) }, ...content.map(toPart)];
      } catch (e) {
        const timedOut = e instanceof McpError && e.code === ErrorCode.RequestTimeout && !ctx.signal.aborted;
        const cause = timedOut ? `timed out awaiting tools/call after ${timeoutMs}ms` : ctx.signal.aborted ? "the turn was interrupted" : describeError(e);
        const out = fail(`tool call error: tool call failed for \`${o.server}/${o.tool.name}\`\n\nCaused by:\n    ${cause}`);
        if (ctx.signal.aborted) throw e;
        return out;
      }
    },
  };
}

const head = (ctx: ToolContext, t0: number) => `Wall time: ${((ctx.runtime.monotonic() - t0) / 1000).toFixed(4)} seconds\nOutput:`;

/** An MCP content block as the reference gives it to the model. */
function toPart(block: unknown): ToolOutputPart {
  const b = block as { type?: string; text?: unknown; data?: unknown; mimeType?: unknown; resource?: { text?: unknown } };
  if (b.type === "text" && typeof b.text === "string") return { type: "input_text", text: b.text };
  if (b.type === "image" && typeof b.data === "string") return { type: "input_image", image_url: `data:${String(b.mimeType ?? "image/png")};base64,${b.data}` };
  return { type: "input_text", text: JSON.stringify(block) };
}

/**
 * Why exec may not run this call (it has no human to ask), as the reference decides: full access
 * runs everything; `approve` (the tool's or the server's default) runs it; otherwise only a tool
 * that says it is read-only, or neither destructive nor open-world, runs.
 */
function approvalRefusal(o: McpToolOptions, ctx: ToolContext): { hint: string } | undefined {
  if (ctx.sandbox.mode === "danger-full-access") return undefined;
  const mode = o.config.tools?.[o.tool.name]?.approval_mode ?? o.config.default_tools_approval_mode;
  if (mode === "approve") return undefined;
  const a = o.tool.annotations ?? {};
  if (mode !== "prompt" && (a.readOnlyHint === true || (a.destructiveHint === false && a.openWorldHint === false))) return undefined;
  const key = `mcp_servers.${tomlKey(o.server)}.tools.${tomlKey(o.tool.name)}.approval_mode`;
  return { hint: `To allow it, set ${key} = "approve" (or mcp_servers.${tomlKey(o.server)}.default_tools_approval_mode = "approve" for all its tools)` };
}

/** A TOML key as written in a dotted path: bare when it can be, else quoted. */
const tomlKey = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
