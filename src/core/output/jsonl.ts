// --json: one event per line on stdout, nothing else there. Warnings go to stderr.
import type { OutputSink } from "../runtime.ts";
import { stringifyPieces } from "../util/json-pieces.ts";
import { type OutputProcessor, writeLine } from "./processor.ts";

export function jsonlProcessor(stdout: OutputSink, stderr: OutputSink): OutputProcessor {
  return {
    header() {},
    emit(event) {
      writeLine(stdout, stringifyPieces(event));
    },
    detail() {},
    warn(message) {
      stderr.write(`warning: ${message}\n`);
    },
    finish() {},
  };
}
