/** Any apply_patch failure; `message` is the exact text shown to the model. */
export class PatchError extends Error {
  override name = "PatchError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
