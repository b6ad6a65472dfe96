// ChildTransport: newline-delimited JSON-RPC over a process's pipes, and how it ends the process.
import { describe, expect, test } from "bun:test";
import { ChildTransport } from "../../src/core/mcp/child-transport.ts";
import type { ChildProcess, ExitStatus, Signal } from "../../src/core/runtime.ts";

/** A process that exits when `exitOn` says (after stdin closes, on a signal, or never). */
function fakeChild(exitOn: "stdin" | "SIGTERM" | "SIGKILL") {
  const enc = new TextEncoder();
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let resolveExit!: (s: ExitStatus) => void;
  const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
  const signals: string[] = [];
  const written: string[] = [];
  const end = (s: ExitStatus) => {
    try {
      out.close();
    } catch {}
    resolveExit(s);
  };
  const child: ChildProcess = {
    pid: 4242,
    stdout: new ReadableStream({ start: (c) => void (out = c) }),
    stderr: new ReadableStream({ start: (c) => c.enqueue(enc.encode("a line on stderr\n")) }),
    async writeStdin(d) {
      written.push(String(d));
    },
    closeStdin() {
      signals.push("close-stdin");
      if (exitOn === "stdin") end({ code: 0, signal: null });
    },
    exited,
    kill(sig: Signal = "SIGTERM") {
      signals.push(sig);
      if (sig === exitOn || sig === "SIGKILL") end({ code: null, signal: sig });
    },
  };
  return { child, signals, written, say: (s: string) => out.enqueue(enc.encode(s)) };
}

describe("ChildTransport", () => {
  test("messages split across chunks and several per chunk arrive whole; a bad line is an error, not a crash", async () => {
    const f = fakeChild("stdin");
    let stderr = "";
    const t = new ChildTransport(f.child, { onStderr: (s) => (stderr += s) });
    const got: unknown[] = [];
    const errors: string[] = [];
    t.onmessage = (m) => got.push(m);
    t.onerror = (e) => errors.push(e.message);
    await t.start();
    f.say('{"jsonrpc":"2.0","id":1,"res');
    f.say('ult":{}}\n{"jsonrpc":"2.0","method":"notifications/x"}\nnot json\n\n');
    await Bun.sleep(10);
    expect(got).toEqual([{ jsonrpc: "2.0", id: 1, result: {} }, { jsonrpc: "2.0", method: "notifications/x" }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("not a JSON-RPC message");
    expect(stderr).toBe("a line on stderr\n");
    await t.send({ jsonrpc: "2.0", id: 2, method: "ping" });
    expect(f.written).toEqual(['{"jsonrpc":"2.0","id":2,"method":"ping"}\n']);
    await t.close();
    expect(f.signals[0]).toBe("close-stdin");
  });

  test("a server that exits when stdin closes gets no signal but the final sweep of its group", async () => {
    const f = fakeChild("stdin");
    const t = new ChildTransport(f.child, { closeGraceMs: 50, killGraceMs: 50 });
    let closed = 0;
    t.onclose = () => closed++;
    await t.start();
    await t.close();
    expect(f.signals).toEqual(["close-stdin", "SIGKILL"]);
    await Bun.sleep(40);
    expect(closed).toBe(1);
  });

  test("one that ignores stdin gets SIGTERM; one that ignores SIGTERM gets SIGKILL", async () => {
    const term = fakeChild("SIGTERM");
    const t1 = new ChildTransport(term.child, { closeGraceMs: 20, killGraceMs: 20 });
    await t1.start();
    await t1.close();
    expect(term.signals).toEqual(["close-stdin", "SIGTERM", "SIGKILL"]);

    const stubborn = fakeChild("SIGKILL");
    const t2 = new ChildTransport(stubborn.child, { closeGraceMs: 20, killGraceMs: 20 });
    await t2.start();
    await t2.close();
    expect(stubborn.signals).toEqual(["close-stdin", "SIGTERM", "SIGKILL", "SIGKILL"]);
    await expect(t2.send({ jsonrpc: "2.0", id: 1, method: "ping" })).rejects.toThrow("closed");
  });
});
