// apply_patch: parse and dry-run the whole patch in memory, check every target against the
// sandbox policy (for a clear refusal), then write file by file (each write atomic). A patch
// that fails verification writes nothing. Under read-only and workspace-write the writes happen
// in `ocx __patch-write`, a process confined exactly like a command, so a symlink that a command
// swaps in after the check cannot carry a write out of the writable roots or into .git: the
// kernel decides, not the check. Offered as a freeform tool with the Lark grammar (Responses
// API), as a JSON function for providers without custom tools, and reached from exec_command
// when a model writes `apply_patch <<'EOF'`. What a call does is in apply-patch-run.ts, loaded
// at the first call (the patch code and its diff library are not needed before a response).
import * as v from "valibot";
import { APPLY_PATCH_LARK_GRAMMAR } from "../patch/grammar.ts";
import { defineTool, type Tool, type ToolContext } from "./define-tool.ts";

const DESCRIPTION =
  "Edits files with a patch. This is a freeform tool: send the patch text itself, not JSON. " +
  "A patch starts with `*** Begin Patch` and ends with `*** End Patch`. In between, one section per file:\n" +
  "`*** Add File: PATH` followed by the new contents, every line prefixed with `+`;\n" +
  "`*** Delete File: PATH`;\n" +
  "`*** Update File: PATH`, optionally followed by `*** Move to: NEWPATH`, then one or more chunks. " +
  "A chunk starts with `@@` (optionally `@@ LINE` naming a line such as a function or class header " +
  "that comes before the change, to say where it is), then the lines of the change: ` ` (space) for " +
  "unchanged context, `-` for a removed line, `+` for an added line. Give about three lines of context " +
  "before and after each change, copied exactly. End a chunk that must match the end of the file with " +
  "`*** End of File`.\n" +
  "Paths are relative to the working directory (absolute paths work too). Nothing is written unless " +
  "every section applies.\n" +
  "Example:\n" +
  "*** Begin Patch\n*** Update File: src/app.py\n@@ def main():\n     args = parse()\n-    run(args)\n+    return run(args)\n" +
  "*** Add File: NOTES.md\n+Remember to update the docs.\n*** End Patch";


/** The freeform tool (Responses API): the call's input is the patch text. */
export const applyPatchCustomTool: Tool = {
  name: "apply_patch",
  spec: {
    type: "custom",
    name: "apply_patch",
    description: DESCRIPTION,
    format: { type: "grammar", syntax: "lark", definition: APPLY_PATCH_LARK_GRAMMAR },
  },
  run: (raw, ctx) => applyPatch(raw, ctx),
  // An edit runs alone: after every call before it in the response, before every call after it.
  kind: () => "exclusive",
};

/** The same tool as a JSON function `{input}` for providers that cannot take custom tools. */
export const applyPatchFunctionTool: Tool = defineTool({
  name: "apply_patch",
  description: DESCRIPTION.replace("This is a freeform tool: send the patch text itself, not JSON. ", "Pass the whole patch as `input`. "),
  parameters: () => v.object({ input: v.string() }),
  jsonSchema: {
    type: "object",
    properties: { input: { type: "string", description: "The entire patch, from *** Begin Patch to *** End Patch." } },
    required: ["input"],
    additionalProperties: false,
  },
  execute: (args, ctx) => applyPatch(args.input, ctx),
  kind: "exclusive",
});

/**
 * Applies `text` relative to `cwd` (the turn's directory unless a command's workdir says
 * otherwise) and returns what the model reads: the success summary or the exact failure.
 */
export async function applyPatch(text: string, ctx: ToolContext, cwd: string = ctx.cwd): Promise<string> {
  return (await import("./apply-patch-run.ts")).applyPatch(text, ctx, cwd);
}
