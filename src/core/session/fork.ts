// `ocx exec fork`: the new thread's rollout starts with a copy of the source thread's lines
// (everything but its session_meta), so the fork's history, usage total and prompts continue
// from the source's, and a later `resume` of the fork sees them. The source file is only read.
import type { Runtime } from "../runtime.ts";
import type { RolloutWriter } from "./rollout.ts";

export async function copyThread(runtime: Runtime, sourcePath: string, writer: RolloutWriter): Promise<void> {
  const text = new TextDecoder().decode(await runtime.fs.readFile(sourcePath));
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    let entry: { timestamp?: unknown; type?: unknown; payload?: unknown };
    try {
      entry = JSON.parse(raw);
    } catch {
      continue; // a torn or garbled line (reported when the source was read)
    }
    if (!entry || typeof entry !== "object" || typeof entry.type !== "string" || entry.type === "session_meta") continue;
    writer.copy(entry.type, entry.payload, typeof entry.timestamp === "string" ? entry.timestamp : undefined);
  }
}
