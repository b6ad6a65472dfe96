import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { OcxError } from "../../src/core/errors.ts";
import { readStdin } from "../../src/core/prompt/read-prompt.ts";
import { FileTooLargeError, type InputSource } from "../../src/core/runtime.ts";

/** Endless stdin of 1 KiB chunks; counts how many were pulled. */
function endlessStdin() {
  let pulled = 0;
  const source: InputSource = {
    isTTY: false,
    readable: () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled++;
          c.enqueue(new Uint8Array(1024));
        },
      }),
  };
  return { source, pulled: () => pulled };
}

describe("readStdin size cap", () => {
  test("endless stdin is refused (usage, exit 2) just past the cap, without reading on", async () => {
    const stdin = endlessStdin();
    const error = await readStdin(stdin.source, 0, 10 * 1024).catch((e) => e);
    expect(error).toBeInstanceOf(OcxError);
    expect((error as OcxError).exitCode).toBe(2);
    expect((error as OcxError).message).toBe(
      "Failed to read prompt from stdin: it holds more than 10 KiB, the most ocx reads; put the material in a file and name it in the prompt.",
    );
    expect(stdin.pulled()).toBeLessThanOrEqual(12);
  });

  test("exactly the cap is accepted", async () => {
    const bytes = new TextEncoder().encode("x".repeat(2048));
    const source: InputSource = { isTTY: false, readable: () => new Response(bytes).body! };
    expect(await readStdin(source, 0, 2048)).toBe("x".repeat(2048));
  });
});

describe("fs.readFile with maxBytes (the Bun adapter)", () => {
  const fs = bunRuntime().fs;
  test("a file within the cap is read whole; one byte more is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ocx-bounds-"));
    try {
      writeFileSync(join(dir, "f"), "0123456789");
      expect(new TextDecoder().decode(await fs.readFile(join(dir, "f"), { maxBytes: 10 }))).toBe("0123456789");
      await expect(fs.readFile(join(dir, "f"), { maxBytes: 9 })).rejects.toBeInstanceOf(FileTooLargeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("/dev/zero (size 0 to stat) is refused at the cap", async () => {
    await expect(fs.readFile("/dev/zero", { maxBytes: 3 * 1024 * 1024 })).rejects.toBeInstanceOf(FileTooLargeError);
  });
});
