// Server-sent events, parsed by the WHATWG EventSource rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

export interface SseEvent {
  /** The `event:` field, when the event had a non-empty one. */
  event?: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen on this stream (it persists across events), when non-empty. */
  id?: string;
}

/**
 * Text in, events out. Lines may end in CRLF, LF or CR and may be split anywhere across
 * chunks; an event is dispatched on a blank line; an event not closed by a blank line before
 * the stream ends is dropped, as the spec says.
 */
export function sseParser(opts: { maxEventChars?: number } = {}): TransformStream<string, SseEvent> {
  const maxEventChars = opts.maxEventChars ?? Number.POSITIVE_INFINITY;
  let partial = ""; // an unterminated line carried over from earlier chunks
  let skipLeadingLf = false; // the previous chunk ended in CR: a LF opening this one ends nothing
  let first = true;
  let data = "";
  let hasData = false;
  let eventType = "";
  let lastId = "";

  const onLine = (line: string, out: TransformStreamDefaultController<SseEvent>) => {
    if (line === "") {
      if (hasData) {
        const ev: SseEvent = { data };
        if (eventType !== "") ev.event = eventType;
        if (lastId !== "") ev.id = lastId;
        out.enqueue(ev);
      }
      data = "";
      hasData = false;
      eventType = "";
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ":" comment */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case "data":
        data = hasData ? `${data}\n${value}` : value;
        hasData = true;
        if (data.length > maxEventChars) throw new EventTooLargeError(maxEventChars);
        break;
      case "event":
        eventType = value;
        break;
      case "id":
        if (!value.includes("\0")) lastId = value;
        break;
      // "retry" and unknown fields are ignored.
    }
  };

  return new TransformStream<string, SseEvent>({
    transform(chunk, out) {
      let text = chunk;
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (skipLeadingLf && text.length > 0) {
        skipLeadingLf = false;
        if (text.charCodeAt(0) === 0x0a) text = text.slice(1);
      }
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        const line = partial + text.slice(start, i);
        partial = "";
        if (c === 0x0d) {
          if (i + 1 === text.length) skipLeadingLf = true;
          else if (text.charCodeAt(i + 1) === 0x0a) i++;
        }
        start = i + 1;
        onLine(line, out);
      }
      partial += text.slice(start);
      // One event (its data so far plus the line still open) may not grow past the cap: a
      // server that never ends a line or an event must not fill memory.
      if (partial.length + data.length > maxEventChars) throw new EventTooLargeError(maxEventChars);
    },
    // flush: a pending line or event without its closing blank line is discarded.
  });
}

/** Thrown (as the stream's error) when one event outgrows `maxEventChars`. */
export class EventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`one server-sent event is larger than ${limit} characters`);
    this.name = "EventTooLargeError";
  }
}

/** Thrown (as the stream's error) when the body outgrows `maxBytes`. */
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

export interface SseLimits {
  /** Most characters one event (and the line being read) may hold. */
  maxEventChars?: number;
  /** Most bytes the whole body may hold. */
  maxBytes?: number;
}

/**
 * Decodes a fetch body as UTF-8 (split characters survive) and parses it into events. With
 * limits, the stream errors (BodyTooLargeError, EventTooLargeError) as soon as one is passed,
 * and the body is cancelled: nothing beyond the caps is read, or inflated.
 */
export function sseEvents(body: ReadableStream<Uint8Array>, limits: SseLimits = {}): ReadableStream<SseEvent> {
  // The cast only narrows TextDecoderStream's writable side (BufferSource) to what we feed it.
  const decoder = new TextDecoderStream() as ReadableWritablePair<string, Uint8Array>;
  const bytes = limits.maxBytes === undefined ? body : body.pipeThrough(byteLimit(limits.maxBytes));
  return bytes.pipeThrough(decoder).pipeThrough(sseParser({ maxEventChars: limits.maxEventChars }));
}
