// Validates `ocx exec --json` lines against the checked-in schema/events.schema.json (shared by the
// e2e harness and the unit tests).
import { Validator } from "@cfworker/json-schema";
import { readFileSync } from "node:fs";

const schema = JSON.parse(readFileSync(new URL("../schema/events.schema.json", import.meta.url), "utf8"));
const validator = new Validator(schema, "2020-12", false);
// One validator per event type, so that a problem is reported against the branch the event claims.
const branches = new Map<string, Validator>(
  (schema.oneOf as Array<{ properties: { type: { const: string } } }>).map((b) => [b.properties.type.const, new Validator(b, "2020-12", false)]),
);

/** Empty when `event` is a valid event; otherwise one line naming the event and what is wrong. */
export function eventSchemaProblems(event: unknown): string[] {
  if (validator.validate(event).valid) return [];
  const type = (event as { type?: unknown } | null)?.type;
  const branch = typeof type === "string" ? branches.get(type) : undefined;
  const head = `event ${JSON.stringify(type ?? null)} does not match schema/events.schema.json`;
  if (!branch) return [`${head}: not an object with a known event type`];
  const details = branch
    .validate(event)
    .errors.filter((e) => !["oneOf", "anyOf", "properties", "items"].includes(e.keyword))
    .map((e) => `${e.instanceLocation}: ${e.error}`);
  return [`${head}: ${details.slice(0, 3).join("; ") || "no branch matches"}`];
}
