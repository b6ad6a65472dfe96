// Manual check, not a test: drive the reference client against the mock to confirm that the SSE
// the mock produces is what a real Responses client accepts. `npm ci` does not install the
// reference (package.json overrides @openai/codex with test/codex-stub); install it apart:
//   npm install --prefix /work/.ref-codex @openai/codex@0.163.0
//   REF_CODEX=/work/.ref-codex/node_modules/.bin/codex ./node_modules/.bin/bun test/mock/drive-reference.ts
//
//   ./node_modules/.bin/bun test/mock/drive-reference.ts [scenario] [--bodies]
//
// Scenarios: patch-custom, patch-fail, patch-heredoc, view-image, view-missing, update-plan, plain, command, parallel, nonzero, write-stdin, unknown-tool, disconnect, abort,
// http500, failed, http400, retry-after, stdin, big. CODEX_HOME is /work/.tmp-codex-home (it must not be under /tmp, see the
// contract's "How to reproduce the mock setup"); `--bodies` prints the request inputs.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  callOutput,
  customToolCall,
  dynamic,
  execCommand,
  failed,
  functionCall,
  http,
  message,
  reasoning,
  reply,
  sse,
  startMockResponses,
  turn,
  usage,
  type Step,
} from "./responses-server.ts";

const scenario = process.argv[2] ?? "plain";
const showBodies = process.argv.includes("--bodies");
const home = process.env.REF_CODEX_HOME ?? "/work/.tmp-codex-home";
const codex = process.env.REF_CODEX ?? resolve(import.meta.dir, "../../node_modules/.bin/codex");

const scripts: Record<string, Step[]> = {
  plain: [reply("Hello from the mock.", usage(200, 14, 40, 6))],
  command: [sse(turn([execCommand("echo hello")], usage(100, 10))), reply("done", usage(150, 5))],
  parallel: [
    sse(turn([execCommand("sleep 0.5; echo first", {}, "call_a"), execCommand("echo second", {}, "call_b")])),
    reply("done"),
  ],
  nonzero: [sse(turn([execCommand("echo hi; exit 3")])), reply("done")],
  "write-stdin": [
    sse(turn([execCommand("sleep 2; echo finished", { yield_time_ms: 250 }, "call_long")])),
    dynamic((req) => {
      const out = callOutput(req.body, "call_long") ?? "";
      const id = Number(out.match(/session ID (\d+)/)?.[1] ?? 0);
      return sse(turn([functionCall("write_stdin", { session_id: id, chars: "", yield_time_ms: 10000 }, "call_poll")]));
    }),
    reply("done"),
  ],
  big: [sse(turn([execCommand("yes | head -c 200000000", {}, "call_big")])), reply("done")],
  "unknown-tool": [sse(turn([functionCall("frobnicate", { x: 1 }, "call_u")])), reply("done")],
  disconnect: [sse(turn([reasoning("Planning the run")]), { disconnect: true }), reply("recovered")],
  abort: [sse(turn([reasoning("Planning the run")]), { disconnect: "abort" }), reply("recovered")],
  http500: [http(500, { error: { message: "boom", type: "server_error" } }), reply("ok")],
  failed: [sse(failed("invalid_prompt", "Bad prompt here"))],
  http400: [http(400, { error: { message: "Invalid 'input': bad thing", type: "invalid_request_error" } })],
  "retry-after": [http(429, { error: { message: "slow down", type: "rate_limit_error" } }, { "retry-after": "1" }), reply("ok")],
  stdin: [reply("ok")],
  "patch-custom": [
    sse(turn([customToolCall("apply_patch", "*** Begin Patch\n*** Add File: b.txt\n+new\n*** Update File: a.txt\n@@\n-hello\n+world\n*** End Patch\n", "call_p")])),
    reply("done"),
  ],
  "patch-fail": [
    sse(turn([customToolCall("apply_patch", "*** Begin Patch\n*** Add File: c.txt\n+x\n*** Update File: a.txt\n@@\n-nothere\n+world\n*** End Patch\n", "call_p")])),
    reply("done"),
  ],
  "patch-heredoc": [
    sse(turn([execCommand("apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: h.txt\n+hi\n*** End Patch\nEOF\n", {}, "call_h")])),
    reply("done"),
  ],
  "patch-invalid": [
    sse(turn([customToolCall("apply_patch", "*** Begin Patch\n*** Frobnicate File: a.txt\n*** End Patch\n", "call_p")])),
    reply("done"),
  ],
  "patch-outside": [
    sse(turn([customToolCall("apply_patch", "*** Begin Patch\n*** Add File: /var/tmp/ocx-ref-outside.txt\n+x\n*** End Patch\n", "call_p")])),
    reply("done"),
  ],
  "view-image": [sse(turn([functionCall("view_image", { path: "img.png" }, "call_v")])), reply("done")],
  "view-missing": [sse(turn([functionCall("view_image", { path: "nope.png" }, "call_v")])), reply("done")],
  "update-plan": [
    sse(turn([functionCall("update_plan", { explanation: "Because", plan: [{ step: "Read", status: "completed" }, { step: "Fix", status: "in_progress" }] }, "call_u1")])),
    sse(turn([functionCall("update_plan", { plan: [{ step: "Read", status: "completed" }, { step: "Fix", status: "completed" }] }, "call_u2")])),
    reply("done"),
  ],
};

const script = scripts[scenario];
if (!script) throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(scripts).join(", ")}`);

mkdirSync(home, { recursive: true });
writeFileSync(join(home, "config.toml"), "[analytics]\nenabled = false\n");
const mock = await startMockResponses(script);
const ws = resolve(home, "ws");
mkdirSync(ws, { recursive: true });
writeFileSync(join(ws, "a.txt"), "hello\n");
// a 1x1 PNG for view-image
writeFileSync(join(ws, "img.png"), Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64"));

const args = [
  "exec",
  "-c", 'model_provider="mock"',
  "-c", 'model_providers.mock.name="Mock"',
  "-c", `model_providers.mock.base_url="${mock.url}"`,
  "-c", 'model_providers.mock.env_key="CODEX_API_KEY"',
  "-c", 'model_providers.mock.wire_api="responses"',
  "-c", "model_providers.mock.stream_max_retries=2",
  "-m", process.env.REF_MODEL ?? "gpt-5.5",
  // e.g. REF_EXTRA="-c tools.update_plan.enabled=true"
  ...(process.env.REF_EXTRA ? process.env.REF_EXTRA.split(" ") : []),
  "--skip-git-repo-check",
  "--sandbox", process.env.REF_SANDBOX ?? "danger-full-access",
  "--json",
  scenario === "stdin" ? "P" : "prompt",
];
const t0 = Date.now();
const proc = Bun.spawn([codex, ...args], {
  cwd: ws,
  env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? home, CODEX_HOME: home, CODEX_API_KEY: "sk-test-ref" },
  stdin: scenario === "stdin" ? new TextEncoder().encode("ctx line") : "ignore",
  stdout: "pipe",
  stderr: "pipe",
});
const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
await proc.exited;
clearTimeout(timer);
console.log(`exit ${proc.exitCode} after ${Date.now() - t0} ms`);
console.log("--- stdout");
console.log(out.length > 20_000 ? out.split("\n").map((l) => (l.length > 300 ? `${l.slice(0, 300)}… (${l.length} chars)` : l)).join("\n") : out);
console.log("--- stderr");
console.log(err);
console.log(`--- ${mock.requests.length} POSTs; other requests: ${mock.otherRequests.map((r) => `${r.method} ${r.path}`).join(", ")}`);
mock.requests.forEach((r, i) => {
  console.log(`#${i} at +${r.at - mock.requests[0]!.at} ms ${r.path}${r.search}`);
  const input = (r.body?.input ?? []) as any[];
  for (const item of input) {
    if (!showBodies && item.type === "message" && item.role === "developer") continue;
    const s = JSON.stringify(item);
    console.log("   ", s.length > 400 ? s.slice(0, 400) + "…" : s);
  }
});
await mock.close();
