// The commands of a run ("sessions", as the model calls them): started by exec_command, polled
// and fed by write_stdin, killed at turn end. Each session reads the child's stdout and stderr
// continuously (a pipe never fills), interleaved in arrival order, into two bounded buffers:
// the output the model has not seen yet, and the aggregate shown in the command_execution item.
import type { ChildProcess, ExitStatus, Runtime } from "../runtime.ts";
import type { Redactor } from "../redact.ts";
import { APPROX_BYTES_PER_TOKEN, OutputBuffer, approxTokens, type RenderOptions } from "./output-buffer.ts";

/** Session ids count up from here (codex's unified exec uses 1000 as its first id). */
export const FIRST_SESSION_ID = 1000;
/**
 * Sessions kept at most; starting one more ends the least recently used one the model has been
 * told about and nothing is polling (codex: 64). A session still being polled, or returned as
 * running in the response not yet sent to the model, is never pruned (the table then grows past
 * the limit for a while).
 */
export const MAX_SESSIONS = 64;
/** Output kept for the model between polls (codex: 1 MiB, half head, half tail). */
export const UNREAD_HEAD_BYTES = 512 * 1024;
export const UNREAD_TAIL_BYTES = 512 * 1024;
/** Output kept for the item's aggregated_output. */
export const AGGREGATE_HEAD_BYTES = 64 * 1024;
export const AGGREGATE_TAIL_BYTES = 64 * 1024;
/** After the process exits, output still arriving is read until the pipes stay quiet this long. */
const EXIT_DRAIN_IDLE_MS = 100;
/** After SIGKILL, a process that still has not been reaped is given up on after this long. */
const GIVE_UP_AFTER_KILL_MS = 2000;
/** Sessions most recently used are never the ones pruned. */
const PROTECTED_RECENT = 8;

export interface SessionEnd {
  sessionId: number;
  /** The exit code; 128 + signal number when a signal ended it (-1 for an unknown signal). */
  exitCode: number;
  /** Signal name when a signal ended the child. */
  signal: string | null;
  /** stdout and stderr interleaved, head and tail kept, decoded. */
  aggregatedOutput: string;
  /** Set when ocx itself ended the process to stay within MAX_SESSIONS: why, for the user. */
  prunedReason?: string;
}

export interface StartRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Aborting it kills the process group. */
  signal?: AbortSignal;
  /** Called exactly once, when the process has exited and its output is read. */
  onEnd?(end: SessionEnd): void;
}

export interface PollRequest {
  /**
   * Written to stdin first. Stdin is a pipe, not a terminal, so two control characters are
   * given their terminal meaning: U+0003 (Ctrl-C) sends SIGINT to the process group and U+0004
   * (Ctrl-D) closes stdin.
   */
  chars?: string;
  /** How long to wait for the process to finish before returning what it printed so far. */
  yieldTimeMs: number;
  /** Output budget for this poll, in approximate tokens (4 bytes each). */
  maxOutputTokens: number;
  /** Aborting it kills the process group and ends the wait promptly. */
  signal?: AbortSignal;
}

export interface PollResult {
  sessionId: number;
  /** False once the process has exited; the session id is then forgotten. */
  running: boolean;
  /** Set when not running (see SessionEnd.exitCode). */
  exitCode: number | null;
  /** Output since the previous poll, truncated to the budget (codex's format). */
  output: string;
  /** Approximate tokens of the untruncated output since the previous poll. */
  originalTokenCount: number;
  wallTimeMs: number;
}

/** Thrown by poll() for an id that never existed or whose exit was already reported. */
export class UnknownSessionError extends Error {
  readonly sessionId: number;
  /** The session existed but ocx ended it to stay within MAX_SESSIONS. */
  readonly pruned: boolean;
  constructor(sessionId: number, pruned = false) {
    super(pruned ? `session id ${sessionId} was ended to stay within ${MAX_SESSIONS} sessions` : `unknown session id ${sessionId}`);
    this.name = "UnknownSessionError";
    this.sessionId = sessionId;
    this.pruned = pruned;
  }
}

/** Why a pruned session's process was ended (shown to the user). */
export const PRUNED_REASON = `ended by ocx: more than ${MAX_SESSIONS} commands were left running, and this was the least recently used`;

/** Thrown by poll() when the input could not be written to a process that is still running. */
export class StdinWriteError extends Error {
  constructor(sessionId: number, cause: unknown) {
    super(`failed to write to session ${sessionId}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StdinWriteError";
  }
}

export interface ProcessManagerOptions {
  /** Time between SIGTERM and SIGKILL when a session is ended. Default 500 ms. */
  killGraceMs?: number;
  /**
   * Secrets to keep out of the output (for the model and the item), including the part of one
   * cut by truncation or split between two polls.
   */
  redactor?: Redactor;
}

interface Session {
  id: number;
  child: ChildProcess;
  unread: OutputBuffer;
  aggregate: OutputBuffer;
  lastChunkAt: number;
  lastUsed: number;
  status: ExitStatus | null;
  ended: boolean;
  done: Promise<void>;
  finish(status: ExitStatus): void;
  terminating: boolean;
  timers: ReturnType<typeof setTimeout>[];
  readers: ReadableStreamDefaultReader<Uint8Array>[];
  readersDone: Promise<void>;
  readersFinished: boolean;
  /** A poll has taken output while the process ran: the next unread output continues a stream. */
  polled: boolean;
  /** Polls of one session run one after the other, in the order they were asked for. */
  pollChain: Promise<void>;
  /** Polls queued or running: while any, the session is never pruned. */
  pollers: number;
  /** The response in which a poll last returned it as running (see sent()); null before that. */
  toldIn: number | null;
}

export class ProcessManager {
  /** Sessions the model can still address (a finished one stays until its exit is reported). */
  private readonly sessions = new Map<number, Session>();
  /** Sessions whose process has not ended, including pruned ones no longer addressable. */
  private readonly live = new Set<Session>();
  /** Ids of sessions pruned, to say so when the model asks for one. */
  private readonly prunedIds = new Set<number>();
  private readonly killGraceMs: number;
  private readonly piece: RenderOptions["piece"];
  private nextId = FIRST_SESSION_ID;
  /** Counts the requests sent to the model (see sent()). */
  private response = 0;

  /** `runtime` spawns the processes and provides the clock. */
  constructor(
    private readonly runtime: Runtime,
    opts: ProcessManagerOptions = {},
  ) {
    this.killGraceMs = opts.killGraceMs ?? 500;
    const { redactor } = opts;
    this.piece = redactor && ((text, before, after) => redactor.fragment(text, { before, after }));
  }

  /**
   * The model is being sent every call output returned so far: the sessions they name as
   * running may be pruned from now on (before, the model could not have asked for them).
   */
  sent(): void {
    this.response++;
  }

  /** Sessions not yet reported as finished. */
  get size(): number {
    return this.sessions.size;
  }

  has(sessionId: number): boolean {
    return this.sessions.has(sessionId);
  }

  /** Spawns the command and starts reading its output. Throws if it cannot be spawned. */
  start(req: StartRequest): number {
    this.pruneIfFull();
    let session: Session | undefined;
    let outputEnded!: () => void;
    const outputDone = new Promise<void>((r) => (outputEnded = r));
    const child = this.runtime.spawn({
      argv: req.argv,
      cwd: req.cwd,
      env: req.env,
      stdin: "pipe",
      output: { data: (chunk) => session && take(session, chunk, this.runtime.monotonic()), end: () => outputEnded() },
    });
    const id = this.nextId++;
    const now = this.runtime.monotonic();
    let resolveDone!: () => void;
    const s: Session = {
      id,
      child,
      unread: new OutputBuffer(UNREAD_HEAD_BYTES, UNREAD_TAIL_BYTES),
      aggregate: new OutputBuffer(AGGREGATE_HEAD_BYTES, AGGREGATE_TAIL_BYTES, { countLines: false }),
      lastChunkAt: now,
      lastUsed: now,
      status: null,
      ended: false,
      done: new Promise<void>((r) => (resolveDone = r)),
      finish: () => {},
      terminating: false,
      timers: [],
      readers: [],
      readersDone: outputDone,
      readersFinished: false,
      polled: false,
      pollChain: Promise.resolve(),
      pollers: 0,
      toldIn: null,
    };
    const onAbort = () => void this.terminateSession(s);
    s.finish = (status) => {
      if (s.ended) return;
      s.ended = true;
      s.status = status;
      this.live.delete(s);
      for (const t of s.timers) clearTimeout(t);
      req.signal?.removeEventListener("abort", onAbort);
      if (!s.readersFinished) {
        s.child.stopOutput?.();
        for (const r of s.readers) r.cancel().catch(() => {});
      }
      try {
        req.onEnd?.({
          sessionId: id,
          exitCode: exitCodeOf(status),
          signal: status.signal,
          aggregatedOutput: s.aggregate.render(Number.POSITIVE_INFINITY, { piece: this.piece }),
          ...(this.prunedIds.has(id) ? { prunedReason: PRUNED_REASON } : {}),
        });
      } catch {
        // This runs from a detached promise: a throwing listener must not become an
        // unhandled rejection that takes the whole run down.
      } finally {
        resolveDone();
      }
    };
    session = s;
    if (!child.stopOutput) {
      // A runtime without the output listener: read its two streams.
      s.readers = [child.stdout.getReader(), child.stderr.getReader()];
      s.readersDone = Promise.all(s.readers.map((r) => pump(r, s, () => this.runtime.monotonic()))).then(() => {});
    }
    s.readersDone = s.readersDone.then(() => {
      s.readersFinished = true;
    });
    child.exited.then(
      (status) => this.drainThenFinish(s, status),
      () => s.finish({ code: null, signal: null }),
    );
    this.sessions.set(id, s);
    this.live.add(s);
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener("abort", onAbort, { once: true });
    return id;
  }

  /**
   * Writes `chars` (if any), waits until the process exits or `yieldTimeMs` passes, and returns
   * the output printed since the last poll. A finished session is forgotten after this.
   */
  async poll(sessionId: number, req: PollRequest): Promise<PollResult> {
    const s = this.sessions.get(sessionId);
    if (!s) throw new UnknownSessionError(sessionId, this.prunedIds.has(sessionId));
    // Queued behind the session's earlier polls (taken synchronously, so call order decides).
    s.pollers++;
    const before = s.pollChain;
    let release!: () => void;
    s.pollChain = new Promise<void>((r) => (release = r));
    try {
      await before;
      // Its exit was reported, or it was pruned, meanwhile: no longer addressable.
      if (this.sessions.get(sessionId) !== s) throw new UnknownSessionError(sessionId, this.prunedIds.has(sessionId));
      return await this.pollNow(s, req);
    } finally {
      s.pollers--;
      release();
    }
  }

  private async pollNow(s: Session, req: PollRequest): Promise<PollResult> {
    const sessionId = s.id;
    const t0 = this.runtime.monotonic();
    s.lastUsed = t0;
    if (req.chars) await this.write(s, req.chars);
    await this.wait(s, req.yieldTimeMs, req.signal);
    // What the process wrote up to now, even if the runtime has not delivered it yet.
    if (!s.ended) s.child.takeOutput?.();
    const { output, originalTokenCount } = takeUnread(s, req.maxOutputTokens, this.piece);
    if (s.ended) {
      this.sessions.delete(sessionId);
    } else s.toldIn = this.response;
    return {
      sessionId,
      running: !s.ended,
      exitCode: s.ended && s.status ? exitCodeOf(s.status) : null,
      output,
      originalTokenCount,
      wallTimeMs: this.runtime.monotonic() - t0,
    };
  }

  /** Ends one session's process group (SIGTERM, then SIGKILL after the grace period). */
  async terminate(sessionId: number): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (s) await this.terminateSession(s);
  }

  /**
   * Ends every process group and waits until every session has reported its end (so every
   * command_execution item is completed). For turn end and interrupts.
   */
  async terminateAll(): Promise<void> {
    const all = [...new Set([...this.sessions.values(), ...this.live])];
    await Promise.all(all.map((s) => this.terminateSession(s)));
    for (const s of all) this.sessions.delete(s.id);
  }

  private terminateSession(s: Session): Promise<void> {
    if (s.ended || s.terminating) return s.done;
    s.terminating = true;
    s.child.kill("SIGTERM");
    s.timers.push(
      setTimeout(() => s.child.kill("SIGKILL"), this.killGraceMs),
      setTimeout(() => s.finish({ code: null, signal: "SIGKILL" }), this.killGraceMs + GIVE_UP_AFTER_KILL_MS),
    );
    return s.done;
  }

  private async write(s: Session, chars: string): Promise<void> {
    if (s.ended) return;
    // Split on the two control characters that a terminal would act on.
    for (const part of chars.split(/([\u0003\u0004])/)) {
      if (part === "") continue;
      if (part === "\u0003") s.child.kill("SIGINT");
      else if (part === "\u0004") s.child.closeStdin();
      else {
        try {
          await s.child.writeStdin(part);
        } catch (e) {
          if (s.status !== null || s.ended) return; // it exited; the poll reports that
          throw new StdinWriteError(s.id, e);
        }
      }
    }
  }

  /** Resolves when the session ended, the time is up, or the signal aborted (which kills it). */
  private async wait(s: Session, ms: number, signal?: AbortSignal): Promise<void> {
    if (s.ended) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<boolean>((resolve) => {
      onAbort = () => resolve(true);
      if (signal?.aborted) resolve(true);
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    const timeUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const wasAborted = await Promise.race([s.done.then(() => false), timeUp, aborted]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    if (!wasAborted || s.ended) return;
    // Interrupted: kill it and give it only the grace period (plus a little) to go.
    const killed = this.terminateSession(s);
    await Promise.race([killed, new Promise((r) => (timer = setTimeout(r, this.killGraceMs + 250)))]);
    clearTimeout(timer);
  }

  /** After exit, reads what is left in the pipes until they close or stay quiet. */
  private async drainThenFinish(s: Session, status: ExitStatus): Promise<void> {
    s.status = status;
    // What it wrote before exiting is in the pipe now: take it before judging the pipe idle.
    if (!s.ended) s.child.takeOutput?.();
    while (!s.readersFinished && !s.ended) {
      const idle = this.runtime.monotonic() - s.lastChunkAt;
      if (idle >= EXIT_DRAIN_IDLE_MS) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([s.readersDone, new Promise((r) => (timer = setTimeout(r, EXIT_DRAIN_IDLE_MS - idle)))]);
      clearTimeout(timer);
    }
    s.finish(status);
  }

  /**
   * Keeps at most MAX_SESSIONS: ends the least recently used, preferring finished ones. Only
   * sessions the model has been told about (in a request already sent) and nothing is polling
   * qualify: never a command a call is still waiting on, nor one whose "still running" answer
   * has not reached the model. When none does, the table grows past the limit for now.
   */
  private pruneIfFull(): void {
    if (this.sessions.size < MAX_SESSIONS) return;
    const byRecency = [...this.sessions.values()].sort((a, b) => b.lastUsed - a.lastUsed);
    const candidates = byRecency
      .slice(PROTECTED_RECENT)
      .reverse()
      .filter((s) => s.toldIn !== null && s.toldIn < this.response && s.pollers === 0);
    const victim = candidates.find((s) => s.ended) ?? candidates[0];
    if (!victim) return;
    this.sessions.delete(victim.id);
    if (victim.ended) return;
    this.prunedIds.add(victim.id);
    void this.terminateSession(victim);
  }
}

/** Output that arrived: kept for the model and for the item (copied; `chunk` may be reused). */
function take(s: Session, chunk: Uint8Array, now: number): void {
  if (s.ended) return;
  s.unread.push(chunk);
  s.aggregate.push(chunk);
  s.lastChunkAt = now;
}

async function pump(reader: ReadableStreamDefaultReader<Uint8Array>, s: Session, now: () => number): Promise<void> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      take(s, value, now());
    }
  } catch {
    // cancelled or the pipe broke: nothing more to read
  }
}

/** Takes the unread output as model text (codex's `formatted_truncate_text`) and resets it. */
function takeUnread(
  s: Session,
  maxOutputTokens: number,
  piece: RenderOptions["piece"],
): { output: string; originalTokenCount: number } {
  const buf = s.unread;
  // While the process runs, a character split across polls is held back for the next one.
  const carry = s.ended ? new Uint8Array(0) : buf.takeIncompleteEnd();
  const budget = Math.max(0, Math.floor(maxOutputTokens)) * APPROX_BYTES_PER_TOKEN;
  const total = buf.totalBytes;
  // A poll of a running process cuts its output: what came before and what follows are other polls.
  const opts: RenderOptions = { piece, cutAtStart: s.polled, cutAtEnd: !s.ended };
  const output =
    buf.omittedBytes === 0 && total <= budget
      ? buf.render(Number.POSITIVE_INFINITY, opts)
      : `Total output lines: ${buf.lineCount}\n\n${buf.render(budget, opts)}`;
  if (!s.ended) s.polled = true;
  buf.clear();
  if (carry.length > 0) buf.push(carry);
  return { output, originalTokenCount: approxTokens(total) };
}

// Signal numbers shared by Linux and macOS.
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The exit code, or what a shell reports for a signal: 128 + its number. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  const n = status.signal ? SIGNAL_NUMBERS[status.signal] : undefined;
  return n === undefined ? -1 : 128 + n;
}

/** How a process ended, for a message: "exited with code N" or "was killed by SIGNAL". */
export function exitPhrase(status: ExitStatus): string {
  return status.code === null ? `was killed by ${status.signal ?? "a signal"}` : `exited with code ${status.code}`;
}
