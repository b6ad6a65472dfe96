// What the end-to-end benchmarks share: a throwaway CODEX_HOME whose config.toml points ocx at
// the local mock, and the minimal environment ocx runs with there.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh CODEX_HOME (removed by the caller) for the mock at `mockUrl`; `extra` is TOML put before the tables. */
export function mockHome(prefix: string, mockUrl: string, extra = ""): { home: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(
    join(home, "config.toml"),
    `model = "gpt-5.5"\nmodel_provider = "mock"\n${extra}[model_providers.mock]\nname = "Mock"\nbase_url = "${mockUrl}"\nenv_key = "CODEX_API_KEY"\n`,
  );
  return { home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, CODEX_API_KEY: "sk-bench" } };
}
