import { describe, expect, test } from "bun:test";
import { PROTECTED_DIRS, writeDenial, type SandboxPolicy, type WriteDenial } from "../../src/core/sandbox/policy.ts";

const policy = (mode: SandboxPolicy["mode"], writableRoots: string[] = [], bypass = false): SandboxPolicy => ({
  mode,
  writableRoots,
  networkAccess: false,
  bypass,
});

const OUTSIDE: WriteDenial = { reason: "outside" };
const READ_ONLY: WriteDenial = { reason: "read-only" };
const protectedDir = (dir: string): WriteDenial => ({ reason: "protected", dir });

describe("writeDenial", () => {
  const ws = policy("workspace-write", ["/work/ws"]);
  const nested = policy("workspace-write", ["/tmp", "/tmp/ws"]);
  const cases: Array<[string, SandboxPolicy, string, WriteDenial | null]> = [
    ["danger-full-access allows anything", policy("danger-full-access"), "/etc/passwd", null],
    ["danger-full-access allows .git", policy("danger-full-access", ["/work/ws"]), "/work/ws/.git/config", null],
    ["bypass allows anything, whatever the mode", policy("read-only", [], true), "/etc/passwd", null],
    ["bypass under workspace-write allows outside and .git", policy("workspace-write", ["/work/ws"], true), "/work/ws/.git/x", null],
    ["read-only denies", policy("read-only"), "/tmp/x", READ_ONLY],
    ["read-only denies even with roots listed", policy("read-only", ["/work/ws"]), "/work/ws/a", READ_ONLY],
    ["workspace-write: inside the root", ws, "/work/ws/a.txt", null],
    ["workspace-write: deep inside the root", ws, "/work/ws/src/deep/a.ts", null],
    ["workspace-write: the root itself", ws, "/work/ws", null],
    ["workspace-write: outside", ws, "/etc/passwd", OUTSIDE],
    ["workspace-write: the root's parent", ws, "/work", OUTSIDE],
    ["workspace-write: a sibling sharing the root as a prefix", ws, "/work/ws2", OUTSIDE],
    ["workspace-write: a file in that sibling", ws, "/work/ws2/a.txt", OUTSIDE],
    ["workspace-write: a file named like the root plus a suffix", ws, "/work/ws.txt", OUTSIDE],
    ["workspace-write: no roots at all", policy("workspace-write"), "/work/ws/a", OUTSIDE],
    ["<root>/.git itself", ws, "/work/ws/.git", protectedDir("/work/ws/.git")],
    ["<root>/.git/config", ws, "/work/ws/.git/config", protectedDir("/work/ws/.git")],
    ["<root>/.git/hooks/pre-commit", ws, "/work/ws/.git/hooks/pre-commit", protectedDir("/work/ws/.git")],
    ["<root>/.codex", ws, "/work/ws/.codex/config.toml", protectedDir("/work/ws/.codex")],
    ["<root>/.agents", ws, "/work/ws/.agents/skill.md", protectedDir("/work/ws/.agents")],
    ["<root>/.aws", ws, "/work/ws/.aws/credentials", protectedDir("/work/ws/.aws")],
    ["sub/.git is not at the top of the root", ws, "/work/ws/sub/.git/config", null],
    ["a file named .gitignore", ws, "/work/ws/.gitignore", null],
    ["a folder named .git-backup", ws, "/work/ws/.git-backup/x", null],
    ["nested roots: inside the inner root", nested, "/tmp/ws/a", null],
    ["nested roots: the inner root's .git is protected", nested, "/tmp/ws/.git/x", protectedDir("/tmp/ws/.git")],
    ["nested roots, inner first: still protected", policy("workspace-write", ["/tmp/ws", "/tmp"]), "/tmp/ws/.git/x", protectedDir("/tmp/ws/.git")],
    ["nested roots: the outer root's .git is protected", nested, "/tmp/.git/x", protectedDir("/tmp/.git")],
    ["nested roots: outside both", nested, "/var/x", OUTSIDE],
    ["a second root", policy("workspace-write", ["/work/ws", "/data"]), "/data/out.csv", null],
    ["a root written with a trailing slash", policy("workspace-write", ["/work/ws/"]), "/work/ws/a", null],
    ["a root with a trailing slash: its .git", policy("workspace-write", ["/work/ws/"]), "/work/ws/.git/x", protectedDir("/work/ws/.git")],
    ["the filesystem root as a root", policy("workspace-write", ["/"]), "/etc/x", null],
    ["the filesystem root: /.git", policy("workspace-write", ["/"]), "/.git/x", protectedDir("/.git")],
  ];
  test.each(cases)("%s", (_name, p, path, expected) => {
    expect(writeDenial(p, path)).toEqual(expected);
  });

  test("explicit roots replace the policy's roots (the real-path check)", () => {
    const p = policy("workspace-write", ["/link/ws"]);
    expect(writeDenial(p, "/real/ws/a")).toEqual(OUTSIDE);
    expect(writeDenial(p, "/real/ws/a", ["/real/ws"])).toBeNull();
    expect(writeDenial(p, "/link/ws/a", ["/real/ws"])).toEqual(OUTSIDE);
    expect(writeDenial(p, "/real/ws/.git/x", ["/real/ws"])).toEqual(protectedDir("/real/ws/.git"));
  });

  test("every protected dir is denied at the top of a root", () => {
    expect([...PROTECTED_DIRS].sort()).toEqual([".agents", ".aws", ".codex", ".git"]);
    for (const dir of PROTECTED_DIRS) {
      expect(writeDenial(policy("workspace-write", ["/r"]), `/r/${dir}/f`)).toEqual(protectedDir(`/r/${dir}`));
      expect(writeDenial(policy("workspace-write", ["/r"]), `/r/x/${dir}/f`)).toBeNull();
    }
  });
});
