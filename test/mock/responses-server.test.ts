// Checks the mock Responses server on its own, with plain fetch.
import { afterEach, describe, expect, test } from "bun:test";
import {
  callOutput,
  dynamic,
  failed,
  functionCall,
  http,
  message,
  reasoning,
  reply,
  sse,
  startMockResponses,
  turn,
  usage,
  withCheck,
  type Mock,
} from "./responses-server.ts";

let mock: Mock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const post = (m: Mock, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${m.url}/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-x", ...headers },
    body: JSON.stringify(body),
  });

/** Splits an SSE body into {event, data} frames and checks the framing on the way. */
function frames(text: string): { event: string; data: any }[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((block) => {
      const lines = block.split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toStartWith("event: ");
      expect(lines[1]).toStartWith("data: ");
      const event = lines[0]!.slice("event: ".length);
      const data = JSON.parse(lines[1]!.slice("data: ".length));
      expect(data.type).toBe(event);
      return { event, data };
    });
}

describe("mock Responses server", () => {
  test("SSE framing and a realistic event sequence", async () => {
    mock = await startMockResponses([sse(turn([reasoning("Plan"), message("Hello there"), functionCall("exec_command", { cmd: "ls" }, "call_1")], usage(200, 14, 40, 6)))]);
    const res = await post(mock, { input: [] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const evs = frames(await res.text());
    const types = evs.map((e) => e.event);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_text.delta");
    expect(types).toContain("response.reasoning_summary_text.delta");
    expect(types).toContain("response.function_call_arguments.delta");
    expect(evs.map((e) => e.data.sequence_number)).toEqual(evs.map((_, i) => i));

    const done = evs.filter((e) => e.event === "response.output_item.done").map((e) => e.data.item);
    expect(done.map((i) => i.type)).toEqual(["reasoning", "message", "function_call"]);
    expect(done[0].encrypted_content).toBeString();
    expect(done[1].content[0].text).toBe("Hello there");
    expect(done[2]).toMatchObject({ call_id: "call_1", name: "exec_command", arguments: '{"cmd":"ls"}' });
    const text = evs.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta).join("");
    expect(text).toBe("Hello there");

    const completed = evs.at(-1)!.data.response;
    expect(completed.status).toBe("completed");
    expect(completed.usage).toEqual({
      input_tokens: 200,
      input_tokens_details: { cached_tokens: 40 },
      output_tokens: 14,
      output_tokens_details: { reasoning_tokens: 6 },
      total_tokens: 214,
    });
  });

  test("records requests with lowercased headers and parsed bodies", async () => {
    mock = await startMockResponses([reply("a"), reply("b")]);
    await (await post(mock, { model: "gpt-5.5", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }] }, { "X-Custom": "Yes" })).text();
    await (await post(mock, { n: 2 })).text();
    expect(mock.requests).toHaveLength(2);
    const [r0, r1] = mock.requests;
    expect(r0).toMatchObject({ method: "POST", path: "/v1/responses" });
    expect(r0!.headers["x-custom"]).toBe("Yes");
    expect(r0!.headers.authorization).toBe("Bearer sk-x");
    expect(r0!.body.model).toBe("gpt-5.5");
    expect(r1!.body).toEqual({ n: 2 });
    expect(r1!.at).toBeGreaterThanOrEqual(r0!.at);
  });

  test("exhausted script answers 500; other routes 404", async () => {
    mock = await startMockResponses([]);
    const res = await post(mock, {});
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: "mock: no scripted response left" } });
    const other = await fetch(`${mock.url}/models`);
    expect(other.status).toBe(404);
    expect(mock.requests).toHaveLength(1);
    expect(mock.otherRequests.map((r) => r.path)).toEqual(["/v1/models"]);
  });

  test("http steps carry status, body and headers; push appends", async () => {
    mock = await startMockResponses([http(429, { error: { message: "slow" } }, { "retry-after": "1" })]);
    mock.push(http(400, "plain text body"));
    const a = await post(mock, {});
    expect(a.status).toBe(429);
    expect(a.headers.get("retry-after")).toBe("1");
    expect(await a.json()).toEqual({ error: { message: "slow" } });
    const b = await post(mock, {});
    expect(b.status).toBe(400);
    expect(await b.text()).toBe("plain text body");
  });

  test("disconnect drops response.completed and ends the stream", async () => {
    mock = await startMockResponses([sse(turn([reasoning("r")]), { disconnect: true })]);
    const evs = frames(await (await post(mock, {})).text());
    expect(evs.map((e) => e.event)).not.toContain("response.completed");
    expect(evs.map((e) => e.event)).toContain("response.output_item.done");
  });

  test('disconnect "abort" resets the connection after the events', async () => {
    mock = await startMockResponses([sse(turn([reasoning("r")]), { disconnect: "abort" })]);
    const res = await post(mock, {});
    const reader = res.body!.getReader();
    let received = "";
    let error: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += new TextDecoder().decode(value);
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    expect(received).toContain("response.output_item.done");
    expect(received).not.toContain("response.completed");
  });

  test("hang keeps the stream open until close()", async () => {
    mock = await startMockResponses([sse(turn([message("x")]), { hang: true })]);
    const res = await post(mock, {});
    const reader = res.body!.getReader();
    let received = "";
    while (!received.includes("response.completed")) received += new TextDecoder().decode((await reader.read()).value);
    const pending = reader.read().then(
      (r) => (r.done ? "done" : "data"),
      () => "error",
    );
    expect(await Promise.race([pending, Bun.sleep(200).then(() => "still open")])).toBe("still open");
    await mock.close();
    expect(["done", "error"]).toContain(await pending);
  });

  test("delayMs spaces the events out", async () => {
    mock = await startMockResponses([sse(failed("server_error", "x"), { delayMs: 100 })]);
    const t0 = performance.now();
    const evs = frames(await (await post(mock, {})).text());
    expect(evs.map((e) => e.event)).toEqual(["response.created", "response.failed"]);
    expect(evs[1]!.data.response.error).toEqual({ code: "server_error", message: "x" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
  });

  test("check hooks and dynamic steps see the request", async () => {
    mock = await startMockResponses([
      withCheck(reply("ok"), (req) => {
        if (req.body.model !== "gpt-5.5") throw new Error("wrong model");
      }),
      dynamic((req) => reply(`saw ${callOutput(req.body, "c1")}`)),
    ]);
    const bad = await post(mock, { model: "other" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("mock check failed: wrong model");
    expect(mock.checkErrors.map((e) => e.message)).toEqual(["wrong model"]);
    const res = await post(mock, { input: [{ type: "function_call_output", call_id: "c1", output: "out!" }] });
    const done = frames(await res.text()).find((e) => e.event === "response.output_item.done")!;
    expect(done.data.item.content[0].text).toBe("saw out!");
  });

  test("waitForRequests resolves on arrival", async () => {
    mock = await startMockResponses([reply("a")]);
    const waiting = mock.waitForRequests(1, 5_000);
    await (await post(mock, {})).text();
    expect(await waiting).toHaveLength(1);
  });
});
