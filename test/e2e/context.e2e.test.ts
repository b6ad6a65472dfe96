// What the model is told besides the prompt: AGENTS.md from CODEX_HOME and from the git root
// down to the working directory, before <environment_context>.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { messageTexts, reply } from "../mock/responses-server.ts";
import { cleanupTemp, join, makeRepo, runOcx, useMockServers, writeFileSync } from "./harness.ts";

afterAll(cleanupTemp);
const setup = useMockServers();

describe("AGENTS.md", () => {
  test("global, root, middle (override wins), cwd: in that order, before the environment, capped", async () => {
    const repo = makeRepo();
    const mid = join(repo, "pkg");
    const cwd = join(mid, "src");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(repo, "AGENTS.md"), "ROOT rules");
    writeFileSync(join(mid, "AGENTS.md"), "MIDDLE plain (must not appear)");
    writeFileSync(join(mid, "AGENTS.override.md"), "MIDDLE override");
    writeFileSync(join(cwd, "AGENTS.md"), `CWD rules ${"x".repeat(100)}`);
    const { mock, home } = await setup([reply("one"), reply("two")]);
    writeFileSync(join(home, "AGENTS.md"), "GLOBAL rules");
    const r = await runOcx(["exec", "--json", "-c", "project_doc_max_bytes=50", "hi"], { home, cwd });
    expect(r.code).toBe(0);
    const texts = messageTexts(mock.requests[0]!.body);
    const agentsAt = texts.findIndex((t) => t.startsWith("# AGENTS.md instructions for "));
    const envAt = texts.findIndex((t) => t.includes("<environment_context>"));
    expect(agentsAt).toBeGreaterThanOrEqual(0);
    expect(agentsAt).toBeLessThan(envAt);
    expect(texts.at(-1)).toBe("hi");
    const doc = texts[agentsAt]!;
    expect(doc.startsWith(`# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\n`)).toBe(true);
    const order = ["GLOBAL rules", "ROOT rules", "MIDDLE override", "CWD rules"].map((s) => doc.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(doc).not.toContain("MIDDLE plain");
    // 50 bytes of project docs: "ROOT rules" (10) + "MIDDLE override" (15) + 25 bytes of the cwd file
    expect(doc).toContain(`CWD rules ${"x".repeat(15)}\n</INSTRUCTIONS>`);
    expect(doc).not.toContain("x".repeat(16));

    // resumed: the unchanged instructions are not sent a second time
    const again = await runOcx(["exec", "resume", "--last", "--json", "-c", "project_doc_max_bytes=50", "more"], { home, cwd });
    expect(again.code).toBe(0);
    const second = messageTexts(mock.requests[1]!.body).filter((t) => t.startsWith("# AGENTS.md instructions"));
    expect(second.length).toBe(1);
  });

  test("fallback names, and nothing at all without docs", async () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "CLAUDE.md"), "FALLBACK doc");
    const { mock, home } = await setup([reply("a"), reply("b")]);
    expect((await runOcx(["exec", "-c", 'project_doc_fallback_filenames=["CLAUDE.md"]', "hi"], { home, cwd: repo })).code).toBe(0);
    expect(messageTexts(mock.requests[0]!.body).some((t) => t.includes("FALLBACK doc"))).toBe(true);
    expect((await runOcx(["exec", "-c", "project_doc_fallback_filenames=[]", "hi"], { home, cwd: repo })).code).toBe(0);
    expect(messageTexts(mock.requests[1]!.body).some((t) => t.startsWith("# AGENTS.md"))).toBe(false);
  });
});

describe("-i/--image", () => {
  // a 1x1 transparent PNG
  const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

  test("repeatable, not greedy: images go before the prompt text as data URLs; a missing file is exit 3", async () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "a.png"), PNG);
    writeFileSync(join(repo, "b.png"), PNG);
    const { mock, home } = await setup([reply("two images")]);
    const r = await runOcx(["exec", "-i", "a.png", "--image", "b.png", "what do you see"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const last = mock.requests[0]!.body.input.at(-1);
    expect(last.role).toBe("user");
    // each image inside its <image name=[Image #N] path=…> tags, all before the prompt
    const images = last.content.filter((p: any) => p.type === "input_image");
    expect(images.map((p: any) => p.image_url)).toEqual([1, 2].map(() => `data:image/png;base64,${PNG.toString("base64")}`));
    expect(last.content.at(-1)).toEqual({ type: "input_text", text: "what do you see" });
    expect(last.content.findIndex((p: any) => p.text === "what do you see")).toBe(last.content.length - 1);
    expect(last.content[0].text).toBe(`<image name=[Image #1] path="${join(repo, "a.png")}">`);

    const missing = await runOcx(["exec", "-i", "nope.png", "x"], { home, cwd: repo });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("nope.png");
    expect(mock.requests.length).toBe(1);
  });
});
