// Server-sent events, parsed by the WHATWG EventSource rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
//
// One pass per body chunk, over its bytes, no stream pipeline: the chunk's bytes are counted
// (the body's cap) and cut into lines with the native indexOf (a CR or LF byte is never part of
// a longer UTF-8 character); only what is kept is decoded: a field's value, once its line is
// whole. The events nobody reads (SseLimits.skip) are never decoded at all. Whole events come
// out in an array. The reading, with its timers, is the caller's (openEvents in responses.ts):
// a read per chunk, not per event.
import type { SkipEvents } from "../runtime.ts";
import { concatBytes, withRoom } from "../util/bytes.ts";

export interface SseEvent {
  /** The `event:` field, when the event had a non-empty one. */
  event?: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen on this stream (it persists across events), when non-empty. */
  id?: string;
  /**
   * The data as its UTF-8 bytes, not decoded (`data` is then empty): an event of a type in
   * SseLimits.raw (one that may be large, read by other means than a string of it all).
   */
  bytes?: Uint8Array;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const A = 0x61;
const D = 0x64;
const E = 0x65;
const N = 0x6e;
const T = 0x74;
const V = 0x76;
const SPACE = 0x20;
/** A part of a chunk at least this long is kept as a view when it carries over; a shorter one is copied. */
const VIEW_MIN = 16 * 1024;

export interface SseLimits {
  /** Most bytes one event's data (and the line being read) may hold. */
  maxEventBytes?: number;
  /** Most bytes the whole body may hold. */
  maxBytes?: number;
  /**
   * Event types nobody reads. Their data is neither decoded nor kept, and they are not
   * dispatched, only counted (SseDecoder.skippedEvents: still progress). An answer's `.done`
   * events repeat all of its text; its deltas are most of a stream's events.
   */
  skip?: ReadonlySet<string>;
  /** Event types whose data is handed out as bytes, undecoded (SseEvent.bytes). */
  raw?: ReadonlySet<string>;
  /** What passes over runs of skipped events, when the runtime has a faster one than skipRun (Runtime.loadByteLoops). */
  skipEvents?: SkipEvents;
}

/**
 * Body bytes in, events out. Lines may end in CRLF, LF or CR and may be split anywhere across
 * chunks (inside a character too); an event is dispatched on a blank line; an event not closed by
 * a blank line before the stream ends is dropped, as the spec says. Invalid UTF-8 becomes U+FFFD,
 * as TextDecoder makes it; one leading byte order mark is dropped.
 */
export class SseDecoder {
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  private readonly maxEventBytes: number;
  private readonly maxBytes: number;
  private readonly skip: ReadonlySet<string> | undefined;
  private seen = 0;
  /**
   * The pieces of an unterminated line, from earlier chunks, joined once the line ends: views of
   * large parts of chunks (not copies: a chunk is not changed once pushed), and small parts copied
   * one after the other into `tail`, a buffer that grows by doubling (a line sent a byte per
   * chunk is then one buffer, not a view per byte).
   */
  private pieces: Uint8Array[] = [];
  private carryBytes = 0;
  private tail: Uint8Array | null = null;
  private tailBytes = 0;
  /** Inside a skipped event's data line: its bytes are not kept, up to the next CR or LF. */
  private dropping = false;
  /** The previous chunk ended in CR: a LF opening this one ends nothing. */
  private skipLeadingLf = false;
  /** No line has been read yet (a byte order mark may open the first). */
  private first = true;
  private data = "";
  private dataBytes = 0;
  private hasData = false;
  /** The event's data is kept as bytes (its first data line came while its type was raw). */
  private dataRaw = false;
  /**
   * Its data lines so far: the first as a view; from the second on, all of them joined by LF in
   * `rawJoined` (copied, growing by doubling: an event of a million short lines is one buffer).
   */
  private rawFirst: Uint8Array | null = null;
  private rawJoined: Uint8Array | null = null;
  private rawBytes = 0;
  private eventType = "";
  /** The event being read has a type in `skip`. */
  private skipping = false;
  private readonly raw: ReadonlySet<string> | undefined;
  private lastId = "";
  /** The last `event:` line read that named a skipped event (see skipRun). */
  private skipLine: Uint8Array | null = null;
  private skipped = 0;
  private readonly skipEvents: SkipEvents | undefined;
  private readonly counts = new Int32Array(1);
  /** The last `event:` value read, its bytes and whether it is skipped or raw: most events repeat a few names. */
  private nameBytes: Uint8Array = new Uint8Array(0);
  private name = "";
  private nameRaw = false;
  private nameSkipped: boolean;

  constructor(limits: SseLimits = {}) {
    this.maxEventBytes = limits.maxEventBytes ?? Number.POSITIVE_INFINITY;
    this.maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    this.skip = limits.skip;
    this.raw = limits.raw;
    this.skipEvents = limits.skipEvents;
    this.nameSkipped = this.skip?.has("") === true;
  }

  /** How many events of a skipped type have ended so far (they are not dispatched, but they are progress). */
  get skippedEvents(): number {
    return this.skipped;
  }

  /**
   * Appends the events `chunk` completes to `out`; the chunk's bytes may be kept (viewed) until
   * the line it leaves open ends, and handed out (SseEvent.bytes): they must not change. Throws
   * BodyTooLargeError (nothing of the chunk is parsed) or EventTooLargeError; after a throw,
   * nothing this call appended counts.
   */
  push(chunk: Uint8Array, out: SseEvent[]): void {
    this.seen += chunk.byteLength;
    if (this.seen > this.maxBytes) throw new BodyTooLargeError(this.maxBytes);
    const before = out.length;
    try {
      this.parse(chunk, out);
    } catch (err) {
      out.length = before;
      throw err;
    }
  }

  private parse(bytes: Uint8Array, out: SseEvent[]): void {
    const n = bytes.length;
    let start = 0;
    if (this.skipLeadingLf && n > 0) {
      this.skipLeadingLf = false;
      if (bytes[0] === LF) start = 1;
    }
    // Where the next CR and LF are, each searched for once per pass over the bytes; most
    // streams have no CR at all, so that search runs once per chunk.
    let cr = bytes.indexOf(CR, start);
    let lf = bytes.indexOf(LF, start);
    while (cr !== -1 || lf !== -1) {
      // Between events, whole skipped events are passed over at once (most of a stream).
      if (this.skipLine !== null && !this.hasData && this.eventType === "" && this.carryBytes === 0 && !this.dropping && !this.first) {
        const to = this.skipRun(bytes, start, cr === -1 ? n : cr);
        if (to !== start) {
          start = to;
          lf = bytes.indexOf(LF, start);
          continue;
        }
      }
      let end: number; // the line ends before `end`
      let next: number; // the next line starts at `next`
      if (lf !== -1 && (cr === -1 || lf < cr)) {
        end = lf;
        next = lf + 1;
        lf = bytes.indexOf(LF, next);
      } else {
        end = cr;
        next = cr + 1;
        if (next === n) this.skipLeadingLf = true;
        else if (lf === next) {
          next++;
          lf = bytes.indexOf(LF, next);
        }
        cr = bytes.indexOf(CR, next);
      }
      if (this.dropping) {
        // The end of a skipped event's data line: nothing of it was kept.
        this.dropping = false;
      } else if (this.carryBytes === 0) {
        this.line(bytes, start, end, out);
      } else {
        this.keep(bytes, start, end);
        this.closeTail();
        const pieces = this.pieces;
        const line = pieces.length === 1 ? pieces[0]! : concatBytes(pieces);
        this.pieces = [];
        this.carryBytes = 0;
        this.line(line, 0, line.length, out);
      }
      start = next;
    }
    if (start < n && !this.dropping) {
      if (this.skipping && this.carryBytes === 0 && isDataLine(bytes, start, n)) this.dropping = this.hasData = true;
      else this.keep(bytes, start, n);
    }
    // A server that never ends a line or an event must not fill memory.
    if (this.carryBytes + this.dataBytes > this.maxEventBytes) throw new EventTooLargeError(this.maxEventBytes);
  }

  /**
   * From `at`, a line start between events: the whole events that follow, each an `event:` line
   * exactly like the last skipped event's, `data:` lines and a blank line, all ending in LF
   * before `limit`, passed over (counted in skippedEvents). Where the first other line starts.
   */
  private skipRun(bytes: Uint8Array, at: number, limit: number): number {
    if (this.skipEvents) {
      const to = this.skipEvents(bytes, at, limit, this.skipLine!, this.counts);
      this.skipped += this.counts[0]!;
      this.counts[0] = 0;
      return to;
    }
    // One function, its loops written out: it runs for most events of a stream, and each
    // function that hot costs the JIT several milliseconds to compile.
    const head = this.skipLine!;
    const h = head.length;
    let pos = at;
    for (;;) {
      if (pos + h >= limit || bytes[pos + h] !== LF) return pos;
      for (let i = 0; i < h; i++) if (bytes[pos + i] !== head[i]) return pos;
      let p = pos + h + 1;
      let data = false;
      while (p + 5 <= limit && bytes[p] === D && bytes[p + 1] === A && bytes[p + 2] === T && bytes[p + 3] === A && bytes[p + 4] === COLON) {
        const lf = bytes.indexOf(LF, p + 5);
        if (lf === -1 || lf >= limit) return pos;
        p = lf + 1;
        data = true;
      }
      if (p >= limit || bytes[p] !== LF) return pos;
      // (an event without data is not an event)
      if (data) this.skipped++;
      pos = p + 1;
    }
  }

  /** Appends bytes[from, to) to the carried line. */
  private keep(bytes: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    this.carryBytes += n;
    if (n >= VIEW_MIN) {
      this.closeTail();
      this.pieces.push(bytes.subarray(from, to));
      return;
    }
    this.tail = withRoom(this.tail, this.tailBytes, this.tailBytes + n, 1024);
    this.tail.set(bytes.subarray(from, to), this.tailBytes);
    this.tailBytes += n;
  }

  /** The tail's bytes become a piece; later small parts go to a new one. */
  private closeTail(): void {
    if (this.tail !== null && this.tailBytes > 0) this.pieces.push(this.tail.subarray(0, this.tailBytes));
    this.tail = null;
    this.tailBytes = 0;
  }

  /** The line bytes[start, end). */
  private line(bytes: Uint8Array, start: number, end: number, out: SseEvent[]): void {
    if (this.first) {
      this.first = false;
      if (end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) start += 3;
    }
    if (start === end) {
      const skipped = this.skipping;
      this.skipping = false;
      if (this.hasData && skipped) {
        this.skipped++;
        this.hasData = false;
      } else if (this.hasData) {
        const ev: SseEvent = { data: this.data };
        if (this.dataRaw) {
          const bytes = this.rawJoined !== null ? this.rawJoined.subarray(0, this.rawBytes) : this.rawFirst!;
          // (a type named after the data came is raw only if it is one)
          if (this.typedRaw()) ev.bytes = bytes;
          else ev.data = this.decoder.decode(bytes);
          this.dropRaw();
        }
        if (this.eventType !== "") ev.event = this.eventType;
        if (this.lastId !== "") ev.id = this.lastId;
        out.push(ev);
        this.data = "";
        this.dataBytes = 0;
        this.hasData = false;
      }
      this.eventType = "";
      return;
    }
    // The common fields (and their colon) are told apart by their bytes, without decoding the line.
    if (isDataLine(bytes, start, end)) {
      if (this.skipping) this.hasData = true;
      else this.addData(bytes, valueStart(bytes, start + 5, end), end);
      return;
    }
    if (isEventLine(bytes, start, end)) {
      this.setEvent(bytes, valueStart(bytes, start + 6, end), end);
      // The line itself, when it names a skipped event: the next ones like it are passed over whole.
      if (this.skipping && (this.skipLine === null || !sameBytes(this.skipLine, bytes, start, end))) this.skipLine = bytes.slice(start, end);
      return;
    }
    if (bytes[start] === COLON) return; // a comment
    this.otherField(bytes, start, end);
  }

  /** A line that is not data, event, a comment or blank: its field name, up to the first colon. */
  private otherField(bytes: Uint8Array, start: number, end: number): void {
    const colon = bytes.subarray(start, end).indexOf(COLON);
    const fieldEnd = colon === -1 ? end : start + colon;
    const from = colon === -1 ? end : valueStart(bytes, fieldEnd + 1, end);
    if (isWord(bytes, start, fieldEnd, "data")) {
      if (this.skipping) this.hasData = true;
      else this.addData(bytes, from, end);
    } else if (isWord(bytes, start, fieldEnd, "event")) this.setEvent(bytes, from, end);
    else if (isWord(bytes, start, fieldEnd, "id")) {
      if (bytes.subarray(from, end).indexOf(0) === -1) this.lastId = from >= end ? "" : this.decoder.decode(bytes.subarray(from, end));
    }
    // "retry" and unknown fields are ignored.
  }

  private addData(bytes: Uint8Array, from: number, end: number): void {
    if (!this.hasData) this.dataRaw = this.typedRaw();
    if (this.dataRaw) {
      const part = bytes.subarray(from, Math.max(from, end));
      this.dataBytes += (this.hasData ? 1 : 0) + part.length;
      if (this.dataBytes > this.maxEventBytes) throw new EventTooLargeError(this.maxEventBytes);
      if (!this.hasData) this.rawFirst = part;
      else this.joinRaw(part);
      this.hasData = true;
      return;
    }
    const value = from >= end ? "" : this.decoder.decode(bytes.subarray(from, end));
    if (this.hasData) {
      this.data = `${this.data}\n${value}`;
      this.dataBytes += 1 + end - from;
    } else {
      this.data = value;
      this.dataBytes = end - from;
      this.hasData = true;
    }
    if (this.dataBytes > this.maxEventBytes) throw new EventTooLargeError(this.maxEventBytes);
  }

  /** Whether the event read so far is named, with a type in `raw`. */
  private typedRaw(): boolean {
    return this.eventType !== "" && this.nameRaw;
  }

  /** Adds a second or later data line of a raw event (see rawJoined). */
  private joinRaw(part: Uint8Array): void {
    if (this.rawJoined === null) {
      const first = this.rawFirst!;
      this.rawJoined = withRoom(null, 0, 2 * (first.length + 1 + part.length), 1024);
      this.rawJoined.set(first);
      this.rawBytes = first.length;
    }
    const need = this.rawBytes + 1 + part.length;
    this.rawJoined = withRoom(this.rawJoined, this.rawBytes, need, 1024);
    this.rawJoined[this.rawBytes] = LF;
    this.rawJoined.set(part, this.rawBytes + 1);
    this.rawBytes = need;
  }

  /** The raw data of the event read so far is let go. */
  private dropRaw(): void {
    this.rawFirst = null;
    this.rawJoined = null;
    this.rawBytes = 0;
    this.dataRaw = false;
  }

  private setEvent(bytes: Uint8Array, from: number, end: number): void {
    if (!sameBytes(this.nameBytes, bytes, from, end)) {
      this.nameBytes = bytes.slice(from, end);
      this.name = from >= end ? "" : this.decoder.decode(this.nameBytes);
      this.nameSkipped = this.skip?.has(this.name) === true;
      this.nameRaw = this.raw?.has(this.name) === true;
    }
    this.eventType = this.name;
    // The last event line names the event: a later one may end the skipping (data dropped
    // meanwhile stays dropped: only a server that names an event twice loses it).
    this.skipping = this.nameSkipped;
    if (this.skipping) {
      this.data = "";
      this.dataBytes = 0;
      this.dropRaw();
    }
  }
}

/** Where a field's value starts, the field's colon just before `at`: one space after it is not part of it. */
function valueStart(bytes: Uint8Array, at: number, end: number): number {
  return at < end && bytes[at] === SPACE ? at + 1 : at;
}

/** Whether bytes[from, end) equals `a`. */
function sameBytes(a: Uint8Array, bytes: Uint8Array, from: number, end: number): boolean {
  if (a.length !== end - from) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== bytes[from + i]) return false;
  return true;
}

/** Whether the line bytes[start, end) begins with `data:`. */
const isDataLine = (bytes: Uint8Array, start: number, end: number): boolean =>
  end - start >= 5 && bytes[start] === D && bytes[start + 1] === A && bytes[start + 2] === T && bytes[start + 3] === A && bytes[start + 4] === COLON;

/** Whether the line bytes[start, end) begins with `event:`. */
const isEventLine = (bytes: Uint8Array, start: number, end: number): boolean =>
  end - start >= 6 && bytes[start] === E && bytes[start + 1] === V && bytes[start + 2] === E && bytes[start + 3] === N && bytes[start + 4] === T && bytes[start + 5] === COLON;

/** Whether bytes[start, end) begins with the ASCII `prefix`. */
function hasPrefix(bytes: Uint8Array, start: number, end: number, prefix: string): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** Whether bytes[start, end) is the ASCII `word`. */
const isWord = (bytes: Uint8Array, start: number, end: number, word: string): boolean => end - start === word.length && hasPrefix(bytes, start, end, word);

/**
 * A TransformStream of text to events (the text encoded as UTF-8, then SseDecoder). A pending
 * line or event without its closing blank line is discarded at the end.
 */
export function sseParser(opts: { maxEventBytes?: number } = {}): TransformStream<string, SseEvent> {
  const decoder = new SseDecoder(opts);
  const encoder = new TextEncoder();
  const out: SseEvent[] = [];
  return new TransformStream<string, SseEvent>({
    transform(chunk, controller) {
      out.length = 0;
      decoder.push(encoder.encode(chunk), out);
      for (const ev of out) controller.enqueue(ev);
    },
  });
}

/** Thrown when one event outgrows `maxEventBytes`. */
export class EventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`one server-sent event is larger than ${limit} bytes`);
    this.name = "EventTooLargeError";
  }
}

/** Thrown when the body outgrows `maxBytes`. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the response body is larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Passes bytes through, erroring once more than `maxBytes` went by (decompressed bytes, as fetch hands them). */
export function byteLimit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      seen += chunk.byteLength;
      if (seen > maxBytes) throw new BodyTooLargeError(maxBytes);
      out.enqueue(chunk);
    },
  });
}

/**
 * A fetch body as a stream of events. With limits, the stream errors (BodyTooLargeError,
 * EventTooLargeError) as soon as one is passed, and the body is cancelled: nothing beyond the
 * caps is read, or inflated.
 */
export function sseEvents(body: ReadableStream<Uint8Array>, limits: SseLimits = {}): ReadableStream<SseEvent> {
  const decoder = new SseDecoder(limits);
  const reader = body.getReader();
  const out: SseEvent[] = [];
  return new ReadableStream<SseEvent>({
    async pull(controller) {
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        out.length = 0;
        try {
          decoder.push(next.value, out);
        } catch (err) {
          reader.cancel(err).catch(() => {});
          throw err;
        }
        if (out.length === 0) continue;
        for (const ev of out) controller.enqueue(ev);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
