// `ocx exec fork` on the compiled binary: a new thread whose history is a copy of the source's,
// the source's file byte-identical afterwards, the usage total carried over, and the source
// thread going on without the fork's turn.
import { afterAll, describe, expect, test } from "bun:test";
import { messageTexts, reply, usage } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, makeRepo, readFileSync, runOcx, useMockServers, rollouts, threadId } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

const lastText = (events: any[] | undefined) =>
  events!.filter((e) => e.type === "item.completed" && e.item.type === "agent_message").at(-1)?.item.text;

describe("exec fork", () => {
  test("new id; the source's history is re-sent, then the new prompt; source file byte-identical; usage carries over", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([
      reply("first answer", usage(1000, 50, 100, 5)),
      reply("fork answer", usage(2000, 60, 200, 6)),
      reply("parent again", usage(1000, 10)),
    ]);
    const first = await runOcx(["exec", ...JSON_, "first prompt"], { home, cwd: repo });
    expect(first.code).toBe(0);
    const parent = threadId(first.events);
    const [sourceFile] = rollouts(home);
    const before = readFileSync(sourceFile!);

    const fork = await runOcx(["exec", "fork", parent, ...JSON_, "fork prompt"], { home, cwd: repo });
    expect(fork.stderr).not.toContain("warning");
    expect(fork.code).toBe(0);
    expect(checkEventStream(fork.events)).toEqual([]);
    const child = threadId(fork.events);
    expect(child).not.toBe(parent);
    expect(lastText(fork.events)).toBe("fork answer");
    // The parent's total plus the fork's own request (the reference: 1000 + 2000).
    expect(fork.events!.at(-1)).toMatchObject({
      type: "turn.completed",
      usage: { input_tokens: 3000, cached_input_tokens: 300, output_tokens: 110, reasoning_output_tokens: 11 },
      run_usage: { input_tokens: 2000 },
    });

    const sent = mock.requests[1]!.body;
    expect(sent.prompt_cache_key).toBe(child);
    expect(mock.requests[1]!.headers["session-id"]).toBe(child);
    // Everything the first request sent, its answer, then only the new prompt.
    const firstInput = mock.requests[0]!.body.input as any[];
    expect(sent.input.slice(0, firstInput.length)).toEqual(firstInput);
    expect(messageTexts(sent, "assistant")).toEqual(["first answer"]);
    expect(sent.input.slice(firstInput.length + 1)).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "fork prompt" }] }]);

    // The source is untouched; the fork has its own file naming its source.
    expect(readFileSync(sourceFile!).equals(before)).toBe(true);
    const files = rollouts(home);
    expect(files).toHaveLength(2);
    const forkFile = files.find((f) => f.includes(child))!;
    const meta = JSON.parse(readFileSync(forkFile, "utf8").split("\n")[0]!);
    expect(meta).toMatchObject({ type: "session_meta", payload: { id: child, forked_from_id: parent } });

    // The parent goes on without the fork's turn, under its own id, with its own total.
    const again = await runOcx(["exec", "resume", parent, ...JSON_, "parent prompt"], { home, cwd: repo });
    expect(again.code).toBe(0);
    expect(threadId(again.events)).toBe(parent);
    const resumed = mock.requests[2]!.body;
    expect(messageTexts(resumed).some((t) => t.includes("fork prompt"))).toBe(false);
    expect(messageTexts(resumed, "assistant")).toEqual(["first answer"]);
    expect(again.events!.at(-1)).toMatchObject({ type: "turn.completed", usage: { input_tokens: 2000 } });
  }, T);

  test("--last forks the latest session here; human mode; the fork resumes with the copied history", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("one"), reply("two"), reply("three")]);
    const first = await runOcx(["exec", ...JSON_, "p1"], { home, cwd: repo });
    const fork = await runOcx(["exec", "fork", "--last", "p2"], { home, cwd: repo });
    expect(fork.code).toBe(0);
    expect(fork.stdout).toBe("two\n");
    const child = /session id: (\S+)/.exec(fork.stderr)![1]!;
    expect(child).not.toBe(threadId(first.events));
    // The fork is now the latest session here.
    const resumed = await runOcx(["exec", "resume", "--last", ...JSON_, "p3"], { home, cwd: repo });
    expect(resumed.code).toBe(0);
    expect(threadId(resumed.events)).toBe(child);
    expect(messageTexts(mock.requests[2]!.body, "assistant")).toEqual(["one", "two"]);
    expect(messageTexts(mock.requests[2]!.body).filter((t) => /^p\d$/.test(t))).toEqual(["p1", "p2", "p3"]);
  }, T);

  test("an unknown id or no session here is exit 3; no target is exit 2; neither sends a request", async () => {
    const { mock, home } = await setup([]);
    const unknown = await runOcx(["exec", "fork", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "p"], { home });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    const noLast = await runOcx(["exec", "fork", "--last", "p"], { home });
    expect(noLast.code).toBe(3);
    expect(noLast.stderr).toContain("No session to fork in");
    const none = await runOcx(["exec", "fork"], { home });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("needs a SESSION_ID");
    expect(mock.requests).toHaveLength(0);
  }, T);
});
