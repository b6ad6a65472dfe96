// Expected failures and the exit-code table of ocx-extensions.md ("Outcome contract").
import type { FailureCode } from "./events.ts";
import type { Runtime } from "./runtime.ts";

export const ExitCode = {
  ok: 0,
  failed: 1,
  /** An unexpected failure (a bug): also exit 1, but reported with the code "internal". */
  internal: 1,
  usage: 2,
  config: 3,
  auth: 4,
  sandbox: 5,
  budget: 6,
  /** The final answer did not match --output-schema, even after one correction. */
  output_schema: 1,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type OcxErrorKind = keyof typeof ExitCode;

const failureCodeByKind: Partial<Record<OcxErrorKind, FailureCode>> = {
  failed: "model_error",
  config: "config",
  auth: "auth",
  sandbox: "sandbox_unavailable",
  budget: "budget_exceeded",
  output_schema: "output_schema",
  sigint: "interrupted",
  sigterm: "interrupted",
};

/**
 * An expected failure: the message is one line a user can act on, the kind picks the exit code.
 * The entry point prints `message` (never a stack) and exits with `exitCode`.
 */
export class OcxError extends Error {
  readonly kind: OcxErrorKind;
  constructor(kind: OcxErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OcxError";
    this.kind = kind;
  }
  get exitCode(): number {
    return ExitCode[this.kind];
  }
  get failureCode(): FailureCode {
    return failureCodeByKind[this.kind] ?? "internal";
  }
}

export const isOcxError = (e: unknown): e is OcxError => e instanceof OcxError;

/** A one-line description of any thrown value, for messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/**
 * Aborts `controller` with an OcxError of kind sigint/sigterm (exit 130/143) when the process is
 * interrupted; returns the function that stops listening.
 */
export function abortOnInterrupt(runtime: Runtime, controller: AbortController, message: (signal: "SIGINT" | "SIGTERM") => string): () => void {
  const on = (signal: "SIGINT" | "SIGTERM") =>
    runtime.onSignal(signal, () => controller.abort(new OcxError(signal === "SIGINT" ? "sigint" : "sigterm", message(signal))));
  const offInt = on("SIGINT");
  const offTerm = on("SIGTERM");
  return () => (offInt(), offTerm());
}
