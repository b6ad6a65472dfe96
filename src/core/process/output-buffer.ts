// A bounded byte buffer for command output: it keeps the first `headBytes` and the last
// `tailBytes` bytes (the tail is a ring buffer), counts everything appended, and renders text
// with a `…N tokens truncated…` marker where the middle was dropped. Memory never exceeds
// headBytes + tailBytes, however much is appended; arrays grow lazily up to those caps.

/** The byte-per-token estimate codex uses for output budgets. */
export const APPROX_BYTES_PER_TOKEN = 4;

export function approxTokens(bytes: number): number {
  return Math.ceil(bytes / APPROX_BYTES_PER_TOKEN);
}

/** The marker put where bytes were left out (codex's wording). */
export function truncationMarker(removedBytes: number): string {
  return `…${approxTokens(removedBytes)} tokens truncated…`;
}

export interface OutputBufferOptions {
  /** Count newlines so that `lineCount` works (costs a pass over every byte). Default true. */
  countLines?: boolean;
}

const MIN_GROWTH = 4096;

export interface RenderOptions {
  /**
   * Rewrites each piece of text that is rendered (the whole text, or the head and the tail
   * around the marker), told which of its ends are cuts (a redactor replaces a secret's part there).
   */
  piece?(text: string, cutBefore: boolean, cutAfter: boolean): string;
  /** The text starts where an earlier read stopped (default false). */
  cutAtStart?: boolean;
  /** More may follow the text (default false). */
  cutAtEnd?: boolean;
}

export class OutputBuffer {
  readonly headCap: number;
  readonly tailCap: number;
  private readonly countLines: boolean;
  private head = new Uint8Array(0);
  private headLen = 0;
  private tail = new Uint8Array(0);
  private tailStart = 0;
  private tailLen = 0;
  private total = 0;
  private newlines = 0;
  private lastByte = -1;

  constructor(headBytes: number, tailBytes: number, opts: OutputBufferOptions = {}) {
    this.headCap = Math.max(0, Math.floor(headBytes));
    this.tailCap = Math.max(0, Math.floor(tailBytes));
    this.countLines = opts.countLines ?? true;
  }

  /** Bytes appended since creation or the last clear(). */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes dropped from the middle. */
  get omittedBytes(): number {
    return this.total - this.headLen - this.tailLen;
  }

  /** Number of lines the way Rust's `str::lines()` counts them (a final newline ends a line). */
  get lineCount(): number {
    if (this.total === 0) return 0;
    return this.newlines + (this.lastByte === 10 ? 0 : 1);
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.countLines) this.newlines += countNewlines(chunk);
    // The head only takes bytes while nothing has gone past it yet.
    const headOpen = this.total === this.headLen && this.headLen < this.headCap;
    this.total += n;
    this.lastByte = chunk[n - 1];
    let off = 0;
    if (headOpen) {
      off = Math.min(this.headCap - this.headLen, n);
      this.growHead(this.headLen + off);
      this.head.set(chunk.subarray(0, off), this.headLen);
      this.headLen += off;
    }
    if (off < n) this.pushTail(chunk.subarray(off));
  }

  clear(): void {
    this.head = new Uint8Array(0);
    this.tail = new Uint8Array(0);
    this.headLen = this.tailStart = this.tailLen = 0;
    this.total = this.newlines = 0;
    this.lastByte = -1;
  }

  /**
   * Removes and returns the trailing bytes of a UTF-8 character that is not complete yet, so
   * a reader can hold them back until the rest arrives. Empty when the data ends cleanly.
   */
  takeIncompleteEnd(): Uint8Array {
    const k = this.incompleteBytesBefore(this.total, this.retainedFrom(this.total));
    if (k === 0) return new Uint8Array(0);
    const cut = this.copyRange(this.total - k, this.total);
    const fromTail = Math.min(k, this.tailLen);
    this.tailLen -= fromTail;
    this.headLen -= k - fromTail;
    this.total -= k;
    this.lastByte = this.total > 0 && this.isRetained(this.total - 1) ? this.byteAt(this.total - 1) : -1;
    return cut;
  }

  /**
   * The retained text, decoded as UTF-8. With `maxBytes`, at most that many bytes of output
   * are kept (half from the start, the rest from the end, codex's split). Cut points never
   * split a character; the marker reports how much was left out.
   */
  render(maxBytes = Number.POSITIVE_INFINITY, opts: RenderOptions = {}): string {
    const budget = Math.max(0, Math.floor(maxBytes));
    const total = this.total;
    const omitted = this.omittedBytes;
    const piece = opts.piece ?? ((text: string) => text);
    const cutAtStart = opts.cutAtStart ?? false;
    const cutAtEnd = opts.cutAtEnd ?? false;
    if (omitted === 0 && total <= budget) return piece(decode(this.copyRange(0, total)), cutAtStart, cutAtEnd);
    let hb: number;
    let tb: number;
    if (omitted === 0) {
      hb = Math.floor(budget / 2);
      tb = budget - hb;
    } else {
      tb = Math.min(this.tailLen, budget - Math.min(this.headLen, Math.floor(budget / 2)));
      hb = Math.min(this.headLen, budget - tb);
    }
    const headEnd = hb - this.incompleteBytesBefore(hb, 0);
    let tailStart = total - tb;
    for (let i = 0; i < 3 && tailStart < total && isContinuation(this.byteAt(tailStart)); i++) tailStart++;
    return (
      piece(decode(this.copyRange(0, headEnd)), cutAtStart, true) +
      truncationMarker(tailStart - headEnd) +
      piece(decode(this.copyRange(tailStart, total)), true, cutAtEnd)
    );
  }

  /** How many bytes just before `end` start a character that would complete at or after `end`. */
  private incompleteBytesBefore(end: number, floor: number): number {
    const limit = Math.min(4, end - floor);
    for (let i = 1; i <= limit; i++) {
      const b = this.byteAt(end - i);
      if (isContinuation(b)) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > i ? i : 0;
    }
    return 0;
  }

  /** The first stream position of the retained run that ends at `end`. */
  private retainedFrom(end: number): number {
    return this.omittedBytes === 0 || end <= this.headLen ? 0 : this.total - this.tailLen;
  }

  private isRetained(pos: number): boolean {
    return pos < this.headLen || pos >= this.total - this.tailLen;
  }

  private byteAt(pos: number): number {
    if (pos < this.headLen) return this.head[pos];
    const i = pos - (this.total - this.tailLen);
    return this.tail[(this.tailStart + i) % this.tail.length];
  }

  /** Copies stream positions [from, to); both ends must lie in retained data. */
  private copyRange(from: number, to: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, to - from));
    let w = 0;
    if (from < this.headLen) {
      const end = Math.min(to, this.headLen);
      out.set(this.head.subarray(from, end), 0);
      w = end - from;
      from = end;
    }
    if (from < to) {
      const size = this.tail.length;
      let r = (this.tailStart + (from - (this.total - this.tailLen))) % size;
      let left = to - from;
      while (left > 0) {
        const n = Math.min(left, size - r);
        out.set(this.tail.subarray(r, r + n), w);
        w += n;
        left -= n;
        r = 0;
      }
    }
    return out;
  }

  private growHead(need: number): void {
    if (need <= this.head.length) return;
    const next = new Uint8Array(Math.min(this.headCap, Math.max(need, this.head.length * 2, MIN_GROWTH)));
    next.set(this.head.subarray(0, this.headLen));
    this.head = next;
  }

  private pushTail(bytes: Uint8Array): void {
    const cap = this.tailCap;
    const n = bytes.length;
    if (cap === 0) return;
    if (n >= cap) {
      if (this.tail.length !== cap) this.tail = new Uint8Array(cap);
      this.tail.set(bytes.subarray(n - cap));
      this.tailStart = 0;
      this.tailLen = cap;
      return;
    }
    const need = this.tailLen + n;
    if (need > this.tail.length && this.tail.length < cap) {
      const next = new Uint8Array(Math.min(cap, Math.max(need, this.tail.length * 2, MIN_GROWTH)));
      next.set(this.copyTail(), 0);
      this.tail = next;
      this.tailStart = 0;
    }
    const size = this.tail.length;
    const w = (this.tailStart + this.tailLen) % size;
    const first = Math.min(n, size - w);
    this.tail.set(bytes.subarray(0, first), w);
    if (first < n) this.tail.set(bytes.subarray(first), 0);
    this.tailLen += n;
    if (this.tailLen > size) {
      this.tailStart = (this.tailStart + this.tailLen - size) % size;
      this.tailLen = size;
    }
  }

  private copyTail(): Uint8Array {
    return this.copyRange(this.total - this.tailLen, this.total);
  }
}

/**
 * The number of `\n` bytes in `bytes`: 16 at a time with WebAssembly SIMD where the runtime has
 * it (the bytes are copied into the module's memory in 256 KiB pieces), else countNewlinesScalar.
 */
export function countNewlines(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < SIMD_MIN_BYTES) return countNewlinesScalar(bytes);
  const simd = (simdCounter ??= loadSimdCounter());
  if (!simd) return countNewlinesScalar(bytes);
  const size = simd.scratch.length;
  let c = 0;
  for (let off = 0; off < n; off += size) {
    const part = bytes.subarray(off, off + size);
    simd.scratch.set(part);
    c += simd.count(part.length);
  }
  return c;
}

/** Shorter input is counted in JS (the call and the copy would cost more than they save). */
const SIMD_MIN_BYTES = 256;

/*
 * The module, hand-assembled (256 KiB of memory "m"; "c"(n) counts `\n` in its first n bytes):
 *   (func (export "c") (param $n i32) (result i32)
 *     (local $i i32) (local $stop i32) (local $acc v128) (local $sum v128) (local $nl v128)
 *     (local $vend i32) (local $c i32)
 *     nl = i8x16.splat(10); vend = n & -16
 *     while i < vend:                                 ;; blocks of at most 255 vectors
 *       stop = min(i + 4080, vend); acc = 0
 *       do acc = i8x16.sub(acc, i8x16.eq(v128.load(i), nl)); i += 16 while i < stop
 *       sum = i32x4.add(sum, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(acc)))
 *     while i < n: c += (i32.load8_u(i) == 10); i += 1
 *     return c + the four lanes of sum)
 */
const NEWLINE_WASM = "AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEABAcJAgFtAgABYwAACrgBAbUBAwJ/A3sCf0EK/Q8hBSAAQXBxIQYCQANAIAEgBk8NASABQfAfaiAGIAFB8B9qIAZJGyEC/QwAAAAAAAAAAAAAAAAAAAAAIQMDQCADIAH9AAAAIAX9I/1xIQMgAUEQaiIBIAJJDQALIAQgA/19/X/9rgEhBAwACwsCQANAIAEgAE8NASAHIAEtAABBCkZqIQcgAUEBaiEBDAALCyAHIAT9GwBqIAT9GwFqIAT9GwJqIAT9GwNqCw==";

let simdCounter: { scratch: Uint8Array; count: (n: number) => number } | null | undefined;

function loadSimdCounter(): { scratch: Uint8Array; count: (n: number) => number } | null {
  try {
    const bytes = Uint8Array.from(atob(NEWLINE_WASM), (ch) => ch.charCodeAt(0));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const memory = exports.m as WebAssembly.Memory;
    return { scratch: new Uint8Array(memory.buffer), count: exports.c as (n: number) => number };
  } catch {
    return null; // no WebAssembly, or no SIMD
  }
}

/**
 * The number of `\n` bytes in `bytes`, in JS. Four bytes at a time (a byte-wise zero test on the
 * word XOR 0x0a0a0a0a), with per-byte lane counters summed every 255 words; the unaligned ends byte by byte.
 */
export function countNewlinesScalar(bytes: Uint8Array): number {
  const n = bytes.length;
  let c = 0;
  let i = 0;
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  for (; i < lead; i++) if (bytes[i] === 10) c++;
  const count = (n - i) >>> 2;
  if (count > 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, count);
    let k = 0;
    while (k < count) {
      const end = Math.min(count, k + 255);
      let lanes = 0;
      for (; k < end; k++) {
        const x = words[k]! ^ 0x0a0a0a0a;
        lanes += (~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f) >>> 7) & 0x01010101;
      }
      c += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
    }
    i += count * 4;
  }
  for (; i < n; i++) if (bytes[i] === 10) c++;
  return c;
}

function isContinuation(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
