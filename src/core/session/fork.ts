// `ocx exec fork`: the new thread's rollout starts with a copy of the source thread's lines
// (everything but its session_meta), so the fork's history, usage total and prompts continue
// from the source's, and a later `resume` of the fork sees them. The source file is only read,
// once: the lines copied are the ones its history was taken from (see loadResumed).
import type { RolloutEntry, RolloutWriter } from "./rollout.ts";

export function copyThread(entries: readonly RolloutEntry[], writer: RolloutWriter): void {
  for (const e of entries) if (e.type !== "session_meta") writer.copy(e.type, e.payload, e.timestamp);
}
