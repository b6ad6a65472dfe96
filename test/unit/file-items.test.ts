// Large restored history items stay in their session file (src/core/session/file-items.ts): they
// read as the items they stand for, a request copies their bytes from the file, and a file that
// changed under them fails in one line instead of giving other bytes.
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { createHash } from "node:crypto";
import { OcxError } from "../../src/core/errors.ts";
import { itemJsonByteLength, itemJsonBytes, itemJsonLength } from "../../src/core/model/item-json.ts";
import { buildResponsesBody, responsesBody, type StreamedBody } from "../../src/core/model/responses.ts";
import type { ModelRequest, ResponseItem } from "../../src/core/model/types.ts";
import { readRollout } from "../../src/core/session/resume.ts";
import { closeDanglingCalls, parseRollout } from "../../src/core/session/rollout.ts";
import { concatBytes } from "../../src/core/util/bytes.ts";

const runtime = bunRuntime();
const dir = mkdtempSync(join(tmpdir(), "ocx-file-items-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ts = "2026-11-20T10:00:00.000Z";
let ordinal = 0;
const line = (type: string, payload: unknown) => JSON.stringify({ timestamp: ts, ordinal: ordinal++, type, payload });
const big = (i: number, size: number) => `${i}: ${"abc é \"q\" \\ 🚀\n".repeat(Math.ceil(size / 20))}`;

/** A rollout with small and large items (`pieces`: large enough to be read in pieces). */
function writeRollout(name: string, count = 6, size = 20_000): string {
  const lines = [
    line("session_meta", { id: "019a9f3c-1c00-7abc-8def-0123456789ab", timestamp: ts, cwd: "/w", originator: "ocx_exec", cli_version: "0.1.0", source: "exec" }),
    line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "small" }] }),
  ];
  for (let i = 0; i < count; i++) {
    lines.push(
      line("response_item", { type: "function_call", name: "exec_command", arguments: `{"cmd":"step ${i}"}`, call_id: `call_${i}` }),
      line("response_item", { type: "function_call_output", call_id: `call_${i}`, output: big(i, size) }),
      line("response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: big(i, size) }] }),
    );
  }
  lines.push(line("response_item", { type: "function_call", name: "exec_command", arguments: "{}", call_id: "call_dangling", extra: big(99, 5000) }));
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

const request = (input: ResponseItem[]): ModelRequest => ({
  model: "gpt-x",
  instructions: "be brief",
  input,
  tools: [],
  parallelToolCalls: true,
  threadId: "th",
});

const bodyBytes = (body: StreamedBody) => {
  const parts: Uint8Array[] = [];
  const it = body.chunks();
  for (let n = it.next(); !n.done; n = it.next()) parts.push(n.value);
  return concatBytes(parts);
};

/** The runtime, with `beforeRead(path)` called before each read through the session file's handle. */
const watchingReads = (beforeRead: (path: string) => void): typeof runtime => ({
  ...runtime,
  fs: {
    ...runtime.fs,
    openReadSync: (p: string) => {
      const handle = runtime.fs.openReadSync!(p);
      return {
        ...handle,
        readSync: (offset: number, length: number, into?: Uint8Array) => (beforeRead(p), handle.readSync(offset, length, into)),
        read: async (offset: number, length: number, into?: Uint8Array) => (beforeRead(p), handle.read(offset, length, into)),
      };
    },
  },
});

/** Overwrites one byte inside the first large output with another letter (same length). */
function changeInPlace(path: string): void {
  const text = readFileSync(path);
  const at = text.indexOf("abc", text.indexOf("function_call_output"));
  const fd = openSync(path, "r+");
  writeSync(fd, new Uint8Array([0x78]), 0, 1, at);
  closeSync(fd);
}

describe("restored items that stay in the session file", () => {
  test("read as the items parsed from the file: fields, keys, spread, JSON; the lengths are known without serialising", async () => {
    const path = writeRollout("a.jsonl");
    const loaded = await readRollout(runtime, path);
    const parsed = parseRollout(readFileSync(path, "utf8")).items;
    expect(loaded.items.length).toBe(parsed.length);
    const inFile = loaded.items.filter((i) => itemJsonBytes(i) !== undefined);
    // The outputs, the assistant messages and the large call stay in the file; small items do not.
    expect(inFile.length).toBe(6 * 2 + 1);
    expect(itemJsonBytes(loaded.items[0]!)).toBeUndefined();
    expect(JSON.stringify(loaded.items)).toBe(JSON.stringify(parsed));
    for (let i = 0; i < parsed.length; i++) {
      const item = loaded.items[i]!;
      expect({ ...item }).toEqual(parsed[i]!);
      expect(Object.keys(item)).toEqual(Object.keys(parsed[i]!));
      expect("type" in item && !("nothing" in item)).toBe(true);
      expect(itemJsonLength(item)).toBe(JSON.stringify(parsed[i]).length);
      expect(itemJsonByteLength(item)).toBe(Buffer.byteLength(JSON.stringify(parsed[i])));
    }
    const output = loaded.items.find((i) => i.type === "function_call_output")!;
    expect(output.output).toBe(big(0, 20_000));
    expect(output.call_id).toBe("call_0");
  });

  test("another file renamed over the session just after it is opened: what is read, and sent, is the file opened", async () => {
    const path = writeRollout("renamed.jsonl");
    const other = writeRollout("other.jsonl", 3, 30_000);
    const original = parseRollout(readFileSync(path, "utf8")).items;
    const racing = {
      ...runtime,
      fs: {
        ...runtime.fs,
        openReadSync: (p: string) => {
          const handle = runtime.fs.openReadSync!(p);
          renameSync(other, p);
          return handle;
        },
      },
    };
    const { items } = await readRollout(racing, path);
    expect(items.some((i) => itemJsonBytes(i) !== undefined)).toBe(true);
    expect(JSON.stringify(items)).toBe(JSON.stringify(original));
    expect(new TextDecoder().decode(bodyBytes(responsesBody(request(items)) as StreamedBody))).toBe(JSON.stringify(buildResponsesBody(request(original))));
  });

  test("a request copies their bytes from the file: JSON.stringify of the body, again on a retry, with its length", async () => {
    const path = writeRollout("b.jsonl");
    const { items } = await readRollout(runtime, path);
    const fresh: ResponseItem = { type: "message", role: "user", content: [{ type: "input_text", text: "next ✓" }] };
    for (const input of [items, [...items, fresh], [fresh, ...items.slice(3)]]) {
      const body = responsesBody(request(input));
      if (typeof body === "string") throw new Error("expected a streamed body");
      const expected = JSON.stringify(buildResponsesBody(request(JSON.parse(JSON.stringify(input)))));
      for (let n = 0; n < 2; n++) {
        const bytes = bodyBytes(body);
        expect(new TextDecoder().decode(bytes)).toBe(expected);
        expect(bytes.length).toBe(body.byteLength);
      }
    }
  });

  test("a file read in pieces (over 8 MiB, lines across them) gives the same items and bytes", async () => {
    const path = writeRollout("c.jsonl", 120, 40_000);
    const { items } = await readRollout(runtime, path);
    const parsed = parseRollout(readFileSync(path, "utf8")).items;
    expect(items.filter((i) => itemJsonBytes(i) !== undefined).length).toBe(241);
    const body = responsesBody(request(items)) as StreamedBody;
    expect(new TextDecoder().decode(bodyBytes(body))).toBe(JSON.stringify(buildResponsesBody(request(parsed))));
  });

  for (const [what, count, size] of [
    ["a large file", 30, 40_000],
    ["a small file", 2, 1_000],
  ] as const) {
    test(`${what} that grows while it is read is read to its new end, as readFile would then`, async () => {
      const path = writeRollout(`g-${count}.jsonl`, count, size);
      const more = `${line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "appended ✓ ".repeat(500) }] })}\n`;
      let appended = false;
      const growing = watchingReads((p) => {
        if (!appended) writeFileSync(p, more, { flag: "a" });
        appended = true;
      });
      const { items } = await readRollout(growing, path);
      expect(appended).toBe(true);
      expect(JSON.stringify(items)).toBe(JSON.stringify(parseRollout(readFileSync(path, "utf8")).items));
      expect(items.at(-1)).toEqual({ type: "message", role: "user", content: [{ type: "input_text", text: "appended ✓ ".repeat(500) }] });
    });
  }

  test("reading a file of many MB lets the event loop run (a signal is handled) long before it is done", async () => {
    const path = writeRollout("t.jsonl", 150, 40_000); // about 13 MB
    let handled = false;
    const handledAt: boolean[] = [];
    const onSignal = () => (handled = true);
    const watched = watchingReads(() => handledAt.push(handled));
    process.on("SIGUSR2", onSignal);
    try {
      process.kill(process.pid, "SIGUSR2");
      const { items } = await readRollout(watched, path);
      expect(items.length).toBe(1 + 3 * 150 + 1);
    } finally {
      process.off("SIGUSR2", onSignal);
    }
    // Read in many pieces; the signal was handled between two of them, well before the last.
    expect(handledAt.length).toBeGreaterThan(40);
    expect(handledAt.indexOf(true)).toBeGreaterThan(0);
    expect(handledAt.indexOf(true)).toBeLessThan(handledAt.length - 10);
  });

  test("closing dangling calls reads only their small fields (not the file)", async () => {
    const path = writeRollout("d.jsonl");
    const { items } = await readRollout(runtime, path);
    truncateSync(path, 0);
    const closed = closeDanglingCalls(items);
    expect(closed.length).toBe(items.length + 1);
    expect(closed.at(-1)).toEqual({ type: "function_call_output", call_id: "call_dangling", output: "aborted: ocx stopped before this call finished; its result is unknown" });
  });

  for (const [what, change, why] of [
    ["rewritten in place", changeInPlace, "its history is no longer the bytes this run read"],
    ["truncated", (path: string) => truncateSync(path, 1000), "it is shorter than when this run read it"],
  ] as const) {
    test(`a file ${what} since: the body and the item's contents fail with one line (OcxError, exit 3)`, async () => {
      const path = writeRollout(`e-${what}.jsonl`);
      const { items } = await readRollout(runtime, path);
      const body = responsesBody(request(items)) as StreamedBody;
      change(path);
      const message = `The session file ${path} changed while this run used it: ${why}; resume it again`;
      let error: unknown;
      try {
        bodyBytes(body);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OcxError);
      expect((error as OcxError).message).toBe(message);
      expect((error as OcxError).exitCode).toBe(3);
      const output = items.find((i) => i.type === "function_call_output")!;
      expect(output.type).toBe("function_call_output");
      expect(() => output.output).toThrow(message);
    });
  }

  test("an item changed by the run becomes an ordinary object: its JSON is serialised, no longer copied", async () => {
    const path = writeRollout("f.jsonl");
    const { items } = await readRollout(runtime, path);
    const output = items.find((i) => i.type === "function_call_output")!;
    output.output = "shortened";
    expect(itemJsonBytes(output)).toBeUndefined();
    expect(itemJsonByteLength(output)).toBeUndefined();
    truncateSync(path, 0); // no longer needed for it
    expect({ ...output }).toEqual({ type: "function_call_output", call_id: "call_0", output: "shortened" });
    delete output.call_id;
    expect(JSON.stringify(output)).toBe(`{"type":"function_call_output","output":"shortened"}`);
  });

  describe("the runtime's keyed digest (what the items' bytes are checked with)", () => {
    const bytesOf = fc.uint8Array({ minLength: 0, maxLength: 600 });

    test("a tag matches the bytes it was made of, also given as a view into other bytes, and nothing else", () => {
      const digest = runtime.keyedDigest!();
      fc.assert(
        fc.property(bytesOf, fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
          const framed = new Uint8Array(bytes.length + 7);
          framed.set(bytes, 3);
          const tag = digest.tag(framed.subarray(3, 3 + bytes.length));
          expect(digest.matches(Uint8Array.from(bytes), tag)).toBe(true);
          if (bytes.length > 0) {
            const changed = Uint8Array.from(bytes);
            changed[at % bytes.length]! ^= flip;
            expect(digest.matches(changed, tag)).toBe(false);
            expect(digest.matches(bytes.subarray(0, bytes.length - 1), tag)).toBe(false);
          }
          expect(digest.matches(concatBytes([bytes, new Uint8Array(1)]), tag)).toBe(false);
        }),
        { numRuns: 500 },
      );
    });

    test("it is keyed: another digest's tags of the same bytes differ and do not match, and each tag is made under a nonce of its own", () => {
      const one = runtime.keyedDigest!();
      const other = runtime.keyedDigest!();
      const bytes = new TextEncoder().encode("resume ✓ 🚀 ".repeat(1000));
      const [a, b] = [one.tag(bytes), one.tag(bytes)];
      expect(a).not.toBe(b);
      expect(one.matches(bytes, a) && one.matches(bytes, b)).toBe(true);
      const c = other.tag(bytes);
      expect(c.slice(c.indexOf(":"))).not.toBe(a.slice(a.indexOf(":")));
      expect(other.matches(bytes, a)).toBe(false);
      expect(one.matches(bytes, c.replace(/^\d+/, "0"))).toBe(false);
      // Every counter is a nonce of its own (past one byte of it, too): no two tags of the same bytes agree.
      const macs = new Set<string>();
      for (let n = 0; n < 600; n++) macs.add(one.tag(bytes).replace(/^\d+:/, ""));
      expect(macs.size).toBe(600);
      // Nothing computed from the bytes alone passes for a tag (not their SHA-256, nor anything else without the key).
      const sha = createHash("sha256").update(bytes).digest("base64");
      for (const forged of [sha, `0:${sha}`, `0:${sha.slice(0, 24)}`, `1:${a.slice(2)}`, "", ":", "x:y", "-1:" + a.slice(2), `99:${a.slice(2)}`]) {
        expect(one.matches(bytes, forged)).toBe(false);
      }
    });
  });
});
