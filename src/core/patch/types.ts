/** One chunk of an `*** Update File:` hunk. */
export interface UpdateChunk {
  /** The text after `@@ `, if any: a line to seek before matching `oldLines`. */
  changeContext: string | null;
  oldLines: string[];
  newLines: string[];
  /** `*** End of File` closed the chunk: it should match at the end of the file. */
  isEndOfFile: boolean;
}

/** One parsed hunk; paths are kept exactly as written in the patch. */
export type Hunk =
  | { kind: "add"; path: string; contents: string }
  | { kind: "delete"; path: string }
  | { kind: "update"; path: string; movePath: string | null; chunks: UpdateChunk[] };
