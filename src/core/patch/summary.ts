import type { FileOp } from "./plan.ts";

/** The success text returned to the model, paths as written in the patch (A, then M, then D). */
export function summarize(ops: readonly FileOp[]): string {
  const added: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const op of ops) {
    if (op.kind === "add") added.push(op.patchPath);
    else if (op.kind === "delete") deleted.push(op.patchPath);
    else modified.push(op.patchMovePath ?? op.patchPath);
  }
  const lines = [
    "Success. Updated the following files:",
    ...added.map((p) => `A ${p}`),
    ...modified.map((p) => `M ${p}`),
    ...deleted.map((p) => `D ${p}`),
  ];
  return `${lines.join("\n")}\n`;
}
