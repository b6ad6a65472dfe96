// The hidden first arguments that turn the binary into one of its helpers. Alone in this module
// so that the entry point can tell them apart without loading anything else.

/** The sandbox helper: it confines itself, then execs the command (see sandbox/spec.ts). */
export const HELPER_ARG = "__sandbox";
/** apply_patch's confined writer, which the helper starts (see patch/write.ts). */
export const PATCH_WRITER_ARG = "__patch-write";
