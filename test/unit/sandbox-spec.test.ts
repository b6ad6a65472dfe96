import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { SandboxPolicy } from "../../src/core/sandbox/policy.ts";
import {
  NO_VIEW,
  DEVICE_FILES,
  HELPER_ARG,
  helperArgv,
  parseHelperArgs,
  sandboxSpec,
  unenforceableReason,
  type SandboxCapabilities,
  type SandboxSpec,
} from "../../src/core/sandbox/spec.ts";
import { seatbeltProfile } from "../../src/core/sandbox/seatbelt.ts";

const policy = (
  mode: SandboxPolicy["mode"],
  writableRoots: string[] = [],
  networkAccess = false,
  bypass = false,
): SandboxPolicy => ({ mode, writableRoots, networkAccess, bypass });

describe("sandboxSpec", () => {
  test("danger-full-access is unconfined", () => {
    expect(sandboxSpec(policy("danger-full-access"))).toBeNull();
    expect(sandboxSpec(policy("danger-full-access", ["/work/ws"], true))).toBeNull();
  });

  test("bypass is unconfined whatever the mode", () => {
    expect(sandboxSpec(policy("read-only", [], false, true))).toBeNull();
    expect(sandboxSpec(policy("workspace-write", ["/work/ws"], false, true))).toBeNull();
  });

  test("read-only writes only the device files; network from the policy", () => {
    expect(sandboxSpec(policy("read-only"))).toEqual({ writable: [...DEVICE_FILES], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(sandboxSpec(policy("read-only", [], true))).toEqual({ writable: [...DEVICE_FILES], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } });
  });

  test("read-only ignores writable roots", () => {
    expect(sandboxSpec(policy("read-only", ["/work/ws", "/tmp"]))).toEqual({ writable: [...DEVICE_FILES], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
  });

  test("workspace-write: roots first, then the device files", () => {
    expect(sandboxSpec(policy("workspace-write", ["/work/ws", "/tmp"], true))).toEqual({
      writable: ["/work/ws", "/tmp", ...DEVICE_FILES],
      network: true,
      readOnly: [
        "/work/ws/.git",
        "/work/ws/.codex",
        "/work/ws/.agents",
        "/work/ws/.aws",
        "/tmp/.git",
        "/tmp/.codex",
        "/tmp/.agents",
        "/tmp/.aws",
      ],
      hide: [],
      view: { ...NO_VIEW },
    });
  });

  test("workspace-write with no roots writes only the device files", () => {
    expect(sandboxSpec(policy("workspace-write", [], false))).toEqual({ writable: [...DEVICE_FILES], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
  });

  test("workspace-write: a repeated root appears once, in first position", () => {
    const spec = sandboxSpec(policy("workspace-write", ["/work/ws", "/tmp", "/work/ws"]))!;
    expect(spec.writable).toEqual(["/work/ws", "/tmp", ...DEVICE_FILES]);
  });

  test("workspace-write: a root equal to a device file appears once, where the root was", () => {
    const spec = sandboxSpec(policy("workspace-write", ["/dev/null", "/work/ws"]))!;
    expect(spec.writable).toEqual(["/dev/null", "/work/ws", ...DEVICE_FILES.filter((d) => d !== "/dev/null")]);
    expect(spec.writable.filter((p) => p === "/dev/null")).toHaveLength(1);
  });

  test("workspace-write carries networkAccess through", () => {
    expect(sandboxSpec(policy("workspace-write", ["/w"], true))!.network).toBe(true);
    expect(sandboxSpec(policy("workspace-write", ["/w"], false))!.network).toBe(false);
  });

  test("does not mutate the policy's roots", () => {
    const roots = ["/w", "/w"];
    sandboxSpec(policy("workspace-write", roots));
    expect(roots).toEqual(["/w", "/w"]);
  });

  test("property: workspace-write writable = unique(roots ++ devices), in order", () => {
    const path = fc.oneof(fc.constantFrom(...DEVICE_FILES, "/w", "/tmp"), fc.string({ minLength: 1 }));
    fc.assert(
      fc.property(fc.array(path, { maxLength: 8 }), fc.boolean(), (roots, net) => {
        const spec = sandboxSpec(policy("workspace-write", roots, net))!;
        expect(spec.network).toBe(net);
        expect(new Set(spec.writable).size).toBe(spec.writable.length);
        const expected: string[] = [];
        for (const p of [...roots, ...DEVICE_FILES]) if (!expected.includes(p)) expected.push(p);
        expect(spec.writable).toEqual(expected);
      }),
    );
  });
});

describe("DEVICE_FILES", () => {
  test("includes /dev/null and has no duplicates; all absolute", () => {
    expect(DEVICE_FILES).toContain("/dev/null");
    expect(new Set(DEVICE_FILES).size).toBe(DEVICE_FILES.length);
    for (const d of DEVICE_FILES) expect(d.startsWith("/dev/")).toBe(true);
  });
});

describe("helperArgv / parseHelperArgs", () => {
  const self = ["/usr/local/bin/ocx"];
  const roundTrip = (selfArgs: string[], spec: SandboxSpec, argv: string[]) =>
    parseHelperArgs(helperArgv(selfArgs, spec, argv).slice(selfArgs.length + 1));

  test("helperArgv layout", () => {
    expect(helperArgv(self, { writable: ["/a", "/b"], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } }, ["ls", "-l"])).toEqual([
      "/usr/local/bin/ocx",
      HELPER_ARG,
      "--write",
      "/a",
      "--write",
      "/b",
      "--no-net",
      "--",
      "ls",
      "-l",
    ]);
    expect(helperArgv(["bun", "main.ts"], { writable: [], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }, ["true"])).toEqual([
      "bun",
      "main.ts",
      "__sandbox",
      "--",
      "true",
    ]);
  });

  test("HELPER_ARG sits right after self", () => {
    const selfArgs = ["bun", "run", "src/main.ts"];
    const out = helperArgv(selfArgs, { writable: ["/x"], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }, ["echo"]);
    expect(out.slice(0, selfArgs.length)).toEqual(selfArgs);
    expect(out[selfArgs.length]).toBe(HELPER_ARG);
  });

  const specs: Array<[string, SandboxSpec]> = [
    ["no writable paths, network on", { writable: [], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }],
    ["no writable paths, network off", { writable: [], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } }],
    ["device files, network off", { writable: [...DEVICE_FILES], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } }],
    ["paths with spaces and unicode", { writable: ["/work/my project", "/tmp/日本語 ✓", "/home/zoë/é"], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }],
    ["a path starting with --", { writable: ["--", "--no-net", "--write", "--weird dir"], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } }],
    ["an empty path", { writable: [""], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }],
  ];
  const argvs: Array<[string, string[]]> = [
    ["a simple command", ["ls"]],
    ["a shell command", ["/bin/sh", "-c", "echo hi > /dev/null"]],
    ["-- and --write as command arguments", ["git", "diff", "--", "--write", "--no-net", "--", "x"]],
    ["the command is --", ["--"]],
    ["the command is --write", ["--write"]],
    ["empty-string arguments", ["printf", "", ""]],
    ["unicode and spaces", ["echo", "héllo wörld", "🙂"]],
  ];

  for (const [specName, spec] of specs) {
    for (const [argvName, argv] of argvs) {
      test(`round trip: ${specName}; ${argvName}`, () => {
        for (const selfArgs of [self, ["bun", "src/main.ts"], []]) {
          expect(roundTrip(selfArgs, spec, argv)).toEqual({ spec, argv });
        }
      });
    }
  }

  test("round trip: property", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string()),
        fc.record({
          writable: fc.array(fc.oneof(fc.string(), fc.constantFrom("--", "--write", "--no-net", "__sandbox"))),
          network: fc.boolean(),
          readOnly: fc.array(fc.oneof(fc.string(), fc.constantFrom("--", "--read-only", "--write", "--no-net"))),
          hide: fc.array(fc.oneof(fc.string(), fc.constantFrom("--", "--hide", "--ns"))),
          view: fc.record({ namespaces: fc.boolean(), freshProc: fc.boolean(), privatePts: fc.boolean(), supervised: fc.boolean() }),
        }),
        fc.array(fc.oneof(fc.string(), fc.constantFrom("--", "--write", "--no-net")), { minLength: 1 }),
        (selfArgs, spec, argv) => {
          const out = helperArgv(selfArgs, spec, argv);
          expect(out[selfArgs.length]).toBe(HELPER_ARG);
          expect(parseHelperArgs(out.slice(selfArgs.length + 1))).toEqual({ spec, argv });
        },
      ),
    );
  });

  test("helperArgv does not mutate its inputs", () => {
    const selfArgs = ["ocx"];
    const spec = { writable: ["/a"], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } };
    const argv = ["ls"];
    helperArgv(selfArgs, spec, argv);
    expect(selfArgs).toEqual(["ocx"]);
    expect(spec).toEqual({ writable: ["/a"], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(argv).toEqual(["ls"]);
  });

  test("defaults: no flags means network on, nothing writable", () => {
    expect(parseHelperArgs(["--", "ls"])).toEqual({ spec: { writable: [], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }, argv: ["ls"] });
  });

  test("error: empty args", () => {
    expect(parseHelperArgs([])).toBe("missing -- before the command");
  });

  test("error: flags but no --", () => {
    expect(parseHelperArgs(["--write", "/a", "--no-net"])).toBe("missing -- before the command");
  });

  test("error: -- with no command", () => {
    expect(parseHelperArgs(["--"])).toBe("no command given after --");
    expect(parseHelperArgs(["--write", "/a", "--no-net", "--"])).toBe("no command given after --");
  });

  test("error: an unknown flag is named", () => {
    const r = parseHelperArgs(["--bogus", "--", "x"]);
    expect(typeof r).toBe("string");
    expect(r as string).toContain("--bogus");
  });

  test("error: a bare command without -- is rejected", () => {
    const r = parseHelperArgs(["ls", "-l"]);
    expect(typeof r).toBe("string");
    expect(r as string).toContain("ls");
  });

  test("error: --write with no value", () => {
    const r = parseHelperArgs(["--write"]);
    expect(typeof r).toBe("string");
    expect((r as string).length).toBeGreaterThan(0);
  });

  test("--write takes the next argument as its value even when it is --", () => {
    // ["--write", "--"] then no terminator: the "--" is the path, so -- is still missing.
    expect(parseHelperArgs(["--write", "--"])).toBe("missing -- before the command");
    expect(parseHelperArgs(["--write", "--", "--", "ls"])).toEqual({ spec: { writable: ["--"], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } }, argv: ["ls"] });
  });
});

describe("unenforceableReason", () => {
  const caps = (over: Partial<SandboxCapabilities>): SandboxCapabilities => ({
    platform: "linux",
    landlockAbi: 7,
    seccomp: true,
    seatbelt: false,
    carveOuts: null,
    problems: [],
    ...over,
  });

  const expectOneLine = (msg: string | null): string => {
    expect(msg).not.toBeNull();
    expect(msg!).not.toContain("\n");
    expect(msg!).not.toContain("\r");
    return msg!;
  };

  const expectWaysForward = (msg: string, mode: string) => {
    expect(msg).toContain(mode);
    expect(msg).toContain("--sandbox danger-full-access");
    expect(msg).toContain("Landlock (5.13+)");
  };

  test("linux with Landlock and seccomp: enforceable", () => {
    expect(unenforceableReason(caps({}), "workspace-write")).toBeNull();
    expect(unenforceableReason(caps({ landlockAbi: 1 }), "read-only")).toBeNull();
  });

  test("linux without Landlock", () => {
    const msg = expectOneLine(
      unenforceableReason(caps({ landlockAbi: null, problems: ["landlock_create_ruleset: ENOSYS", "lsm list lacks landlock"] }), "workspace-write"),
    );
    expect(msg).toContain("Landlock is not available");
    expectWaysForward(msg, "workspace-write");
    expect(msg).toContain("landlock_create_ruleset: ENOSYS");
    expect(msg).toContain("lsm list lacks landlock");
    expect(msg).not.toContain("seccomp filters cannot");
  });

  test("linux without Landlock, no problems listed", () => {
    const msg = expectOneLine(unenforceableReason(caps({ landlockAbi: null }), "read-only"));
    expect(msg).toContain("Landlock is not available");
    expectWaysForward(msg, "read-only");
    expect(msg).not.toContain("()");
  });

  test("linux without seccomp", () => {
    const msg = expectOneLine(unenforceableReason(caps({ seccomp: false, problems: ["prctl: EINVAL"] }), "read-only"));
    expect(msg).toContain("seccomp");
    expect(msg).toContain("seccomp filters cannot be installed");
    expect(msg).not.toContain("Landlock is not available");
    expect(msg).toContain("prctl: EINVAL");
    expectWaysForward(msg, "read-only");
  });

  test("linux without both", () => {
    const msg = expectOneLine(unenforceableReason(caps({ landlockAbi: null, seccomp: false }), "workspace-write"));
    expect(msg).toContain("Landlock is not available");
    expect(msg).toContain("seccomp filters cannot be installed");
    expectWaysForward(msg, "workspace-write");
  });

  test("linux ignores the seatbelt flag", () => {
    expect(unenforceableReason(caps({ seatbelt: true, landlockAbi: null }), "read-only")).not.toBeNull();
  });

  test("darwin with sandbox-exec: enforceable", () => {
    expect(unenforceableReason(caps({ platform: "darwin", seatbelt: true, landlockAbi: null, seccomp: false }), "read-only")).toBeNull();
  });

  test("darwin without sandbox-exec", () => {
    const msg = expectOneLine(
      unenforceableReason(caps({ platform: "darwin", seatbelt: false, problems: ["ENOENT: /usr/bin/sandbox-exec"] }), "workspace-write"),
    );
    expect(msg).toContain("sandbox-exec");
    expect(msg).toContain("ENOENT: /usr/bin/sandbox-exec");
    expectWaysForward(msg, "workspace-write");
  });

  test("darwin ignores Landlock and seccomp", () => {
    const msg = expectOneLine(unenforceableReason(caps({ platform: "darwin", seatbelt: false, landlockAbi: 7, seccomp: true }), "read-only"));
    expect(msg).toContain("sandbox-exec");
  });

  for (const platform of ["win32", "freebsd"]) {
    test(`${platform}: no sandbox`, () => {
      const msg = expectOneLine(unenforceableReason(caps({ platform, landlockAbi: 7, seccomp: true, seatbelt: true }), "read-only"));
      expect(msg).toContain(platform);
      expectWaysForward(msg, "read-only");
    });
  }

  test("property: null exactly when the platform's mechanisms are all present; else one line with the mode", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("linux", "darwin", "win32", "freebsd"),
        fc.option(fc.integer({ min: 1, max: 10 })),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.string().filter((s) => !/[\r\n]/.test(s)), { maxLength: 3 }),
        fc.constantFrom("read-only", "workspace-write"),
        (platform, landlockAbi, seccomp, seatbelt, problems, mode) => {
          const msg = unenforceableReason({ platform, landlockAbi, seccomp, seatbelt, carveOuts: null, problems }, mode);
          const ok = platform === "linux" ? landlockAbi !== null && seccomp : platform === "darwin" ? seatbelt : false;
          if (ok) {
            expect(msg).toBeNull();
          } else {
            expectOneLine(msg);
            expectWaysForward(msg!, mode);
            // Problems are quoted with runs of whitespace folded to one space (one line).
            for (const p of problems) expect(msg!).toContain(p.replace(/\s+/g, " "));
          }
        },
      ),
    );
  });
});

/** Parenthesis depth check outside string literals; throws on malformed profiles. */
function checkBalanced(profile: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < profile.length; i++) {
    const c = profile[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth < 0) throw new Error(`unbalanced ) at ${i}`);
    }
  }
  if (inString) throw new Error("unterminated string literal");
  if (depth !== 0) throw new Error(`unbalanced: depth ${depth} at end`);
}

/** The decoded contents of every `(subpath "...")` in the profile, in order. */
function subpaths(profile: string): string[] {
  const out: string[] = [];
  const re = /\(subpath "((?:[^"\\]|\\.)*)"\)/g;
  for (const m of profile.matchAll(re)) out.push(m[1]!.replace(/\\(.)/g, "$1"));
  return out;
}

/** The file-write* block, or null when there is none. */
function writeBlock(profile: string): string | null {
  const start = profile.indexOf("(allow file-write*");
  if (start < 0) return null;
  const lines = profile.slice(start).split("\n");
  const end = lines.indexOf(")");
  expect(end).toBeGreaterThan(0);
  return lines.slice(0, end + 1).join("\n");
}

describe("seatbeltProfile", () => {
  const lines = (p: string) => p.split("\n");

  test("header and read access", () => {
    const p = seatbeltProfile({ writable: ["/w"], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } });
    const ls = lines(p);
    expect(ls[0]).toBe("(version 1)");
    expect(ls[1]).toBe("(deny default)");
    expect(p.startsWith("(version 1)\n(deny default)\n")).toBe(true);
    expect(ls).toContain("(allow file-read*)");
    expect(p.endsWith("\n")).toBe(true);
    checkBalanced(p);
  });

  test("writable paths are subpaths inside one file-write* block", () => {
    const writable = ["/work/ws", "/tmp", ...DEVICE_FILES];
    const p = seatbeltProfile({ writable, network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    const block = writeBlock(p)!;
    expect(block).not.toBeNull();
    for (const w of writable) expect(block).toContain(`(subpath "${w}")`);
    expect(subpaths(block)).toEqual(writable);
    expect(p.match(/\(allow file-write\*/g)).toHaveLength(1);
    checkBalanced(p);
    checkBalanced(block);
  });

  test("paths with spaces and unicode are kept verbatim", () => {
    const writable = ["/work/my project", "/tmp/日本語 ✓"];
    const p = seatbeltProfile({ writable, network: true, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(p).toContain('(subpath "/work/my project")');
    expect(p).toContain('(subpath "/tmp/日本語 ✓")');
    checkBalanced(p);
  });

  test("double quotes and backslashes are escaped", () => {
    const p = seatbeltProfile({ writable: ['/tmp/a"b', "/tmp/c\\d", '/tmp/"\\"'], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(p).toContain('(subpath "/tmp/a\\"b")');
    expect(p).toContain('(subpath "/tmp/c\\\\d")');
    expect(p).toContain('(subpath "/tmp/\\"\\\\\\"")');
    expect(subpaths(p)).toEqual(['/tmp/a"b', "/tmp/c\\d", '/tmp/"\\"']);
    checkBalanced(p);
  });

  test("a quote-and-paren path cannot close the block early", () => {
    const evil = '/tmp/x") (allow file-write* (subpath "/';
    const p = seatbeltProfile({ writable: [evil], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(subpaths(p)).toEqual([evil]);
    checkBalanced(p);
  });

  test("no writable paths: no file-write allowance at all", () => {
    for (const network of [true, false]) {
      const p = seatbeltProfile({ writable: [], network, readOnly: [], hide: [], view: { ...NO_VIEW } });
      expect(p).not.toContain("file-write");
      expect(p).not.toContain("subpath");
      checkBalanced(p);
    }
  });

  test("carve-outs: writes allowed under a root except beneath each carve-out", () => {
    const p = seatbeltProfile({ writable: ["/w", "/dev/null"], network: false, readOnly: ["/w/.git", "/w/.codex"], hide: [], view: { ...NO_VIEW } });
    checkBalanced(p);
    const body = p.slice(p.indexOf("(allow file-write*"));
    expect(body).toContain('(require-any\n      (subpath "/w")\n      (subpath "/dev/null")\n    )');
    expect(body).toContain('(require-not (subpath "/w/.git"))');
    expect(body).toContain('(require-not (subpath "/w/.codex"))');
    // The carve-outs sit inside the same require-all as the roots, not in an allow of their own.
    expect(p.match(/\(allow file-write\*/g)).toHaveLength(1);
    expect(body.indexOf("require-all")).toBeLessThan(body.indexOf("require-not"));
  });

  test("network on: a bare (allow network*) line", () => {
    const p = seatbeltProfile({ writable: ["/w"], network: true, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(lines(p)).toContain("(allow network*)");
    expect(p).not.toContain("unix-socket");
    checkBalanced(p);
  });

  test("network off: only the unix-socket form", () => {
    const p = seatbeltProfile({ writable: ["/w"], network: false, readOnly: [], hide: [], view: { ...NO_VIEW } });
    expect(lines(p)).not.toContain("(allow network*)");
    expect(lines(p)).toContain("(allow network* (remote unix-socket))");
    expect(lines(p).filter((l) => l.includes("network"))).toEqual(["(allow network* (remote unix-socket))"]);
    checkBalanced(p);
  });

  test("balanced for the specs sandboxSpec produces", () => {
    for (const pol of [
      policy("read-only"),
      policy("read-only", [], true),
      policy("workspace-write", ["/work/ws", "/tmp"], false),
      policy("workspace-write", ["/work/ws", "/tmp"], true),
    ]) {
      const spec = sandboxSpec(pol)!;
      const p = seatbeltProfile(spec);
      checkBalanced(p);
      expect(subpaths(p)).toEqual([...spec.writable, ...spec.readOnly]);
    }
  });

  test("property: balanced, every path decodes back, network line matches", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.stringMatching(/^[()"\\ a-z/]*$/))),
        fc.boolean(),
        (writable, network) => {
          const p = seatbeltProfile({ writable, network, readOnly: [], hide: [], view: { ...NO_VIEW } });
          checkBalanced(p);
          expect(p.startsWith("(version 1)\n(deny default)\n")).toBe(true);
          expect(subpaths(p)).toEqual(writable);
          expect(p.includes("file-write")).toBe(writable.length > 0);
          expect(p.split("\n").includes("(allow network*)")).toBe(network);
        },
      ),
    );
  });
});
