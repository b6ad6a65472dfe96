// apply_patch as a tool, on real temporary directories: what it writes, what it returns to the
// model, the file_change item and diff it reports, the sandbox check, and the exec_command
// heredoc route.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { bunRuntime } from "../../../src/adapters/bun.ts";
import { OcxError } from "../../../src/core/errors.ts";
import type { FileChangeItem, ItemDetail } from "../../../src/core/events.ts";
import type { Runtime, SpawnOptions } from "../../../src/core/runtime.ts";
import type { SandboxPolicy } from "../../../src/core/sandbox/policy.ts";
import {
  applyPatch,
  applyPatchCustomTool,
  applyPatchFunctionTool,
} from "../../../src/core/tools/apply-patch.ts";
import { OUTSIDE_REJECTION, READ_ONLY_REJECTION } from "../../../src/core/tools/apply-patch-run.ts";
import { execCommandTool } from "../../../src/core/tools/exec-command.ts";
import { fakeRuntime } from "../../support/fake-runtime.ts";
import { FULL_ACCESS, READ_ONLY, toolHarness, workspaceWrite, type ToolHarness } from "../../support/tool-context.ts";

// The test process stays dumpable: a non-dumpable process cannot probe user namespaces (the
// clone's uid_map would belong to root) when run unprivileged, and the probe of every later
// runtime in this file would fail.
const real = bunRuntime();
const runtime: Runtime = { ...real, sandbox: { ...real.sandbox, hardenSelf: async () => null } };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory (its real path, so it compares equal to what realpath gives). */
function tempDir(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "ocx-apply-patch-")));
  dirs.push(d);
  return d;
}

const wrap = (...body: string[]) => ["*** Begin Patch", ...body, "*** End Patch"].join("\n");

function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

/** Everything under `dir`: file contents, symlink targets and directories, by relative path. */
function snapshot(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const abs = join(dir, name);
    const rel = prefix + name;
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(abs)}`;
    else if (st.isDirectory()) Object.assign(out, { [`${rel}/`]: "dir" }, snapshot(abs, `${rel}/`));
    else out[rel] = readFileSync(abs).toString("base64");
  }
  return out;
}

interface Setup {
  dir: string;
  h: ToolHarness;
  run(patch: string): Promise<string>;
}

function setupWith(files: Record<string, string | Uint8Array> = {}, sandbox: SandboxPolicy | ((dir: string) => SandboxPolicy) = FULL_ACCESS): Setup {
  const dir = tempDir();
  writeFiles(dir, files);
  const h = toolHarness({ runtime, cwd: dir, sandbox: typeof sandbox === "function" ? sandbox(dir) : sandbox });
  return { dir, h, run: async (patch) => (await applyPatchCustomTool.run(patch, h.ctx)) as string };
}

const read = (path: string) => readFileSync(path, "utf8");
const SUCCESS = /^Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\nSuccess\. Updated the following files:\n/;
const summaryOf = (out: string) => {
  expect(out).toMatch(SUCCESS);
  return out.replace(SUCCESS, "");
};
const setup = setupWith;
const tempLeftovers = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.ocx-.*\.tmp$/.test(p));

/** The written paths take two routes: in-process (full access) and the confined writer. */
const MODES: Array<[string, (dir: string, ...more: string[]) => SandboxPolicy]> = [
  ["in-process (danger-full-access)", () => FULL_ACCESS],
  ["confined writer (workspace-write)", (dir, ...more) => workspaceWrite(dir, ...more)],
];

for (const [label, policyFor] of MODES) {
  const setup = (files: Record<string, string | Uint8Array> = {}, sandbox: (dir: string) => SandboxPolicy = policyFor) => setupWith(files, sandbox);

  describe(`apply_patch: success, ${label}`, () => {
    test("Add + Update + Delete + Move in one patch", async () => {
      const { dir, h, run } = setup({ "keep.txt": "a\nb\nc\n", "gone.txt": "bye\n", "old/name.txt": "x\ny\n" });
      const out = await run(
        wrap(
          "*** Add File: new/added.txt",
          "+hello",
          "*** Update File: keep.txt",
          "@@",
          " a",
          "-b",
          "+B",
          " c",
          "*** Delete File: gone.txt",
          "*** Update File: old/name.txt",
          "*** Move to: renamed.txt",
          " x",
          "-y",
          "+Y",
        ),
      );

      expect(summaryOf(out)).toBe("A new/added.txt\nM keep.txt\nM renamed.txt\nD gone.txt\n");
      expect(read(join(dir, "new/added.txt"))).toBe("hello\n");
      expect(read(join(dir, "keep.txt"))).toBe("a\nB\nc\n");
      expect(existsSync(join(dir, "gone.txt"))).toBe(false);
      expect(existsSync(join(dir, "old/name.txt"))).toBe(false);
      expect(read(join(dir, "renamed.txt"))).toBe("x\nY\n");
      expect(tempLeftovers(dir)).toEqual([]);

      // Absolute paths sorted by path (not patch order); the move is an update of its source.
      const changes: FileChangeItem["changes"] = [
        { path: join(dir, "gone.txt"), kind: "delete" },
        { path: join(dir, "keep.txt"), kind: "update" },
        { path: join(dir, "new/added.txt"), kind: "add" },
        { path: join(dir, "old/name.txt"), kind: "update" },
      ];
      expect(h.events.map((e) => e.type)).toEqual(["item.started", "item.completed"]);
      const [started] = h.started() as FileChangeItem[];
      const [completed] = h.completed() as FileChangeItem[];
      expect(started).toEqual({ id: started!.id, type: "file_change", changes, status: "in_progress" });
      expect(completed).toEqual({ id: started!.id, type: "file_change", changes, status: "completed" });

      expect(h.details).toHaveLength(1);
      const { id, detail } = h.details[0]!;
      expect(id).toBe(started!.id);
      expect(detail.kind).toBe("diff");
      const diff = (detail as Extract<ItemDetail, { kind: "diff" }>).text().split("\n");
      expect(diff).toContain("--- /dev/null");
      expect(diff).toContain(`+++ ${join(dir, "new/added.txt")}`);
      expect(diff).toContain(`--- ${join(dir, "old/name.txt")}`);
      expect(diff).toContain(`+++ ${join(dir, "renamed.txt")}`);
      for (const line of ["+hello", "-b", "+B", "-bye", "-y", "+Y", " a", " c"]) expect(diff).toContain(line);
    });

    test("CRLF file keeps CRLF", async () => {
      const { dir, run } = setup({ "crlf.txt": "one\r\ntwo\r\nthree\r\n" });
      expect(summaryOf(await run(wrap("*** Update File: crlf.txt", " one", "-two", "+TWO", "+2b")))).toBe("M crlf.txt\n");
      expect(read(join(dir, "crlf.txt"))).toBe("one\r\nTWO\r\n2b\r\nthree\r\n");
    });

    test("file mode is kept, for an update and for a move", async () => {
      const { dir, run } = setup({ "run.sh": "#!/bin/sh\necho a\n", "secret": "k\n" });
      chmodSync(join(dir, "run.sh"), 0o755);
      chmodSync(join(dir, "secret"), 0o600);
      await run(wrap("*** Update File: run.sh", "-echo a", "+echo b", "*** Update File: secret", "*** Move to: moved", "-k", "+K"));
      expect(read(join(dir, "run.sh"))).toBe("#!/bin/sh\necho b\n");
      expect(statSync(join(dir, "run.sh")).mode & 0o7777).toBe(0o755);
      expect(read(join(dir, "moved"))).toBe("K\n");
      expect(statSync(join(dir, "moved")).mode & 0o7777).toBe(0o600);
    });

    test("a symlinked file stays a symlink and its target is updated", async () => {
      const { dir, run } = setup({ "real.txt": "old\n" });
      symlinkSync("real.txt", join(dir, "link.txt"));
      expect(summaryOf(await run(wrap("*** Update File: link.txt", "-old", "+new")))).toBe("M link.txt\n");
      expect(lstatSync(join(dir, "link.txt")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, "link.txt"))).toBe("real.txt");
      expect(read(join(dir, "real.txt"))).toBe("new\n");
      expect(tempLeftovers(dir)).toEqual([]);
    });

    test("Add File onto a symlinked file writes the target and keeps the symlink", async () => {
      const { dir, h, run } = setup({ "real.txt": "old\n" });
      symlinkSync("real.txt", join(dir, "link.txt"));
      expect(summaryOf(await run(wrap("*** Add File: link.txt", "+new")))).toBe("A link.txt\n");
      expect(readlinkSync(join(dir, "link.txt"))).toBe("real.txt");
      expect(read(join(dir, "real.txt"))).toBe("new\n");
      expect((h.completed()[0] as FileChangeItem).changes).toEqual([{ path: join(dir, "link.txt"), kind: "add" }]);
    });

    test("Add File overwrites a file that is not UTF-8", async () => {
      const { dir, run } = setup({ "latin1.txt": new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]) });
      expect(summaryOf(await run(wrap("*** Add File: latin1.txt", "+café")))).toBe("A latin1.txt\n");
      expect(read(join(dir, "latin1.txt"))).toBe("café\n");
    });

    test("Add File overwrites an existing file and creates parent directories", async () => {
      const { dir, h, run } = setup({ "exists.txt": "old\nlines\n" });
      const out = await run(wrap("*** Add File: exists.txt", "+fresh", "*** Add File: deep/er/x.txt", "+x", "+"));
      expect(summaryOf(out)).toBe("A exists.txt\nA deep/er/x.txt\n");
      expect(read(join(dir, "exists.txt"))).toBe("fresh\n");
      expect(read(join(dir, "deep/er/x.txt"))).toBe("x\n\n");
      expect((h.completed()[0] as FileChangeItem).changes).toEqual([
        { path: join(dir, "deep/er/x.txt"), kind: "add" },
        { path: join(dir, "exists.txt"), kind: "add" },
      ]);
    });

    test("paths with spaces and Unicode", async () => {
      const { dir, h, run } = setup();
      const rel = "dir with space/ünï.txt";
      expect(summaryOf(await run(wrap(`*** Add File: ${rel}`, "+héllo 世界")))).toBe(`A ${rel}\n`);
      expect(summaryOf(await run(wrap(`*** Update File: ${rel}`, "-héllo 世界", "+bye 🌍")))).toBe(`M ${rel}\n`);
      expect(read(join(dir, rel))).toBe("bye 🌍\n");
      expect(h.completed().map((i) => (i as FileChangeItem).changes)).toEqual([
        [{ path: join(dir, rel), kind: "add" }],
        [{ path: join(dir, rel), kind: "update" }],
      ]);
    });

    test("absolute paths and an explicit cwd argument", async () => {
      const other = tempDir();
      const { dir, h } = setup({ "sub/a.txt": "a\n" }, (d) => policyFor(d, other));
      const out = await applyPatch(wrap("*** Update File: a.txt", "-a", "+A", `*** Add File: ${other}/abs.txt`, "+abs"), h.ctx, join(dir, "sub"));
      expect(summaryOf(out)).toBe(`A ${other}/abs.txt\nM a.txt\n`);
      expect(read(join(dir, "sub/a.txt"))).toBe("A\n");
      expect(read(join(other, "abs.txt"))).toBe("abs\n");
    });
  });

  describe(`apply_patch: a write that fails after verification, ${label}`, () => {
    test("is reported with what was already changed, and the item fails", async () => {
      const { dir, h, run } = setup({ "afile": "x\n" });
      // afile/b verifies (nothing is there) but its parent cannot be created: afile is a file.
      const out = await run(wrap("*** Add File: ok.txt", "+k", "*** Add File: afile/b", "+b"));
      expect(out).toStartWith(`apply_patch failed while writing ${dir}/afile/b: `);
      expect(out).toContain(`: EEXIST: file already exists, mkdir '${dir}/afile'`);
      expect(out).toEndWith("(already changed: ok.txt)");
      expect(read(join(dir, "ok.txt"))).toBe("k\n");
      expect(read(join(dir, "afile"))).toBe("x\n");
      const [started] = h.started() as FileChangeItem[];
      expect(started!.status).toBe("in_progress");
      expect(h.completed()).toEqual([{ ...started!, status: "failed" }]);
      expect(h.details).toEqual([]);
      expect(tempLeftovers(dir)).toEqual([]);
    });
  });
}

describe("apply_patch: verification failures write nothing", () => {
  /** Runs `patch` and checks the answer, that the directory is untouched and that no item was reported. */
  async function rejects(s: Setup, patch: string, expected: string): Promise<void> {
    const before = snapshot(s.dir);
    expect(await s.run(patch)).toBe(expected);
    expect(snapshot(s.dir)).toEqual(before);
    expect(s.h.events).toEqual([]);
    expect(s.h.details).toEqual([]);
  }

  test("a later hunk that does not apply: nothing written, no events", async () => {
    const s = setup({ "a.txt": "one\n", "b.txt": "two\n" });
    await rejects(
      s,
      wrap("*** Add File: c.txt", "+new", "*** Update File: a.txt", "-one", "+ONE", "*** Update File: b.txt", "-nope", "-nada", "+x"),
      `apply_patch verification failed: Failed to find expected lines in ${s.dir}/b.txt:\nnope\nnada`,
    );
    expect(existsSync(join(s.dir, "c.txt"))).toBe(false);
    expect(read(join(s.dir, "a.txt"))).toBe("one\n");
  });

  test("parse error", async () => {
    const s = setup({ "a.txt": "a\n" });
    await rejects(
      s,
      wrap("*** Frobnicate File: a.txt", "+x"),
      "apply_patch verification failed: invalid hunk at line 2, '*** Frobnicate File: a.txt' is not a valid hunk header. " +
        "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'",
    );
  });

  test("an empty patch", async () => {
    await rejects(setup(), wrap(), "apply_patch verification failed: No files were modified.");
  });

  test("deleting a missing file", async () => {
    const s = setup();
    await rejects(
      s,
      wrap("*** Add File: a.txt", "+a", "*** Delete File: missing.txt"),
      `apply_patch verification failed: Failed to read ${s.dir}/missing.txt: No such file or directory (os error 2)`,
    );
  });

  test("updating a missing file", async () => {
    const s = setup();
    await rejects(
      s,
      wrap("*** Add File: a.txt", "+a", "*** Update File: missing.txt", "-x", "+y"),
      `apply_patch verification failed: Failed to read file to update ${s.dir}/missing.txt: No such file or directory (os error 2)`,
    );
  });

  test("a file deleted by an earlier hunk cannot be updated", async () => {
    const s = setup({ "a.txt": "a\n" });
    await rejects(
      s,
      wrap("*** Delete File: a.txt", "*** Update File: a.txt", "-a", "+b"),
      `apply_patch verification failed: Failed to read file to update ${s.dir}/a.txt: No such file or directory (os error 2)`,
    );
  });

  test("Add File onto an existing directory", async () => {
    const s = setup({ "adir/inner.txt": "i\n" });
    await rejects(
      s,
      wrap("*** Add File: other.txt", "+o", "*** Add File: adir", "+x"),
      `apply_patch verification failed: Failed to write ${s.dir}/adir: Is a directory (os error 21)`,
    );
  });

  test("Update File of a directory", async () => {
    const s = setup({ "adir/inner.txt": "i\n" });
    const out = await s.run(wrap("*** Add File: other.txt", "+o", "*** Update File: adir", "-x", "+y"));
    expect(out).toStartWith("apply_patch verification failed:");
    expect(out).toContain("Is a directory");
    expect(existsSync(join(s.dir, "other.txt"))).toBe(false);
  });

  test("a move onto an existing directory", async () => {
    const s = setup({ "a.txt": "a\n", "adir/inner.txt": "i\n" });
    await rejects(
      s,
      wrap("*** Update File: a.txt", "*** Move to: adir", "-a", "+b"),
      `apply_patch verification failed: Failed to write ${s.dir}/adir: Is a directory (os error 21)`,
    );
  });

  test("a non-UTF-8 file is not updated", async () => {
    const bytes = new Uint8Array([0x61, 0x0a, 0xc3, 0x28, 0x0a]);
    const s = setup({ "bin.dat": bytes });
    await rejects(
      s,
      wrap("*** Update File: bin.dat", " a", "+b"),
      `apply_patch verification failed: Failed to read ${s.dir}/bin.dat: stream did not contain valid UTF-8`,
    );
    expect(new Uint8Array(readFileSync(join(s.dir, "bin.dat")))).toEqual(bytes);
  });

  test("a non-UTF-8 file is not deleted", async () => {
    const s = setup({ "bin.dat": new Uint8Array([0xff, 0x00, 0xfe]) });
    await rejects(
      s,
      wrap("*** Delete File: bin.dat"),
      `apply_patch verification failed: Failed to read ${s.dir}/bin.dat: stream did not contain valid UTF-8`,
    );
  });
});

describe("apply_patch: sandbox", () => {
  test("read-only rejects every patch, before writing or reporting anything", async () => {
    const s = setup({ "a.txt": "a\n" }, READ_ONLY);
    const before = snapshot(s.dir);
    expect(await s.run(wrap("*** Add File: b.txt", "+b", "*** Update File: a.txt", "-a", "+A"))).toBe(READ_ONLY_REJECTION);
    expect(snapshot(s.dir)).toEqual(before);
    expect(s.h.events).toEqual([]);
  });

  test("a patch that does not verify reports the verification failure even under read-only", async () => {
    const s = setup({}, READ_ONLY);
    expect(await s.run(wrap("*** Delete File: nope"))).toStartWith("apply_patch verification failed: Failed to read");
  });

  test("workspace-write: inside the root is written", async () => {
    const s = setup({ "a.txt": "a\n", "sub/.git/x": "x\n" }, (dir) => workspaceWrite(dir));
    const out = await s.run(wrap("*** Add File: new/b.txt", "+b", "*** Update File: a.txt", "-a", "+A", "*** Update File: sub/.git/x", "-x", "+y"));
    expect(summaryOf(out)).toBe("A new/b.txt\nM a.txt\nM sub/.git/x\n");
    expect(read(join(s.dir, "new/b.txt"))).toBe("b\n");
    expect(read(join(s.dir, "a.txt"))).toBe("A\n");
    expect(read(join(s.dir, "sub/.git/x"))).toBe("y\n");
  });

  test("workspace-write: several roots", async () => {
    const other = tempDir();
    const s = setup({}, (dir) => workspaceWrite(dir, other));
    expect(summaryOf(await s.run(wrap("*** Add File: in.txt", "+i", `*** Add File: ${other}/o.txt`, "+o")))).toBe(
      `A in.txt\nA ${other}/o.txt\n`,
    );
    expect(read(join(other, "o.txt"))).toBe("o\n");
  });

  describe("workspace-write rejections write nothing", () => {
    async function denied(s: Setup, patch: string, expected: string, outside?: string): Promise<void> {
      const before = snapshot(s.dir);
      const outsideBefore = outside === undefined ? undefined : snapshot(outside);
      expect(await s.run(patch)).toBe(expected);
      expect(snapshot(s.dir)).toEqual(before);
      if (outside !== undefined) expect(snapshot(outside)).toEqual(outsideBefore!);
      expect(s.h.events).toEqual([]);
    }

    test("an absolute path outside the root, next to in-root hunks", async () => {
      const other = tempDir();
      const s = setup({ "a.txt": "a\n" }, (dir) => workspaceWrite(dir));
      await denied(s, wrap("*** Add File: in.txt", "+i", "*** Update File: a.txt", "-a", "+A", `*** Add File: ${other}/out.txt`, "+o"), OUTSIDE_REJECTION, other);
    });

    test("deleting a file outside the root", async () => {
      const other = tempDir();
      writeFiles(other, { "victim.txt": "v\n" });
      const s = setup({}, (dir) => workspaceWrite(dir));
      await denied(s, wrap(`*** Delete File: ${other}/victim.txt`), OUTSIDE_REJECTION, other);
    });

    test("a move whose destination is outside the root", async () => {
      const other = tempDir();
      const s = setup({ "a.txt": "a\n" }, (dir) => workspaceWrite(dir));
      await denied(s, wrap("*** Update File: a.txt", `*** Move to: ${other}/a.txt`, "-a", "+b"), OUTSIDE_REJECTION, other);
    });

    test("a relative path with .. escaping the root", async () => {
      const other = tempDir();
      const s = setup({}, (dir) => workspaceWrite(dir));
      await denied(s, wrap("*** Add File: ok.txt", "+k", `*** Add File: ../${basename(other)}/y.txt`, "+y"), OUTSIDE_REJECTION, other);
    });

    test("a root that is a prefix of the target's directory name does not hold it", async () => {
      const s = setup({}, (dir) => workspaceWrite(dir));
      const sibling = `${s.dir}2`;
      dirs.push(sibling);
      await denied(s, wrap(`*** Add File: ${sibling}/z.txt`, "+z"), OUTSIDE_REJECTION);
      expect(existsSync(sibling)).toBe(false);
    });

    test("a symlinked directory inside the root pointing outside it", async () => {
      const other = tempDir();
      const s = setup({ "in.txt": "i\n" }, (dir) => workspaceWrite(dir));
      symlinkSync(other, join(s.dir, "escape"));
      await denied(s, wrap("*** Update File: in.txt", "-i", "+I", "*** Add File: escape/x.txt", "+x"), OUTSIDE_REJECTION, other);
    });

    test("a symlinked file inside the root pointing outside it", async () => {
      const other = tempDir();
      writeFiles(other, { "target.txt": "t\n" });
      const s = setup({}, (dir) => workspaceWrite(dir));
      symlinkSync(join(other, "target.txt"), join(s.dir, "link.txt"));
      await denied(s, wrap("*** Update File: link.txt", "-t", "+T"), OUTSIDE_REJECTION, other);
    });

    test("<root>/.git stays read-only", async () => {
      const s = setup({ ".git/config": "[core]\n" }, (dir) => workspaceWrite(dir));
      const expected = `patch rejected: ${s.dir}/.git stays read-only under the workspace-write sandbox; rejected by user approval settings`;
      await denied(s, wrap("*** Add File: ok.txt", "+k", "*** Update File: .git/config", "-[core]", "+[evil]"), expected);
      await denied(s, wrap("*** Add File: .git/hooks/pre-commit", "+boom"), expected);
    });

    test("<root>/.codex and <root>/.agents stay read-only", async () => {
      const s = setup({}, (dir) => workspaceWrite(dir));
      for (const d of [".codex", ".agents"]) {
        await denied(
          s,
          wrap(`*** Add File: ${d}/config.toml`, "+x"),
          `patch rejected: ${s.dir}/${d} stays read-only under the workspace-write sandbox; rejected by user approval settings`,
        );
      }
    });

    test("a symlink inside the root pointing at its .git", async () => {
      const s = setup({ ".git/config": "[core]\n" }, (dir) => workspaceWrite(dir));
      symlinkSync(join(s.dir, ".git"), join(s.dir, "g"));
      const out = await s.run(wrap("*** Update File: g/config", "-[core]", "+[evil]"));
      expect(out).toBe(`patch rejected: ${s.dir}/.git stays read-only under the workspace-write sandbox; rejected by user approval settings`);
      expect(read(join(s.dir, ".git/config"))).toBe("[core]\n");
    });
  });
});

// The check above runs in ocx; the writes run in `ocx __patch-write` under the sandbox helper.
// A runtime whose realpath sees no symlinks stands for a command that swaps one in right after
// the check: only the kernel is left to refuse the write.
const hostCarveOuts = (await runtime.sandbox.probe({ carveOuts: true })).carveOuts === true;

describe("apply_patch: the confined writer", () => {
  /** The real runtime, with spawns recorded and `over` applied. */
  function recording(over: Partial<Runtime> & { envVars?: Record<string, string> } = {}) {
    const spawned: SpawnOptions[] = [];
    const rt = fakeRuntime({
      envVars: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir() },
      spawn: (o) => (spawned.push(o), runtime.spawn(o)),
      ...over,
    });
    return { rt, spawned };
  }
  const blindFs = { ...runtime.fs, realpath: async (p: string) => p };
  const setupOn = (rt: Runtime, files: Record<string, string> = {}, policyFor: (dir: string) => SandboxPolicy = (d) => workspaceWrite(d)) => {
    const dir = tempDir();
    writeFiles(dir, files);
    const h = toolHarness({ runtime: rt, cwd: dir, sandbox: policyFor(dir) });
    return { dir, h, run: async (patch: string) => (await applyPatchCustomTool.run(patch, h.ctx)) as string };
  };

  test("a symlink out of the roots that the check missed: the kernel refuses, the model gets the path and the reason", async () => {
    const outside = tempDir();
    writeFiles(outside, { "victim.txt": "v\n" });
    const { rt } = recording({ fs: blindFs });
    const s = setupOn(rt);
    symlinkSync(outside, join(s.dir, "escape"));
    const out = await s.run(wrap("*** Add File: ok.txt", "+k", "*** Add File: escape/victim.txt", "+pwned", "*** Add File: later.txt", "+l"));
    expect(out).toMatch(
      new RegExp(`^apply_patch failed while writing ${s.dir}/escape/victim\\.txt: (EACCES: permission denied|EROFS: read-only file system), open '${s.dir}/escape/\\.victim\\.txt\\.ocx-[0-9a-f]{8}\\.tmp' \\(already changed: ok\\.txt\\)$`),
    );
    expect(snapshot(outside)).toEqual({ "victim.txt": Buffer.from("v\n").toString("base64") });
    expect(read(join(s.dir, "ok.txt"))).toBe("k\n");
    expect(existsSync(join(s.dir, "later.txt"))).toBe(false);
    expect((s.h.completed()[0] as FileChangeItem).status).toBe("failed");
  });

  test("a symlinked file the check saw as a plain file: its outside target is not written", async () => {
    const outside = tempDir();
    writeFiles(outside, { "victim.txt": "same\n" });
    // The first look (reading the file) sees the symlink, the policy check after it a plain file.
    let looks = 0;
    const realpath = async (p: string) => (p.endsWith("link.txt") && looks++ > 0 ? p : runtime.fs.realpath(p));
    const { rt } = recording({ fs: { ...runtime.fs, realpath } });
    const s = setupOn(rt);
    symlinkSync(join(outside, "victim.txt"), join(s.dir, "link.txt"));
    const out = await s.run(wrap("*** Update File: link.txt", "-same", "+pwned"));
    expect(out).toMatch(new RegExp(`^apply_patch failed while writing ${s.dir}/link.txt: (EACCES: permission denied|EROFS: read-only file system)`));
    expect(out).toEndWith("(nothing was changed)");
    expect(read(join(outside, "victim.txt"))).toBe("same\n");
  });

  test.skipIf(!hostCarveOuts)("a symlink to .git that the check missed: read-only in the writer's view", async () => {
    const { rt } = recording({ fs: blindFs });
    const s = setupOn(rt, { ".git/config": "[core]\n" });
    symlinkSync(join(s.dir, ".git"), join(s.dir, "g"));
    const out = await s.run(wrap("*** Add File: g/hooks/pre-commit", "+boom"));
    expect(out).toStartWith(`apply_patch failed while writing ${s.dir}/g/hooks/pre-commit: EROFS: read-only file system`);
    expect(existsSync(join(s.dir, ".git/hooks"))).toBe(false);
  });

  test("started through the sandbox helper with a minimal environment; full access writes in-process", async () => {
    const { rt, spawned } = recording({ envVars: { PATH: "/usr/bin:/bin", HOME: tmpdir(), CODEX_API_KEY: "sk-secret", OPENAI_API_KEY: "sk-other" } });
    const s = setupOn(rt);
    expect(summaryOf(await s.run(wrap("*** Add File: a.txt", "+a")))).toBe("A a.txt\n");
    expect(spawned).toHaveLength(1);
    const argv = spawned[0]!.argv;
    expect(argv.slice(0, rt.sandbox.selfArgv.length)).toEqual([...rt.sandbox.selfArgv]);
    expect(argv[rt.sandbox.selfArgv.length]).toBe("__sandbox");
    expect(argv.slice(argv.indexOf("--"))).toEqual(["--", ...rt.sandbox.selfArgv, "__patch-write"]);
    expect(argv).toContain(s.dir);
    expect(spawned[0]!.env).toEqual({ PATH: "/usr/bin:/bin", HOME: tmpdir() });

    const full = setupOn(rt, {}, () => FULL_ACCESS);
    expect(summaryOf(await full.run(wrap("*** Add File: b.txt", "+b")))).toBe("A b.txt\n");
    expect(spawned).toHaveLength(1);
  });

  test("a writer that ends without an answer: the item fails and the model is told the patch may be partly applied", async () => {
    const base = recording().rt;
    const rt = { ...base, sandbox: { ...base.sandbox, probe: base.sandbox.probe, wrap: base.sandbox.wrap, selfArgv: ["/bin/sh", "-c", "echo out of memory >&2; exit 3", "sh"] } };
    const s = setupOn(rt);
    const out = await s.run(wrap("*** Add File: a.txt", "+a"));
    expect(out).toBe("apply_patch failed: the confined writer exited with code 3: out of memory; the patch may be partly applied");
    expect((s.h.completed()[0] as FileChangeItem).status).toBe("failed");
    expect(existsSync(join(s.dir, "a.txt"))).toBe(false);
  });

  test("a host that cannot enforce the policy: the turn fails as for a command; nothing written or reported", async () => {
    const { rt, spawned } = recording({ envVars: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" } });
    const s = setupOn(rt);
    const err = await s.run(wrap("*** Add File: a.txt", "+a")).catch((e) => e);
    expect(err).toBeInstanceOf(OcxError);
    expect((err as OcxError).kind).toBe("sandbox");
    expect((err as OcxError).message).toContain("cannot enforce the workspace-write sandbox");
    expect(spawned).toEqual([]);
    expect(s.h.events).toEqual([]);
    expect(existsSync(join(s.dir, "a.txt"))).toBe(false);
  });
});

describe("apply_patch tool specs", () => {
  test("the custom tool carries the Lark grammar", () => {
    const spec = applyPatchCustomTool.spec;
    expect(spec.type).toBe("custom");
    if (spec.type !== "custom") throw new Error("not custom");
    expect(spec.name).toBe("apply_patch");
    expect(spec.format).toEqual({ type: "grammar", syntax: "lark", definition: expect.any(String) });
    expect(String(spec.format!.definition)).toStartWith("start: begin_patch hunk+ end_patch\n");
    expect(spec.description).toContain("*** Begin Patch");
  });

  test("the function tool takes {input}", async () => {
    const spec = applyPatchFunctionTool.spec;
    expect(spec.type).toBe("function");
    if (spec.type !== "function") throw new Error("not a function");
    expect(spec.name).toBe("apply_patch");
    expect(spec.parameters.required).toEqual(["input"]);
    expect(spec.description).not.toContain("freeform");

    const s = setup({ "a.txt": "a\n" });
    const out = (await applyPatchFunctionTool.run(JSON.stringify({ input: wrap("*** Update File: a.txt", "-a", "+b") }), s.h.ctx)) as string;
    expect(summaryOf(out)).toBe("M a.txt\n");
    expect(read(join(s.dir, "a.txt"))).toBe("b\n");
    expect(s.h.completed()).toHaveLength(1);

    expect(await applyPatchFunctionTool.run(JSON.stringify({ patch: "x" }), s.h.ctx)).toStartWith("failed to parse function arguments");
  });
});

describe("exec_command running apply_patch", () => {
  const heredoc = (opener: string, ...body: string[]) => `${opener}\n${wrap(...body)}\nEOF`;
  const exec = async (h: ToolHarness, args: Record<string, unknown>) => (await execCommandTool.run(JSON.stringify(args), h.ctx)) as string;

  test("a heredoc is applied as the tool and reported as a file_change", async () => {
    const s = setup();
    const out = await exec(s.h, { cmd: heredoc("apply_patch <<'EOF'", "*** Add File: h.txt", "+hi") });
    expect(summaryOf(out)).toBe("A h.txt\n");
    expect(read(join(s.dir, "h.txt"))).toBe("hi\n");
    expect(s.h.started().map((i) => i.type)).toEqual(["file_change"]);
    expect(s.h.completed()).toEqual([
      { id: s.h.started()[0]!.id, type: "file_change", changes: [{ path: join(s.dir, "h.txt"), kind: "add" }], status: "completed" },
    ]);
  });

  test("workdir and a leading cd resolve relative paths", async () => {
    const s = setup({ "sub/inner/.keep": "" });
    await exec(s.h, { cmd: heredoc("apply_patch <<'EOF'", "*** Add File: w.txt", "+w"), workdir: "sub" });
    await exec(s.h, { cmd: heredoc("cd sub && apply_patch <<EOF", "*** Add File: c.txt", "+c") });
    await exec(s.h, { cmd: heredoc("cd inner && applypatch <<\"EOF\"", "*** Add File: both.txt", "+b"), workdir: "sub" });
    expect(read(join(s.dir, "sub/w.txt"))).toBe("w\n");
    expect(read(join(s.dir, "sub/c.txt"))).toBe("c\n");
    expect(read(join(s.dir, "sub/inner/both.txt"))).toBe("b\n");
    expect(existsSync(join(s.dir, "w.txt")) || existsSync(join(s.dir, "c.txt"))).toBe(false);
  });

  test("under read-only the patch is rejected as text while an ordinary command runs confined", async () => {
    const s = setup({}, READ_ONLY);
    expect(await exec(s.h, { cmd: heredoc("apply_patch <<'EOF'", "*** Add File: h.txt", "+hi") })).toBe(READ_ONLY_REJECTION);
    expect(existsSync(join(s.dir, "h.txt"))).toBe(false);
    expect(s.h.events).toEqual([]);
    expect(await exec(s.h, { cmd: "touch c.txt" })).toMatch(/Permission denied|Read-only file system/);
    expect(existsSync(join(s.dir, "c.txt"))).toBe(false);
  });

  test("under workspace-write the patch's own sandbox check applies", async () => {
    const other = tempDir();
    const s = setup({}, (dir) => workspaceWrite(dir));
    expect(await exec(s.h, { cmd: heredoc("apply_patch <<'EOF'", "*** Add File: in.txt", "+i") })).toMatch(SUCCESS);
    expect(await exec(s.h, { cmd: heredoc("apply_patch <<'EOF'", `*** Add File: ${other}/o.txt`, "+o") })).toBe(OUTSIDE_REJECTION);
    expect(existsSync(join(other, "o.txt"))).toBe(false);
  });
});
