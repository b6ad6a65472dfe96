// exec_command: runs a shell command as a session of the ProcessManager on ctx, reports it as a
// command_execution item, and answers the model in codex's unified-exec format.
import * as v from "valibot";
import { resolve } from "../util/path.ts";
import { OcxError, describeError } from "../errors.ts";
import type { CommandExecutionItem } from "../events.ts";
import type { PollResult, SessionEnd } from "../process/process-manager.ts";
import { randomHex } from "../util/random.ts";
import { shellJoin } from "../util/shell-quote.ts";
import { parsePatchInvocation } from "../patch/invocation.ts";
import { applyPatch } from "./apply-patch.ts";
import { ToolError, defineTool } from "./define-tool.ts";

export const DEFAULT_EXEC_YIELD_TIME_MS = 10_000;
export const MIN_YIELD_TIME_MS = 250;
export const MAX_YIELD_TIME_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_TOKENS = 10_000;

const parameters = () => v.object({
  cmd: v.string(),
  workdir: v.optional(v.string()),
  yield_time_ms: v.optional(v.number()),
  max_output_tokens: v.optional(v.pipe(v.number(), v.minValue(0))),
  shell: v.optional(v.string()),
  login: v.optional(v.boolean()),
  tty: v.optional(v.boolean()),
  justification: v.optional(v.string()),
  prefix_rule: v.optional(v.array(v.string())),
  sandbox_permissions: v.optional(v.picklist(["use_default", "require_escalated"])),
});

const jsonSchema = {
  type: "object",
  properties: {
    cmd: { type: "string", description: "Shell command line to run." },
    workdir: {
      type: "string",
      description: "Directory to run it in, absolute or relative to the turn's working directory. Defaults to that directory.",
    },
    yield_time_ms: {
      type: "number",
      description:
        "Milliseconds to wait for the command to finish before returning its output so far; it keeps running and can be continued with write_stdin. Default 10000, range 250-30000.",
    },
    max_output_tokens: {
      type: "number",
      description: "Most output to return, in tokens (about 4 bytes each); the middle is cut when longer. Default 10000.",
    },
    shell: { type: "string", description: "Shell binary to use. Defaults to /bin/bash, or /bin/sh without bash." },
    login: { type: "boolean", description: "Start the shell as a login shell (-l), loading profile files. Default true." },
    tty: { type: "boolean", description: "Run under a pseudo-terminal. Not supported by ocx yet; leave unset." },
    justification: { type: "string", description: "Why the command needs more permissions; only with require_escalated." },
    prefix_rule: {
      type: "array",
      items: { type: "string" },
      description: "Command prefix to allow from now on; only with require_escalated.",
    },
    sandbox_permissions: {
      type: "string",
      enum: ["use_default", "require_escalated"],
      description: "Run inside the sandbox (use_default) or ask to run outside it (require_escalated).",
    },
  },
  required: ["cmd"],
  additionalProperties: false,
};

export const execCommandTool = defineTool({
  name: "exec_command",
  description:
    "Runs a shell command and returns what it printed (stdout and stderr together) with its exit code. " +
    "A command still running after yield_time_ms keeps running in the background and returns a session ID; " +
    "use write_stdin with that ID to read more output or to type input.",
  parameters,
  jsonSchema,
  // An `apply_patch <<'EOF'` command is an edit: it runs alone, after the calls before it.
  kind: (args) => (parsePatchInvocation(args.cmd) ? "exclusive" : "concurrent"),
  async execute(args, ctx) {
    // `apply_patch <<'EOF' ... EOF` is the tool, not a command: verified and checked in ocx,
    // written by the confined writer like any patch, reported as a file_change item.
    const invocation = parsePatchInvocation(args.cmd);
    if (invocation) {
      const workdir = resolve(ctx.cwd, args.workdir ?? ".", invocation.cd ?? ".");
      return applyPatch(invocation.patch, ctx, workdir);
    }
    ctx.signal.throwIfAborted();
    if (args.tty) throw new ToolError("tty is not supported by ocx yet; run the command without tty");
    if (args.sandbox_permissions === "require_escalated") {
      throw new ToolError(
        "escalated permissions are not available in exec mode (approvals are never asked); run the command without require_escalated",
      );
    }
    const cwd = args.workdir ? resolve(ctx.cwd, args.workdir) : ctx.cwd;
    const stat = await ctx.runtime.fs.stat(cwd);
    if (!stat?.isDirectory) throw new ToolError(`workdir ${cwd} does not exist or is not a directory`);
    const shell = args.shell || ctx.shell;
    const argv = [shell, args.login === false ? "-c" : "-lc", args.cmd];
    const command = shellJoin(argv);
    // Fails the turn (exit 5) when the host cannot enforce the policy: never run unconfined.
    const { confinedArgv } = await import("../sandbox/confine.ts");
    const spawnArgv = await confinedArgv(ctx.runtime, ctx.sandbox, argv, ctx.warn);

    let itemId = "";
    let sessionId: number;
    try {
      sessionId = ctx.processes.start({
        argv: spawnArgv,
        cwd,
        env: ctx.env,
        signal: ctx.signal,
        onEnd: (end) => {
          if (end.prunedReason) ctx.warn(`command ${command} (session ${end.sessionId}) ${end.prunedReason}`);
          ctx.itemCompleted(completedItem(itemId, command, end));
        },
      });
    } catch (e) {
      throw new ToolError(`exec_command failed: could not start ${shell}: ${describeError(e)}`);
    }
    // Emitted synchronously after the spawn, so always before onEnd (which runs later).
    itemId = ctx.nextItemId();
    ctx.itemStarted({
      id: itemId,
      type: "command_execution",
      command,
      aggregated_output: "",
      exit_code: null,
      status: "in_progress",
    });

    const polled = ctx.processes.poll(sessionId, {
      yieldTimeMs: clamp(args.yield_time_ms ?? DEFAULT_EXEC_YIELD_TIME_MS, MIN_YIELD_TIME_MS, MAX_YIELD_TIME_MS),
      maxOutputTokens: args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      signal: ctx.signal,
    });
    // The session exists and this first poll is queued on it: a write_stdin later in the
    // response may start now, and its poll comes after this one.
    ctx.started?.();
    return formatExecOutput(await polled);
  },
});

/**
 * The item reported when a command ends. A command ended by a signal gets exit_code 128 + the
 * signal number (what a shell reports, e.g. 143 for SIGTERM) and status "failed".
 */
function completedItem(id: string, command: string, end: SessionEnd): CommandExecutionItem {
  return {
    id,
    type: "command_execution",
    command,
    aggregated_output: end.aggregatedOutput,
    exit_code: end.exitCode,
    status: end.exitCode === 0 && end.signal === null ? "completed" : "failed",
  };
}

/**
 * codex's unified-exec answer to the model:
 * `Chunk ID: <6 hex>\nWall time: <s.ssss> seconds\n<Process exited with code N | Process running
 * with session ID N>\nOriginal token count: N\nOutput:\n<text>`.
 */
export function formatExecOutput(r: PollResult, chunkId: string = randomChunkId()): string {
  return [
    `Chunk ID: ${chunkId}`,
    `Wall time: ${(r.wallTimeMs / 1000).toFixed(4)} seconds`,
    r.running ? `Process running with session ID ${r.sessionId}` : `Process exited with code ${r.exitCode}`,
    `Original token count: ${r.originalTokenCount}`,
    "Output:",
    r.output,
  ].join("\n");
}

export const randomChunkId = (): string => randomHex(3);

export function clamp(n: number, lo: number, hi: number): number {
  return Number.isNaN(n) ? lo : Math.min(hi, Math.max(lo, n));
}
