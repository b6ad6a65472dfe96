// End-to-end bounds against hostile model servers (issue 14): garbage, bad JSON, truncated and
// endless streams, endless pings, one huge event, a gzip bomb, Retry-After: 86400, 500 forever.
// Each run must end in bounded time with a defined exit code and one clear line; where memory
// is at stake the peak RSS is measured. Small caps come from config so the runs are fast.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createGzip } from "node:zlib";
import { turn, message } from "../mock/responses-server.ts";
import { symlinkSync, truncateSync } from "node:fs";
import { checkEventStream, cleanupTemp, join, makeDir, makeHome, ocxBin, runOcx, writeFileSync, type HomeOptions } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => cleanupTemp());

interface Hostile {
  url: string;
  /** Date.now() of every model request. */
  requests: number[];
  close(): Promise<void>;
}

let servers: Hostile[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A model server answering every POST with `answer(n)` (n counts from 0). */
async function hostile(answer: (n: number) => Response | Promise<Response>): Promise<Hostile> {
  const requests: number[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    error: () => new Response("mock error", { status: 500 }),
    async fetch(req) {
      await req.arrayBuffer();
      requests.push(Date.now());
      return answer(requests.length - 1);
    },
  });
  const h: Hostile = { url: `http://127.0.0.1:${server.port}/v1`, requests, close: () => server.stop(true) };
  servers.push(h);
  return h;
}

const SSE_HEADERS = { "content-type": "text/event-stream" };

/** A body produced by `pull` until the client goes away (or `pull` returns false). */
function endless(pull: () => Promise<Uint8Array | false> | Uint8Array | false, headers: Record<string, string> = SSE_HEADERS): Response {
  let gone = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (gone) return;
      const chunk = await pull();
      if (chunk === false) c.close();
      else if (!gone) c.enqueue(chunk);
    },
    cancel() {
      gone = true;
    },
  });
  return new Response(body, { headers });
}

const frame = (e: unknown) => `data: ${JSON.stringify(e)}\n\n`;
const completedReply = (text: string) => turn([message(text)]).map(frame).join("");

async function run(server: Hostile, home: HomeOptions & Record<string, unknown>, args: string[] = JSON_, measureRss = false) {
  const r = await runOcx(["exec", ...args, "--skip-git-repo-check", "hi"], { home: makeHome(server.url, home as HomeOptions), measureRss, timeoutMs: 25_000 });
  const last = r.events?.at(-1);
  return { ...r, failure: last?.type === "turn.failed" ? (last.error.message as string) : undefined };
}

/** Every failure: exit 1, turn.failed last, a well-formed stream, nothing like a stack trace. */
function expectCleanFailure(r: Awaited<ReturnType<typeof run>>) {
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(1);
  expect(checkEventStream(r.events)).toEqual([]);
  expect(r.failure).toBeString();
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("hostile streams", () => {
  test("garbage bytes: a dropped stream, retried, then the turn fails", async () => {
    const s = await hostile(() => {
      const junk = new Uint8Array(4096);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
      return new Response(junk, { headers: SSE_HEADERS });
    });
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 1 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(2);
    expect(r.failure).toContain("kept failing: 2 requests");
    expect(r.failure).toContain("stream closed before response.completed");
  }, T);

  test("an event that is not JSON is skipped; the stream still has to complete", async () => {
    const s = await hostile((n) =>
      new Response(n === 0 ? "data: {not json\n\n" : `data: {"also": "not"\n\n${completedReply("Fine now.")}`, { headers: SSE_HEADERS }),
    );
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 1 });
    expect(r.code).toBe(0);
    expect(s.requests).toHaveLength(2);
    expect(r.events?.find((e) => e.type === "error")?.message).toStartWith("Reconnecting... 1/1 (stream disconnected before completion");
    expect(r.events?.at(-1)?.type).toBe("turn.completed");
  }, T);

  test("a stream truncated in the middle of an event fails the attempt, not ocx", async () => {
    const full = completedReply("never whole");
    const s = await hostile(() => new Response(full.slice(0, Math.floor(full.length * 0.7)), { headers: SSE_HEADERS }));
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 0 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.failure).toBe("stream disconnected before completion: stream closed before response.completed");
  }, T);

  test("endless events, never response.completed: cut at stream_max_duration_ms, not retried", async () => {
    const s = await hostile(() =>
      endless(async () => {
        await sleep(5);
        return enc.encode(frame({ type: "response.in_progress" }));
      }),
    );
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 3, stream_max_duration_ms: 1500 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.failure).toBe("the response did not complete within 1.5 s; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)");
  }, T);

  test("endless events as fast as the client reads: cut at stream_max_bytes", async () => {
    const chunk = enc.encode(frame({ type: "response.output_text.delta", delta: "x".repeat(100) }).repeat(500));
    const s = await hostile(() => endless(() => chunk));
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 3, stream_max_bytes: 2 * 1024 * 1024 }, JSON_, true);
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.failure).toBe(
      "the model server sent more than 2 MiB without completing the response; ocx stopped reading it (raise stream_max_bytes to allow larger responses)",
    );
    console.log(`endless events, 2 MiB cap: peak RSS ${r.maxRssKb} kB`);
  }, T);

  test("endless pings (SSE comments) are not progress: the idle timeout still fires", async () => {
    const s = await hostile(() =>
      endless(async () => {
        await sleep(20);
        return enc.encode(": ping\n\n");
      }),
    );
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 1, stream_idle_timeout_ms: 400 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(2);
    expect(r.events?.find((e) => e.type === "error")?.message).toMatch(
      /^Reconnecting\.\.\. 1\/1 \(stream disconnected before completion: idle timeout waiting for SSE\); next attempt in \d+ ms$/,
    );
    expect(r.failure).toContain("idle timeout waiting for SSE");
  }, T);

  test("one huge event (a line that never ends): cut at stream_max_event_bytes, memory stays small", async () => {
    const chunk = enc.encode("a".repeat(64 * 1024));
    let first = true;
    const s = await hostile(() =>
      endless(() => {
        if (!first) return chunk;
        first = false;
        return enc.encode("data: ");
      }),
    );
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 3, stream_max_event_bytes: 1024 * 1024 }, JSON_, true);
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.failure).toBe(
      "the model server sent one event larger than 1 MiB; ocx stopped reading the response (raise stream_max_event_bytes to allow larger events)",
    );
    console.log(`one endless event, 1 MiB cap: peak RSS ${r.maxRssKb} kB`);
  }, T);

  test("a gzip bomb (256 KiB inflating to 256 MiB of one line): stopped at the default event cap, bounded memory", async () => {
    const bomb = await gzipOf("data: ", "a", 256 * 1024 * 1024);
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const s = await hostile(() => new Response(bomb, { headers: { ...SSE_HEADERS, "content-encoding": "gzip" } }));
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 3 }, JSON_, true);
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.failure).toStartWith("the model server sent one event larger than 16 MiB");
    console.log(`gzip bomb (${bomb.byteLength} bytes -> 256 MiB): peak RSS ${r.maxRssKb} kB`);
    // 256 MiB inflated and held would be several times this.
    if (r.maxRssKb !== undefined) expect(r.maxRssKb).toBeLessThan(220 * 1024);
  }, T);

  test("a server that takes the request and never answers: the idle timeout covers the wait for headers", async () => {
    const s = await hostile(() => new Promise<Response>(() => {}));
    const r = await run(s, { request_max_retries: 1, stream_max_retries: 0, stream_idle_timeout_ms: 300 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(2);
    expect(r.failure).toMatch(
      /^the model provider kept failing: 2 requests over \d+ ms, the last one: error sending request for url \(http:\/\/127\.0\.0\.1:\d+\/v1\/responses\): no response within 300 ms \(stream_idle_timeout_ms\); the service may be busy/,
    );
  }, T);

  test("an endless error body is read only in part", async () => {
    const chunk = enc.encode("x".repeat(64 * 1024));
    const s = await hostile(() => {
      const r = endless(() => chunk, { "content-type": "text/plain" });
      return new Response(r.body, { status: 400 });
    });
    const r = await run(s, { request_max_retries: 0, stream_max_retries: 0 }, JSON_, true);
    expectCleanFailure(r);
    expect(r.failure!.length).toBeLessThanOrEqual(64 * 1024);
    console.log(`endless 400 body: peak RSS ${r.maxRssKb} kB`);
  }, T);
});

describe("hostile retry advice", () => {
  test("429 with Retry-After: 86400: one request, then the turn fails at once saying why", async () => {
    const s = await hostile(() => Response.json({ error: { message: "come back tomorrow" } }, { status: 429, headers: { "retry-after": "86400" } }));
    const r = await run(s, {});
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(1);
    expect(r.durationMs).toBeLessThan(20_000);
    expect(r.failure).toBe(
      "the model server asked to wait 24 h before retrying, longer than ocx waits (retry_after_max_ms = 60000); giving up (exceeded retry limit, last status: 429 Too Many Requests)",
    );
  }, T);

  test("503 with a Retry-After HTTP date past retry_after_max_ms fails at once; within it, it is waited for", async () => {
    const far = new Date(Date.now() + 3_600_000).toUTCString();
    const s = await hostile((n) =>
      n === 0
        ? new Response("busy", { status: 503, headers: { "retry-after": "1" } })
        : new Response("busy", { status: 503, headers: { "retry-after": far } }),
    );
    const r = await run(s, { retry_after_max_ms: 2000 });
    expectCleanFailure(r);
    expect(s.requests).toHaveLength(2);
    expect(s.requests[1]! - s.requests[0]!).toBeGreaterThanOrEqual(900);
    expect(r.failure).toMatch(/^the model server asked to wait (59 min \d+ s|1 h) before retrying, longer than ocx waits \(retry_after_max_ms = 2000\); giving up \(unexpected status 503 Service Unavailable: busy, url: http:\/\/127\.0\.0\.1:\d+\/v1\/responses\)$/);
  }, T);

  test("500 forever: every request and stream retry is spent, then one line says the provider kept failing", async () => {
    const s = await hostile(() => Response.json({ error: { message: "boom", type: "server_error" } }, { status: 500 }));
    const r = await run(s, { request_max_retries: 1, stream_max_retries: 2 }, ["--color", "never"]);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(s.requests).toHaveLength(6);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: Reconnecting"));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^warning: Reconnecting\.\.\. 1\/2 \(unexpected status 500 Internal Server Error: boom, url: \S+\); next attempt in \d+ ms$/);
    expect(r.stderr).toMatch(
      /the model provider kept failing: 6 requests over \d+(\.\d)? s, the last one: unexpected status 500 Internal Server Error: boom, url: \S+; the service may be busy or down, try again later/,
    );
    expect(r.stdout).toBe("");
  }, T);

  test("the bound keys pass --strict-config", async () => {
    const s = await hostile(() => new Response(completedReply("strict ok"), { headers: SSE_HEADERS }));
    const home = makeHome(s.url, { retry_after_max_ms: 1000, stream_max_duration_ms: 60000, stream_max_bytes: 1048576, stream_max_event_bytes: 65536 } as HomeOptions);
    const r = await runOcx(["exec", "--strict-config", "--skip-git-repo-check", "hi"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("strict ok\n");
  }, T);
});

describe("input sizes", () => {
  // No model request may be needed: the server records any that arrives.
  const oneLine = (stderr: string) => stderr.trim().split("\n").filter((l) => !l.startsWith("Reading "));

  test("--output-schema /dev/zero: exit 3 with one line, memory bounded, no request", async () => {
    const s = await hostile(() => new Response("unexpected", { status: 500 }));
    const r = await runOcx(["exec", "--skip-git-repo-check", "--output-schema", "/dev/zero", "hi"], { home: makeHome(s.url), measureRss: true });
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toEqual([expect.stringContaining("Failed to read output schema file /dev/zero: it is larger than 1 MiB, the most ocx reads")]);
    expect(s.requests).toHaveLength(0);
    console.log(`--output-schema /dev/zero: peak RSS ${r.maxRssKb} kB`);
    if (r.maxRssKb !== undefined) expect(r.maxRssKb).toBeLessThan(150 * 1024);
  }, T);

  test("ocx exec - </dev/zero: exit 2 with one line, memory bounded, no request", async () => {
    const s = await hostile(() => new Response("unexpected", { status: 500 }));
    const r = await runOcx(["exec", "--skip-git-repo-check", "-"], {
      home: makeHome(s.url),
      command: ["sh", "-c", 'exec "$0" "$@" </dev/zero', ocxBin()],
      measureRss: true,
    });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      expect.stringContaining("Failed to read prompt from stdin: it holds more than 16 MiB, the most ocx reads; put the material in a file and name it in the prompt."),
    ]);
    expect(s.requests).toHaveLength(0);
    console.log(`exec - </dev/zero: peak RSS ${r.maxRssKb} kB`);
    if (r.maxRssKb !== undefined) expect(r.maxRssKb).toBeLessThan(150 * 1024);
  }, T);

  test("-i with an endless or an oversized image: exit 3 with one line, no request", async () => {
    const s = await hostile(() => new Response("unexpected", { status: 500 }));
    const dir = makeDir("img-");
    symlinkSync("/dev/zero", join(dir, "zero.png"));
    writeFileSync(join(dir, "big.png"), "");
    truncateSync(join(dir, "big.png"), 21 * 1024 * 1024);
    for (const name of ["zero.png", "big.png"]) {
      const r = await runOcx(["exec", "--skip-git-repo-check", "-i", join(dir, name), "hi"], { home: makeHome(s.url), measureRss: true });
      expect(r.code).toBe(3);
      expect(oneLine(r.stderr)).toEqual([expect.stringContaining(`Cannot read image ${join(dir, name)}: it is larger than 20 MiB, the limit for one image`)]);
      if (r.maxRssKb !== undefined) expect(r.maxRssKb).toBeLessThan(150 * 1024);
    }
    expect(s.requests).toHaveLength(0);
  }, T);
});

/** gzip of `head` followed by `size` bytes of `fill`, compressed as it is produced. */
async function gzipOf(head: string, fill: string, size: number): Promise<Uint8Array<ArrayBuffer>> {
  const gz = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on("data", (b: Buffer) => parts.push(b));
  const done = new Promise((resolve, reject) => gz.on("end", resolve).on("error", reject));
  gz.write(head);
  const block = Buffer.alloc(1024 * 1024, fill);
  for (let n = 0; n < size; n += block.length) {
    if (!gz.write(block)) await new Promise((r) => gz.once("drain", r));
  }
  gz.end();
  await done;
  return new Uint8Array(Buffer.concat(parts));
}
