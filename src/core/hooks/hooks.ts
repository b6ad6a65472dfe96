// Running hooks: each matching handler gets the event's JSON on stdin, runs as `sh -c COMMAND`
// under the commands' sandbox policy and environment (no credentials), and is killed at its
// timeout. A handler skipped as untrusted, one that fails and one that times out are reported
// (`report`: one stderr line, an `error` item with --json), never dropped silently.
import type { ThreadItem } from "../events.ts";
import { describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { confinedArgv } from "../sandbox/confine.ts";
import { exitPhrase } from "../process/process-manager.ts";
import { matcherRegExp, trustHash, type HookEvent, type HookHandler } from "./config.ts";

/** The most of a hook's stdout and stderr kept (the rest is dropped). */
const OUTPUT_CAP = 64 * 1024;

export interface HookRunOptions {
  runtime: Runtime;
  handlers: HookHandler[];
  /** `[hooks.state]` trust entries: key -> "sha256:<hex>". */
  trusted: Map<string, string>;
  bypassTrust: boolean;
  /** The policy hooks run under (the commands' unless configured otherwise). */
  sandbox: SandboxPolicy;
  env: Record<string, string>;
  cwd: string;
  /** Fields every payload carries: session_id, transcript_path, cwd, model, permission_mode. */
  common: Record<string, unknown>;
  /** Replaces every secret ocx knows in what hooks are sent (a model may repeat one). */
  redact?(text: string): string;
  /** One line about a hook that did not run or did not finish well. */
  report(message: string): void;
  warn(message: string): void;
}

export interface HookResult {
  handler: HookHandler;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Parsed stdout when it is a JSON object. */
  json?: Record<string, unknown>;
}

/** A tool call as hooks see it: the reference's tool_name and tool_input. */
export interface HookToolCall {
  toolName: string;
  toolInput: Record<string, unknown>;
  callId: string;
  /** What the blocked message names (`Command: ...`). */
  command: string;
  /** The item ocx shows for a call that a hook blocked (without its id). */
  blockedItem(reason: string): Omit<ThreadItem, "id"> & Record<string, unknown>;
}

export class Hooks {
  private readonly runnable: HookHandler[] = [];

  private constructor(private readonly o: HookRunOptions) {}

  /** Sorts the handlers into runnable and untrusted (each untrusted one reported once). */
  static async create(o: HookRunOptions): Promise<Hooks> {
    const hooks = new Hooks(o);
    for (const h of o.handlers) {
      if (!h.project || o.bypassTrust) {
        hooks.runnable.push(h);
        continue;
      }
      const hash = await trustHash(h);
      if (o.trusted.get(h.key) === hash) hooks.runnable.push(h);
      else {
        o.report(
          `hook ${name(h)} is not trusted and did not run; to trust it add [hooks.state.${JSON.stringify(h.key)}] trusted_hash = "${hash}" to $CODEX_HOME/config.toml, or pass --dangerously-bypass-hook-trust`,
        );
      }
    }
    return hooks;
  }

  has(event: HookEvent): boolean {
    return this.runnable.some((h) => h.event === event);
  }

  /** Runs the event's matching handlers one after another, in declaration order. */
  async run(event: HookEvent, fields: Record<string, unknown>, toolName?: string, signal?: AbortSignal): Promise<HookResult[]> {
    const results: HookResult[] = [];
    const json = JSON.stringify({ ...this.o.common, hook_event_name: event, ...fields });
    const payload = this.o.redact ? this.o.redact(json) : json;
    for (const h of this.runnable) {
      if (signal?.aborted) break;
      if (h.event !== event) continue;
      if (toolName !== undefined && !matcherRegExp(h.matcher)?.test(toolName)) continue;
      const r = await this.runOne(h, payload, signal);
      if (r) results.push(r);
    }
    return results;
  }

  /** PreToolUse: the reason of the first handler that denies the call. */
  async preToolUse(call: HookToolCall, fields: Record<string, unknown>, signal?: AbortSignal): Promise<string | undefined> {
    const results = await this.run("PreToolUse", { ...fields, tool_name: call.toolName, tool_input: call.toolInput, tool_use_id: call.callId }, call.toolName, signal);
    for (const r of results) {
      const reason = denyReason(r);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }

  /** Stop: the reason of the first handler that asks the model to go on. */
  async stop(fields: Record<string, unknown>, signal?: AbortSignal): Promise<string | undefined> {
    for (const r of await this.run("Stop", fields, undefined, signal)) {
      if (r.exitCode === 2) return r.stderr.trim() || "a Stop hook asked to continue";
      if (r.json?.decision === "block") return typeof r.json.reason === "string" && r.json.reason !== "" ? r.json.reason : "a Stop hook asked to continue";
    }
    return undefined;
  }

  /** One handler; stopped at its timeout, or at once when `signal` aborts (then nothing is reported). */
  private async runOne(h: HookHandler, payload: string, signal?: AbortSignal): Promise<HookResult | undefined> {
    const { runtime } = this.o;
    let child;
    try {
      const argv = await confinedArgv(runtime, this.o.sandbox, ["/bin/sh", "-c", h.command], this.o.warn);
      child = runtime.spawn({ argv, cwd: this.o.cwd, env: this.o.env, stdin: "pipe" });
    } catch (e) {
      this.o.report(`hook ${name(h)} could not start: ${describeError(e)}`);
      return undefined;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, h.timeoutSec * 1000);
    const stop = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", stop, { once: true });
    try {
      const stdout = collect(child.stdout);
      const stderr = collect(child.stderr);
      // A hook that does not read its stdin must not fail the run.
      await child.writeStdin(payload).catch(() => {});
      child.closeStdin();
      const status = await child.exited;
      const [out, err] = await Promise.all([stdout, stderr]);
      if (signal?.aborted) return undefined;
      if (timedOut) {
        this.o.report(`hook ${name(h)} timed out after ${h.timeoutSec} s and was stopped`);
        return undefined;
      }
      const result: HookResult = { handler: h, exitCode: status.code, stdout: out, stderr: err };
      const trimmed = out.trim();
      if (trimmed.startsWith("{")) {
        try {
          const parsed = JSON.parse(trimmed) as unknown;
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) result.json = parsed as Record<string, unknown>;
        } catch {
          // plain text output
        }
      }
      // Exit 2 is a hook's way to block (PreToolUse) or go on (Stop), not a failure.
      if (status.code !== 0 && status.code !== 2) {
        const why = exitPhrase(status);
        const line = err.trim().split("\n")[0];
        this.o.report(`hook ${name(h)} failed: it ${why}${line ? `: ${line}` : ""}`);
      }
      return result;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    }
  }
}

/** How a report names a hook: its command, event and file. */
export const name = (h: HookHandler): string => `${JSON.stringify(h.command)} (${h.event} in ${h.source})`;

function denyReason(r: HookResult): string | undefined {
  if (r.exitCode === 2) return r.stderr.trim() || "denied";
  const j = r.json;
  if (!j) return undefined;
  const specific = j.hookSpecificOutput;
  if (specific && typeof specific === "object") {
    const s = specific as Record<string, unknown>;
    if (s.permissionDecision === "deny") return typeof s.permissionDecisionReason === "string" ? s.permissionDecisionReason : "denied";
  }
  if (j.decision === "block") return typeof j.reason === "string" ? j.reason : "denied";
  return undefined;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (text.length < OUTPUT_CAP) text += decoder.decode(value, { stream: true });
    }
  } catch {
    // the stream ended with the process
  }
  return text.length > OUTPUT_CAP ? text.slice(0, OUTPUT_CAP) : text;
}
