import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Validator, type Schema } from "@cfworker/json-schema";
import { OcxError } from "../../src/core/errors.ts";
import {
  correctionPrompt,
  normaliseStrict,
  parseOutputSchema,
  schemaDraft,
  validateAnswer,
} from "../../src/core/run/output-schema.ts";

type Json = Record<string, unknown>;

/** The OcxError thrown by `fn` (fails the test when it does not throw one). */
function ocxError(fn: () => unknown): OcxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OcxError);
    return e as OcxError;
  }
  throw new Error("expected an OcxError, nothing was thrown");
}

const configError = (text: string, file = "schemas/answer.json") => {
  const e = ocxError(() => parseOutputSchema(text, file));
  expect(e.kind).toBe("config");
  expect(e.exitCode).toBe(3);
  expect(e.message).toContain(file);
  expect(e.message).not.toContain("\n");
  return e.message;
};

describe("parseOutputSchema / normaliseStrict", () => {
  test("an already strict schema passes through unchanged", () => {
    const strictSchema = {
      type: "object",
      properties: {
        name: { type: "string", description: "who" },
        tags: { type: "array", items: { type: "string" } },
        owner: {
          anyOf: [
            { type: "object", properties: { id: { type: "integer" } }, required: ["id"], additionalProperties: false },
            { type: "null" },
          ],
        },
        size: { type: ["number", "null"] },
      },
      required: ["name", "tags", "owner", "size"],
      additionalProperties: false,
    };
    const parsed = parseOutputSchema(JSON.stringify(strictSchema), "s.json");
    expect(parsed.wasStrict).toBe(true);
    expect(parsed.strict).toEqual(strictSchema);
    expect(parsed.schema).toEqual(strictSchema);
  });

  const loose = {
    type: "object",
    properties: {
      title: { type: "string" },
      note: { type: "string", description: "optional" },
      score: { type: ["integer", "number"] },
      kind: { type: "string", enum: ["bug", "feature"] },
      mood: { enum: ["happy", "sad"] },
      author: { $ref: "#/$defs/person" },
      meta: {
        type: "object",
        properties: { created: { type: "string" }, draft: { type: "boolean" } },
        required: ["created"],
      },
      items: {
        type: "array",
        items: { type: "object", properties: { id: { type: "integer" }, label: { type: "string" } }, required: ["id"] },
      },
    },
    required: ["title", "items"],
    $defs: {
      person: { type: "object", properties: { login: { type: "string" }, email: { type: "string" } }, required: ["login"] },
    },
  };

  const expectedStrict = {
    type: "object",
    properties: {
      title: { type: "string" },
      note: { type: ["string", "null"], description: "optional" },
      score: { type: ["integer", "number", "null"] },
      kind: { type: ["string", "null"], enum: ["bug", "feature", null] },
      mood: { anyOf: [{ enum: ["happy", "sad"] }, { type: "null" }] },
      author: { anyOf: [{ $ref: "#/$defs/person" }, { type: "null" }] },
      meta: {
        type: ["object", "null"],
        properties: { created: { type: "string" }, draft: { type: ["boolean", "null"] } },
        required: ["created", "draft"],
        additionalProperties: false,
      },
      items: {
        type: "array",
        items: {
          type: "object",
          properties: { id: { type: "integer" }, label: { type: ["string", "null"] } },
          required: ["id", "label"],
          additionalProperties: false,
        },
      },
    },
    required: ["title", "note", "score", "kind", "mood", "author", "meta", "items"],
    $defs: {
      person: {
        type: "object",
        properties: { login: { type: "string" }, email: { type: ["string", "null"] } },
        required: ["login", "email"],
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  };

  test("a loose schema is normalised to strict form", () => {
    const parsed = parseOutputSchema(JSON.stringify(loose), "loose.json");
    expect(parsed.wasStrict).toBe(false);
    expect(parsed.strict).toEqual(expectedStrict);
    // Key order of `required` follows `properties`.
    expect(parsed.strict.required).toEqual(Object.keys(loose.properties));
    expect(parsed.schema).toEqual(loose);
  });

  test("normaliseStrict does not mutate its input", () => {
    const input = structuredClone(loose);
    const out = normaliseStrict(input);
    expect(input).toEqual(loose);
    expect(out).toEqual(expectedStrict);
    expect(out.$defs).not.toBe(input.$defs);
  });

  test("the other positions: prefixItems, oneOf/allOf, a schema additionalProperties, definitions, type lists", () => {
    const out = normaliseStrict({
      type: "object",
      properties: {
        pair: { type: "array", prefixItems: [{ type: "object", properties: { a: { type: "string" } } }] },
        either: { oneOf: [{ type: "object", properties: { b: { type: "null" } } }], allOf: [{ properties: {} }] },
        typed: { type: ["object", "null"], properties: { c: { const: 1, type: "integer" } } },
      },
      required: ["pair", "either", "typed"],
      additionalProperties: { properties: { d: { type: "string" } } },
      definitions: {
        x: { type: "object" },
        y: { additionalProperties: { type: "object", properties: { e: { type: "string" } } } },
      },
    });
    expect(out).toEqual({
      type: "object",
      properties: {
        pair: {
          type: "array",
          prefixItems: [
            { type: "object", properties: { a: { type: ["string", "null"] } }, additionalProperties: false, required: ["a"] },
          ],
        },
        either: {
          oneOf: [{ type: "object", properties: { b: { type: "null" } }, additionalProperties: false, required: ["b"] }],
          allOf: [{ properties: {}, additionalProperties: false, required: [] }],
        },
        typed: {
          type: ["object", "null"],
          properties: { c: { anyOf: [{ const: 1, type: "integer" }, { type: "null" }] } },
          additionalProperties: false,
          required: ["c"],
        },
      },
      required: ["pair", "either", "typed"],
      additionalProperties: false,
      definitions: {
        x: { type: "object", additionalProperties: false, required: [] },
        y: {
          additionalProperties: {
            type: "object",
            properties: { e: { type: ["string", "null"] } },
            additionalProperties: false,
            required: ["e"],
          },
        },
      },
    });
  });

  test("an optional property that already accepts null is left alone", () => {
    const out = normaliseStrict({
      type: "object",
      properties: { a: { anyOf: [{ type: "string" }, { type: "null" }] }, b: { type: ["string", "null"] }, c: true },
    });
    expect(out.properties).toEqual({
      a: { anyOf: [{ type: "string" }, { type: "null" }] },
      b: { type: ["string", "null"] },
      c: true,
    });
  });

  test("invalid JSON is a config error naming the file", () => {
    expect(configError("{ nope", "bad.json")).toStartWith("Output schema file bad.json is not valid JSON: ");
  });

  test("a root that is not an object schema is a config error", () => {
    for (const text of ['{"type":"string"}', '{"type":"array","items":{}}', "[1]", "null", "{}"]) {
      expect(configError(text)).toContain('"type": "object"');
    }
  });

  test("an invalid schema is a config error naming the file and the place", () => {
    const cases: Array<[unknown, string]> = [
      [{ type: "object", properties: { a: { type: 12 } } }, "/properties/a/type"],
      [{ type: "object", properties: { a: { type: "strng" } } }, "/properties/a/type"],
      [{ type: "object", properties: { a: 5 } }, "/properties/a must be a schema"],
      [{ type: "object", required: "a" }, "/required"],
      [{ type: "object", properties: { a: { type: "string", pattern: "(" } } }, "/properties/a/pattern"],
      [{ type: "object", properties: { a: { $ref: "#/$defs/missing" } } }, "/properties/a/$ref"],
      [{ type: "object", properties: { a: { anyOf: [] } } }, "/properties/a/anyOf"],
      [{ type: "object", properties: { a: { type: "string", minLength: -1 } } }, "/properties/a/minLength"],
    ];
    for (const [schema, where] of cases) {
      const message = configError(JSON.stringify(schema), "x/out.json");
      expect(message).toStartWith("Output schema file x/out.json is not a valid JSON Schema: ");
      expect(message).toContain(where);
    }
  });

  test("the validator itself does not notice a bad type: the check above is what catches it", () => {
    const v = new Validator({ type: "object", properties: { a: { type: 12 } } } as unknown as Schema, "2020-12", false);
    expect(v.validate({}).valid).toBe(true);
  });

  test("$schema picks the draft; an unknown one is a config error", () => {
    expect(schemaDraft({})).toBe("2020-12");
    expect(schemaDraft({ $schema: "http://json-schema.org/draft-04/schema#" })).toBe("4");
    expect(schemaDraft({ $schema: "http://json-schema.org/draft-07/schema#" })).toBe("7");
    expect(schemaDraft({ $schema: "http://json-schema.org/draft-07/schema" })).toBe("7");
    expect(schemaDraft({ $schema: "https://json-schema.org/draft/2019-09/schema" })).toBe("2019-09");
    expect(schemaDraft({ $schema: "https://json-schema.org/draft/2020-12/schema" })).toBe("2020-12");
    for (const id of ["http://json-schema.org/draft-03/schema#", "https://example.com/my-schema", 7]) {
      const message = configError(JSON.stringify({ $schema: id, type: "object" }), "drafty.json");
      expect(message).toContain("unsupported $schema");
    }
  });
});

describe("validateAnswer", () => {
  const schema = {
    type: "object",
    properties: {
      summary: { type: "string" },
      count: { type: "integer" },
      details: { type: "object", properties: { ok: { type: "boolean" } }, additionalProperties: false },
    },
    required: ["summary", "count"],
  };

  test("a valid answer is accepted and parsed", () => {
    expect(validateAnswer(schema, "2020-12", '  {"summary":"done","count":2,"details":{"ok":true}}\n')).toEqual({
      ok: true,
      value: { summary: "done", count: 2, details: { ok: true } },
    });
  });

  test("a missing required field", () => {
    expect(validateAnswer(schema, "2020-12", '{"summary":"done"}')).toEqual({
      ok: false,
      errors: ['/: missing required property "count"'],
    });
  });

  test("a wrong type", () => {
    expect(validateAnswer(schema, "2020-12", '{"summary":"done","count":"two","details":{"ok":1}}')).toEqual({
      ok: false,
      errors: ["/count: expected type integer, got string", "/details/ok: expected type boolean, got number"],
    });
  });

  test("an extra property: fine where the original schema allows it, reported where it forbids it", () => {
    expect(validateAnswer(schema, "2020-12", '{"summary":"s","count":1,"extra":true}').ok).toBe(true);
    expect(validateAnswer(schema, "2020-12", '{"summary":"s","count":1,"details":{"ok":true,"why":"x"}}')).toEqual({
      ok: false,
      errors: ["/details/why: not allowed by the schema"],
    });
  });

  test("non-JSON text and fenced JSON are refused as not JSON", () => {
    const cases: Array<[string, string]> = [
      ["All done!", "not JSON: "],
      ["  \n", "not JSON: the answer is empty"],
      ['```json\n{"summary":"s","count":1}\n```', "not JSON: the answer is wrapped in a Markdown code fence"],
      ['\n```\n{"summary":"s","count":1}\n```', "not JSON: the answer is wrapped in a Markdown code fence"],
    ];
    for (const [text, start] of cases) {
      const r = validateAnswer(schema, "2020-12", text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toStartWith(start);
      }
    }
  });

  test("at most 10 lines", () => {
    const many = { type: "object", properties: Object.fromEntries([...Array(15)].map((_, i) => [`p${i}`, { type: "string" }])) };
    const answer = JSON.stringify(Object.fromEntries([...Array(15)].map((_, i) => [`p${i}`, i])));
    const r = validateAnswer(many, "2020-12", answer);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(10);
      expect(r.errors[0]).toBe("/p0: expected type string, got number");
      expect(r.errors[9]).toBe("... and 6 more problems");
    }
  });

  test("enum, const, anyOf and nested $ref errors read as one line each", () => {
    const s = {
      type: "object",
      properties: {
        level: { enum: ["low", "high"] },
        version: { const: 2 },
        id: { anyOf: [{ type: "string" }, { type: "integer" }] },
        who: { $ref: "#/$defs/who" },
      },
      $defs: { who: { type: "object", required: ["name"] } },
    };
    expect(validateAnswer(s, "2020-12", '{"level":"mid","version":3,"id":true,"who":{}}')).toEqual({
      ok: false,
      errors: [
        '/level: must be one of ["low","high"]',
        "/version: must be 2",
        "/id: does not match any of the allowed alternatives",
        '/who: missing required property "name"',
      ],
    });
  });

  test("a draft-07 schema with definitions", () => {
    const text = JSON.stringify({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { files: { type: "array", items: { $ref: "#/definitions/file" } } },
      required: ["files"],
      definitions: { file: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
    });
    const { schema: s, strict } = parseOutputSchema(text, "d7.json");
    const draft = schemaDraft(s);
    expect(draft).toBe("7");
    expect(strict.definitions).toEqual({
      file: { type: "object", properties: { path: { type: "string" } }, required: ["path"], additionalProperties: false },
    });
    expect(validateAnswer(s, draft, '{"files":[{"path":"a.ts"}]}').ok).toBe(true);
    expect(validateAnswer(s, draft, '{"files":[{"path":"a.ts"},{"name":"b"}]}')).toEqual({
      ok: false,
      errors: ['/files/1: missing required property "path"'],
    });
  });

  test("validation does not change the schema it is given", () => {
    const s = structuredClone(schema);
    validateAnswer(s, "2020-12", '{"summary":1}');
    expect(s).toEqual(schema);
    expect(Object.getOwnPropertyNames(s)).toEqual(Object.keys(schema));
  });

  test("correctionPrompt lists the problems and asks for bare JSON", () => {
    const prompt = correctionPrompt(['/: missing required property "count"', "/details/why: not allowed by the schema"]);
    expect(prompt).toContain('- /: missing required property "count"\n- /details/why: not allowed by the schema');
    expect(prompt).toContain("only a single JSON value that matches the schema");
    expect(prompt).toContain("no Markdown code fence");
  });
});

// ---------------------------------------------------------------------------------------------
// Property: filling omitted optional properties with null turns an answer to the loose schema
// into an answer to the strict schema.

type Loose =
  | { type: "string" }
  | { type: "integer" }
  | { type: "boolean" }
  | { enum: string[] }
  | { type: "string"; enum: string[] }
  | { type: "array"; items: Loose }
  | { type: "object"; properties: Record<string, Loose>; required: string[] };

const looseSchema: fc.Arbitrary<Loose> = fc.letrec<{ node: Loose }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant({ type: "string" as const }),
    fc.constant({ type: "integer" as const }),
    fc.constant({ type: "boolean" as const }),
    fc.uniqueArray(fc.constantFrom("a", "b", "c"), { minLength: 1 }).map((e) => ({ enum: e })),
    fc.uniqueArray(fc.constantFrom("x", "y"), { minLength: 1 }).map((e) => ({ type: "string" as const, enum: e })),
    tie("node").map((items) => ({ type: "array" as const, items })),
    fc
      .dictionary(fc.constantFrom("p", "q", "r", "s"), tie("node"), { maxKeys: 4 })
      .chain((properties) =>
        fc
          .subarray(Object.keys(properties))
          .map((required) => ({ type: "object" as const, properties, required })),
      ),
  ),
})).node;

/** A value of `s`, each optional property present or omitted at random. */
function valueOf(s: Loose): fc.Arbitrary<unknown> {
  if ("enum" in s) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case "string":
      return fc.string({ maxLength: 5 });
    case "integer":
      return fc.integer();
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(valueOf(s.items), { maxLength: 3 });
    case "object": {
      const entries = Object.entries(s.properties).map(([k, sub]) =>
        s.required.includes(k) ? valueOf(sub).map((v) => [k, v] as const) : fc.option(valueOf(sub).map((v) => [k, v] as const), { nil: undefined }),
      );
      return fc.tuple(...entries).map((kvs) => Object.fromEntries(kvs.filter((kv) => kv !== undefined)));
    }
  }
}

function fillNulls(s: Loose, v: unknown): unknown {
  if ("enum" in s) return v;
  if (s.type === "array") return (v as unknown[]).map((x) => fillNulls(s.items, x));
  if (s.type === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(s.properties).map(([k, sub]) => [k, k in o ? fillNulls(sub, o[k]) : null]));
  }
  return v;
}

test("property: an answer to the loose schema, optional props filled with null, satisfies the strict schema", () => {
  const root = looseSchema.chain((node) =>
    fc.constant({ type: "object" as const, properties: { root: node }, required: [] as string[] }),
  );
  fc.assert(
    fc.property(
      root.chain((s) => fc.tuple(fc.constant(s), valueOf(s))),
      ([s, value]) => {
        const original = s as unknown as Json;
        const strict = normaliseStrict(original);
        expect(new Validator(structuredClone(original) as Schema, "2020-12", false).validate(value).valid).toBe(true);
        const filled = fillNulls(s, value);
        const r = new Validator(strict as Schema, "2020-12", false).validate(filled);
        expect(r.errors).toEqual([]);
        // The strict schema is really strict: every object closed, every property required.
        const walk = (n: unknown): void => {
          if (typeof n !== "object" || n === null) return;
          const o = n as Json;
          if (o.type === "object" || (Array.isArray(o.type) && o.type.includes("object"))) {
            expect(o.additionalProperties).toBe(false);
            expect(o.required).toEqual(Object.keys(o.properties as Json));
          }
          Object.values(o).forEach(walk);
        };
        walk(strict);
      },
    ),
    { numRuns: 300 },
  );
});
