// The MCP SDK's Transport over a process ocx started through its Runtime (newline-delimited
// JSON-RPC on stdin/stdout, as the SDK's stdio transport frames it). Closing ends the process's
// whole group: stdin closed, then SIGTERM, then SIGKILL after a short grace, however the server
// behaves (it may ignore SIGTERM, or leave a child holding stdout open).
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { ChildProcess, ExitStatus } from "../runtime.ts";

export interface ChildTransportOptions {
  /** Each chunk the server writes to stderr (always read, so the pipe never fills). */
  onStderr?(text: string): void;
  /** After stdin is closed, how long the server gets to exit before SIGTERM. */
  closeGraceMs?: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

/** The longest line a server may send (the SDK's own stdio default is 10 MiB too). */
const MAX_LINE_CHARS = 10 * 1024 * 1024;

export class ChildTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Set once the process has exited. */
  status: ExitStatus | null = null;
  private closed = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private errReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly opts: ChildTransportOptions = {},
  ) {}

  async start(): Promise<void> {
    void this.readStdout();
    void this.readStderr();
    void this.child.exited.then((status) => {
      this.status = status;
      // Messages already read are delivered before the close (the read loop ends first or soon).
      setTimeout(() => this.finish(), 20);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error("the MCP server's connection is closed");
    await this.child.writeStdin(serializeMessage(message));
  }

  /** Ends the server's process group; resolves when it has exited (or was given up on). */
  close(): Promise<void> {
    this.closing ??= this.terminate();
    return this.closing;
  }

  private async terminate(): Promise<void> {
    const exited = this.child.exited.then(() => true);
    const within = (ms: number) => Promise.race([exited, new Promise<false>((r) => setTimeout(() => r(false), ms))]);
    this.child.closeStdin();
    if (!(await within(this.opts.closeGraceMs ?? 200))) {
      this.child.kill("SIGTERM");
      if (!(await within(this.opts.killGraceMs ?? 500))) {
        this.child.kill("SIGKILL");
        await within(1000);
      }
    }
    // Whatever was left in the group (a child holding stdout) got SIGKILL too; stop reading.
    this.child.kill("SIGKILL");
    void this.reader?.cancel().catch(() => {});
    void this.errReader?.cancel().catch(() => {});
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  private async readStdout(): Promise<void> {
    const reader = this.child.stdout.getReader();
    this.reader = reader;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          if (line.trim() === "") continue;
          let message: JSONRPCMessage;
          try {
            message = deserializeMessage(line);
          } catch (e) {
            this.onerror?.(new Error(`the MCP server wrote a line that is not a JSON-RPC message: ${(e as Error).message}`));
            continue;
          }
          this.onmessage?.(message);
        }
        if (buffer.length > MAX_LINE_CHARS) {
          this.onerror?.(new Error(`the MCP server wrote a line longer than ${MAX_LINE_CHARS} characters`));
          buffer = "";
        }
      }
    } catch {
      // cancelled at close, or the pipe broke: the exit handler reports the close
    }
  }

  private async readStderr(): Promise<void> {
    const reader = this.child.stderr.getReader();
    this.errReader = reader;
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.opts.onStderr?.(decoder.decode(value, { stream: true }));
      }
    } catch {
      // the process is gone
    }
  }
}
