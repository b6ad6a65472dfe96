// macOS: the Seatbelt profile (sandbox-exec -p) for a SandboxSpec. Read everything, write only
// under the writable paths, network on or off.
import type { SandboxSpec } from "./spec.ts";

/** A Seatbelt string literal: backslashes and double quotes escaped. */
const literal = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function seatbeltProfile(spec: SandboxSpec): string {
  const lines = [
    "(version 1)",
    "(deny default)",
    "(allow process-exec)",
    "(allow process-fork)",
    "(allow signal (target same-sandbox))",
    "(allow sysctl-read)",
    "(allow mach-lookup)",
    "(allow ipc-posix-shm)",
    "(allow pseudo-tty)",
    "(allow file-read*)",
    "(allow file-ioctl)",
  ];
  if (spec.writable.length > 0) {
    const roots = spec.writable.map((p) => `(subpath ${literal(p)})`);
    if (spec.readOnly.length === 0) {
      lines.push("(allow file-write*", ...roots.map((r) => `  ${r}`), ")");
    } else {
      // Writable under a root, except beneath a carve-out (.git and friends) or the carve-out itself.
      lines.push(
        "(allow file-write*",
        "  (require-all",
        "    (require-any",
        ...roots.map((r) => `      ${r}`),
        "    )",
        ...spec.readOnly.map((p) => `    (require-not (subpath ${literal(p)}))`),
        "  )",
        ")",
      );
    }
  }
  if (spec.network) lines.push("(allow network*)");
  else lines.push("(allow network* (remote unix-socket))");
  return `${lines.join("\n")}\n`;
}
