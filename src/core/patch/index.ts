export { applyHunksToText, detectEol } from "./apply.ts";
export { parsePatch } from "./parse.ts";
export { PatchError } from "./patch-error.ts";
export { type FileOp, planPatch, type ReadFile, type ResolvePath } from "./plan.ts";
export { normalise, seekSequence } from "./seek.ts";
export { summarize } from "./summary.ts";
export type { Hunk, UpdateChunk } from "./types.ts";
