// `ocx exec review` on the compiled binary, in throwaway git repositories: ocx's review
// instructions and reduced tools, the one-line target prompt, the model's `git diff` reaching it,
// the review JSON printed formatted (stdout, --json, -o), and the targets with nothing to review
// (exit 3) or none given (exit 2) sending no request.
import { afterAll, describe, expect, test } from "bun:test";
import { callOutput, execCommand, messageTexts, reply, sse, turn } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, items, join, makeDir, makeRepo, readFileSync, runOcx, useMockServers, writeFileSync } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

function git(repo: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: repo, GIT_CONFIG_NOSYSTEM: "1" },
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/** A repository with one commit of a.txt. */
function committedRepo(): string {
  const repo = makeRepo();
  writeFileSync(join(repo, "a.txt"), "one\ntwo\nthree\n");
  git(repo, "add", "a.txt");
  git(repo, "commit", "-q", "-m", "first");
  return repo;
}

const reviewJson = (path: string) =>
  JSON.stringify({
    findings: [
      {
        title: "Second line replaced by a wrong value",
        body: "The change writes `TWO`, which callers do not expect.\nThey compare against `two`.",
        confidence_score: 0.8,
        priority: 1,
        code_location: { absolute_file_path: path, line_range: { start: 2, end: 3 } },
      },
    ],
    overall_correctness: "patch is incorrect",
    overall_explanation: "The edit to a.txt breaks its readers.",
    overall_confidence_score: 0.7,
  });
const formatted = (path: string) =>
  `The edit to a.txt breaks its readers.\n\nReview comment:\n\n- [P1] Second line replaced by a wrong value — ${path}:2-3\n  The change writes \`TWO\`, which callers do not expect.\n  They compare against \`two\`.`;

describe("exec review --uncommitted", () => {
  test("review instructions, reduced tools, the target prompt; the model's git diff reaches it; the review JSON printed formatted (--json, -o)", async () => {
    const repo = committedRepo();
    writeFileSync(join(repo, "a.txt"), "one\nTWO\nthree\n");
    const path = join(repo, "a.txt");
    const { mock, home } = await setup([sse(turn([execCommand("git diff", {}, "call_diff")])), reply(reviewJson(path))]);
    const out = join(makeDir(), "last.txt");
    const r = await runOcx(["exec", "review", "--uncommitted", ...JSON_, "-o", out], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const first = mock.requests[0]!.body;
    expect(first.instructions).toStartWith("You are ocx acting as a code reviewer.");
    expect(first.tools.map((t: any) => t.name)).toEqual(["exec_command", "write_stdin", "apply_patch", "view_image"]);
    const prompt = messageTexts(first).at(-1)!;
    expect(prompt).toStartWith("Review the uncommitted changes of this repository");
    expect(prompt).not.toContain("\n");
    // No diff in the request: the model asked git for it, and got it.
    expect(JSON.stringify(first.input)).not.toContain("TWO");
    const diff = callOutput(mock.requests[1]!.body, "call_diff")!;
    expect(diff).toContain("-two");
    expect(diff).toContain("+TWO");
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual([formatted(path)]);
    expect(readFileSync(out, "utf8")).toBe(formatted(path));
  }, T);

  test("human mode: the formatted review on stdout; several findings are `Full review comments:`; a non-JSON answer passes through", async () => {
    const repo = committedRepo();
    writeFileSync(join(repo, "new.txt"), "untracked\n");
    const path = join(repo, "new.txt");
    const two = JSON.parse(reviewJson(path));
    two.findings.push({ ...two.findings[0], title: "[P3] Missing newline", priority: 3, body: "Nit.", code_location: { absolute_file_path: path, line_range: { start: 1, end: 1 } } });
    const { home } = await setup([reply(JSON.stringify(two)), reply("Looks fine to me.")]);
    const r = await runOcx(["exec", "--color", "never", "review", "--uncommitted"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `The edit to a.txt breaks its readers.\n\nFull review comments:\n\n- [P1] Second line replaced by a wrong value — ${path}:2-3\n  The change writes \`TWO\`, which callers do not expect.\n  They compare against \`two\`.\n\n- [P3] Missing newline — ${path}:1-1\n  Nit.\n`,
    );
    const plain = await runOcx(["exec", "review", "--uncommitted"], { home, cwd: repo });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe("Looks fine to me.\n");
  }, T);

  test("--output-schema is honoured: sent as text.format, the answer checked and printed as the JSON it is", async () => {
    const repo = committedRepo();
    writeFileSync(join(repo, "a.txt"), "changed\n");
    const schema = join(makeDir(), "schema.json");
    writeFileSync(schema, JSON.stringify({ type: "object", properties: { verdict: { type: "string" } }, required: ["verdict"] }));
    const { mock, home } = await setup([reply('{"verdict":"ok"}')]);
    const r = await runOcx(["exec", "review", "--uncommitted", "--output-schema", schema, ...JSON_], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.body.text.format).toMatchObject({ type: "json_schema", strict: true });
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(['{"verdict":"ok"}']);
  }, T);
});

describe("exec review targets", () => {
  test("--base BRANCH names the merge base and how to see the diff; --commit SHA --title T names the commit; a custom prompt is sent as it is", async () => {
    const repo = committedRepo();
    const base = git(repo, "rev-parse", "HEAD");
    const trunk = git(repo, "rev-parse", "--abbrev-ref", "HEAD");
    git(repo, "checkout", "-q", "-b", "feature");
    writeFileSync(join(repo, "b.txt"), "b\n");
    git(repo, "add", "b.txt");
    git(repo, "commit", "-q", "-m", "add b");
    const head = git(repo, "rev-parse", "HEAD");
    const { mock, home } = await setup([reply("ok"), reply("ok"), reply("ok")]);
    expect((await runOcx(["exec", "review", "--base", trunk], { home, cwd: repo })).code).toBe(0);
    const p1 = messageTexts(mock.requests[0]!.body).at(-1)!;
    expect(p1).toContain(`against ${trunk}`);
    expect(p1).toContain(`\`git diff ${base}\``);
    expect((await runOcx(["exec", "review", "--commit", "HEAD", "--title", "add b"], { home, cwd: repo })).code).toBe(0);
    const p2 = messageTexts(mock.requests[1]!.body).at(-1)!;
    expect(p2).toContain(head);
    expect(p2).toContain('"add b"');
    expect((await runOcx(["exec", "review", "Check b.txt for typos."], { home, cwd: repo })).code).toBe(0);
    expect(messageTexts(mock.requests[2]!.body).at(-1)).toBe("Check b.txt for typos.");
    expect(mock.requests[2]!.body.instructions).toStartWith("You are ocx acting as a code reviewer.");
  }, T);

  test("nothing to review is exit 3; no target, or two, is exit 2; no request in any case", async () => {
    const repo = committedRepo();
    const { mock, home } = await setup([]);
    const clean = await runOcx(["exec", "review", "--uncommitted"], { home, cwd: repo });
    expect(clean.code).toBe(3);
    expect(clean.stderr).toContain("Nothing to review: no uncommitted changes");
    expect(clean.stderr.trim().split("\n")).toHaveLength(1);
    const sameBase = await runOcx(["exec", "review", "--base", "HEAD"], { home, cwd: repo });
    expect(sameBase.code).toBe(3);
    expect(sameBase.stderr).toContain("Nothing to review");
    const unknown = await runOcx(["exec", "review", "--commit", "0123456789abcdef"], { home, cwd: repo });
    expect(unknown.code).toBe(3);
    const none = await runOcx(["exec", "review"], { home, cwd: repo });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Specify --uncommitted, --base, --commit, or provide custom review instructions");
    const both = await runOcx(["exec", "review", "--uncommitted", "also this"], { home, cwd: repo });
    expect(both.code).toBe(2);
    const stray = await runOcx(["exec", "--uncommitted", "hi"], { home, cwd: repo });
    expect(stray.code).toBe(2);
    expect(mock.requests).toHaveLength(0);
  }, T);
});
