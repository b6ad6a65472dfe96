// Writing a verified patch: the steps (write a whole file, remove a file), how they are carried
// out (each write atomic: a new sibling temporary file renamed over the target), and the JSON
// that carries them to the confined writer (`ocx __patch-write`) and its answer back. Pure: the
// file operations arrive as a StepFs (runtime.fs in ocx, node:fs in the writer process).
import { basename, dirname, join } from "../util/path.ts";
import { randomHex } from "../util/random.ts";

/** The first argument that turns the binary into the confined patch writer. */
export { PATCH_WRITER_ARG } from "../hidden-args.ts";

/** One step of writing a patch, performed in order. */
export type WriteStep =
  | { op: "write"; path: string; content: string; mode?: number }
  | { op: "remove"; path: string };

/** What the writer answers: every step done, or the first that failed (the ones before it are done). */
export type WriteResult = { ok: true } | { ok: false; step: number; error: string };

/** The file operations the steps need (a subset of the Runtime's FileSystem). */
export interface StepFs {
  mkdir(path: string, opts: { recursive: true }): Promise<void>;
  /** O_CREAT|O_EXCL: false when something already exists at the path (never followed). */
  createExclusive(path: string, data: string, opts: { mode: number }): Promise<boolean>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file (a symlink itself, not its target); nothing there is not an error. */
  remove(path: string): Promise<void>;
}

/** Performs `steps` in order and stops at the first failure, described in one line. */
export async function performSteps(fs: StepFs, steps: readonly WriteStep[]): Promise<WriteResult> {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    try {
      if (step.op === "remove") await fs.remove(step.path);
      else await atomicWrite(fs, step.path, step.content, step.mode);
    } catch (e) {
      return { ok: false, step: i, error: e instanceof Error ? e.message || e.name : String(e) };
    }
  }
  return { ok: true };
}

/** Writes a new sibling temporary file, then renames it over `path`: readers see old or new, never half. */
async function atomicWrite(fs: StepFs, path: string, content: string, mode: number | undefined): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.ocx-${randomHex(4)}.tmp`);
  // Created with the file's mode (less the umask): where the sandbox refuses chmod (hosts without
  // user namespaces), that is as close as it gets, and the write still goes through.
  if (!(await fs.createExclusive(tmp, content, { mode: mode ?? 0o666 }))) throw new Error(`EEXIST: file already exists, open '${tmp}'`);
  try {
    if (mode !== undefined) await fs.chmod(tmp, mode).catch((e) => {
      if ((e as { code?: string }).code !== "EPERM") throw e;
    });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The steps sent on the writer's stdin, checked: a string says what is wrong. */
export function parseSteps(json: string): WriteStep[] | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return `the steps are not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!Array.isArray(value)) return "the steps are not a list";
  for (const [i, s] of value.entries()) {
    const ok =
      typeof s === "object" &&
      s !== null &&
      typeof s.path === "string" &&
      s.path.startsWith("/") &&
      (s.op === "remove" ||
        (s.op === "write" && typeof s.content === "string" && (s.mode === undefined || (Number.isInteger(s.mode) && s.mode >= 0 && s.mode <= 0o7777))));
    if (!ok) return `step ${i} is not a write or remove of an absolute path`;
  }
  return value as WriteStep[];
}

/** The writer's answer line, checked; null when it is missing or malformed. */
export function parseResult(line: string): WriteResult | null {
  try {
    const r = JSON.parse(line) as Partial<{ ok: unknown; step: unknown; error: unknown }>;
    if (r.ok === true) return { ok: true };
    if (r.ok === false && Number.isInteger(r.step) && typeof r.error === "string") return { ok: false, step: r.step as number, error: r.error };
  } catch {
    // not JSON
  }
  return null;
}
