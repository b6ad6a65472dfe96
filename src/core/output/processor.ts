// One output processor per mode, chosen once at the edge. Each maps events to bytes on stdout
// and stderr; nothing else in ocx writes to stdout.
import type { EmitDetail, EmitEvent } from "../events.ts";

export interface RunHeader {
  version: string;
  workdir: string;
  model: string;
  provider: string;
  sandbox: string;
  reasoningEffort: string;
  reasoningSummaries: string;
  sessionId: string;
  prompt: string;
}

export interface RunOutcome {
  ok: boolean;
  lastAgentMessage?: string;
  /** What to do next after a failure (how to resume after a budget ran out); human mode prints it. */
  hint?: string;
}

export interface OutputProcessor {
  /** Called once, right before thread.started. */
  header(info: RunHeader): void;
  emit: EmitEvent;
  /** Human-only detail of an item, given before the item's next event. */
  detail: EmitDetail;
  /** Progress that is not an event (context compacted): human mode shows it on stderr, --json does not. */
  notice?(message: string): void;
  /** A warning or notice that is not an event (stderr in every mode). */
  warn(message: string): void;
  /** Called once at the end, with the outcome of the turn. */
  finish(outcome: RunOutcome): void;
}
