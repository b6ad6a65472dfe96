// --output-schema: strict copy in the request, the final answer checked against the user's
// schema, one correction, then failure.
import { afterAll, describe, expect, test } from "bun:test";
import { chat } from "../mock/chat.ts";
import { messageTexts, reply, startMockResponses } from "../mock/responses-server.ts";
import { cleanupTemp, join, makeDir, readFileSync, runOcx, useMockServers, writeFileSync } from "./harness.ts";

afterAll(cleanupTemp);
const setup = useMockServers();

const schemaFile = (schema: unknown) => {
  const f = join(makeDir("schema-"), "schema.json");
  writeFileSync(f, typeof schema === "string" ? schema : JSON.stringify(schema));
  return f;
};
const STRICT = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false };
const LOOSE = { type: "object", properties: { title: { type: "string" }, tags: { type: "array", items: { type: "string" } } }, required: ["title"] };

describe("--output-schema", () => {
  test("a strict schema is sent as it is, and a matching answer passes", async () => {
    const { mock, home } = await setup([reply('{"ok":true}')]);
    const r = await runOcx(["exec", "--json", "--output-schema", schemaFile(STRICT), "check"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.body.text.format).toEqual({ type: "json_schema", strict: true, schema: STRICT, name: "codex_output_schema" });
  });

  test("a loose schema is normalised for the request; an answer valid against the original passes", async () => {
    const { mock, home } = await setup([reply('{"title":"hello"}')]);
    const r = await runOcx(["exec", "--output-schema", schemaFile(LOOSE), "name it"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('{"title":"hello"}');
    expect(mock.requests[0]!.body.text.format.schema).toEqual({
      type: "object",
      properties: { title: { type: "string" }, tags: { type: ["array", "null"], items: { type: "string" } } },
      required: ["title", "tags"],
      additionalProperties: false,
    });
  });

  test("a wrong answer is corrected on the second try; the correction request lists the problem", async () => {
    const { mock, home } = await setup([reply('{"tags":["x"]}'), reply('{"title":"fixed"}')]);
    const out = join(makeDir(), "last.json");
    const r = await runOcx(["exec", "--json", "--output-schema", schemaFile(LOOSE), "-o", out, "name it"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests.length).toBe(2);
    const correction = messageTexts(mock.requests[1]!.body).at(-1)!;
    expect(correction).toContain("title");
    expect(r.events!.at(-1).type).toBe("turn.completed");
    expect(readFileSync(out, "utf8")).toBe('{"title":"fixed"}');
    expect(r.stderr).toContain("does not match the output schema");
  });

  test("wrong twice: exit 1, turn.failed with code output_schema", async () => {
    const { mock, home } = await setup([reply("not json at all"), reply('{"title": 5}')]);
    const r = await runOcx(["exec", "--json", "--output-schema", schemaFile(LOOSE), "name it"], { home });
    expect(r.code).toBe(1);
    expect(mock.requests.length).toBe(2);
    const failed = r.events!.at(-1);
    expect(failed.type).toBe("turn.failed");
    expect(failed.error.code).toBe("output_schema");
    expect(failed.error.message).toContain("/title");
  });

  test("unreadable, non-JSON and invalid schemas are exit 3 before any request", async () => {
    const { mock, home } = await setup([]);
    for (const [file, words] of [
      [join(makeDir(), "missing.json"), "Failed to read output schema file"],
      [schemaFile("{nope"), "is not valid JSON"],
      [schemaFile({ type: "object", properties: { a: { type: 12 } } }), "is not a valid JSON Schema"],
      [schemaFile({ type: "array" }), "object"],
    ] as const) {
      const r = await runOcx(["exec", "--output-schema", file, "x"], { home });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(words);
    }
    expect(mock.requests.length).toBe(0);
  });

  test("Chat Completions: the schema goes as response_format", async () => {
    const mock = await startMockResponses([chat({ text: '{"ok":false}' })]);
    try {
      const home = makeDir("home-");
      writeFileSync(join(home, "config.toml"), `model_provider = "c"\n[model_providers.c]\nbase_url = "${mock.url}"\nwire_api = "chat"\n`);
      const r = await runOcx(["exec", "--output-schema", schemaFile(STRICT), "x"], { home, env: { CODEX_API_KEY: undefined } });
      expect(r.code).toBe(0);
      expect(mock.requests[0]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "codex_output_schema", schema: STRICT, strict: true } });
    } finally {
      await mock.close();
    }
  });
});
