// A ToolContext for calling one tool directly in a unit test: events, details and turn-end
// hooks are recorded so tests can assert on them.
import { tmpdir } from "node:os";
import { existsSync } from "node:fs";
import type { ItemDetail, ThreadEvent, ThreadItem } from "../../src/core/events.ts";
import { ProcessManager } from "../../src/core/process/process-manager.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { FULL_ACCESS, type SandboxPolicy } from "../../src/core/sandbox/policy.ts";

export { FULL_ACCESS };
import type { ToolContext } from "../../src/core/tools/define-tool.ts";

export const READ_ONLY: SandboxPolicy = { mode: "read-only", writableRoots: [], networkAccess: false, bypass: false };
export const workspaceWrite = (...roots: string[]): SandboxPolicy => ({
  mode: "workspace-write",
  writableRoots: roots,
  networkAccess: false,
  bypass: false,
});

export interface ToolHarness {
  ctx: ToolContext;
  events: ThreadEvent[];
  details: Array<{ id: string; detail: ItemDetail }>;
  /** What the tool told the user through ctx.warn. */
  warnings: string[];
  abort: AbortController;
  processes: ProcessManager;
  started(): ThreadItem[];
  completed(): ThreadItem[];
  /** Runs the turn-end hooks, as run-turn does when a turn ends. */
  endTurn(): void;
}

export function toolHarness(opts: {
  runtime: Runtime;
  cwd?: string;
  sandbox?: SandboxPolicy;
  killGraceMs?: number;
}): ToolHarness {
  const events: ThreadEvent[] = [];
  const details: ToolHarness["details"] = [];
  const warnings: string[] = [];
  const hooks: Array<() => void> = [];
  const abort = new AbortController();
  const processes = new ProcessManager(opts.runtime, { killGraceMs: opts.killGraceMs ?? 300 });
  let n = 0;
  const ctx: ToolContext = {
    runtime: opts.runtime,
    cwd: opts.cwd ?? tmpdir(),
    shell: existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh",
    signal: abort.signal,
    sandbox: opts.sandbox ?? FULL_ACCESS,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir() },
    processes,
    callId: "call_1",
    nextItemId: () => `item_${n++}`,
    emit: (e) => events.push(e),
    detail: (id, detail) => details.push({ id, detail }),
    warn: (m) => warnings.push(m),
    turn: { state: new Map(), atEnd: (fn) => void hooks.push(fn) },
    itemStarted: (item) => events.push({ type: "item.started", item }),
    itemUpdated: (item) => events.push({ type: "item.updated", item }),
    itemCompleted: (item) => events.push({ type: "item.completed", item }),
  };
  const items = (type: string) => events.flatMap((e) => (e.type === type ? [(e as { item: ThreadItem }).item] : []));
  return {
    ctx,
    events,
    details,
    warnings,
    abort,
    processes,
    started: () => items("item.started"),
    completed: () => items("item.completed"),
    endTurn: () => {
      for (const fn of hooks.splice(0)) fn();
    },
  };
}
