// End-to-end: a long answer streamed as many small deltas (the case bench/sse.bench.ts
// measures) arrives whole, in --json and human mode, also when stdout is read slowly.
import { afterAll, describe, expect, test } from "bun:test";
import { message, sse, turn, usage } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, items, makeRepo, ocxBin, runOcx, useMockServers } from "./harness.ts";

const T = 60_000;
const setup = useMockServers();
afterAll(() => cleanupTemp());

/** About `size` characters of prose with JSON escapes (quotes, backslashes, newlines, tabs) and non-ASCII letters. */
function answer(size: number): string {
  const words = ["delta", "\"quoted\"", "back\\slash", "line\n", "\ttab", "café", "naïve", "😀", "ok"];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length]!;
    parts.push(w);
    n += w.length + 1;
  }
  return parts.join(" ");
}

const TEXT = answer(1_000_000);
const manyDeltas = () => sse(turn([message(TEXT)], usage(4321, 765, 21, 9), { deltaChars: 20 }));

describe("a 1 MB answer in 20-character deltas", () => {
  test("--json: one agent_message with the whole text, a well-formed stream", async () => {
    const { home } = await setup([manyDeltas()]);
    const r = await runOcx(["exec", "--json", "--skip-git-repo-check", "hi"], { home, timeoutMs: 50_000 });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const messages = items(r.events, "item.completed", "agent_message");
    expect(messages).toHaveLength(1);
    expect(messages[0].text === TEXT).toBe(true);
    // The usage comes from response.completed, whose output repeats the 1 MB answer.
    const usageOf = r.events!.at(-1) as { type: string; usage: Record<string, number> };
    expect(usageOf.type).toBe("turn.completed");
    expect(usageOf.usage).toMatchObject({ input_tokens: 4321, cached_input_tokens: 21, output_tokens: 765, reasoning_output_tokens: 9 });
  }, T);

  test("human mode, stdout read slowly: the whole answer is written before ocx exits", async () => {
    const { home } = await setup([manyDeltas()]);
    const proc = Bun.spawn([ocxBin(), "exec", "--color", "never", "--skip-git-repo-check", "hi"], {
      cwd: makeRepo(),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-test-e2e", NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = new Response(proc.stderr).text();
    const reader = proc.stdout.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      await Bun.sleep(2); // a reader slower than ocx writes: the pipe fills up
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(await proc.exited).toBe(0);
    const stdout = Buffer.concat(chunks).toString("utf8");
    expect(stdout.length).toBe(TEXT.length + 1);
    expect(stdout === `${TEXT}\n`).toBe(true);
    expect(await stderr).toContain("tokens used");
  }, T);
});
