// What an apply_patch call does (see apply-patch.ts): loaded at the first call.
import { basename, dirname, resolve } from "../util/path.ts";
import { describeError } from "../errors.ts";
import type { FileChangeItem } from "../events.ts";
import {
  PatchError,
  parsePatch,
  planPatch,
  summarize,
  unifiedDiff,
  type FileOp,
} from "../patch/index.ts";
import { PATCH_WRITER_ARG, parseResult, performSteps, type WriteResult, type WriteStep } from "../patch/write.ts";
import type { Runtime } from "../runtime.ts";
import { confinedArgv } from "../sandbox/confine.ts";
import { writeDenial, type WriteDenial } from "../sandbox/policy.ts";
import type { ToolContext } from "./define-tool.ts";

export const READ_ONLY_REJECTION =
  "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings";
export const OUTSIDE_REJECTION = "patch rejected: writing outside of the project; rejected by user approval settings";

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

  const { steps, opOfStep } = writeSteps(ops, before);
  // Throws OcxError("sandbox") (exit 5) when the host cannot enforce the policy, as exec_command does.
  const writer = await writerArgv(ctx);

  const itemId = ctx.nextItemId();
  const changes = fileChanges(ops);
  const item = (status: FileChangeItem["status"]): FileChangeItem => ({ id: itemId, type: "file_change", changes, status });
  ctx.itemStarted(item("in_progress"));
  const result = writer ? await writeConfined(ctx.runtime, writer, steps) : await performSteps(ctx.runtime.fs, steps);
  if (!result.ok) {
    ctx.itemCompleted(item("failed"));
    if (result.step === null) return `apply_patch failed: ${result.error}; the patch may be partly applied`;
    const failed = opOfStep[result.step]!;
    const op = ops[failed]!;
    const written = ops.slice(0, failed).map((o) => o.patchPath);
    const done = written.length === 0 ? "nothing was changed" : `already changed: ${written.join(", ")}`;
    return `apply_patch failed while writing ${op.kind === "update" ? (op.movePath ?? op.path) : op.path}: ${result.error} (${done})`;
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

/**
 * The steps that write `ops`, and for each step the index of its op. A file that was a symlink
 * is written at its target (it stays a symlink); a move writes the destination, then removes
 * the source.
 */
function writeSteps(ops: readonly FileOp[], before: Map<string, Before>): { steps: WriteStep[]; opOfStep: number[] } {
  const steps: WriteStep[] = [];
  const opOfStep: number[] = [];
  const add = (i: number, step: WriteStep) => void (steps.push(step), opOfStep.push(i));
  ops.forEach((op, i) => {
    if (op.kind === "delete") return add(i, { op: "remove", path: op.path });
    const prior = before.get(op.path);
    const mode = prior?.kind === "file" ? { mode: prior.mode } : {};
    const dest = op.kind === "update" && op.movePath && op.movePath !== op.path ? op.movePath : null;
    const target = before.get(dest ?? op.path);
    add(i, { op: "write", path: target?.kind === "file" ? target.real : (dest ?? op.path), content: op.newContent, ...mode });
    if (dest) add(i, { op: "remove", path: op.path });
  });
  return { steps, opOfStep };
}

/** Environment of the writer: only what the runtime may need to start (no keys, no tokens). */
const WRITER_ENV = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"];

/** The confined writer's argv; null when the policy confines nothing (written in-process). */
async function writerArgv(ctx: ToolContext): Promise<string[] | null> {
  const policy = ctx.sandbox;
  if (policy.bypass || policy.mode === "danger-full-access") return null;
  return confinedArgv(ctx.runtime, policy, [...ctx.runtime.sandbox.selfArgv, PATCH_WRITER_ARG], ctx.warn);
}

/**
 * Runs the steps in the confined writer. `step: null` when it ended without an answer (it may
 * have stopped part way).
 */
async function writeConfined(
  runtime: Runtime,
  argv: string[],
  steps: readonly WriteStep[],
): Promise<WriteResult | { ok: false; step: null; error: string }> {
  const env: Record<string, string> = {};
  for (const name of WRITER_ENV) {
    const value = runtime.env(name);
    if (value !== undefined) env[name] = value;
  }
  let child;
  try {
    child = runtime.spawn({ argv, cwd: "/", env, stdin: "pipe" });
  } catch (e) {
    return { ok: false, step: null, error: `could not start the confined writer: ${describeError(e)}` };
  }
  const out = new Response(child.stdout).text();
  const err = new Response(child.stderr).text();
  // A writer that dies before reading everything closes the pipe; its status says why. Input
  // cut short (ocx killed meanwhile) is not JSON, so the writer then writes nothing.
  await child.writeStdin(JSON.stringify(steps)).catch(() => {});
  child.closeStdin();
  const [stdout, stderr, status] = await Promise.all([out, err, child.exited]);
  const result = parseResult(stdout.trim().split("\n").at(-1) ?? "");
  if (result) return result;
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  const why = stderr.trim().split("\n").at(-1)?.trim();
  return { ok: false, step: null, error: `the confined writer ${how}${why ? `: ${why}` : ""}` };
}
