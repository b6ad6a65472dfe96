import { describe, expect, test } from "bun:test";
import { OcxError } from "../../src/core/errors.ts";
import { decodeInput, readPrompt } from "../../src/core/prompt/read-prompt.ts";
import { stdinFrom } from "../support/fake-runtime.ts";

type Outcome = { prompt?: string; error?: OcxError; notices: string[] };
const run = (arg: string | undefined, stdin: ReturnType<typeof stdinFrom>, stdinTimeoutMs = 1000): Promise<Outcome> => {
  const notices: string[] = [];
  return readPrompt({ arg, stdin, stdinTimeoutMs, notice: (l) => notices.push(l) }).then(
    (prompt) => ({ prompt, notices }),
    (error) => ({ error: error as OcxError, notices }),
  );
};

describe("prompt and stdin resolution (contract 1.4)", () => {
  test("prompt with a TTY stdin is used as is, stdin untouched", async () => {
    expect(await run("P", stdinFrom(null, { isTTY: true }))).toEqual({ prompt: "P", notices: [] });
  });
  test("prompt plus piped stdin wraps stdin in a <stdin> block", async () => {
    const r = await run("P", stdinFrom(["hello ", "world"]));
    expect(r).toEqual({ prompt: "P\n\n<stdin>\nhello world\n</stdin>", notices: ["Reading additional input from stdin..."] });
  });
  test("stdin that already ends in a newline gets no extra one", async () => {
    expect((await run("P", stdinFrom(["x\n"]))).prompt).toBe("P\n\n<stdin>\nx\n</stdin>");
  });
  test("stdin that is /dev/null is not opened: the prompt alone (after the notice); without a prompt, no prompt", async () => {
    const devNull = { isTTY: false, isDevNull: true, readable: (): ReadableStream<Uint8Array> => { throw new Error("opened"); } };
    expect(await run("P", devNull)).toEqual({ prompt: "P", notices: ["Reading additional input from stdin..."] });
    expect((await run(undefined, devNull)).error?.message).toBe("No prompt provided via stdin.");
  });
  test("blank stdin leaves the prompt alone", async () => {
    expect((await run("P", stdinFrom([" \n\t"]))).prompt).toBe("P");
  });
  test("an idle, never-closed stdin is abandoned after the timeout", async () => {
    const r = await run("P", stdinFrom(null), 50);
    expect(r.prompt).toBe("P");
    expect(r.notices[1]).toContain("No input on stdin after 50 ms");
  });
  test("stdin that starts before the timeout is read to EOF even if it ends later", async () => {
    const r = await run("P", stdinFrom(["a", "b", "c"], { delayMs: 30 }), 45);
    expect(r.prompt).toBe("P\n\n<stdin>\nabc\n</stdin>");
  });
  test("no prompt: stdin is the prompt, verbatim", async () => {
    expect(await run(undefined, stdinFrom(["do it\n"]))).toEqual({ prompt: "do it\n", notices: ["Reading prompt from stdin..."] });
  });
  test("'-' reads stdin without a notice", async () => {
    expect(await run("-", stdinFrom(["x"]))).toEqual({ prompt: "x", notices: [] });
  });
  test("no prompt and a TTY is a usage error", async () => {
    const r = await run(undefined, stdinFrom(null, { isTTY: true }));
    expect((r as { error: OcxError }).error.message).toBe(
      "No prompt provided. Either specify one as an argument or pipe the prompt into stdin.",
    );
    expect((r as { error: OcxError }).error.exitCode).toBe(2);
  });
  test("blank stdin without a prompt is an error", async () => {
    const r = (await run(undefined, stdinFrom(["  \n"]))) as { error: OcxError };
    expect(r.error.message).toBe("No prompt provided via stdin.");
  });
});

describe("stdin decoding", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  test("UTF-8 BOM is stripped", () => {
    expect(decodeInput(new Uint8Array([0xef, 0xbb, 0xbf, ...enc("hé")]))).toBe("hé");
  });
  test("UTF-16LE and BE with BOM are decoded", () => {
    expect(decodeInput(new Uint8Array([0xff, 0xfe, 0x68, 0x00, 0x69, 0x00]))).toBe("hi");
    expect(decodeInput(new Uint8Array([0xfe, 0xff, 0x00, 0x68, 0x00, 0x69]))).toBe("hi");
  });
  test("invalid UTF-8 names the offset", () => {
    expect(() => decodeInput(new Uint8Array([0x61, 0x62, 0xff, 0x63]))).toThrow("invalid byte at offset 2");
  });
});

describe("unreadable stdin", () => {
  const failing = (code: string) => ({
    isTTY: false,
    readable: () =>
      new ReadableStream<Uint8Array>({
        pull() {
          throw Object.assign(new Error(`${code}: illegal operation`), { code });
        },
      }),
  });
  test("with a prompt argument: one warning, the prompt alone", async () => {
    expect(await run("P", failing("EISDIR"))).toEqual({
      prompt: "P",
      notices: ["Reading additional input from stdin...", "warning: stdin is a directory; continuing without it"],
    });
    expect((await run("P", failing("EIO"))).notices[1]).toBe("warning: stdin cannot be read (EIO: illegal operation); continuing without it");
  });
  test("without one: a usage error saying why", async () => {
    const r = await run(undefined, failing("EISDIR"));
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toContain("stdin is a directory");
  });
});
