// `ocx exec --output-schema FILE`: the user's JSON Schema for the final answer.
// The model API's strict structured output accepts only a subset (every object closed with
// `additionalProperties: false`, every property listed in `required`, optional ones nullable), so
// the request carries a normalised copy while the final message is checked locally against the
// user's ORIGINAL schema with @cfworker/json-schema.
// That library neither reads `$schema` nor checks the schema itself: both happen here.
import { Validator, dereference, type Schema, type SchemaDraft, type OutputUnit } from "@cfworker/json-schema";
import { OcxError, describeError } from "../errors.ts";

export type { SchemaDraft };
type JsonObject = Record<string, unknown>;

export interface ParsedOutputSchema {
  /** The schema as the user wrote it: the final answer is validated against this one. */
  schema: JsonObject;
  /** The strict-mode copy sent to the model. */
  strict: JsonObject;
  /** True when the user's schema was already in strict form (normalisation changed nothing). */
  wasStrict: boolean;
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function parseOutputSchema(text: string, file: string): ParsedOutputSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new OcxError("config", `Output schema file ${file} is not valid JSON: ${describeError(e)}`);
  }
  const rootHint = `the root must be a JSON object schema with "type": "object" (the model API requires an object at the root)`;
  if (!isObject(schema)) throw new OcxError("config", `Output schema file ${file} is not usable: ${rootHint}`);
  const draft = schemaDraft(schema, file);
  const invalid = (reason: string) =>
    new OcxError("config", `Output schema file ${file} is not a valid JSON Schema: ${reason}`);
  const problem = checkSchema(schema, draft);
  if (problem) throw invalid(problem);
  try {
    checkRefs(schema, draft);
  } catch (e) {
    throw invalid(describeError(e).split("\n")[0]!);
  }
  if (schema.type !== "object") throw new OcxError("config", `Output schema file ${file} is not usable: ${rootHint}`);
  const strict = normaliseStrict(schema);
  return { schema, strict, wasStrict: deepEqual(schema, strict) };
}

// ---------------------------------------------------------------------------------------------
// Drafts

const DRAFTS: Record<string, SchemaDraft> = {
  "json-schema.org/draft-04/schema": "4",
  // Draft 7 only adds keywords to draft 6, so a draft-06 schema validates the same way.
  "json-schema.org/draft-06/schema": "7",
  "json-schema.org/draft-07/schema": "7",
  "json-schema.org/draft/2019-09/schema": "2019-09",
  "json-schema.org/draft/2020-12/schema": "2020-12",
};

/**
 * The validator draft for a schema, from its `$schema` (default 2020-12).
 * An unknown `$schema` is a config error (naming `file` when given).
 */
export function schemaDraft(schema: JsonObject, file?: string): SchemaDraft {
  const id = schema.$schema;
  if (id === undefined) return "2020-12";
  const key = typeof id === "string" ? id.trim().replace(/^https?:\/\//, "").replace(/#$/, "") : undefined;
  const draft = key === undefined ? undefined : DRAFTS[key];
  if (draft) return draft;
  const where = file ? `Output schema file ${file}` : "The output schema";
  throw new OcxError(
    "config",
    `${where} uses an unsupported $schema ${JSON.stringify(id)}: use draft-04, draft-07, 2019-09 or 2020-12, or remove "$schema" (default 2020-12)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Checking the schema itself (the validator takes any object and ignores what it does not know)

const TYPES = new Set(["array", "boolean", "integer", "null", "number", "object", "string"]);
const SCHEMA_KEYWORDS = [
  "not", "if", "then", "else", "additionalProperties", "unevaluatedProperties", "propertyNames",
  "additionalItems", "unevaluatedItems", "contains",
] as const;
const SCHEMA_ARRAY_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"] as const;
const COUNT_KEYWORDS = [
  "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains",
] as const;

const pointer = (path: string[]): string =>
  "/" + path.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/** The first structural problem in the schema, as `<pointer>: <what is wrong>`, or undefined. */
function checkSchema(root: unknown, draft: SchemaDraft): string | undefined {
  const visit = (s: unknown, path: string[]): string | undefined => {
    const at = (key: string, ...rest: string[]) => pointer([...path, key, ...rest]);
    if (typeof s === "boolean") return undefined;
    if (!isObject(s)) return `${pointer(path)} must be a schema (an object or true/false), got ${show(s)}`;

    const type = s.type;
    if (type !== undefined) {
      const names = Array.isArray(type) ? type : [type];
      const bad = names.find((t) => typeof t !== "string" || !TYPES.has(t));
      if (bad !== undefined || names.length === 0)
        return `${at("type")} must be one of ${[...TYPES].join(", ")} (or a list of them), got ${show(bad ?? type)}`;
    }
    if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((r) => typeof r !== "string")))
      return `${at("required")} must be a list of property names, got ${show(s.required)}`;
    if (s.enum !== undefined && !Array.isArray(s.enum)) return `${at("enum")} must be a list, got ${show(s.enum)}`;
    if (s.$ref !== undefined && typeof s.$ref !== "string") return `${at("$ref")} must be a string, got ${show(s.$ref)}`;
    if (s.format !== undefined && typeof s.format !== "string")
      return `${at("format")} must be a string, got ${show(s.format)}`;
    if (s.pattern !== undefined) {
      const bad = badPattern(s.pattern);
      if (bad) return `${at("pattern")} ${bad}`;
    }
    for (const k of COUNT_KEYWORDS) {
      const n = s[k];
      if (n !== undefined && !(typeof n === "number" && Number.isInteger(n) && n >= 0))
        return `${at(k)} must be a whole number >= 0, got ${show(n)}`;
    }
    for (const k of ["minimum", "maximum", "multipleOf"] as const) {
      const n = s[k];
      if (n !== undefined && typeof n !== "number") return `${at(k)} must be a number, got ${show(n)}`;
    }
    if (typeof s.multipleOf === "number" && !(s.multipleOf > 0)) return `${at("multipleOf")} must be greater than 0`;
    for (const k of ["exclusiveMinimum", "exclusiveMaximum"] as const) {
      const n = s[k];
      const ok = draft === "4" ? typeof n === "boolean" : typeof n === "number";
      if (n !== undefined && !ok) return `${at(k)} must be a ${draft === "4" ? "boolean in draft-04" : "number"}, got ${show(n)}`;
    }
    if (s.uniqueItems !== undefined && typeof s.uniqueItems !== "boolean")
      return `${at("uniqueItems")} must be true or false, got ${show(s.uniqueItems)}`;

    for (const k of SCHEMA_KEYWORDS) {
      if (s[k] === undefined) continue;
      const bad = visit(s[k], [...path, k]);
      if (bad) return bad;
    }
    if (s.items !== undefined) {
      const list = Array.isArray(s.items) ? s.items : undefined;
      const bad = list
        ? list.map((x, i) => visit(x, [...path, "items", String(i)])).find(Boolean)
        : visit(s.items, [...path, "items"]);
      if (bad) return bad;
    }
    for (const k of SCHEMA_ARRAY_KEYWORDS) {
      const list = s[k];
      if (list === undefined) continue;
      if (!Array.isArray(list) || (list.length === 0 && k !== "prefixItems"))
        return `${at(k)} must be a non-empty list of schemas, got ${show(list)}`;
      const bad = list.map((x, i) => visit(x, [...path, k, String(i)])).find(Boolean);
      if (bad) return bad;
    }
    for (const k of SCHEMA_MAP_KEYWORDS) {
      const map = s[k];
      if (map === undefined) continue;
      if (!isObject(map)) return `${at(k)} must be an object of schemas, got ${show(map)}`;
      for (const [name, sub] of Object.entries(map)) {
        if (k === "patternProperties") {
          const bad = badPattern(name);
          if (bad) return `${at(k, name)}: the property pattern ${bad}`;
        }
        const bad = visit(sub, [...path, k, name]);
        if (bad) return bad;
      }
    }
    return undefined;
  };
  return visit(root, []);
}

function badPattern(p: unknown): string | undefined {
  if (typeof p !== "string") return `must be a string, got ${show(p)}`;
  try {
    new RegExp(p, "u");
    return undefined;
  } catch (e) {
    return `is not a valid regular expression: ${describeError(e)}`;
  }
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Keywords holding instance data, not schemas. */
const DATA_KEYWORDS = new Set(["enum", "const", "default", "examples"]);

/**
 * Builds the validator and resolves every `$ref` the way it will at validation time (the
 * validator only resolves a `$ref` when an answer reaches it, so a dangling one would surface
 * as a crash on the model's answer instead of a config error now).
 */
function checkRefs(schema: JsonObject, draft: SchemaDraft): void {
  const copy = clone(schema) as Schema;
  new Validator(copy, draft, false);
  const lookup = dereference(copy);
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node !== "object" || node === null || seen.has(node)) return;
    seen.add(node);
    const abs = (node as { __absolute_ref__?: string }).__absolute_ref__;
    const ref = Array.isArray(node) ? undefined : (node as JsonObject).$ref;
    if (typeof ref === "string" && abs !== undefined && !(abs in lookup))
      throw new Error(`${pointer([...path, "$ref"])}: ${JSON.stringify(ref)} does not resolve to a schema in this file`);
    for (const [k, v] of Object.entries(node)) if (!DATA_KEYWORDS.has(k)) walk(v, [...path, k]);
  };
  walk(copy, []);
}

// ---------------------------------------------------------------------------------------------
// Strict form for the request

/**
 * A strict-mode copy of `schema`: every object schema (type "object" or with `properties`) in
 * `properties`, `$defs`/`definitions`, `items`, `prefixItems`, `anyOf`/`oneOf`/`allOf` and a schema
 * `additionalProperties` gets `additionalProperties: false` and `required` = all its properties;
 * a property that was optional becomes nullable. Everything else is kept. The input is not changed.
 */
export function normaliseStrict(schema: JsonObject): JsonObject {
  return strictNode(clone(schema)) as JsonObject;
}

function isObjectSchema(s: JsonObject): boolean {
  return s.type === "object" || (Array.isArray(s.type) && s.type.includes("object")) || isObject(s.properties);
}

/** Normalises `s` (a fresh copy) in place and returns it. */
function strictNode(s: unknown): unknown {
  if (!isObject(s)) return s;
  for (const k of ["$defs", "definitions"] as const) {
    const map = s[k];
    if (isObject(map)) for (const name of Object.keys(map)) map[name] = strictNode(map[name]);
  }
  if (Array.isArray(s.items)) s.items = s.items.map(strictNode);
  else if (s.items !== undefined) s.items = strictNode(s.items);
  for (const k of ["prefixItems", "anyOf", "oneOf", "allOf"] as const) {
    const list = s[k];
    if (Array.isArray(list)) s[k] = list.map(strictNode);
  }
  if (isObject(s.additionalProperties)) s.additionalProperties = strictNode(s.additionalProperties);

  const props = isObject(s.properties) ? s.properties : undefined;
  if (props) {
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    for (const name of Object.keys(props)) {
      const sub = strictNode(props[name]);
      props[name] = required.has(name) ? sub : nullable(sub);
    }
  }
  if (isObjectSchema(s)) {
    s.additionalProperties = false;
    s.required = props ? Object.keys(props) : [];
  }
  return s;
}

/** Keywords that can reject null whatever `type` says: these need the anyOf wrapper. */
const APPLIES_TO_NULL = ["const", "$ref", "anyOf", "oneOf", "allOf", "not", "if"] as const;

function nullable(s: unknown): unknown {
  if (s === true) return s;
  if (!isObject(s)) return { anyOf: [s, { type: "null" }] };
  if (Array.isArray(s.anyOf) && s.anyOf.some((b) => isObject(b) && b.type === "null" && Object.keys(b).length === 1))
    return s;
  const typeForm = s.type !== undefined && !APPLIES_TO_NULL.some((k) => s[k] !== undefined);
  if (!typeForm) return { anyOf: [s, { type: "null" }] };
  if (typeof s.type === "string") {
    if (s.type !== "null") s.type = [s.type, "null"];
  } else if (Array.isArray(s.type) && !s.type.includes("null")) {
    s.type = [...s.type, "null"];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
  return s;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObject(a) || !isObject(b) || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
}

// ---------------------------------------------------------------------------------------------
// Checking the final answer

export type AnswerCheck = { ok: true; value: unknown } | { ok: false; errors: string[] };

const MAX_ERRORS = 10;

/**
 * Parses the final message as JSON and validates it against the user's ORIGINAL schema.
 * A Markdown code fence is refused: the answer must be the bare JSON value.
 */
export function validateAnswer(schema: JsonObject, draft: SchemaDraft, text: string): AnswerCheck {
  const trimmed = text.trim();
  if (trimmed.startsWith("```"))
    return { ok: false, errors: ["not JSON: the answer is wrapped in a Markdown code fence; send the bare JSON value"] };
  if (trimmed === "") return { ok: false, errors: ["not JSON: the answer is empty"] };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (e) {
    return { ok: false, errors: [`not JSON: ${describeError(e)}`] };
  }
  let units: OutputUnit[];
  try {
    const result = new Validator(clone(schema) as Schema, draft, false).validate(value);
    if (result.valid) return { ok: true, value };
    units = result.errors;
  } catch (e) {
    throw new OcxError("config", `The output schema is not a valid JSON Schema: ${describeError(e).split("\n")[0]}`);
  }
  const lines = [...new Set(describeUnits(units))];
  if (lines.length === 0) lines.push("/: does not match the schema");
  if (lines.length > MAX_ERRORS) {
    const rest = lines.length - (MAX_ERRORS - 1);
    lines.splice(MAX_ERRORS - 1, lines.length, `... and ${rest} more problems`);
  }
  return { ok: false, errors: lines };
}

/** Errors that only say "a part below failed": the part below reports the reason itself. */
const CONTAINERS = new Set([
  "$ref", "$recursiveRef", "properties", "patternProperties", "additionalProperties", "unevaluatedProperties",
  "items", "prefixItems", "additionalItems", "unevaluatedItems", "allOf", "dependentSchemas",
]);

function describeUnits(units: OutputUnit[]): string[] {
  const lines: string[] = [];
  // Branch details of a failed anyOf/oneOf are noise: the summary line stands for them.
  const branches: string[] = [];
  for (const u of units) {
    if (branches.some((b) => u.keywordLocation.startsWith(b))) continue;
    if (u.keyword === "anyOf" || u.keyword === "oneOf") branches.push(`${u.keywordLocation}/`);
    if (CONTAINERS.has(u.keyword)) continue;
    lines.push(`${instancePath(u.instanceLocation)}: ${unitMessage(u)}`);
  }
  return lines;
}

function instancePath(location: string): string {
  const p = location.replace(/^#/, "");
  return p === "" ? "/" : p;
}

function unitMessage(u: OutputUnit): string {
  let m: RegExpMatchArray | null;
  switch (u.keyword) {
    case "false":
      return "not allowed by the schema";
    case "required":
      if ((m = u.error.match(/required property "(.*)"\.$/))) return `missing required property "${m[1]}"`;
      break;
    case "type":
      if ((m = u.error.match(/^Instance type "(.*)" is invalid\. Expected (.*)\.$/)))
        return `expected type ${m[2]!.replaceAll('"', "").replaceAll(",", " or")}, got ${m[1]}`;
      break;
    case "enum":
      if ((m = u.error.match(/match any of (.*)\.$/))) return `must be one of ${m[1]}`;
      break;
    case "const":
      if ((m = u.error.match(/does not match (.*)\.$/))) return `must be ${m[1]}`;
      break;
    case "anyOf":
      return "does not match any of the allowed alternatives";
  }
  return u.error.replace(/\.$/, "");
}

/** The follow-up user message after an answer failed validation. */
export function correctionPrompt(errors: string[]): string {
  return [
    "Your final answer does not satisfy the required output JSON Schema:",
    ...errors.map((e) => `- ${e}`),
    "Reply again with only a single JSON value that matches the schema: no explanation and no Markdown code fence.",
  ].join("\n");
}
