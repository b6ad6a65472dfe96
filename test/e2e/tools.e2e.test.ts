// End-to-end tests of the editing and planning tools on the compiled binary: apply_patch (as
// the freeform tool, as a JSON function call and as an `apply_patch <<'EOF'` command),
// update_plan and view_image, against the local mock Responses server.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import {
  callOutput,
  customToolCall,
  execCommand,
  functionCall,
  inputItems,
  reply,
  sse,
  turn,
} from "../mock/responses-server.ts";
import {
  checkEventStream,
  cleanupTemp,
  existsSync,
  items,
  join,
  makeDir,
  makeRepo,
  mkdirSync,
  ocxBin,
  readFileSync,
  runOcx,
  writeFileSync,
  useMockServers,
} from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const WW = ["--sandbox", "workspace-write"];

const setup = useMockServers();
afterAll(() => cleanupTemp());

const patch = (...body: string[]) => ["*** Begin Patch", ...body, "*** End Patch", ""].join("\n");
/** The output the model got for a custom tool call. */
const customOutput = (body: any, callId: string) =>
  inputItems(body, "custom_tool_call_output").find((i: any) => i.call_id === callId)?.output;
const read = (p: string) => readFileSync(p, "utf8");

/** A repo with a.txt, src/lib.ts and old.txt. */
function workspace() {
  const repo = makeRepo();
  writeFileSync(join(repo, "a.txt"), "alpha\nbeta\ngamma\n");
  mkdirSync(join(repo, "src"));
  writeFileSync(join(repo, "src/lib.ts"), "export function f() {\n  return 1;\n}\n");
  writeFileSync(join(repo, "old.txt"), "move me\n");
  writeFileSync(join(repo, "gone.txt"), "delete me\n");
  return repo;
}

const EDIT = patch(
  "*** Add File: new dir/ünï.txt",
  "+hello",
  "+world",
  "*** Update File: src/lib.ts",
  "@@ export function f() {",
  "-  return 1;",
  "+  return 2;",
  "*** Update File: old.txt",
  "*** Move to: moved/renamed.txt",
  "@@",
  "-move me",
  "+moved",
  "*** Delete File: gone.txt",
);

function expectEditApplied(repo: string) {
  expect(read(join(repo, "new dir/ünï.txt"))).toBe("hello\nworld\n");
  expect(read(join(repo, "src/lib.ts"))).toBe("export function f() {\n  return 2;\n}\n");
  expect(read(join(repo, "moved/renamed.txt"))).toBe("moved\n");
  expect(existsSync(join(repo, "old.txt"))).toBe(false);
  expect(existsSync(join(repo, "gone.txt"))).toBe(false);
}

const EDIT_SUMMARY = "Success. Updated the following files:\nA new dir/ünï.txt\nM src/lib.ts\nM moved/renamed.txt\nD gone.txt\n";

function expectEditItems(events: any[] | undefined, repo: string) {
  const changes = [
    { path: join(repo, "gone.txt"), kind: "delete" },
    { path: join(repo, "new dir/ünï.txt"), kind: "add" },
    { path: join(repo, "old.txt"), kind: "update" },
    { path: join(repo, "src/lib.ts"), kind: "update" },
  ];
  const [started] = items(events, "item.started", "file_change");
  const [completed] = items(events, "item.completed", "file_change");
  expect(started).toEqual({ id: "item_0", type: "file_change", changes, status: "in_progress" });
  expect(completed).toEqual({ id: "item_0", type: "file_change", changes, status: "completed" });
}

describe("apply_patch end to end", () => {
  test("the freeform tool is offered with the Lark grammar", async () => {
    const { mock, home } = await setup([reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(0);
    const tool = mock.requests[0]!.body.tools.find((t: any) => t.name === "apply_patch");
    expect(tool.type).toBe("custom");
    expect(tool.format.type).toBe("grammar");
    expect(tool.format.syntax).toBe("lark");
    expect(tool.format.definition).toStartWith("start: begin_patch hunk+ end_patch\n");
    expect(tool.format.definition).toContain('eof_line: "*** End of File" LF');
  }, T);

  test("custom tool: add, update, move and delete; file_change items; summary to the model", async () => {
    const repo = workspace();
    const { mock, home } = await setup([sse(turn([customToolCall("apply_patch", EDIT, "call_p")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    expectEditApplied(repo);
    expectEditItems(r.events, repo);
    const out = customOutput(mock.requests[1]!.body, "call_p");
    expect(out).toMatch(/^Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n/);
    expect(out.endsWith(EDIT_SUMMARY)).toBe(true);
    expect(r.stdout.trim().split("\n").at(-2)).toContain('"text":"done"');
  }, T);

  test("JSON function apply_patch {input}: the same edit", async () => {
    const repo = workspace();
    const { mock, home } = await setup([sse(turn([functionCall("apply_patch", { input: EDIT }, "call_f")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expectEditApplied(repo);
    expectEditItems(r.events, repo);
    expect(callOutput(mock.requests[1]!.body, "call_f")!.endsWith(EDIT_SUMMARY)).toBe(true);
  }, T);

  test("exec_command `apply_patch <<'EOF'`: intercepted, applied, reported as file_change (no command item)", async () => {
    const repo = workspace();
    const cmd = `apply_patch <<'EOF'\n${EDIT}EOF\n`;
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_h")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expectEditApplied(repo);
    expectEditItems(r.events, repo);
    expect(items(r.events, "item.completed", "command_execution")).toEqual([]);
    expect(callOutput(mock.requests[1]!.body, "call_h")!.endsWith(EDIT_SUMMARY)).toBe(true);
  }, T);

  test("a failing patch writes nothing, tells the model why, and the run goes on", async () => {
    const repo = workspace();
    const bad = patch(
      "*** Add File: created.txt",
      "+x",
      "*** Update File: a.txt",
      "@@",
      "-beta",
      "+BETA",
      "*** Update File: src/lib.ts",
      "@@",
      "-  return 42;",
      "+  return 43;",
    );
    const { mock, home } = await setup([
      sse(turn([customToolCall("apply_patch", bad, "call_bad")])),
      sse(turn([customToolCall("apply_patch", "*** Begin Patch\n*** Frobnicate File: a.txt\n*** End Patch", "call_syntax")])),
      reply("gave up"),
    ]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(existsSync(join(repo, "created.txt"))).toBe(false);
    expect(read(join(repo, "a.txt"))).toBe("alpha\nbeta\ngamma\n");
    expect(read(join(repo, "src/lib.ts"))).toBe("export function f() {\n  return 1;\n}\n");
    expect(items(r.events, "item.started", "file_change")).toEqual([]);
    expect(customOutput(mock.requests[1]!.body, "call_bad")).toBe(
      `apply_patch verification failed: Failed to find expected lines in ${join(repo, "src/lib.ts")}:\n  return 42;`,
    );
    expect(customOutput(mock.requests[2]!.body, "call_syntax")).toBe(
      "apply_patch verification failed: invalid hunk at line 2, '*** Frobnicate File: a.txt' is not a valid hunk header. " +
        "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'",
    );
  }, T);

  test("read-only sandbox (the default): the patch is rejected with the reference's message", async () => {
    const repo = workspace();
    const { mock, home } = await setup([sse(turn([customToolCall("apply_patch", EDIT, "call_p")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(customOutput(mock.requests[1]!.body, "call_p")).toBe(
      "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings",
    );
    expect(existsSync(join(repo, "new dir"))).toBe(false);
    expect(existsSync(join(repo, "gone.txt"))).toBe(true);
    expect(items(r.events, "item.started", "file_change")).toEqual([]);
  }, T);

  test("workspace-write: a path outside the writable roots is rejected, and so is the whole patch", async () => {
    const repo = workspace();
    const outside = makeDir("outside-");
    const p = patch("*** Add File: inside.txt", "+in", `*** Add File: ${join(outside, "x.txt")}`, "+out");
    const { mock, home } = await setup([sse(turn([customToolCall("apply_patch", p, "call_p")])), reply("ok")]);
    // TMPDIR points elsewhere so the temp folder holding `outside` is not itself a writable root.
    const r = await runOcx(["exec", ...JSON_, ...WW, "-c", "sandbox_workspace_write.exclude_slash_tmp=true", "edit"], {
      home,
      cwd: repo,
      env: { TMPDIR: repo },
    });
    expect(r.code).toBe(0);
    expect(customOutput(mock.requests[1]!.body, "call_p")).toBe(
      "patch rejected: writing outside of the project; rejected by user approval settings",
    );
    expect(existsSync(join(repo, "inside.txt"))).toBe(false);
    expect(existsSync(join(outside, "x.txt"))).toBe(false);
  }, T);

  test("workspace-write: --add-dir makes another folder writable; .git stays read-only", async () => {
    const repo = workspace();
    const extra = makeDir("extra-");
    const ok = patch(`*** Add File: ${join(extra, "x.txt")}`, "+out");
    const git = patch("*** Add File: .git/hooks/pre-commit", "+echo pwned");
    const { mock, home } = await setup([
      sse(turn([customToolCall("apply_patch", ok, "call_ok"), customToolCall("apply_patch", git, "call_git")])),
      reply("ok"),
    ]);
    const r = await runOcx(
      ["exec", ...JSON_, ...WW, "--add-dir", extra, "-c", "sandbox_workspace_write.exclude_slash_tmp=true", "edit"],
      { home, cwd: repo, env: { TMPDIR: repo } },
    );
    expect(r.code).toBe(0);
    expect(read(join(extra, "x.txt"))).toBe("out\n");
    expect(customOutput(mock.requests[1]!.body, "call_git")).toContain("patch rejected:");
    expect(customOutput(mock.requests[1]!.body, "call_git")).toContain(".git");
    expect(existsSync(join(repo, ".git/hooks/pre-commit"))).toBe(false);
  }, T);

  test("workspace-write: a write that fails in the confined writer reaches the model with the path and the reason", async () => {
    const repo = workspace();
    writeFileSync(join(repo, "afile"), "x\n");
    // afile/b verifies (nothing is there) but the writer cannot make its folder: afile is a file.
    const p = patch("*** Add File: ok.txt", "+k", "*** Add File: afile/b", "+b", "*** Add File: later.txt", "+l");
    const { mock, home } = await setup([sse(turn([customToolCall("apply_patch", p, "call_p")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(customOutput(mock.requests[1]!.body, "call_p")).toBe(
      `apply_patch failed while writing ${join(repo, "afile/b")}: EEXIST: file already exists, mkdir '${join(repo, "afile")}' (already changed: ok.txt)`,
    );
    expect(items(r.events, "item.completed", "file_change")[0].status).toBe("failed");
    expect(read(join(repo, "ok.txt"))).toBe("k\n");
    expect(existsSync(join(repo, "later.txt"))).toBe(false);
  }, T);

  test("workspace-write on a host that cannot enforce it: the patch is not written and the run fails with exit 5, as for a command", async () => {
    const repo = workspace();
    const { home } = await setup([sse(turn([customToolCall("apply_patch", EDIT, "call_p")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo, env: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" } });
    expect(r.code).toBe(5);
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "sandbox_unavailable" } });
    expect(r.events!.at(-1).error.message).toContain("cannot enforce the workspace-write sandbox");
    expect(items(r.events, "item.started", "file_change")).toEqual([]);
    expect(existsSync(join(repo, "new dir"))).toBe(false);
    expect(read(join(repo, "src/lib.ts"))).toBe("export function f() {\n  return 1;\n}\n");
  }, T);

  test("CRLF files keep CRLF; a symlinked file stays a symlink", async () => {
    const repo = workspace();
    writeFileSync(join(repo, "win.txt"), "one\r\ntwo\r\nthree\r\n");
    writeFileSync(join(repo, "target.txt"), "t1\nt2\n");
    symlinkSync("target.txt", join(repo, "link.txt"));
    const p = patch("*** Update File: win.txt", "@@", " one", "-two", "+TWO", "*** Update File: link.txt", "@@", "-t2", "+T2");
    const { home } = await setup([sse(turn([customToolCall("apply_patch", p, "call_p")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(read(join(repo, "win.txt"))).toBe("one\r\nTWO\r\nthree\r\n");
    expect(lstatSync(join(repo, "link.txt")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(repo, "link.txt"))).toBe("target.txt");
    expect(read(join(repo, "target.txt"))).toBe("t1\nT2\n");
    expect(readdirSync(repo).filter((n) => n.includes(".ocx-"))).toEqual([]);
  }, T);

  test("human mode: the patch, its files and a unified diff on stderr; stdout only the answer", async () => {
    const repo = workspace();
    const { home } = await setup([sse(turn([customToolCall("apply_patch", EDIT, "call_p")])), reply("done")]);
    const r = await runOcx(["exec", "--color", "never", ...WW, "edit"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("done\n");
    expect(r.stderr).toContain("apply patch\npatch: completed\n");
    expect(r.stderr).toContain(`M ${join(repo, "src/lib.ts")}\n`);
    expect(r.stderr).toContain(`--- ${join(repo, "src/lib.ts")}\n+++ ${join(repo, "src/lib.ts")}\n`);
    expect(r.stderr).toContain("-  return 1;\n+  return 2;\n");
    expect(r.stderr).toContain(`--- /dev/null\n+++ ${join(repo, "new dir/ünï.txt")}\n`);
    expect(r.stderr).toContain(`+++ ${join(repo, "moved/renamed.txt")}\n`);
  }, T);
});

describe("the confined writer, `ocx __patch-write`", () => {
  const writer = (input: string) => {
    const r = Bun.spawnSync([ocxBin(), "__patch-write"], { stdin: Buffer.from(input), env: {} });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  test("performs the steps on stdin in order and answers one JSON line; the first failure stops it", () => {
    const dir = makeDir("writer-");
    writeFileSync(join(dir, "gone"), "g");
    const ok = writer(JSON.stringify([
      { op: "write", path: join(dir, "sub/new.txt"), content: "héllo\n", mode: 0o600 },
      { op: "remove", path: join(dir, "gone") },
    ]));
    expect(ok).toEqual({ code: 0, stdout: '{"ok":true}\n', stderr: "" });
    expect(read(join(dir, "sub/new.txt"))).toBe("héllo\n");
    expect(lstatSync(join(dir, "sub/new.txt")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, "gone"))).toBe(false);

    const failed = writer(JSON.stringify([
      { op: "write", path: join(dir, "one"), content: "1" },
      { op: "write", path: join(dir, "sub/new.txt/x"), content: "2" },
      { op: "write", path: join(dir, "three"), content: "3" },
    ]));
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({ ok: false, step: 1, error: `EEXIST: file already exists, mkdir '${join(dir, "sub/new.txt")}'` });
    expect(existsSync(join(dir, "one"))).toBe(true);
    expect(existsSync(join(dir, "three"))).toBe(false);
  });

  test("input that is not a list of steps: exit 2, nothing written", () => {
    const dir = makeDir("writer-");
    expect(writer("not json")).toMatchObject({ code: 2, stdout: "", stderr: expect.stringMatching(/^ocx patch writer: the steps are not JSON/) });
    const relative = writer(JSON.stringify([{ op: "write", path: join(dir, "a"), content: "" }, { op: "write", path: "b", content: "" }]));
    expect(relative).toEqual({ code: 2, stdout: "", stderr: "ocx patch writer: step 1 is not a write or remove of an absolute path\n" });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("update_plan end to end", () => {
  const plan = (explanation: string | undefined, ...steps: Array<[string, string]>) => ({
    ...(explanation ? { explanation } : {}),
    plan: steps.map(([step, status]) => ({ step, status })),
  });
  const script = () => [
    sse(turn([functionCall("update_plan", plan("Start", ["Read", "in_progress"], ["Fix", "pending"], ["Test", "pending"]), "u1")])),
    sse(turn([functionCall("update_plan", plan(undefined, ["Read", "completed"], ["Fix", "in_progress"], ["Test", "pending"]), "u2")])),
    sse(turn([functionCall("update_plan", plan("Done", ["Read", "completed"], ["Fix", "completed"], ["Test", "completed"]), "u3")])),
    reply("all done"),
  ];

  test("three calls: todo_list started, updated twice, completed at turn end; output `Plan updated`", async () => {
    const { mock, home } = await setup(script());
    const r = await runOcx(["exec", ...JSON_, "plan it"], { home });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const todo = r.events!.filter((e) => e.item?.type === "todo_list");
    const list = (...done: boolean[]) => ["Read", "Fix", "Test"].map((text, i) => ({ text, completed: done[i] }));
    expect(todo).toEqual([
      { type: "item.started", item: { id: "item_0", type: "todo_list", items: list(false, false, false) } },
      { type: "item.updated", item: { id: "item_0", type: "todo_list", items: list(true, false, false) } },
      { type: "item.updated", item: { id: "item_0", type: "todo_list", items: list(true, true, true) } },
      { type: "item.completed", item: { id: "item_0", type: "todo_list", items: list(true, true, true) } },
    ]);
    // Completed at turn end: after the final message, before turn.completed.
    const order = r.events!.map((e) => `${e.type}:${e.item?.type ?? ""}`);
    expect(order.slice(-3)).toEqual(["item.completed:agent_message", "item.completed:todo_list", "turn.completed:"]);
    for (const [i, id] of ["u1", "u2", "u3"].entries()) expect(callOutput(mock.requests[i + 1]!.body, id)).toBe("Plan updated");
  }, T);

  test("human mode prints the explanation and the checklist", async () => {
    const { home } = await setup(script());
    const r = await runOcx(["exec", "--color", "never", "plan it"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Start\n  → Read\n  • Fix\n  • Test\n");
    expect(r.stderr).toContain("  ✓ Read\n  → Fix\n  • Test\n");
    expect(r.stderr).toContain("Done\n  ✓ Read\n  ✓ Fix\n  ✓ Test\n");
    expect(r.stdout).toBe("all done\n");
  }, T);
});

describe("view_image end to end", () => {
  // A real 1x1 PNG.
  const PNG = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64",
  );

  test("the next request carries the image as an input_image data URL", async () => {
    const repo = makeRepo();
    mkdirSync(join(repo, "shots"));
    writeFileSync(join(repo, "shots/screen.png"), PNG);
    const { mock, home } = await setup([sse(turn([functionCall("view_image", { path: "shots/screen.png" }, "call_v")])), reply("I see it")]);
    const r = await runOcx(["exec", ...JSON_, "look"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const output = inputItems(mock.requests[1]!.body, "function_call_output").find((i: any) => i.call_id === "call_v").output;
    expect(output).toEqual([{ type: "input_image", image_url: `data:image/png;base64,${PNG.toString("base64")}`, detail: "high" }]);
  }, T);

  test("a missing file or a non-image is an error the model reads; the run completes", async () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "notes.txt"), "not an image");
    const { mock, home } = await setup([
      sse(turn([functionCall("view_image", { path: "nope.png" }, "call_missing"), functionCall("view_image", { path: "notes.txt" }, "call_text")])),
      reply("ok"),
    ]);
    const r = await runOcx(["exec", ...JSON_, "look"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(callOutput(mock.requests[1]!.body, "call_missing")).toStartWith(`unable to locate image at \`${join(repo, "nope.png")}\``);
    expect(callOutput(mock.requests[1]!.body, "call_text")).toContain("not a PNG, JPEG, GIF or WebP image");
    expect(r.events!.at(-1).type).toBe("turn.completed");
  }, T);
});

describe("tool selection", () => {
  test("-c tools.update_plan.enabled=false and tools.view_image=false leave them out; a call is `unsupported call`", async () => {
    const { mock, home } = await setup([
      sse(turn([functionCall("update_plan", { plan: [{ step: "a", status: "pending" }] }, "u1")])),
      reply("ok"),
    ]);
    const r = await runOcx(["exec", ...JSON_, "-c", "tools.update_plan.enabled=false", "-c", "tools.view_image=false", "go"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.body.tools.map((t: any) => t.name)).toEqual(["exec_command", "write_stdin", "apply_patch"]);
    expect(callOutput(mock.requests[1]!.body, "u1")).toBe("unsupported call: update_plan");
    expect(items(r.events, "item.started", "todo_list")).toEqual([]);
  }, T);
});
