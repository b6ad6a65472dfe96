// A tool is one file: defineTool({ name, description, parameters, execute }). Argument parsing,
// validation and model-readable errors happen here, once, for every tool.
import * as v from "valibot";
import { once } from "../util/once.ts";
import type { EmitDetail, EmitEvent, ThreadItem } from "../events.ts";
import type { Runtime } from "../runtime.ts";
import type { ToolSpec } from "../model/types.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import type { ProcessManager } from "../process/process-manager.ts";
import type { CallKind } from "../agent/call-scheduler.ts";

export interface ToolContext {
  runtime: Runtime;
  /** The turn's working directory (absolute). */
  cwd: string;
  /** Absolute path of the default shell for commands. */
  shell: string;
  /** Aborted on interrupt, timeout or turn end. */
  signal: AbortSignal;
  sandbox: SandboxPolicy;
  /** Environment for child processes (already filtered). */
  env: Record<string, string>;
  /** Long-running commands of this run, shared by exec_command and write_stdin. */
  processes: ProcessManager;
  /** The model's call id of this invocation. */
  callId: string;
  /** Allocates the next `item_N` id. */
  nextItemId(): string;
  emit: EmitEvent;
  /** Human-only detail for an item (a diff, a plan); call it before the item's event. */
  detail: EmitDetail;
  /** A notice for the user (stderr in every output mode), not for the model. */
  warn(message: string): void;
  /** State and clean-up that live as long as the turn. */
  turn: TurnScope;
  /**
   * Marks the call's start point: what later calls of the same response may address (the
   * session a command runs in) now exists, so a write_stdin after it may start. Optional.
   */
  started?(): void;
  /** Convenience for item lifecycle events. */
  itemStarted(item: ThreadItem): void;
  itemUpdated(item: ThreadItem): void;
  itemCompleted(item: ThreadItem): void;
}

/** What a tool returns to the model: text, or content parts (an image for view_image). */
export type ToolOutput = string | ToolOutputPart[];
export type ToolOutputPart =
  | { type: "input_text"; text: string }
  | { type: "input_image"; image_url: string; detail?: "high" | "low" | "original" | "auto" };

export interface TurnScope {
  /** Per-turn tool state by key (update_plan keeps its todo_list item here). */
  readonly state: Map<string, unknown>;
  /** Runs once when the turn ends, completed or failed, before turn.completed / turn.failed. */
  atEnd(fn: () => void): void;
}

/** Which MCP server's tool, by the names config.toml and the server give. */
export interface McpToolRef {
  readonly server: string;
  readonly tool: string;
}

export interface Tool {
  readonly name: string;
  readonly spec: ToolSpec;
  /** Other names a call may use (an MCP tool's `mcp__<server>__<tool>` in the namespaced form). */
  readonly aliases?: readonly string[];
  /** An MCP server's tool: the server's and the tool's own names (not parsed back from `name`). */
  readonly mcp?: McpToolRef;
  /** Runs one call. `raw` is the function-call `arguments` JSON (or a custom tool's input). */
  run(raw: string, ctx: ToolContext): Promise<ToolOutput>;
  /** How a call is scheduled among the response's other calls (see CallScheduler); default "concurrent". */
  kind?(raw: string): CallKind;
}

/**
 * A failure that the model should read (bad arguments, refused option). The turn goes on;
 * the message becomes the call's output.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

export interface FunctionToolDef<S extends v.GenericSchema> {
  name: string;
  description: string;
  /** Builds the valibot schema that validates the parsed arguments (once, at the first call). */
  parameters: () => S;
  /** JSON Schema shown to the model (object schema, additionalProperties: false). */
  jsonSchema: Record<string, unknown>;
  execute(args: v.InferOutput<S>, ctx: ToolContext): Promise<ToolOutput>;
  /** How a call is scheduled: a kind, or one chosen from its arguments (invalid ones run "concurrent"). */
  kind?: CallKind | ((args: v.InferOutput<S>) => CallKind);
}

/** A function call's JSON arguments (empty means `{}`), or the message the model gets when they do not parse. */
export function parseToolArguments(raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: raw.trim() === "" ? {} : JSON.parse(raw) };
  } catch (e) {
    return { ok: false, message: `failed to parse function arguments: ${(e as Error).message}` };
  }
}

export function defineTool<S extends v.GenericSchema>(def: FunctionToolDef<S>): Tool {
  const parameters = once(def.parameters);
  return {
    name: def.name,
    spec: {
      type: "function",
      name: def.name,
      description: def.description,
      strict: false,
      parameters: def.jsonSchema,
    },
    kind(raw) {
      const k = def.kind;
      if (k === undefined || typeof k === "string") return k ?? "concurrent";
      const parsed = parseToolArguments(raw);
      const result = parsed.ok ? v.safeParse(parameters(), parsed.value) : undefined;
      try {
        return result?.success ? k(result.output) : "concurrent";
      } catch {
        return "concurrent";
      }
    },
    async run(raw, ctx) {
      const parsed = parseToolArguments(raw);
      if (!parsed.ok) return parsed.message;
      const result = v.safeParse(parameters(), parsed.value);
      if (!result.success) {
        const issues = result.issues
          .map((i) => {
            const path = i.path?.map((p) => String(p.key)).join(".");
            return path ? `${path}: ${i.message}` : i.message;
          })
          .join("; ");
        return `failed to parse function arguments: ${issues}`;
      }
      try {
        return await def.execute(result.output, ctx);
      } catch (e) {
        if (e instanceof ToolError) return e.message;
        throw e;
      }
    },
  };
}
