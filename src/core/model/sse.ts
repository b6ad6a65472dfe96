// Server-sent events, parsed by the WHATWG EventSource rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
//
// One pass per body chunk, no stream pipeline: the chunk's bytes are counted (the body's cap),
// decoded (a character split across chunks waits for its last byte) and cut into lines with the
// native indexOf; whole events come out in an array. The reading, with its timers, is the
// caller's (openEvents in responses.ts): a read per chunk, not per event.

export interface SseEvent {
  /** The `event:` field, when the event had a non-empty one. */
  event?: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen on this stream (it persists across events), when non-empty. */
  id?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

/**
 * Text in, events out. Lines may end in CRLF, LF or CR and may be split anywhere across
 * chunks; an event is dispatched on a blank line; an event not closed by a blank line before
 * the stream ends is dropped, as the spec says (nothing is ever emitted for it).
 */
export class SseTextParser {
  private readonly maxEventChars: number;
  private readonly skip: ReadonlySet<string> | undefined;
  private partial = ""; // an unterminated line carried over from earlier chunks
  /** The event being read has a type in `skip`: its data is not kept. */
  private skipping = false;
  /** The unterminated line is a data line of a skipped event: its text was not kept. */
  private dropping = false;
  private skipLeadingLf = false; // the previous chunk ended in CR: a LF opening this one ends nothing
  private first = true;
  private data = "";
  private hasData = false;
  private eventType = "";
  private lastId = "";

  /**
   * `skip`: event types nobody reads. Their data is neither kept nor joined (an answer's `.done`
   * events repeat all of its text): they are dispatched with empty data (still progress).
   */
  constructor(maxEventChars: number = Number.POSITIVE_INFINITY, skip?: ReadonlySet<string>) {
    this.maxEventChars = maxEventChars;
    this.skip = skip;
  }

  /**
   * Inside a skipped event's data line: what comes up to the next CR or LF is not read (the
   * caller may leave it out of the next push, which then starts at that line break).
   */
  get droppingLine(): boolean {
    return this.dropping;
  }

  /**
   * Parses one chunk of text, appending the events it completes to `out`. Throws
   * EventTooLargeError once one event (its data so far plus the line still open) outgrows the
   * cap; the events this chunk appended before that are then best discarded by the caller.
   */
  push(text: string, out: SseEvent[]): void {
    const n = text.length;
    if (n === 0) return;
    let start = 0;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (start < n && text.charCodeAt(start) === LF) start++;
    }
    // Where the next CR and LF are, each searched for once per pass over the text; most
    // streams have no CR at all, so that search runs once per chunk.
    let cr = text.indexOf("\r", start);
    let lf = text.indexOf("\n", start);
    while (cr !== -1 || lf !== -1) {
      let end: number; // the line ends before `end`
      let next: number; // the next line starts at `next`
      if (lf !== -1 && (cr === -1 || lf < cr)) {
        end = lf;
        next = lf + 1;
        lf = text.indexOf("\n", next);
      } else {
        end = cr;
        next = cr + 1;
        if (next === n) this.skipLeadingLf = true;
        else if (lf === next) {
          next++;
          lf = text.indexOf("\n", next);
        }
        cr = text.indexOf("\r", next);
      }
      if (this.dropping) {
        // The end of a skipped event's data line: nothing of it was kept.
        this.dropping = false;
        start = next;
        continue;
      }
      if (this.skipping && this.partial === "" && isDataLine(text, start, end)) {
        // A skipped event's data line, whole in this chunk: not even cut out.
        this.hasData = true;
        start = next;
        continue;
      }
      if (this.partial === "") this.line(text, start, end, out);
      else {
        const line = this.partial + text.slice(start, end);
        this.partial = "";
        this.line(line, 0, line.length, out);
      }
      start = next;
    }
    if (start < n && !this.dropping) {
      if (this.skipping && this.partial === "" && text.startsWith("data", start)) this.dropping = this.hasData = true;
      else this.partial = this.partial === "" ? text.slice(start) : this.partial + text.slice(start);
    }
    // A server that never ends a line or an event must not fill memory.
    if (this.partial.length + this.data.length > this.maxEventChars) throw new EventTooLargeError(this.maxEventChars);
  }

  /** The line text[start, end). */
  private line(text: string, start: number, end: number, out: SseEvent[]): void {
    const len = end - start;
    if (len === 0) {
      this.skipping = false;
      if (this.hasData) {
        const ev: SseEvent = { data: this.data };
        if (this.eventType !== "") ev.event = this.eventType;
        if (this.lastId !== "") ev.id = this.lastId;
        out.push(ev);
        this.data = "";
        this.hasData = false;
      }
      this.eventType = "";
      return;
    }
    const c0 = text.charCodeAt(start);
    if (c0 === COLON) return; // a comment
    // The common fields are told apart by their first letter and the colon after them, without
    // cutting the name out of the line.
    let colon: number; // from start
    let field: string;
    if (c0 === 0x64 /* d */ && len >= 5 && text.charCodeAt(start + 4) === COLON && text.startsWith("data", start)) {
      colon = 4;
      field = "data";
    } else if (c0 === 0x65 /* e */ && len >= 6 && text.charCodeAt(start + 5) === COLON && text.startsWith("event", start)) {
      colon = 5;
      field = "event";
    } else {
      // (searched in the line alone: a search through the rest of the chunk, line after line, would be quadratic)
      const line = text.slice(start, end);
      colon = line.indexOf(":");
      field = colon === -1 ? line : line.slice(0, colon);
    }
    let value: string;
    if (colon === -1) value = "";
    else {
      const from = start + colon + (text.charCodeAt(start + colon + 1) === SPACE && start + colon + 1 < end ? 2 : 1);
      value = from >= end ? "" : text.slice(from, end);
    }
    switch (field) {
      case "data":
        if (this.skipping) {
          this.hasData = true;
          break;
        }
        if (this.hasData) this.data = `${this.data}\n${value}`;
        else {
          this.data = value;
          this.hasData = true;
        }
        if (this.data.length > this.maxEventChars) throw new EventTooLargeError(this.maxEventChars);
        break;
      case "event":
        this.eventType = value;
        // The last event line names the event: a later one may end the skipping (data dropped
        // meanwhile stays dropped: only a server that names an event twice loses it).
        this.skipping = this.skip?.has(value) === true;
        if (this.skipping) this.data = "";
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      // "retry" and unknown fields are ignored.
    }
  }
}

/** Whether text[start, end) is a line of the field `data` ("data" alone, or "data:" and a value). */
function isDataLine(text: string, start: number, end: number): boolean {
  return end - start >= 4 && text.startsWith("data", start) && (end - start === 4 || text.charCodeAt(start + 4) === COLON);
}

/**
 * A TransformStream of text to events (SseTextParser as a stream). A pending line or event
 * without its closing blank line is discarded at the end.
 */
export function sseParser(opts: { maxEventChars?: number } = {}): TransformStream<string, SseEvent> {
  const parser = new SseTextParser(opts.maxEventChars);
  const out: SseEvent[] = [];
  return new TransformStream<string, SseEvent>({
    transform(chunk, controller) {
      out.length = 0;
      parser.push(chunk, out);
      for (const ev of out) controller.enqueue(ev);
    },
  });
}

/** Thrown when one event outgrows `maxEventChars`. */
export class EventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`one server-sent event is larger than ${limit} characters`);
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

/** decode() options, made once: an object literal per call showed in profiles of small chunks. */
const STREAM: TextDecodeOptions = { stream: true };

export interface SseLimits {
  /** Most characters one event (and the line being read) may hold. */
  maxEventChars?: number;
  /** Most bytes the whole body may hold. */
  maxBytes?: number;
  /** Event types whose data is not read (see SseTextParser). */
  skip?: ReadonlySet<string>;
}

/**
 * Body bytes in, events out: counts the bytes against `maxBytes` (decompressed bytes, as fetch
 * hands them), decodes them as UTF-8 (split characters survive; a leading BOM goes, as with
 * TextDecoderStream) and parses them.
 */
export class SseDecoder {
  private readonly decoder = new TextDecoder();
  private readonly parser: SseTextParser;
  private readonly maxBytes: number;
  private seen = 0;

  constructor(limits: SseLimits = {}) {
    this.parser = new SseTextParser(limits.maxEventChars, limits.skip);
    this.maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Appends the events `chunk` completes to `out`. Throws BodyTooLargeError (nothing of the
   * chunk is parsed) or EventTooLargeError; after a throw, nothing this call appended counts.
   */
  push(chunk: Uint8Array, out: SseEvent[]): void {
    this.seen += chunk.byteLength;
    if (this.seen > this.maxBytes) throw new BodyTooLargeError(this.maxBytes);
    const before = out.length;
    try {
      let bytes = chunk;
      if (this.parser.droppingLine) {
        // The rest of a skipped event's data line (an answer's `.done` events repeat all of it)
        // is left undecoded: a CR or LF byte is never part of a longer UTF-8 character. A
        // character the decoder holds the start of comes out as U+FFFD before the line break,
        // in the part the parser drops.
        const end = lineBreak(chunk);
        if (end === -1) return;
        bytes = chunk.subarray(end);
      }
      this.parser.push(this.decoder.decode(bytes, STREAM), out);
    } catch (err) {
      out.length = before;
      throw err;
    }
  }
}

/** Where the first CR or LF byte of `bytes` is, or -1. */
function lineBreak(bytes: Uint8Array): number {
  const lf = bytes.indexOf(LF);
  const cr = (lf === -1 ? bytes : bytes.subarray(0, lf)).indexOf(CR);
  return cr === -1 ? lf : cr;
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
