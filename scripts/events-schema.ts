// The JSON Schema of one `ocx exec --json` line, generated from the valibot definitions in
// src/core/events.ts. `npm run schema` writes schema/events.schema.json; a unit test regenerates
// it and compares, so the checked-in file cannot drift from the code.
import { toJsonSchema } from "@valibot/to-json-schema";
import { ThreadEvent } from "../src/core/events.ts";

export const SCHEMA_PATH = "schema/events.schema.json";

/** The schema as the checked-in file holds it (pretty-printed, trailing newline). */
export function eventsSchemaText(): string {
  const { $schema, ...rest } = toJsonSchema(ThreadEvent, { target: "draft-2020-12", errorMode: "throw" });
  const schema = {
    $schema,
    title: "ocx exec --json event",
    description: "One line of `ocx exec --json` output. Generated from src/core/events.ts by `npm run schema`; do not edit.",
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.main) {
  await Bun.write(SCHEMA_PATH, eventsSchemaText());
  console.error(`schema: wrote ${SCHEMA_PATH}`);
}
