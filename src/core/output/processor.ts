// One output processor per mode, chosen once at the edge. Each maps events to bytes on stdout
// and stderr; nothing else in ocx writes to stdout.
import type { EmitDetail, EmitEvent } from "../events.ts";
import type { OutputSink, TextLine } from "../runtime.ts";

/** A line at least this long is written apart from its newline. */
const LONG_LINE = 64 * 1024;

/**
 * `text` and a newline to `sink`. A long line (an answer of megabytes, the JSONL line that
 * carries it) is written as it is, or piece by piece, then the newline: joined, it would be
 * copied whole once more on its way out, where memory first touched is what a large answer costs
 * most.
 */
export function writeLine(sink: OutputSink, text: TextLine): void {
  if (typeof text !== "string") {
    for (const piece of text) sink.write(piece);
    sink.write("\n");
  } else if (text.length < LONG_LINE) sink.write(`${text}\n`);
  else {
    sink.write(text);
    sink.write("\n");
  }
}

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

/**
 * An output processor that can be held: while held, every call waits, in order, and is made on
 * release(). A run holds its output from the moment its thread starts until the thread's rollout
 * is written (events are on disk before anyone hears of them), without the order of anything
 * printed changing.
 */
export class HoldableOutput implements OutputProcessor {
  private waiting: Array<() => void> | null = null;
  readonly notice?: (message: string) => void;

  constructor(private readonly inner: OutputProcessor) {
    const notice = inner.notice;
    if (notice) this.notice = (message) => this.call(() => notice.call(inner, message));
  }

  hold(): void {
    this.waiting ??= [];
  }

  /** Makes every waiting call, in order; one that throws does not stop the others (the first error is thrown at the end). */
  release(): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    let failed: { error: unknown } | undefined;
    for (const call of waiting) {
      try {
        call();
      } catch (error) {
        failed ??= { error };
      }
    }
    if (failed) throw failed.error;
  }

  /** Makes `f` (a write of another kind, in order with the rest) now, or on release when held. */
  later(f: () => void): void {
    this.call(f);
  }

  private call(f: () => void): void {
    if (this.waiting) this.waiting.push(f);
    else f();
  }

  header(info: RunHeader): void {
    this.call(() => this.inner.header(info));
  }
  readonly emit: EmitEvent = (event) => this.call(() => this.inner.emit(event));
  readonly detail: EmitDetail = (itemId, detail) => this.call(() => this.inner.detail(itemId, detail));
  warn(message: string): void {
    this.call(() => this.inner.warn(message));
  }
  finish(outcome: RunOutcome): void {
    this.call(() => this.inner.finish(outcome));
  }
}
