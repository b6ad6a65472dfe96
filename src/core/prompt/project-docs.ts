// Project instructions (AGENTS.md) for the model: one global file from CODEX_HOME, then one file
// per directory from the git root down to the working directory.
//
// Rules, as implemented here:
// - Global: $CODEX_HOME/AGENTS.override.md when it is non-empty (after trim), else
//   $CODEX_HOME/AGENTS.md. The global file is not counted against the byte cap and is read
//   whole; `maxBytes = 0` turns off project docs only, the global file still loads.
// - Project: every directory from the git root (as `gitRoot` finds it; without one, only the
//   cwd) down to the cwd, root first (projectDirs, as hooks find `.codex/`). In each, the first non-empty file among
//   AGENTS.override.md, AGENTS.md, then the fallback names in order; at most one per directory.
// - Cap: `maxBytes` (default 32 KiB) bounds the total raw bytes of the project files used. The
//   file that crosses it is cut at the limit (never inside a UTF-8 character) and the files
//   after it are dropped. Whitespace-only files (empty after trim) are skipped and cost nothing.
// - Each doc's text is trimmed; docs are joined with a `--- project-doc ---` separator line.
// - Anything that exists but cannot be read as a file (a directory, a permission error) is
//   skipped with a warning; the search goes on with the next candidate name.
// - Paths are followed through symlinks (stat and read both follow them).
import { join, resolve } from "../util/path.ts";
import type { Runtime } from "../runtime.ts";
import { gitRoot, projectDirs } from "../workspace.ts";

export const DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024;
export const OVERRIDE_FILENAME = "AGENTS.override.md";
export const DEFAULT_FILENAME = "AGENTS.md";
/** How the instructions message starts (to find it again in a resumed history). */
export const AGENTS_MARKER = "# AGENTS.md instructions for ";
export const PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n";

export interface ProjectDocsOptions {
  /** The working directory (made absolute against runtime.cwd() if relative). */
  cwd: string;
  /** The repository root when the caller already knows it (null: not in one); found here otherwise. */
  gitRoot?: string | null;
  /** CODEX_HOME, where the global AGENTS.md lives. */
  codexHome: string;
  /** project_doc_max_bytes: the cap on project docs (not the global file); 0 disables them. */
  maxBytes?: number;
  /** project_doc_fallback_filenames: names tried after AGENTS.override.md and AGENTS.md. */
  fallbackFilenames?: string[];
}

export interface ProjectDocs {
  /** The docs joined (global first, then root to cwd), without the wrapper; undefined if none. */
  text: string | undefined;
  /** Absolute paths of the files used, in order. */
  files: string[];
  /** One line per file that existed but could not be read. */
  warnings: string[];
}

export async function loadProjectDocs(runtime: Runtime, opts: ProjectDocsOptions): Promise<ProjectDocs> {
  const docs: string[] = [];
  const files: string[] = [];
  const warnings: string[] = [];

  const global = await firstDoc(runtime, opts.codexHome, [OVERRIDE_FILENAME, DEFAULT_FILENAME], warnings);
  if (global) {
    docs.push(decode(global.bytes).trim());
    files.push(global.path);
  }

  const maxBytes = Math.max(0, Math.floor(opts.maxBytes ?? DEFAULT_PROJECT_DOC_MAX_BYTES));
  if (maxBytes > 0) {
    const names = candidateNames(opts.fallbackFilenames ?? []);
    let remaining = maxBytes;
    const cwd = resolve(runtime.cwd(), opts.cwd);
    const root = opts.gitRoot !== undefined ? opts.gitRoot : await gitRoot(runtime, cwd);
    for (const dir of projectDirs(root, cwd)) {
      const found = await firstDoc(runtime, dir, names, warnings);
      if (!found) continue;
      const bytes = found.bytes.length > remaining ? truncateUtf8(found.bytes, remaining) : found.bytes;
      remaining -= bytes.length;
      const text = decode(bytes).trim();
      if (text) {
        docs.push(text);
        files.push(found.path);
      }
      if (remaining <= 0 || bytes.length < found.bytes.length) break;
    }
  }

  return { text: docs.length > 0 ? docs.join(PROJECT_DOC_SEPARATOR) : undefined, files, warnings };
}

/** The user-message text that carries the joined docs to the model. */
export function agentsMessage(text: string, cwd: string): string {
  return `${AGENTS_MARKER}${cwd}\n\n<INSTRUCTIONS>\n${text}\n</INSTRUCTIONS>`;
}

function candidateNames(fallbacks: string[]): string[] {
  const names = [OVERRIDE_FILENAME, DEFAULT_FILENAME];
  for (const name of fallbacks) {
    const n = name.trim();
    if (n && !names.includes(n)) names.push(n);
  }
  return names;
}

/** The first of `names` in `dir` that is a readable file with non-whitespace content. */
async function firstDoc(
  runtime: Runtime,
  dir: string,
  names: string[],
  warnings: string[],
): Promise<{ path: string; bytes: Uint8Array } | undefined> {
  for (const name of names) {
    const path = join(dir, name);
    const st = await runtime.fs.stat(path).catch(() => null);
    if (!st) continue;
    if (!st.isFile) {
      warnings.push(`Skipping ${path}: not a regular file`);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await runtime.fs.readFile(path);
    } catch (err) {
      warnings.push(`Skipping ${path}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (decode(bytes).trim() === "") continue;
    return { path, bytes };
  }
  return undefined;
}

/** The longest prefix of `bytes` no longer than `limit` that does not split a UTF-8 character. */
export function truncateUtf8(bytes: Uint8Array, limit: number): Uint8Array {
  if (bytes.length <= limit) return bytes;
  let end = Math.max(0, limit);
  // A byte of the form 10xxxxxx continues a character; cut before the character it belongs to.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
