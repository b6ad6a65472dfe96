// apply_patch: parse and dry-run the whole patch in memory, check every target against the
// sandbox policy, then write file by file (each write atomic). A patch that fails verification
// writes nothing. Offered as a freeform tool with the Lark grammar (Responses API), as a JSON
// function for providers without custom tools, and reached from exec_command when a model
// writes `apply_patch <<'EOF'`.
import * as v from "valibot";
import { basename, dirname, resolve } from "pathe";
import { describeError } from "../errors.ts";
import type { FileChangeItem } from "../events.ts";
import {
  APPLY_PATCH_LARK_GRAMMAR,
  PatchError,
  parsePatch,
  planPatch,
  summarize,
  unifiedDiff,
  type FileOp,
} from "../patch/index.ts";
import type { Runtime } from "../runtime.ts";
import { writeDenial, type WriteDenial } from "../sandbox-policy.ts";
import { randomHex } from "../util/random.ts";
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

export const READ_ONLY_REJECTION =
  "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings";
export const OUTSIDE_REJECTION = "patch rejected: writing outside of the project; rejected by user approval settings";

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
};

/** The same tool as a JSON function `{input}` for providers that cannot take custom tools. */
export const applyPatchFunctionTool: Tool = defineTool({
  name: "apply_patch",
  description: DESCRIPTION.replace("This is a freeform tool: send the patch text itself, not JSON. ", "Pass the whole patch as `input`. "),
  parameters: v.object({ input: v.string() }),
  jsonSchema: {
    type: "object",
    properties: { input: { type: "string", description: "The entire patch, from *** Begin Patch to *** End Patch." } },
    required: ["input"],
    additionalProperties: false,
  },
  execute: (args, ctx) => applyPatch(args.input, ctx),
});

/**
 * What exists at a path before the patch: a file's text (null when it is not UTF-8: it can be
 * overwritten by Add File, not updated or deleted), a directory, or nothing.
 */
type Before = { kind: "file"; text: string | null; mode: number; real: string } | { kind: "dir" } | { kind: "none" };

/**
 * Applies `text` relative to `cwd` (the turn's directory unless a command's workdir says
 * otherwise) and returns what the model reads: the success summary or the exact failure.
 */
export async function applyPatch(text: string, ctx: ToolContext, cwd: string = ctx.cwd): Promise<string> {
  const t0 = ctx.runtime.monotonic();
  const verified = await verify(text, ctx.runtime, cwd);
  if (typeof verified === "string") return verified;
  const { ops, before } = verified;

  const denial = await checkSandbox(ctx, ops);
  if (denial) return denial;
  ctx.signal.throwIfAborted();

  const itemId = ctx.nextItemId();
  const changes = fileChanges(ops);
  const item = (status: FileChangeItem["status"]): FileChangeItem => ({ id: itemId, type: "file_change", changes, status });
  ctx.itemStarted(item("in_progress"));
  const written: string[] = [];
  for (const op of ops) {
    try {
      await writeOp(ctx.runtime, op, before);
    } catch (e) {
      ctx.itemCompleted(item("failed"));
      const done = written.length === 0 ? "nothing was changed" : `already changed: ${written.join(", ")}`;
      return `apply_patch failed while writing ${op.kind === "update" ? (op.movePath ?? op.path) : op.path}: ${describeError(e)} (${done})`;
    }
    written.push(op.patchPath);
  }
  ctx.detail(itemId, { kind: "diff", text: () => unifiedDiff(ops, (p) => textOf(before.get(p))) });
  ctx.itemCompleted(item("completed"));
  const seconds = ((ctx.runtime.monotonic() - t0) / 1000).toFixed(1);
  return `Exit code: 0\nWall time: ${seconds} seconds\nOutput:\n${summarize(ops)}`;
}

/** Parses and dry-runs the patch; returns the model-facing failure text when it does not apply. */
async function verify(
  text: string,
  runtime: Runtime,
  cwd: string,
): Promise<string | { ops: FileOp[]; before: Map<string, Before> }> {
  try {
    const hunks = parsePatch(text);
    const paths = new Set<string>();
    for (const h of hunks) {
      paths.add(resolve(cwd, h.path));
      if (h.kind === "update" && h.movePath !== null) paths.add(resolve(cwd, h.movePath));
    }
    const before = new Map<string, Before>();
    await Promise.all([...paths].map(async (p) => before.set(p, await readBefore(runtime, p))));
    const read = (p: string) => {
      const b = before.get(p);
      if (b?.kind === "dir") throw new PatchError(`Failed to read ${p}: Is a directory (os error 21)`);
      if (b?.kind === "file" && b.text === null) throw new PatchError(`Failed to read ${p}: stream did not contain valid UTF-8`);
      return textOf(b);
    };
    const ops = planPatch(hunks, read, cwd, resolve);
    for (const op of ops) {
      const target = op.kind === "update" ? (op.movePath ?? op.path) : op.kind === "add" ? op.path : null;
      if (target && before.get(target)?.kind === "dir") {
        throw new PatchError(`Failed to write ${target}: Is a directory (os error 21)`);
      }
    }
    return { ops, before };
  } catch (e) {
    if (e instanceof PatchError) return `apply_patch verification failed: ${e.message}`;
    throw e;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

async function readBefore(runtime: Runtime, path: string): Promise<Before> {
  const stat = await runtime.fs.stat(path);
  if (!stat) return { kind: "none" };
  if (stat.isDirectory) return { kind: "dir" };
  let bytes: Uint8Array;
  try {
    bytes = await runtime.fs.readFile(path);
  } catch (e) {
    throw new PatchError(`Failed to read ${path}: ${describeError(e)}`);
  }
  let text: string | null;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = null; // an error only if the patch reads it (Update, Delete)
  }
  // Writes go to the real file, so a symlinked file stays a symlink.
  const real = await runtime.fs.realpath(path).catch(() => path);
  return { kind: "file", text, mode: stat.mode & 0o7777, real };
}

const textOf = (b: Before | undefined): string | null => (b?.kind === "file" ? b.text : null);

/** Every path the patch writes or removes must be writable; checked before anything is written. */
async function checkSandbox(ctx: ToolContext, ops: readonly FileOp[]): Promise<string | null> {
  const policy = ctx.sandbox;
  if (policy.bypass || policy.mode === "danger-full-access") return null;
  if (policy.mode === "read-only") return READ_ONLY_REJECTION;
  const realRoots = await Promise.all(policy.writableRoots.map((r) => realPathOf(ctx.runtime, r)));
  const targets = ops.flatMap((op) => (op.kind === "update" && op.movePath ? [op.path, op.movePath] : [op.path]));
  for (const target of targets) {
    const denial = writeDenial(policy, target) ?? writeDenial(policy, await realPathOf(ctx.runtime, target), realRoots);
    if (denial) return rejection(denial);
  }
  return null;
}

function rejection(d: WriteDenial): string {
  if (d.reason === "read-only") return READ_ONLY_REJECTION;
  if (d.reason === "outside") return OUTSIDE_REJECTION;
  return `patch rejected: ${d.dir} stays read-only under the workspace-write sandbox; rejected by user approval settings`;
}

/** The real path of `path`, resolving symlinks in the part that exists (the rest may not yet). */
async function realPathOf(runtime: Runtime, path: string): Promise<string> {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = await runtime.fs.realpath(head);
      return tail.length === 0 ? real : resolve(real, ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** file_change changes: absolute paths sorted, a move reported as an update of its source. */
function fileChanges(ops: readonly FileOp[]): FileChangeItem["changes"] {
  const byPath = new Map<string, FileChangeItem["changes"][number]["kind"]>();
  for (const op of ops) byPath.set(op.path, op.kind);
  return [...byPath].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, kind]) => ({ path, kind }));
}

async function writeOp(runtime: Runtime, op: FileOp, before: Map<string, Before>): Promise<void> {
  if (op.kind === "delete") {
    await runtime.fs.remove(op.path);
    return;
  }
  const prior = before.get(op.path);
  const mode = prior?.kind === "file" ? prior.mode : undefined;
  if (op.kind === "add") {
    await atomicWrite(runtime, prior?.kind === "file" ? prior.real : op.path, op.newContent, mode);
  } else if (op.movePath && op.movePath !== op.path) {
    const dest = before.get(op.movePath);
    await atomicWrite(runtime, dest?.kind === "file" ? dest.real : op.movePath, op.newContent, mode);
    await runtime.fs.remove(op.path);
  } else {
    await atomicWrite(runtime, prior?.kind === "file" ? prior.real : op.path, op.newContent, mode);
  }
}

/** Writes a sibling temporary file, then renames it over `path`: readers see old or new, never half. */
async function atomicWrite(runtime: Runtime, path: string, content: string, mode: number | undefined): Promise<void> {
  await runtime.fs.mkdir(dirname(path), { recursive: true });
  const tmp = resolve(dirname(path), `.${basename(path)}.ocx-${randomHex(4)}.tmp`);
  try {
    await runtime.fs.writeFile(tmp, content);
    if (mode !== undefined) await runtime.fs.chmod(tmp, mode);
    await runtime.fs.rename(tmp, path);
  } catch (e) {
    await runtime.fs.remove(tmp).catch(() => {});
    throw e;
  }
}
