// Rollout files: one JSONL file per thread under $CODEX_HOME/sessions/YYYY/MM/DD/, in the line
// format of the reference (contract §5.2): `session_meta` first, then per turn `turn_context`,
// `event_msg` (task_started, user_message, agent_message, token_count, task_complete) and a
// `response_item` for every model input and output item. ocx writes each line synchronously as
// it happens, so a killed process loses at most the line being written; resume reads them back.
import type { AppendHandle, Runtime, TextLine } from "../runtime.ts";
import { stringifyPieces } from "../util/json-pieces.ts";
import type { ResponseItem } from "../model/types.ts";
import type { Usage } from "../events.ts";
import { usageFromRecord } from "../agent/usage.ts";
import type { Redactor } from "../redact.ts";
import { sandboxModes, type SandboxPolicy } from "../sandbox/policy.ts";
import { historyAfterCompacted } from "../agent/compaction.ts";
import { localParts, type ZoneSource } from "../util/local-time.ts";
import { isStringifyOf, rememberItemJson } from "../model/item-json.ts";
import { cutLongStrings } from "../model/json-bytes.ts";
import { withRoom } from "../util/bytes.ts";
import { once } from "../util/once.ts";
import { isUuid } from "../util/uuid.ts";
import { FILE_ITEM_MIN_BYTES, fileItem, type ItemFile } from "./file-items.ts";

export type RolloutLineType = "session_meta" | "turn_context" | "response_item" | "event_msg" | "compacted";

export interface SessionMeta {
  id: string;
  timestamp: string;
  cwd: string;
  originator: string;
  cli_version: string;
  source: string;
  model_provider?: string;
  base_instructions?: { text: string };
  /** A thread name, when one was given (the reference stores names too). */
  name?: string;
}

/** The reference's serialisation of a sandbox policy inside turn_context. */
export type RolloutSandboxPolicy =
  | { type: "read-only" }
  | { type: "danger-full-access" }
  | { type: "workspace-write"; writable_roots: string[]; network_access: boolean; exclude_tmpdir_env_var?: boolean; exclude_slash_tmp?: boolean };

export interface TurnContext {
  turn_id?: string;
  cwd: string;
  approval_policy?: string;
  sandbox_policy?: RolloutSandboxPolicy;
  model?: string;
  effort?: string;
  summary?: string;
}

export function rolloutSandboxPolicy(p: SandboxPolicy): RolloutSandboxPolicy {
  if (p.mode !== "workspace-write") return { type: p.mode };
  return { type: "workspace-write", writable_roots: p.writableRoots, network_access: p.networkAccess };
}

/**
 * `rollout-YYYY-MM-DDThh-mm-ss-<id>.jsonl` in `sessions/YYYY/MM/DD`, local time of `ms` in `zone`
 * (the runtime, or a zone name).
 */
export function rolloutRelativePath(ms: number, zone: ZoneSource, threadId: string): string {
  const parts = localParts(ms, zone);
  const stamp = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}-${parts.minute}-${parts.second}`;
  return `sessions/${parts.year}/${parts.month}/${parts.day}/rollout-${stamp}-${threadId}.jsonl`;
}

/** The thread id at the end of a rollout file name, or null. */
export function threadIdOfFile(name: string): string | null {
  // `-<36 characters>.jsonl` (any case) at the end, checked by position (no search through the path).
  const n = name.length;
  if (n < 43 || name.charCodeAt(n - 43) !== 45 || name.slice(n - 6).toLowerCase() !== ".jsonl") return null;
  const id = name.slice(n - 42, n - 6);
  return isUuid(id) ? id.toLowerCase() : null;
}

/**
 * Appends lines to one rollout. Every write is synchronous and whole-line (O_APPEND), so the
 * file always ends on a line boundary except when the process dies inside a write. Secret
 * strings (the API key, tokens) are replaced before anything reaches the disk, by the run's
 * redactor (which knows their JSON-escaped forms too). The file is opened once, at the first
 * line, and stays open (closed by close(), or when the process ends). A held writer keeps its
 * lines in memory until release() writes them all at once (a run's first lines wait for its
 * first request to be on its way).
 */
export class RolloutWriter {
  private ordinal = 0;
  private broken = false;
  private file: AppendHandle | undefined;
  /** Lines written while held (without their newlines), in order, waiting for release(). */
  private held: TextLine[] | undefined;

  constructor(
    private readonly runtime: Runtime,
    readonly path: string,
    private readonly redactor: Pick<Redactor, "text" | "fragment">,
    startOrdinal = 0,
    private readonly warn: (message: string) => void = () => {},
    opts: { held?: boolean } = {},
  ) {
    this.ordinal = startOrdinal;
    if (opts.held) this.held = [];
  }

  /** Whether lines still reach the file (false once it could not be written). */
  get saving(): boolean {
    return !this.broken;
  }

  write(type: RolloutLineType, payload: unknown): void {
    this.copy(type, payload);
  }

  /** A line as another rollout recorded it (a fork's copy): its own timestamp, this file's ordinal. */
  copy(type: string, payload: unknown, timestamp = new Date(this.runtime.now()).toISOString()): void {
    // (A long string, the answer most often, is a piece of the line: escaped once for every line
    // that holds it, never joined; each piece redacted, secrets cut at its edges too.)
    const json = stringifyPieces({ timestamp, ordinal: this.ordinal++, type, payload });
    const line = typeof json === "string" ? this.redactor.text(json) : json.map((p, i) => this.redactor.fragment(p, { before: i > 0, after: i < json.length - 1 }));
    if (this.broken) return;
    if (this.held) this.held.push(line);
    else this.append([line]);
  }

  /** Writes the lines held so far, in one write; later lines are written as they come. */
  release(): void {
    const lines = this.held;
    this.held = undefined;
    if (lines && lines.length > 0 && !this.broken) this.append(lines);
  }

  /** The file cannot be written (the caller said why): held lines and later ones are dropped. */
  abandon(): void {
    this.held = undefined;
    this.broken = true;
  }

  /** Appends `lines`, each with its newline. */
  private append(lines: readonly TextLine[]): void {
    try {
      const fs = this.runtime.fs;
      if (!fs.openAppendSync) fs.appendFileSync(this.path, `${lines.map((l) => (typeof l === "string" ? l : l.join(""))).join("\n")}\n`);
      else (this.file ??= fs.openAppendSync(this.path)).appendLines(lines);
    } catch (e) {
      this.broken = true;
      this.close();
      this.warn(`could not append to the session file ${this.path}: ${(e as Error).message}; the rest of this run is not saved`);
    }
  }

  /** Closes the file (a later line opens it again). */
  close(): void {
    const file = this.file;
    this.file = undefined;
    try {
      file?.close();
    } catch {
      // nothing left to save
    }
  }

  item(item: ResponseItem): void {
    this.write("response_item", item);
  }

  event(payload: { type: string } & Record<string, unknown>): void {
    this.write("event_msg", payload);
  }
}

export interface LoadedRollout {
  meta?: SessionMeta;
  /** The last turn_context: where and how the thread last ran. */
  turnContext?: TurnContext;
  /** Every response_item, in order, from the last `compacted` line's history on: what a resumed turn re-sends. */
  items: ResponseItem[];
  /** The thread's name, from session_meta or a thread_name_updated event. */
  name?: string;
  /** The first user prompt (for listings). */
  firstPrompt?: string;
  /** The thread's running total of token usage: the last token_count's total_token_usage. */
  usage?: Usage;
  /** Lines that could not be read (a torn last line after a crash, or garbage). */
  skipped: Array<{ line: number; last: boolean }>;
  /** The number of lines read (for continuing the ordinal). */
  lines: number;
  /** The calls among `items`, noted as they were read (see closeDanglingCalls). */
  calls: CallLedger;
  /** Every line with a type, as parsed (kept when asked: what `exec fork` copies). */
  entries?: RolloutEntry[];
}

/** A rollout line as parsed: its type, payload and (when it has one) timestamp. */
export interface RolloutEntry {
  type: string;
  payload: unknown;
  timestamp?: string;
}

/** What a reader keeps besides the history. */
export interface ReadOptions {
  /** Every typed line (see RolloutEntry). */
  entries?: boolean;
  /**
   * The file the bytes are read from, whole and from its start: large items then stay in the
   * file (see file-items.ts).
   */
  file?: ItemFile;
}

/** Parses a rollout's text. Unreadable lines are skipped and reported, never fatal. */
export function parseRollout(text: string): LoadedRollout {
  const out: LoadedRollout = { items: [], skipped: [], lines: 0, calls: new CallLedger() };
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    const last = end === -1 || end === text.length - 1;
    if (end === -1) end = text.length;
    const raw = text.slice(start, end);
    start = end + 1;
    readLine(out, raw, ++lineNo, last);
  }
  return out;
}

/** The decoders of rollout lines, made when a rollout is first read (a new run reads none). */
const decoders = once(() => ({
  firstLine: new TextDecoder(),
  line: new TextDecoder("utf-8", { ignoreBOM: true }),
  strictLine: new TextDecoder("utf-8", { ignoreBOM: true, fatal: true }),
}));

/**
 * parseRollout of the UTF-8 `bytes`, decoding one line at a time (no string of the whole file):
 * the same result, since a newline byte never lies inside a character and only the file's start
 * may lose a byte order mark. A response_item's payload also remembers its JSON's length (see keepItemJson).
 */
export function parseRolloutBytes(bytes: Uint8Array, opts: ReadOptions = {}): LoadedRollout {
  const reader = new RolloutReader(opts);
  reader.push(bytes);
  return reader.end();
}

/**
 * parseRolloutBytes of a file given in pieces as they are read (a piece may be refilled once
 * pushed: the unfinished line is copied out of it). A line is read once the next one has begun or
 * the file ended: only then is it known whether it was the file's last. With the file known, a
 * large response_item line is read without decoding its long strings (readLargeItem).
 */
export class RolloutReader {
  private readonly out: LoadedRollout;
  private readonly file: ItemFile | undefined;
  private lineNo = 0;

  constructor(opts: ReadOptions = {}) {
    this.out = { items: [], skipped: [], lines: 0, calls: new CallLedger(), ...(opts.entries ? { entries: [] } : {}) };
    this.file = opts.file;
  }

  /**
   * The bytes of the line begun and not yet ended: the first `partialLength` bytes of a buffer
   * kept for every such line (one at each piece's end), so that joining it allocates nothing.
   */
  private partial: Uint8Array = new Uint8Array(0);
  private partialLength = 0;
  /** A line that ended its piece, read once it is known whether anything follows it. */
  private pending: { bytes: Uint8Array; lineNo: number; offset: number } | undefined;
  /** Bytes pushed so far, and where in them the line begun last starts. */
  private pushed = 0;
  private lineStart = 0;

  /**
   * The run of small lines read last from the piece being pushed, not yet read: each wholly in
   * the piece and followed by more of it, decoded together (one decode for the run, not one per
   * line). `runEnds` holds where each line ends in the piece.
   */
  private runFrom = 0;
  private runLineNo = 0;
  private runOffset = 0;
  private readonly runEnds: number[] = [];

  /** Reads `chunk`; keeps no view of it afterwards (the caller may fill it again). */
  push(chunk: Uint8Array): void {
    const base = this.pushed;
    this.pushed += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      this.flushPending(false);
      const end = chunk.indexOf(10, start);
      if (end === -1) {
        this.flushRun(chunk);
        this.keepPartial(chunk.subarray(start));
        break;
      }
      const lineNo = ++this.lineNo;
      const offset = this.lineStart;
      const next = end + 1;
      this.lineStart = base + next;
      if (this.partialLength === 0 && next < chunk.length && lineNo > 1 && end - start <= FILE_ITEM_MIN_BYTES) {
        if (this.runEnds.length === 0) {
          this.runFrom = start;
          this.runLineNo = lineNo;
          this.runOffset = offset;
        }
        this.runEnds.push(end);
        start = next;
        continue;
      }
      this.flushRun(chunk);
      const bytes = this.joinPartial(chunk.subarray(start, end));
      start = next;
      // A line followed by more bytes is not the file's last; one that ends the piece waits for
      // the next (with bytes of its own, when they are the piece's).
      if (start < chunk.length) this.line(bytes, lineNo, false, offset);
      else this.pending = { bytes: bytes.buffer === chunk.buffer ? bytes.slice() : bytes, lineNo, offset };
    }
    this.flushRun(chunk);
  }

  /**
   * Reads the run of small lines (see runEnds): decoded as one text when it is valid UTF-8 (a
   * newline byte is then exactly a newline of the text, so the text's lines are the lines'
   * texts), else line by line as any other.
   */
  private flushRun(chunk: Uint8Array): void {
    const ends = this.runEnds;
    if (ends.length === 0) return;
    let text: string | undefined;
    try {
      text = decoders().strictLine.decode(chunk.subarray(this.runFrom, ends[ends.length - 1]));
    } catch {
      text = undefined;
    }
    let start = this.runFrom;
    let lineNo = this.runLineNo;
    let offset = this.runOffset;
    let at = 0;
    for (const end of ends) {
      if (text === undefined) this.line(chunk.subarray(start, end), lineNo, false, offset);
      else {
        let stop = text.indexOf("\n", at);
        if (stop === -1) stop = text.length;
        readLine(this.out, text.slice(at, stop), lineNo, false, { byteLength: end - start, offset, file: this.file });
        at = stop + 1;
      }
      offset += end + 1 - start;
      start = end + 1;
      lineNo++;
    }
    ends.length = 0;
  }

  end(): LoadedRollout {
    if (this.partialLength > 0) {
      this.flushPending(false);
      this.line(this.joinPartial(new Uint8Array(0)), ++this.lineNo, true, this.lineStart);
    } else {
      this.flushPending(true);
    }
    return this.out;
  }

  private flushPending(last: boolean): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.line(p.bytes, p.lineNo, last, p.offset);
  }

  private keepPartial(bytes: Uint8Array): void {
    const length = this.partialLength + bytes.length;
    this.partial = withRoom(this.partial, this.partialLength, length, 64 * 1024);
    this.partial.set(bytes, this.partialLength);
    this.partialLength = length;
  }

  /** The line that ends with `tail`: the partial bytes and `tail` (a view, good until the next keepPartial), or `tail` when there are none. */
  private joinPartial(tail: Uint8Array): Uint8Array {
    if (this.partialLength === 0) return tail;
    this.keepPartial(tail);
    const line = this.partial.subarray(0, this.partialLength);
    this.partialLength = 0;
    return line;
  }

  private line(bytes: Uint8Array, lineNo: number, last: boolean, offset: number): void {
    if (this.file && !this.out.entries && lineNo > 1 && bytes.length > FILE_ITEM_MIN_BYTES) {
      const item = readLargeItem(bytes, offset, this.file);
      if (item) {
        this.out.lines++;
        this.out.items.push(item);
        this.out.calls.note(item);
        return;
      }
    }
    // Valid UTF-8 (then the line's text encodes back to these very bytes), after the first line.
    let raw: string;
    let exact = lineNo > 1;
    if (!exact) raw = decoders().firstLine.decode(bytes);
    else {
      try {
        raw = decoders().strictLine.decode(bytes);
      } catch {
        raw = decoders().line.decode(bytes);
        exact = false;
      }
    }
    readLine(this.out, raw, lineNo, last, exact ? { bytes, byteLength: bytes.length, offset, file: this.file } : undefined);
  }
}

/**
 * The start of a response_item line as ocx (with an ordinal) and the reference write it, in ASCII:
 * what follows, up to the line's closing brace, is the payload's own text.
 */
export const RESPONSE_ITEM_LINE = /^\{"timestamp":"[ !#-[\]-~]*",(?:"ordinal":(?:0|[1-9][0-9]*),)?"type":"response_item","payload":/;

/**
 * Remembers the payload's UTF-8 length for requests and token estimates (see item-json.ts) when
 * the line is `RESPONSE_ITEM_LINE payload }` and the payload's text is exactly
 * JSON.stringify(payload); the item to keep: the payload, or (a large one, when the line's file
 * is known) its stand-in that leaves the contents in the file. `line.bytes` are the line's UTF-8,
 * which its text encodes back to.
 */
function keepItemJson(item: ResponseItem, text: string, line: ExactLine): ResponseItem {
  const head = RESPONSE_ITEM_LINE.exec(text);
  // (The text is the line's valid UTF-8: it ends in a brace exactly when the bytes do.)
  if (!head || text.charCodeAt(text.length - 1) !== 125) return item;
  // The head is ASCII and the closing brace one byte: the payload's bytes lie between them.
  const from = head[0].length;
  const byteLength = line.byteLength - 1 - from;
  if (!rememberItemJson(item, text, from, text.length - 1, byteLength)) return item;
  const { file, bytes } = line;
  if (!file || !bytes || byteLength < FILE_ITEM_MIN_BYTES) return item;
  const digest = file.digest.tag(bytes.subarray(from, from + byteLength));
  return fileItem(file, item, { offset: line.offset + from, byteLength, length: text.length - 1 - from, digest });
}

/** Strings of at least this many bytes are cut out of a large item's line (see readLargeItem). */
const LONG_STRING_BYTES = 1024;
/** The most bytes decoded to find a line's RESPONSE_ITEM_LINE head. */
const HEAD_BYTES = 512;

/**
 * What keepItemJson makes of a large response_item line (its stand-in in the file), read without
 * decoding its long strings (json-bytes.ts): only the rest of the line, the skeleton, is decoded,
 * parsed and checked to be JSON.stringify's. Null when the line cannot be read so; it is then read
 * as any other, to the same result: only a line that keepItemJson would leave in the file is read
 * here (valid UTF-8, the head, a payload object that is exactly JSON.stringify of itself).
 */
function readLargeItem(bytes: Uint8Array, offset: number, file: ItemFile): ResponseItem | null {
  const from = responseItemHead(bytes);
  if (from === -1 || bytes[bytes.length - 1] !== 125) return null;
  const to = bytes.length - 1;
  if (to - from < FILE_ITEM_MIN_BYTES) return null;
  const cut = cutLongStrings(bytes, from, to, LONG_STRING_BYTES);
  if (!cut) return null;
  const { strictLine } = decoders();
  let text: string;
  let item: unknown;
  try {
    text = strictLine.decode(cut.skeleton);
    item = JSON.parse(text);
  } catch {
    return null;
  }
  if (!item || typeof item !== "object" || Array.isArray(item) || !isStringifyOf(item, text, 0, text.length, true)) return null;
  // An ASCII skeleton's bytes are its text's characters: its keys are cut from the text.
  const ascii = text.length === cut.skeleton.length;
  const unread = new Set<string>();
  for (const [k0, k1] of cut.cutKeys) unread.add(JSON.parse(ascii ? text.slice(k0, k1) : strictLine.decode(cut.skeleton.subarray(k0, k1))) as string);
  const digest = file.digest.tag(bytes.subarray(from, to));
  return fileItem(file, item as ResponseItem, { offset: offset + from, byteLength: to - from, length: text.length + cut.cutLength, digest }, unread);
}

/** The parts of RESPONSE_ITEM_LINE, as bytes. */
const HEAD_PARTS = once(() => {
  const enc = new TextEncoder();
  return { timestamp: enc.encode('{"timestamp":"'), ordinal: enc.encode('"ordinal":'), type: enc.encode('"type":"response_item","payload":') };
});

/** Where `part` ends when `b` holds it at `i` (before `n`), else -1. */
function bytesAt(b: Uint8Array, i: number, n: number, part: Uint8Array): number {
  if (i + part.length > n) return -1;
  for (let k = 0; k < part.length; k++) if (b[i + k] !== part[k]) return -1;
  return i + part.length;
}

/**
 * The length of RESPONSE_ITEM_LINE's match at the start of the line's UTF-8 `b`, looked for in
 * its first HEAD_BYTES as in their text (the head is ASCII: its bytes are its characters), or -1
 * when there is none: the same answer as the pattern's, without decoding.
 */
export function responseItemHead(b: Uint8Array): number {
  const n = Math.min(b.length, HEAD_BYTES);
  const parts = HEAD_PARTS();
  let i = bytesAt(b, 0, n, parts.timestamp);
  if (i === -1) return -1;
  // [ !#-[\]-~]*: printable ASCII but for the quote and the backslash.
  while (i < n) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
    i++;
  }
  if (i + 1 >= n || b[i] !== 0x22 || b[i + 1] !== 0x2c) return -1;
  i += 2;
  // (?:"ordinal":(?:0|[1-9][0-9]*),)?: no other member starts as it does, so once its name is
  // there, the rest of it must be too.
  let j = bytesAt(b, i, n, parts.ordinal);
  if (j !== -1) {
    if (j < n && b[j] === 0x30) j++;
    else {
      if (j >= n || b[j]! < 0x31 || b[j]! > 0x39) return -1;
      while (j < n && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
    }
    if (j >= n || b[j] !== 0x2c) return -1;
    i = j + 1;
  }
  return bytesAt(b, i, n, parts.type);
}

/** A line that is valid UTF-8 (its text encodes back to its bytes), `offset` bytes into its file. */
interface ExactLine {
  byteLength: number;
  offset: number;
  /** The line's bytes: given when it may be large enough to stay in the file. */
  bytes?: Uint8Array;
  file?: ItemFile;
}

function readLine(out: LoadedRollout, raw: string, lineNo: number, last: boolean, exact?: ExactLine): void {
  // (A line that starts as JSON does is not blank: trim only when it might be, 0.35 us a line.)
  if (raw.charCodeAt(0) !== 123 && raw.trim() === "") return;
  let entry: { timestamp?: unknown; type?: unknown; payload?: unknown } | null;
  try {
    entry = JSON.parse(raw);
  } catch {
    out.skipped.push({ line: lineNo, last });
    return;
  }
  out.lines++;
  if (!entry || typeof entry !== "object") return;
  if (out.entries && typeof entry.type === "string") {
    out.entries.push({ type: entry.type, payload: entry.payload, ...(typeof entry.timestamp === "string" ? { timestamp: entry.timestamp } : {}) });
  }
  const payload = entry.payload as Record<string, unknown> | undefined;
  if (!payload || typeof payload !== "object") return;
  switch (entry.type) {
    case "response_item": {
      const item = exact ? keepItemJson(payload as ResponseItem, raw, exact) : (payload as ResponseItem);
      out.items.push(item);
      out.calls.note(item);
      break;
    }
    case "compacted":
      out.items = historyAfterCompacted(out.items, payload);
      out.calls = CallLedger.of(out.items);
      break;
    case "session_meta":
      out.meta ??= payload as unknown as SessionMeta;
      if (typeof payload.name === "string") out.name = payload.name;
      break;
    case "turn_context":
      out.turnContext = payload as unknown as TurnContext;
      break;
    case "event_msg":
      if (payload.type === "thread_name_updated" && typeof payload.thread_name === "string") out.name = payload.thread_name;
      if (payload.type === "token_count") {
        const total = usageFromRecord((payload.info as Record<string, unknown> | null | undefined)?.total_token_usage);
        if (total) out.usage = total;
      }
      if (payload.type === "user_message" && out.firstPrompt === undefined && typeof payload.message === "string") out.firstPrompt = payload.message;
      break;
  }
}

/**
 * The calls among history items, and which of them no output answers (yet): what
 * closeDanglingCalls needs, noted item by item (a rollout's reader notes them as it reads, so a
 * resumed 50 MB history is not walked again for them).
 */
export class CallLedger {
  /** The call ids some output answers. */
  readonly answered = new Set<string>();
  /** The call ids of calls no output has answered so far. */
  private readonly open = new Set<string>();

  static of(items: readonly ResponseItem[]): CallLedger {
    const ledger = new CallLedger();
    for (const it of items) ledger.note(it);
    return ledger;
  }

  note(it: ResponseItem): void {
    const id = it.call_id;
    if (typeof id !== "string") return;
    if (it.type === "function_call_output" || it.type === "custom_tool_call_output") {
      this.answered.add(id);
      this.open.delete(id);
    } else if ((it.type === "function_call" || it.type === "custom_tool_call") && !this.answered.has(id)) {
      this.open.add(id);
    }
  }

  /** Every call has an output. */
  get closed(): boolean {
    return this.open.size === 0;
  }
}

/**
 * Calls without an output (the process died while they ran) get one saying so: the Responses
 * API refuses a history with an unanswered call. `calls`: what is known of the items' calls
 * (noted while they were read); the items themselves when nothing is left open.
 */
export function closeDanglingCalls(items: ResponseItem[], calls = CallLedger.of(items)): ResponseItem[] {
  if (calls.closed) return items;
  const answered = new Set(calls.answered);
  const out: ResponseItem[] = [];
  for (const it of items) {
    out.push(it);
    if ((it.type === "function_call" || it.type === "custom_tool_call") && typeof it.call_id === "string" && !answered.has(it.call_id)) {
      const output = "aborted: ocx stopped before this call finished; its result is unknown";
      out.push(it.type === "function_call" ? { type: "function_call_output", call_id: it.call_id, output } : { type: "custom_tool_call_output", call_id: it.call_id, output });
      answered.add(it.call_id);
    }
  }
  return out;
}

/** The sandbox policy recorded in a turn_context, when its mode is one ocx knows. */
export function recordedSandboxPolicy(tc: TurnContext | undefined): RolloutSandboxPolicy | undefined {
  const p = tc?.sandbox_policy;
  return p && (sandboxModes as readonly string[]).includes(p.type) ? p : undefined;
}

/** The loops here that reading a large session runs hot, line by line (see Runtime.keepBelowTopTier). */
export const ROLLOUT_LOOPS = [
  RolloutReader.prototype.push,
  RolloutReader.prototype["flushRun"],
  RolloutReader.prototype["line"],
  readLine,
  readLargeItem,
  keepItemJson,
  responseItemHead,
  bytesAt,
  CallLedger.prototype.note,
];
