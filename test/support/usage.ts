// A turn's usage (the --json contract shape), for unit tests.
import type { Usage } from "../../src/core/events.ts";

export const usage = (input: number, cached: number, output: number, reasoning = 0): Usage => ({
  input_tokens: input,
  cached_input_tokens: cached,
  cache_write_input_tokens: 0,
  output_tokens: output,
  reasoning_output_tokens: reasoning,
});
