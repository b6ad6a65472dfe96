// The text of every help screen and version line, byte for byte, against a golden file made
// from the binary before start-up was made lazy (commands and help now load on demand).
// Regenerate after an intended change: OCX_UPDATE_GOLDEN=1 bun test test/e2e/cli-golden.e2e.test.ts
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OCX_VERSION } from "../../src/core/version.ts";
import { cleanupTemp, makeDir, ocxBin, REPO_ROOT } from "./harness.ts";

afterAll(() => cleanupTemp());

const GOLDEN = join(REPO_ROOT, "test/fixtures/golden/cli-help.txt");
const CASES = [
  [],
  ["--help"],
  ["-h"],
  ["help"],
  ["exec", "--help"],
  ["e", "--help"],
  ["exec", "resume", "--help"],
  ["exec", "review", "-h"],
  ["login", "--help"],
  ["login", "status", "--help"],
  ["logout", "-h"],
  ["sessions", "--help"],
  ["sandbox", "--help"],
  ["sandbox", "run", "--help"],
  ["sandbox", "check", "--help"],
  ["mcp", "--help"],
  ["mcp", "list", "--help"],
  ["mcp", "check", "--help"],
  ["--version"],
  ["-V"],
  ["version"],
  ["version", "--yaml"],
  ["nope"],
];

test("help screens, version lines and usage errors are unchanged", () => {
  const home = makeDir("home-");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home };
  let text = "";
  for (const args of CASES) {
    const r = Bun.spawnSync([ocxBin(), ...args], { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    text += `=== ocx ${args.join(" ")}\n${r.stdout}--- stderr\n${r.stderr}--- exit ${r.exitCode}\n`;
  }
  // What differs from build to build.
  text = text.replaceAll(OCX_VERSION, "<version>").replace(/^commit: .*$/gm, "commit: <commit>").replace(/^bun: .*$/gm, "bun: <bun>");
  if (process.env.OCX_UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  expect(text).toBe(readFileSync(GOLDEN, "utf8"));
});
