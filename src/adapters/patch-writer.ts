// The confined patch writer, `ocx __patch-write`: apply_patch starts it through the sandbox
// helper, so Landlock, seccomp and the read-only bind mounts of the run's policy apply to every
// write, whatever a command swaps in meanwhile. Reads the steps (JSON) on stdin, performs them in
// order, prints one JSON result line; exit 0 when every step was done, 1 when one failed, 2 on
// bad input. It starts for every patch: keep its imports few.
import { readFileSync, writeSync } from "node:fs";
import * as fsp from "node:fs/promises";
import process from "node:process";
import { parseSteps, performSteps, type StepFs } from "../core/patch/write.ts";
import { createExclusive } from "./common.ts";
import { normalJitPolicy } from "./jit-policy.ts";

const nodeFs: StepFs = {
  mkdir: async (p, o) => void (await fsp.mkdir(p, o)),
  createExclusive,
  chmod: (p, mode) => fsp.chmod(p, mode),
  rename: (a, b) => fsp.rename(a, b),
  remove: (p) => fsp.rm(p, { force: true }),
};

/** Runs the writer and ends the process. */
export async function runPatchWriter(): Promise<never> {
  // A patch may edit files of any size: its code is compiled as usual.
  normalJitPolicy();
  // One blocking read to the end: several times faster than iterating process.stdin.
  const steps = parseSteps(readFileSync(0, "utf8"));
  if (typeof steps === "string") {
    writeSync(2, `ocx patch writer: ${steps}\n`);
    process.exit(2);
  }
  const result = await performSteps(nodeFs, steps);
  writeSync(1, `${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}
