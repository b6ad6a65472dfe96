// Windows has no ocx sandbox yet: every mode but danger-full-access must stop the command
// (OcxError "sandbox", exit 5, with the reason) instead of running it unconfined.
import { describe, expect, test } from "bun:test";
import { ExitCode, OcxError } from "../../src/core/errors.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { confinedArgv } from "../../src/core/sandbox/confine.ts";
import { unenforceableReason, type SandboxCapabilities } from "../../src/core/sandbox/spec.ts";
import type { SandboxMode, SandboxPolicy } from "../../src/core/sandbox/policy.ts";

// What the sandbox adapter's probe reports on Windows.
const windowsCaps: SandboxCapabilities = { platform: "win32", landlockAbi: null, seccomp: false, seatbelt: false, carveOuts: false, problems: [] };

function windowsRuntime(): Runtime {
  const fake = {
    platform: "win32",
    arch: "x64",
    env: () => undefined,
    sandbox: {
      probe: async () => windowsCaps,
      wrap: () => {
        throw new Error("wrap must not be reached on Windows");
      },
      selfArgv: ["ocx.exe"],
      releasePlaceholders: async () => {},
      hardenSelf: async () => null,
    },
  };
  return fake as unknown as Runtime;
}

const policy = (mode: SandboxMode): SandboxPolicy => ({ mode, writableRoots: mode === "workspace-write" ? ["C:\\repo"] : [], networkAccess: false, bypass: false });

describe("Windows fails closed", () => {
  for (const mode of ["read-only", "workspace-write"] as const) {
    test(`${mode}: the command is not run, exit 5 with the reason`, async () => {
      const reason = unenforceableReason(windowsCaps, mode);
      expect(reason).toContain("ocx has no sandbox for win32");
      expect(reason).toContain("the command was not run");
      expect(reason).toContain("--sandbox danger-full-access");
      expect(reason).not.toContain("\n");
      let thrown: unknown;
      try {
        await confinedArgv(windowsRuntime(), policy(mode), ["cmd", "/c", "dir"]);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(OcxError);
      expect((thrown as OcxError).message).toBe(reason!);
      expect(ExitCode[(thrown as OcxError).kind as keyof typeof ExitCode]).toBe(5);
    });
  }

  test("danger-full-access runs the command as it is", async () => {
    expect(await confinedArgv(windowsRuntime(), policy("danger-full-access"), ["cmd", "/c", "dir"])).toEqual(["cmd", "/c", "dir"]);
  });
});
