// `ocx sandbox check` (what this host can enforce) and `ocx sandbox run -- CMD` (one command
// under a policy, exactly as the agent's commands run).
import { loadConfig } from "../config/load.ts";
import { DEFAULT_PROVIDER } from "../config/providers.ts";
import { commandEnv } from "../process/env-policy.ts";
import { exitCodeOf } from "../process/process-manager.ts";
import { ExitCode, OcxError, describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { markNetwork, PROTECTED_DIRS, resolveSandboxPolicy, sandboxModes, type SandboxChoice } from "./policy.ts";
import { codexHome, resolveWorkdir } from "../workspace.ts";
import { confinedArgv, hostCapabilities, releaseSandbox } from "./confine.ts";
import { linuxGuarantees, type Guarantee } from "./guarantees.ts";
import { unenforceableReason, type SandboxCapabilities } from "./spec.ts";

export async function sandboxCheck(runtime: Runtime, json: boolean): Promise<number> {
  const capabilities = await hostCapabilities(runtime, { carveOuts: true });
  const modes: Record<string, string | null> = {};
  for (const mode of sandboxModes) {
    if (mode !== "danger-full-access") modes[mode] = unenforceableReason(capabilities, mode);
  }
  const ok = Object.values(modes).every((m) => m === null);
  const guarantees = capabilities.platform === "linux" ? linuxGuarantees(capabilities) : [];
  if (json) {
    runtime.stdout.write(`${JSON.stringify({ enforceable: ok, ...capabilities, modes, guarantees })}\n`);
  } else {
    runtime.stdout.write(describeCheck(capabilities, modes, guarantees, runtime.arch));
  }
  return ok ? ExitCode.ok : ExitCode.sandbox;
}

function describeCheck(c: SandboxCapabilities, modes: Record<string, string | null>, guarantees: Guarantee[], arch: string): string {
  const lines = [`platform: ${c.platform} ${arch}`];
  if (c.platform === "linux") {
    lines.push(`landlock: ${c.landlockAbi === null ? "unavailable" : `ABI ${c.landlockAbi}`}`);
    lines.push(`seccomp: ${c.seccomp ? "available" : "unavailable"}`);
    const extras = [...(c.freshProc ? ["fresh /proc"] : []), ...(c.privatePts ? ["private devpts"] : [])];
    lines.push(`user namespaces: ${c.carveOuts ? `available${extras.length ? ` (${extras.join(", ")})` : ""}` : "unavailable"}`);
    lines.push("guarantees for every sandboxed command:");
    for (const g of guarantees) lines.push(`  [${g.enforced ? "x" : " "}] ${g.text}: ${g.enforced ? "" : "NOT ENFORCED: "}${g.detail}`);
  } else if (c.platform === "darwin") {
    lines.push(`sandbox-exec: ${c.seatbelt ? "available" : "missing"}`);
    lines.push(`read-only ${PROTECTED_DIRS.join(", ")} in writable roots: ${c.carveOuts ? "the Seatbelt profile" : "not enforced for commands"}`);
  }
  for (const p of c.problems) lines.push(`problem: ${p}`);
  for (const [mode, reason] of Object.entries(modes)) {
    const partial = c.carveOuts === false && reason === null ? " (partly: see the guarantees above)" : "";
    lines.push(`${mode}: ${reason === null ? `enforced${partial}` : "cannot be enforced"}`);
  }
  lines.push("danger-full-access: no sandbox (use inside an external sandbox)");
  const reason = Object.values(modes).find((m) => m !== null);
  if (reason) lines.push("", reason);
  return `${lines.join("\n")}\n`;
}

export interface SandboxRunOptions extends SandboxChoice {
  argv: string[];
  cd?: string;
  configOverrides: string[];
  profile?: string;
  ignoreUserConfig: boolean;
}

/** Runs one command confined like the agent's; returns its exit code (128 + signal if killed). */
export async function sandboxRun(runtime: Runtime, opts: SandboxRunOptions): Promise<number> {
  if (opts.argv.length === 0) throw new OcxError("usage", "error: no command given; usage: ocx sandbox run [--sandbox MODE] -- CMD [ARGS...]");
  const config = await loadConfig(runtime, {
    codexHome: codexHome(runtime),
    overrides: opts.configOverrides,
    profile: opts.profile,
    ignoreUserConfig: opts.ignoreUserConfig,
  });
  const cwd = await resolveWorkdir(runtime, opts.cd);
  const policy = resolveSandboxPolicy(runtime, config, opts, cwd);
  const argv = await confinedArgv(runtime, policy, opts.argv, (m) => runtime.stderr.write(`warning: ${m}\n`));
  // The environment an agent's command would get: credentials out, the same policy applied.
  const env = commandEnv(runtime, config, { providerId: config.model_provider ?? DEFAULT_PROVIDER, sandbox: policy, secrets: [] });
  let child;
  try {
    child = runtime.spawn({ argv, cwd, env, stdin: "pipe" });
  } catch (e) {
    throw new OcxError("failed", `could not start ${opts.argv[0]}: ${describeError(e)}`);
  }
  const pump = async (from: ReadableStream<Uint8Array>, to: Runtime["stdout"]) => {
    for await (const chunk of from) to.write(chunk);
  };
  void (async () => {
    try {
      for await (const chunk of runtime.stdin.readable()) await child.writeStdin(chunk);
    } catch {
      // the command closed its stdin or exited
    }
    child.closeStdin();
  })();
  const forward = (["SIGINT", "SIGTERM"] as const).map((s) => runtime.onSignal(s, () => child.kill(s)));
  await Promise.all([pump(child.stdout, runtime.stdout), pump(child.stderr, runtime.stderr)]);
  const status = await child.exited;
  for (const remove of forward) remove();
  await releaseSandbox(runtime, policy);
  const code = exitCodeOf(status);
  return code < 0 ? ExitCode.failed : code;
}
