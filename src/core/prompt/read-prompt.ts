// Prompt and stdin resolution (contract section 1.4, ocx-extensions "Input"): a prompt argument,
// stdin, or both; never hang on an inherited stdin that nobody writes to.
import { OcxError, describeError, isOcxError } from "../errors.ts";
import { concatBytes } from "../util/bytes.ts";
import type { InputSource } from "../runtime.ts";
import { formatBytes } from "../util/format.ts";

/** The most a prompt may hold (argument or stdin): memory stays bounded whatever is piped in. */
export const PROMPT_MAX_BYTES = 16 * 1024 * 1024;

export interface ReadPromptOptions {
  /** The positional prompt; undefined when absent. "-" forces reading stdin. */
  arg: string | undefined;
  stdin: InputSource;
  /** How long to wait for the first stdin byte when a prompt argument was given; 0 waits forever. */
  stdinTimeoutMs: number;
  /** Writes a notice line to stderr. */
  notice(line: string): void;
}

export async function readPrompt(opts: ReadPromptOptions): Promise<string> {
  const { arg, stdin } = opts;
  if (arg !== undefined && arg.length > PROMPT_MAX_BYTES) {
    throw new OcxError("usage", `The prompt argument is larger than ${formatBytes(PROMPT_MAX_BYTES)}; put the material in a file and name it in the prompt.`);
  }
  if (arg !== undefined && arg !== "-") {
    if (stdin.isTTY) return arg;
    opts.notice("Reading additional input from stdin...");
    let extra: string | null;
    try {
      extra = await readStdin(stdin, opts.stdinTimeoutMs);
    } catch (e) {
      if (isOcxError(e)) throw e;
      // stdin is a directory (`< dir`), closed or otherwise unreadable: the prompt is enough.
      opts.notice(`warning: ${stdinProblem(e)}; continuing without it`);
      return arg;
    }
    if (extra === null) {
      opts.notice(`No input on stdin after ${opts.stdinTimeoutMs} ms; continuing without it (see --stdin-timeout).`);
      return arg;
    }
    if (extra.trim() === "") return arg;
    return `${arg}\n\n<stdin>\n${extra}${extra.endsWith("\n") ? "" : "\n"}</stdin>`;
  }
  if (arg === undefined && stdin.isTTY) {
    throw new OcxError("usage", "No prompt provided. Either specify one as an argument or pipe the prompt into stdin.");
  }
  if (arg === undefined) opts.notice("Reading prompt from stdin...");
  let text: string;
  try {
    text = (await readStdin(stdin, 0)) ?? "";
  } catch (e) {
    if (isOcxError(e)) throw e;
    throw new OcxError("usage", `Failed to read prompt from stdin: ${stdinProblem(e)}; pipe the prompt in or give it as an argument`);
  }
  if (text.trim() === "") throw new OcxError("usage", "No prompt provided via stdin.");
  return text;
}

/** Why stdin could not be read, in a few words. */
function stdinProblem(e: unknown): string {
  return (e as { code?: unknown }).code === "EISDIR" ? "stdin is a directory" : `stdin cannot be read (${describeError(e)})`;
}

/**
 * Reads stdin to EOF and decodes it. Returns null when `firstByteTimeoutMs` > 0 and nothing
 * arrived in that time (EOF counts as arriving). More than `maxBytes` is refused (exit 2) as soon
 * as it is seen: nothing past it is read.
 */
export async function readStdin(stdin: InputSource, firstByteTimeoutMs: number, maxBytes = PROMPT_MAX_BYTES): Promise<string | null> {
  // /dev/null: at its end already (no stream, no timer).
  if (stdin.isDevNull) return "";
  const reader = stdin.readable().getReader();
  const chunks: Uint8Array[] = [];
  let first: Awaited<ReturnType<typeof reader.read>>;
  if (firstByteTimeoutMs > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), firstByteTimeoutMs);
    });
    const raced = await Promise.race([reader.read(), timeout]);
    clearTimeout(timer);
    if (raced === null) {
      reader.cancel().catch(() => {});
      return null;
    }
    first = raced;
  } else {
    first = await reader.read();
  }
  let size = 0;
  for (let r = first; !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw new OcxError(
        "usage",
        `Failed to read prompt from stdin: it holds more than ${formatBytes(maxBytes)}, the most ocx reads; put the material in a file and name it in the prompt.`,
      );
    }
    chunks.push(r.value);
  }
  reader.releaseLock();
  return decodeInput(concatBytes(chunks));
}

/** UTF-8 (BOM stripped) or UTF-16 with a BOM; anything else is refused with the byte offset. */
export function decodeInput(bytes: Uint8Array): string {
  const [b0, b1, b2, b3] = bytes;
  if ((b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) || (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff)) {
    throw new OcxError("usage", "Failed to read prompt from stdin: UTF-32 input is not supported; convert it to UTF-8");
  }
  if (b0 === 0xff && b1 === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (b0 === 0xfe && b1 === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  const body = b0 === 0xef && b1 === 0xbb && b2 === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    const offset = firstInvalidUtf8(body);
    throw new OcxError(
      "usage",
      `Failed to read prompt from stdin: input is not valid UTF-8 (invalid byte at offset ${offset}); convert it to UTF-8`,
    );
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    const extra = c < 0x80 ? 0 : c >> 5 === 6 ? 1 : c >> 4 === 14 ? 2 : c >> 3 === 30 ? 3 : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) {
      if (i + k >= bytes.length || bytes[i + k]! >> 6 !== 2) return i;
    }
    i += extra + 1;
  }
  return i;
}
