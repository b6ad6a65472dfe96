// The hooks of a turn's tool calls and of its end, as the turn loop calls them: which calls
// hooks see (commands as "Bash", apply_patch, MCP tools as mcp__<server>__<tool>), what they get,
// and what a blocked call looks like (the model is told why; ocx shows a failed item).
import type { EmitEvent, ThreadItem } from "../events.ts";
import type { McpToolRef, ToolOutput } from "../tools/define-tool.ts";
import type { Hooks, HookToolCall } from "./hooks.ts";

export interface HookCallInfo {
  /** The tool's name as ocx resolves it (exec_command, apply_patch, mcp__server__tool). */
  name: string;
  callId: string;
  /** The call's input: JSON arguments, or a freeform tool's text. */
  input: string;
  /** An MCP tool's server and tool, as the tool carries them. */
  mcp?: McpToolRef;
  /** Aborted when the turn ends early: running hooks are stopped. */
  signal?: AbortSignal;
}

export interface TurnHooks {
  /** Before a call runs: the output the model gets instead when a hook blocks it. */
  beforeCall?(call: HookCallInfo): Promise<string | undefined>;
  afterCall?(call: HookCallInfo, output: ToolOutput): Promise<void>;
  /** The model answered without calling a tool: a prompt to continue with, when a hook asks. */
  stop?(lastAgentMessage: string | undefined, active: boolean, signal?: AbortSignal): Promise<string | undefined>;
}

export function turnHooks(
  hooks: Hooks,
  o: {
    turnId: string;
    emit: EmitEvent;
    nextItemId(): string;
    /** The stderr line of a blocked call (human mode shows its item instead). */
    blocked(message: string): void;
  },
): TurnHooks {
  const fields = { turn_id: o.turnId };
  return {
    async beforeCall(info) {
      if (!hooks.has("PreToolUse")) return undefined;
      const call = hookCall(info);
      if (!call) return undefined;
      const reason = await hooks.preToolUse(call, fields, info.signal);
      info.signal?.throwIfAborted();
      if (reason === undefined) return undefined;
      const message = `Command blocked by PreToolUse hook: ${reason}. Command: ${call.command}`;
      o.blocked(message);
      o.emit({ type: "item.completed", item: { id: o.nextItemId(), ...call.blockedItem(message) } as ThreadItem });
      return message;
    },
    async afterCall(info, output) {
      if (!hooks.has("PostToolUse")) return;
      const call = hookCall(info);
      if (!call) return;
      await hooks.run(
        "PostToolUse",
        { ...fields, tool_name: call.toolName, tool_input: call.toolInput, tool_use_id: call.callId, tool_response: toolResponse(info.name, output) },
        call.toolName,
        info.signal,
      );
    },
    async stop(last, active, signal) {
      if (!hooks.has("Stop")) return undefined;
      const more = await hooks.stop({ ...fields, stop_hook_active: active, last_assistant_message: last ?? null }, signal);
      signal?.throwIfAborted();
      return more;
    },
  };
}

function parseArgs(input: string): Record<string, unknown> {
  try {
    const v = JSON.parse(input) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The call as hooks see it; undefined for tools hooks do not cover (plans, stdin writes, images). */
export function hookCall(info: HookCallInfo): HookToolCall | undefined {
  if (info.name === "exec_command" || info.name === "shell" || info.name === "local_shell") {
    const args = parseArgs(info.input);
    const command = typeof args.cmd === "string" ? args.cmd : Array.isArray(args.command) ? args.command.join(" ") : String(args.command ?? "");
    return {
      toolName: "Bash",
      toolInput: { command },
      callId: info.callId,
      command,
      blockedItem: (reason) => ({ type: "command_execution", command, aggregated_output: reason, exit_code: null, status: "failed" }),
    };
  }
  if (info.name === "apply_patch") {
    return {
      toolName: "apply_patch",
      toolInput: { command: info.input },
      callId: info.callId,
      command: info.input,
      blockedItem: () => ({ type: "file_change", changes: [], status: "failed" }),
    };
  }
  if (info.mcp) {
    const { server, tool } = info.mcp;
    const args = parseArgs(info.input);
    return {
      toolName: info.name,
      toolInput: args,
      callId: info.callId,
      command: info.name,
      blockedItem: (reason) => ({ type: "mcp_tool_call", server, tool, arguments: args, result: null, error: { message: reason }, status: "failed" }),
    };
  }
  return undefined;
}

/** A command's own output (without ocx's header lines); other tools' output text as it is. */
function toolResponse(name: string, output: ToolOutput): unknown {
  if (typeof output !== "string") return output;
  if (name === "exec_command") {
    const at = output.indexOf("\nOutput:\n");
    if (at >= 0) return output.slice(at + "\nOutput:\n".length);
  }
  return output;
}
