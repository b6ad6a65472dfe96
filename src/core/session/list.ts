// `ocx sessions [--all] [--json] [--limit N]`: the threads a person can resume, most recently
// updated first: id, updated time, directory, first prompt line.
import { ExitCode } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { checkedCodexHome, resolveWorkdir } from "../workspace.ts";
import { summariesNewestFirst } from "./find.ts";

export interface ListOptions {
  all: boolean;
  json: boolean;
  limit: number;
  cd?: string;
}

export async function listSessions(runtime: Runtime, opts: ListOptions): Promise<number> {
  const home = await checkedCodexHome(runtime);
  const cwd = await resolveWorkdir(runtime, opts.cd);
  const rows: Array<{ id: string; updated_at: string; cwd: string | null; name: string | null; first_prompt: string | null; path: string }> = [];
  for await (const s of summariesNewestFirst(runtime, home)) {
    if (!opts.all && s.cwd !== cwd) continue;
    rows.push({
      id: s.id,
      updated_at: new Date(s.updatedMs).toISOString(),
      cwd: s.cwd ?? null,
      name: s.name ?? null,
      first_prompt: s.firstPrompt?.split("\n").find((l) => l.trim() !== "")?.trim() ?? null,
      path: s.path,
    });
    // (limit is at least 1: no file is read beyond the last one shown)
    if (rows.length >= opts.limit) break;
  }
  if (opts.json) {
    for (const r of rows) runtime.stdout.write(`${JSON.stringify(r)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    runtime.stderr.write(opts.all ? "No sessions yet.\n" : `No sessions in ${cwd} (use --all for every directory).\n`);
    return ExitCode.ok;
  }
  for (const r of rows) {
    const prompt = r.first_prompt ?? "";
    const shown = prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt;
    const where = opts.all ? `  ${r.cwd ?? "?"}` : "";
    runtime.stdout.write(`${r.id}  ${r.updated_at.slice(0, 19).replace("T", " ")}${where}  ${shown}\n`);
  }
  runtime.stderr.write("Resume one with: ocx exec resume <ID> \"next prompt\" (or ocx exec resume --last).\n");
  return ExitCode.ok;
}
