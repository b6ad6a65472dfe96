// write_stdin: types into a command started by exec_command (or just waits for more of its
// output) and answers in the same format as exec_command.
import * as v from "valibot";
import { MAX_SESSIONS, StdinWriteError, UnknownSessionError } from "../process/process-manager.ts";
import { ToolError, defineTool } from "./define-tool.ts";
import { DEFAULT_MAX_OUTPUT_TOKENS, MAX_YIELD_TIME_MS, MIN_YIELD_TIME_MS, clamp, formatExecOutput } from "./exec-command.ts";

export const DEFAULT_WRITE_YIELD_TIME_MS = 250;
/** An empty write only polls; codex makes such a poll wait at least 5 s and at most 300 s. */
export const MIN_EMPTY_POLL_YIELD_TIME_MS = 5_000;
export const MAX_EMPTY_POLL_YIELD_TIME_MS = 300_000;

const parameters = () => v.object({
  session_id: v.pipe(v.number(), v.integer()),
  chars: v.optional(v.string()),
  yield_time_ms: v.optional(v.number()),
  max_output_tokens: v.optional(v.pipe(v.number(), v.minValue(0))),
});

const jsonSchema = {
  type: "object",
  properties: {
    session_id: { type: "number", description: "Session ID that exec_command returned for a command still running." },
    chars: {
      type: "string",
      description:
        "Text to send to the command's standard input; include \\n to end a line. Empty (the default) just waits for more output. \\u0003 interrupts the command, \\u0004 closes its input.",
    },
    yield_time_ms: {
      type: "number",
      description: "Milliseconds to wait for output before returning. Default 250; an empty write waits 5000-300000.",
    },
    max_output_tokens: {
      type: "number",
      description: "Most output to return, in tokens (about 4 bytes each); the middle is cut when longer. Default 10000.",
    },
  },
  required: ["session_id"],
  additionalProperties: false,
};

export const writeStdinTool = defineTool({
  name: "write_stdin",
  description:
    "Sends input to a command that exec_command left running and returns the output it printed since the last call, " +
    "or its exit code once it has finished.",
  parameters,
  jsonSchema,
  // Runs no process: takes no slot, but waits until the calls before it have started their
  // commands, so a session started earlier in the same response is found.
  kind: "follower",
  async execute(args, ctx) {
    const chars = args.chars ?? "";
    const requested = args.yield_time_ms ?? DEFAULT_WRITE_YIELD_TIME_MS;
    const yieldTimeMs =
      chars === ""
        ? clamp(requested, MIN_EMPTY_POLL_YIELD_TIME_MS, MAX_EMPTY_POLL_YIELD_TIME_MS)
        : clamp(requested, MIN_YIELD_TIME_MS, MAX_YIELD_TIME_MS);
    try {
      const result = await ctx.processes.poll(args.session_id, {
        chars,
        yieldTimeMs,
        maxOutputTokens: args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
        signal: ctx.signal,
      });
      return formatExecOutput(result);
    } catch (e) {
      if (e instanceof UnknownSessionError && e.pruned) {
        throw new ToolError(
          `write_stdin failed: session ID ${args.session_id} was ended by ocx, which keeps at most ${MAX_SESSIONS} commands running in the background and ends the least recently used one first; run the command again if it is still needed`,
        );
      }
      if (e instanceof UnknownSessionError) {
        throw new ToolError(
          `write_stdin failed: no running command has session ID ${args.session_id} (it may have finished and been reported already)`,
        );
      }
      if (e instanceof StdinWriteError) throw new ToolError(`write_stdin ${e.message}`);
      throw e;
    }
  },
});
