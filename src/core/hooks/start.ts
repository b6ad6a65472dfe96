// A run's hooks: discovered beside each config layer (nothing more is loaded when there are
// none); SessionStart and UserPromptSubmit run here, before the first request, and the tool and
// Stop hooks are handed to the turn.
import type { Config } from "../config/schema.ts";
import type { ThreadEvent } from "../events.ts";
import type { ExecOptions } from "../run/options.ts";
import type { Runtime } from "../runtime.ts";
import { FULL_ACCESS, type SandboxPolicy } from "../sandbox/policy.ts";
import { discoverHooks, trustedHashes } from "./config.ts";
import type { TurnHooks } from "./turn.ts";

/**
 * The run's hooks: discovered beside each config layer; SessionStart and UserPromptSubmit run
 * here, the tool and Stop hooks in the turn. Nothing is loaded when none is configured.
 */
export async function startHooks(
  runtime: Runtime,
  o: {
    config: Config;
    opts: ExecOptions;
    home: string;
    root: string | null | undefined;
    cwd: string;
    sandbox: SandboxPolicy;
    /** The environment hooks run with (made when a hook is found). */
    env: () => Record<string, string>;
    report(message: string): void;
    warn(message: string): void;
    threadId: string;
    turnId: string;
    model: string;
    /** The rollout's path (made when first asked for: only when a hook is found). */
    transcriptPath(): string | undefined;
    /** Writes the transcript (held until the first request) before a hook may read it. */
    transcriptReady?(): Promise<void>;
    emit: (e: ThreadEvent) => void;
    nextItemId(): string;
    source: "startup" | "resume";
    prompt: string;
    redact(text: string): string;
    /** Interrupts and --timeout: a running hook is stopped. */
    signal: AbortSignal;
  },
): Promise<TurnHooks | undefined> {
  // [features] hooks = false (or the older codex_hooks) turns them off, as in the reference.
  const features = (o.config.features ?? {}) as Record<string, unknown>;
  if (features.hooks === false || features.codex_hooks === false) return undefined;
  if (o.opts.bypassHookTrust) o.report("`--dangerously-bypass-hook-trust` is enabled. Enabled hooks may run without review for this invocation.");
  const handlers = await discoverHooks(runtime, { codexHome: o.home, userHooks: o.config.hooks, gitRoot: o.root ?? undefined, cwd: o.cwd, warn: o.warn });
  if (handlers.length === 0) return undefined;
  await o.transcriptReady?.();
  const [{ Hooks }, { turnHooks }] = await Promise.all([import("./hooks.ts"), import("./turn.ts")]);
  const policy = o.config.hooks_sandbox === "none" ? FULL_ACCESS : o.sandbox;
  const hooks = await Hooks.create({
    runtime,
    handlers,
    trusted: trustedHashes(o.config.hooks),
    bypassTrust: o.opts.bypassHookTrust === true,
    sandbox: policy,
    env: o.env(),
    cwd: o.cwd,
    common: {
      session_id: o.threadId,
      transcript_path: o.transcriptPath() ?? null,
      cwd: o.cwd,
      model: o.model,
      permission_mode: o.sandbox.mode === "danger-full-access" ? "bypassPermissions" : "default",
    },
    redact: o.redact,
    report: o.report,
    warn: o.warn,
  });
  await hooks.run("SessionStart", { source: o.source }, undefined, o.signal);
  await hooks.run("UserPromptSubmit", { turn_id: o.turnId, prompt: o.prompt }, undefined, o.signal);
  return turnHooks(hooks, { turnId: o.turnId, emit: o.emit, nextItemId: o.nextItemId, blocked: (m) => (o.opts.json ? o.warn(m) : undefined) });
}
