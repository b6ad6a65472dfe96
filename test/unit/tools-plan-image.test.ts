import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import type { TodoListItem } from "../../src/core/events.ts";
import type { ToolOutputPart } from "../../src/core/tools/define-tool.ts";
import { updatePlanTool } from "../../src/core/tools/update-plan.ts";
import { viewImageTool } from "../../src/core/tools/view-image.ts";
import { toolHarness, type ToolHarness } from "../support/tool-context.ts";

const runtime = bunRuntime();
const call = (tool: typeof updatePlanTool, h: ToolHarness, args: unknown) => tool.run(JSON.stringify(args), h.ctx);

describe("update_plan", () => {
  type Status = "pending" | "in_progress" | "completed";
  const plan = (...steps: Array<[string, Status]>) => steps.map(([step, status]) => ({ step, status }));

  test("one todo_list item per turn: started, updated, completed at the turn's end", async () => {
    const h = toolHarness({ runtime });
    const calls = [
      { explanation: "first draft", plan: plan(["read", "in_progress"], ["fix", "pending"], ["test", "pending"]) },
      { plan: plan(["read", "completed"], ["fix", "in_progress"], ["test", "pending"]) },
      { explanation: "tests added", plan: plan(["read", "completed"], ["fix", "completed"], ["test", "in_progress"]) },
    ];
    for (const args of calls) expect(await call(updatePlanTool, h, args)).toBe("Plan updated");

    expect(h.events.map((e) => e.type)).toEqual(["item.started", "item.updated", "item.updated"]);
    const items = h.events.map((e) => (e as { item: TodoListItem }).item);
    const id = items[0]!.id;
    expect(items.map((i) => [i.id, i.type])).toEqual([
      [id, "todo_list"],
      [id, "todo_list"],
      [id, "todo_list"],
    ]);
    expect(items[0]!.items).toEqual([
      { text: "read", completed: false },
      { text: "fix", completed: false },
      { text: "test", completed: false },
    ]);
    expect(items[1]!.items).toEqual([
      { text: "read", completed: true },
      { text: "fix", completed: false },
      { text: "test", completed: false },
    ]);

    // The detail of every call comes with the item's id, the explanation and the statuses.
    expect(h.details).toEqual(
      calls.map((args) => ({ id, detail: { kind: "plan", explanation: args.explanation, steps: args.plan } })),
    );

    expect(h.completed()).toEqual([]);
    h.endTurn();
    expect(h.completed()).toEqual([
      {
        id,
        type: "todo_list",
        items: [
          { text: "read", completed: true },
          { text: "fix", completed: true },
          { text: "test", completed: false },
        ],
      },
    ]);
    expect(h.events).toHaveLength(4);
  });

  test("invalid arguments are answered as text and start no item", async () => {
    const h = toolHarness({ runtime });
    const out = await call(updatePlanTool, h, { plan: [{ step: "x", status: "done" }] });
    expect(out).toStartWith("failed to parse function arguments");
    expect(out).toContain("plan.0.status");
    expect(await call(updatePlanTool, h, { explanation: "no plan" })).toStartWith("failed to parse function arguments");
    expect(await updatePlanTool.run("{not json", h.ctx)).toStartWith("failed to parse function arguments");
    h.endTurn();
    expect(h.events).toEqual([]);
    expect(h.details).toEqual([]);
  });

  test("an empty plan is a plan", async () => {
    const h = toolHarness({ runtime });
    expect(await call(updatePlanTool, h, { plan: [] })).toBe("Plan updated");
    expect(h.started()).toEqual([{ id: expect.any(String), type: "todo_list", items: [] }]);
  });
});

describe("view_image", () => {
  const PNG = Uint8Array.from(
    atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
    (c) => c.charCodeAt(0),
  );
  const bytes = (...parts: Array<string | number[]>) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

  const dir = realpathSync(mkdtempSync(join(tmpdir(), "ocx-view-image-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "dot.png"), PNG);
  writeFileSync(join(dir, "photo.jpg"), bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], "JFIF", [0]));
  writeFileSync(join(dir, "anim.gif"), bytes("GIF89a", [1, 0, 1, 0, 0, 0, 0]));
  writeFileSync(join(dir, "pic.webp"), bytes("RIFF", [0x1a, 0, 0, 0], "WEBPVP8 ", [0, 0, 0, 0]));
  writeFileSync(join(dir, "notes.txt"), "just text\n");
  writeFileSync(join(dir, "fake.png"), bytes([0x89], "PNG", [0x0d, 0x0a, 0x1a])); // truncated signature
  writeFileSync(join(dir, "riff.wav"), bytes("RIFF", [0x1a, 0, 0, 0], "WAVEfmt "));
  mkdirSync(join(dir, "folder.png"));

  const h = toolHarness({ runtime, cwd: dir });
  const view = (args: Record<string, unknown>) => viewImageTool.run(JSON.stringify(args), h.ctx);
  const decode = (url: string) => Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));

  test("a PNG comes back as an input_image data URL of the same bytes", async () => {
    const out = (await view({ path: "dot.png" })) as ToolOutputPart[];
    expect(out).toEqual([{ type: "input_image", image_url: expect.stringMatching(/^data:image\/png;base64,/), detail: "high" }]);
    const url = (out[0] as Extract<ToolOutputPart, { type: "input_image" }>).image_url;
    expect(decode(url)).toEqual(PNG);
    expect(url).toBe(`data:image/png;base64,${Buffer.from(PNG).toString("base64")}`);
  });

  test.each([
    ["photo.jpg", "image/jpeg"],
    ["anim.gif", "image/gif"],
    ["pic.webp", "image/webp"],
  ])("%s is sniffed as %s", async (name, mime) => {
    const out = (await view({ path: name })) as Array<{ image_url: string }>;
    expect(out[0]!.image_url).toStartWith(`data:${mime};base64,`);
  });

  test("the type comes from the bytes, not the file name", async () => {
    writeFileSync(join(dir, "really-a-gif.png"), bytes("GIF87a", [1, 0, 1, 0]));
    const out = (await view({ path: "really-a-gif.png" })) as Array<{ image_url: string }>;
    expect(out[0]!.image_url).toStartWith("data:image/gif;base64,");
  });

  test("an absolute path and detail: original", async () => {
    const out = (await view({ path: join(dir, "dot.png"), detail: "original" })) as ToolOutputPart[];
    expect(out).toEqual([{ type: "input_image", image_url: expect.stringMatching(/^data:image\/png;base64,/), detail: "original" }]);
  });

  test("errors are answered as text", async () => {
    expect(await view({ path: "missing.png" })).toBe(`unable to locate image at \`${dir}/missing.png\`: No such file or directory`);
    expect(await view({ path: "notes.txt" })).toBe(`unable to view \`${dir}/notes.txt\`: not a PNG, JPEG, GIF or WebP image`);
    expect(await view({ path: "fake.png" })).toBe(`unable to view \`${dir}/fake.png\`: not a PNG, JPEG, GIF or WebP image`);
    expect(await view({ path: "riff.wav" })).toBe(`unable to view \`${dir}/riff.wav\`: not a PNG, JPEG, GIF or WebP image`);
    expect(await view({ path: "folder.png" })).toBe(`unable to view \`${dir}/folder.png\`: it is a directory, not an image file`);
    expect(await view({ path: "dot.png", detail: "low" })).toStartWith("failed to parse function arguments");
    expect(await view({})).toStartWith("failed to parse function arguments");
    expect(h.events).toEqual([]);
  });
});
