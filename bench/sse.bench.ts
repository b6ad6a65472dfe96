// Benchmark: the CPU cost of one streamed SSE event, for a 1 MB answer in 20-character deltas.
// (a) In process: the Responses (and Chat Completions) client over a prepared body, delivered in
//     16 KiB chunks and in one chunk per event; CPU (user+sys) of the whole read / events.
// (b) End to end: dist/ocx against the local mock; ocx's CPU for the 1 MB answer minus its CPU
//     for a one-delta answer ("ok"), divided by the extra events. With --json, also the CPU
//     beyond the same 1 MB answer sent in one delta: the cost of the events themselves. Beside
//     it, the same figure for a floor: a Bun-compiled program (build.ts's flags) that posts to
//     the mock and only reads the body to its end, which no client of this machine can beat.
// Medians over several runs, printed next to the target. Figures only; nothing is asserted.
//   bun bench/sse.bench.ts [runs]        (OCX_BIN overrides the binary; default runs: 7)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { buildBunProgram, READ_BODY_SOURCE } from "./lib/bun-program.ts";
import { mockHome } from "./lib/mock-home.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createChatClient } from "../src/core/model/chat.ts";
import { createResponsesClient } from "../src/core/model/responses.ts";
import type { ModelClient, ModelRequest, ProviderInfo } from "../src/core/model/types.ts";
import { chatChunks } from "../test/mock/chat.ts";
import { reportTarget } from "./lib/targets.ts";
import { message, sse, type SseEvent, startMockResponses, turn, usage } from "../test/mock/responses-server.ts";

const runs = Number(process.argv[2] ?? 7);
const TARGET = "target ≤ 3 µs/event";
const ANSWER_BYTES = 1_000_000;
const DELTA = 20;
const enc = new TextEncoder();

/** About `bytes` of prose: words, line breaks, quotes and backslashes (JSON escapes), a few non-ASCII letters. */
function answer(bytes: number): string {
  const words = ["the", "stream", "of", "deltas", "is", "parsed", "once,", "and", "\"quoted\"", "path\\to\\file", "café", "naïve", "done.\n", "\ttab", "ok"];
  let seed = 1;
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = words[seed % words.length]!;
    parts.push(w);
    size += enc.encode(w).length + 1;
  }
  return parts.join(" ").slice(0, bytes);
}

const text = answer(ANSWER_BYTES);
const frame = (e: SseEvent) =>
  e.type === "chat.chunk" ? `data: ${JSON.stringify(e.chunk)}\n\n` : e.type === "chat.done" ? "data: [DONE]\n\n" : `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const cpuUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const line = (label: string, perEvent: number[], extra = "") =>
  console.log(`${label.padEnd(52)} ${median(perEvent).toFixed(2).padStart(6)} µs/event  (min ${Math.min(...perEvent).toFixed(2)}, max ${Math.max(...perEvent).toFixed(2)})  ${TARGET}${extra}`);

// ---------------------------------------------------------------------------------------------
// (a) in process

const provider: ProviderInfo = {
  id: "bench",
  name: "Bench",
  baseUrl: "http://127.0.0.1:9/v1",
  wireApi: "responses",
  headers: {},
  queryParams: {},
  requestMaxRetries: 0,
  streamMaxRetries: 0,
  streamIdleTimeoutMs: 300_000,
};
const request: ModelRequest = { model: "m", instructions: "", input: [], tools: [], parallelToolCalls: true, threadId: "t" };

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

async function inProcess(make: (f: typeof fetch) => ModelClient, chunks: Uint8Array[], events: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = -2; r < runs; r++) {
    const fetch = (async () => new Response(bodyOf(chunks), { status: 200, headers: { "content-type": "text/event-stream" } })) as unknown as typeof globalThis.fetch;
    const client = make(fetch);
    let got = "";
    const t0 = cpuUs();
    for await (const part of client.stream(request, new AbortController().signal)) {
      if (part.type === "item-done" && part.item.type === "message") got += (part.item.content as Array<{ text: string }>).map((c) => c.text).join("");
    }
    const spent = cpuUs() - t0;
    if (got !== text) throw new Error("the answer's item does not hold the answer");
    if (r >= 0) out.push(spent / events);
  }
  return out;
}

const responsesEvents = turn([message(text)], usage(), { deltaChars: DELTA });
const responsesFrames = responsesEvents.map((e) => enc.encode(frame(e)));
const responsesBytes = enc.encode(responsesEvents.map(frame).join(""));
const chatEvents = chatChunks({ text, chunkSize: DELTA });
const chatBytes = enc.encode(chatEvents.map(frame).join(""));
const responses = (fetch: typeof globalThis.fetch) => createResponsesClient({ fetch, provider, headers: {} });
const chatClient = (fetch: typeof globalThis.fetch) => createChatClient({ fetch, provider: { ...provider, wireApi: "chat" }, headers: {} });

console.log(
  `SSE benchmark: a ${(ANSWER_BYTES / 1e6).toFixed(1)} MB answer in ${DELTA}-character deltas (${responsesEvents.length} Responses events, ${(responsesBytes.length / 1e6).toFixed(1)} MB of SSE), median of ${runs} runs`,
);
line("in process, Responses, 16 KiB chunks", await inProcess(responses, chunked(responsesBytes, 16 * 1024), responsesEvents.length));
line("in process, Responses, one event per chunk", await inProcess(responses, responsesFrames, responsesEvents.length));
line("in process, Chat Completions, 16 KiB chunks", await inProcess(chatClient, chunked(chatBytes, 16 * 1024), chatEvents.length));

// ---------------------------------------------------------------------------------------------
// (b) end to end

const bin = resolve(process.env.OCX_BIN ?? "dist/ocx");
const mock = await startMockResponses();
const { home, env } = mockHome("ocx-bench-sse-", mock.url);

/** The floor program: posts to the mock and reads the streamed body to its end. */
const buildFloor = (dir: string): string =>
  buildBunProgram(dir, "sse-floor", `const res = await fetch(process.argv[2] + "/responses", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });\n${READ_BODY_SOURCE}`);

/** The floor's CPU (user+sys, µs) for reading the SSE body of `events`. */
async function floorCpu(floor: string, events: SseEvent[]): Promise<number> {
  mock.push(sse(events));
  const proc = Bun.spawn([floor, mock.url], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if ((await proc.exited) !== 0 || !/^\d+\n$/.test(out)) throw new Error(`the floor program failed: ${out}${err}`);
  const cpu = proc.resourceUsage()!.cpuTime;
  return Number(cpu.user) + Number(cpu.system);
}

/** ocx's CPU (user+sys, µs) for one exec answered with `events`. */
async function ocxCpu(events: SseEvent[], args: string[], expectText: string): Promise<number> {
  mock.push(sse(events));
  const proc = Bun.spawn([bin, "exec", "--skip-git-repo-check", ...args, "hi"], { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const expected = args.includes("--json") ? JSON.stringify(expectText) : expectText;
  if (code !== 0 || !out.includes(expected)) {
    const dump = join(tmpdir(), `ocx-bench-sse-failed-${process.pid}.txt`);
    writeFileSync(dump, `exit ${code}\n--- stdout\n${out}\n--- stderr\n${err}`);
    throw new Error(`run failed (exit ${code}), output in ${dump}: ${out.slice(0, 300)}\n${err.slice(-1000)}`);
  }
  const cpu = proc.resourceUsage()!.cpuTime;
  return Number(cpu.user) + Number(cpu.system);
}

const floorDir = mkdtempSync(join(tmpdir(), "ocx-bench-sse-floor-"));
try {
  const small = turn([message("ok")], usage(), { deltaChars: DELTA });
  // The floor first: what reading these bodies costs on this machine, before any parsing.
  const floor = buildFloor(floorDir);
  const floorBig: number[] = [];
  const floorSmall: number[] = [];
  await floorCpu(floor, small);
  for (let r = 0; r < runs; r++) {
    floorBig.push(await floorCpu(floor, responsesEvents));
    floorSmall.push(await floorCpu(floor, small));
  }
  const floorPerEvent = floorBig.map((b) => (b - median(floorSmall)) / (responsesEvents.length - small.length));
  // The same 1 MB answer in a single delta: what the answer's size costs (its done events, the
  // JSONL line, the session file), apart from the number of events.
  const whole = turn([message(text)], usage(), { deltaChars: text.length });
  for (const [label, args] of [
    ["end to end, dist/ocx --json", ["--json"]],
    ["end to end, dist/ocx (human output)", ["--color", "never"]],
  ] as const) {
    const big: number[] = [];
    const base: number[] = [];
    const oneDelta: number[] = [];
    await ocxCpu(small, [...args], "ok"); // warm the page cache
    for (let r = 0; r < runs; r++) {
      big.push(await ocxCpu(responsesEvents, [...args], text));
      base.push(await ocxCpu(small, [...args], "ok"));
      if ((args as readonly string[]).includes("--json")) oneDelta.push(await ocxCpu(whole, [...args], text));
    }
    const extra = responsesEvents.length - small.length;
    const perEvent = big.map((b) => (b - median(base)) / extra);
    if (label.includes("--json")) {
      reportTarget(
        "SSE: CPU per event, 1 MB answer in 20-byte deltas (ocx --json)",
        `${median(perEvent).toFixed(2)} µs (a program that only reads the body: ${median(floorPerEvent).toFixed(2)} µs)`,
        "≤ 3 µs (reference 29 µs)",
        median(perEvent) <= 3,
      );
    }
    line(label, perEvent, `   [1 MB answer ${(median(big) / 1000).toFixed(0)} ms CPU, one-delta answer ${(median(base) / 1000).toFixed(0)} ms]`);
    if (oneDelta.length > 0) {
      const events = responsesEvents.length - whole.length;
      console.log(
        `${"  of which the events alone (vs the 1 MB answer in one delta)".padEnd(52)} ${median(big.map((b) => (b - median(oneDelta)) / events)).toFixed(2).padStart(6)} µs/event  [1 MB answer in one delta ${(median(oneDelta) / 1000).toFixed(0)} ms CPU]`,
      );
    }
  }
  line("floor: a Bun program that only reads the body", floorPerEvent, `   [1 MB answer ${(median(floorBig) / 1000).toFixed(0)} ms CPU, one-delta answer ${(median(floorSmall) / 1000).toFixed(0)} ms]`);
} finally {
  await mock.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(floorDir, { recursive: true, force: true });
}
