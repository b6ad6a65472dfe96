// How the tool calls of one model response run: started one by one in call order, at most
// `limit` of them at once, and an edit alone (a barrier). The results still go back to the model
// in call order (the caller awaits them in that order).
//
// Kinds:
// - "concurrent": runs alongside others, holding one of the `limit` slots until it returns
//   (a command that outlives its yield time becomes a session and gives its slot back).
// - "exclusive": waits for every earlier call to finish, and every later call waits for it
//   (apply_patch: a patch must see what the commands before it wrote, and the commands after it
//   must see the patch).
// - "follower": takes no slot, but starts only once every earlier call has reached its start
//   point (write_stdin: a session started by an earlier call of the response must exist).
//
// A call reaches its start point when it calls `started()` (exec_command, once its session is
// registered), else when it returns. Calls start strictly in order: a call that must wait holds
// back every call after it.

export type CallKind = "concurrent" | "exclusive" | "follower";

/** Default for max_concurrent_tool_calls. */
export const DEFAULT_MAX_CONCURRENT_CALLS = 8;

interface Entry {
  kind: CallKind;
  run(started: () => void): Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export class CallScheduler {
  private readonly queue: Entry[] = [];
  /** Calls started and not yet returned. */
  private active = 0;
  /** Slots held by running "concurrent" calls. */
  private slots = 0;
  private exclusiveRunning = false;
  /** Started calls that have not reached their start point. */
  private unstarted = 0;
  private pumping = false;
  private cancelled: { reason: unknown } | undefined;

  constructor(private readonly limit: number = DEFAULT_MAX_CONCURRENT_CALLS) {
    if (!(limit >= 1)) this.limit = 1;
  }

  /** Queues a call; resolves or rejects with what `run` does. */
  add<T>(kind: CallKind, run: (started: () => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.cancelled) return reject(this.cancelled.reason);
      this.queue.push({ kind, run, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Calls not started yet are rejected with `reason` and never run; running ones go on. */
  cancel(reason: unknown): void {
    this.cancelled ??= { reason };
    for (const e of this.queue.splice(0)) e.reject(reason);
  }

  /** Calls queued and not started yet. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Calls running now. */
  get running(): number {
    return this.active;
  }

  private canStart(e: Entry): boolean {
    switch (e.kind) {
      case "exclusive":
        return this.active === 0;
      case "concurrent":
        return !this.exclusiveRunning && this.slots < this.limit;
      case "follower":
        return !this.exclusiveRunning && this.unstarted === 0;
    }
  }

  private pump(): void {
    // A call started here may call pump() again (synchronously): the loop below sees its effect
    // when it checks the queue's head again, so that call has nothing to do.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.canStart(this.queue[0]!)) this.start(this.queue.shift()!);
    } finally {
      this.pumping = false;
    }
  }

  private start(e: Entry): void {
    this.active++;
    this.unstarted++;
    if (e.kind === "concurrent") this.slots++;
    if (e.kind === "exclusive") this.exclusiveRunning = true;
    let reached = false;
    const started = () => {
      if (reached) return;
      reached = true;
      this.unstarted--;
      this.pump();
    };
    const done = () => {
      this.active--;
      if (e.kind === "concurrent") this.slots--;
      if (e.kind === "exclusive") this.exclusiveRunning = false;
      if (!reached) {
        reached = true;
        this.unstarted--;
      }
      this.pump();
    };
    let p: Promise<unknown>;
    try {
      p = e.run(started);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => {
        done();
        e.resolve(v);
      },
      (err) => {
        done();
        e.reject(err);
      },
    );
  }
}
