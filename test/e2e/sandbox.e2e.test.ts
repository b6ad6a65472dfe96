// The kernel sandbox on the compiled binary: read-only and workspace-write enforced by Landlock
// and seccomp for the agent's commands and for `ocx sandbox run`, escapes refused, and the
// fail-closed path (exit 5, nothing run) when the host cannot enforce the policy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { dirname } from "node:path";
import { createServer, type Server } from "node:net";
import { callOutput, execCommand, reply, sse, turn } from "../mock/responses-server.ts";
import {
  checkEventStream,
  cleanupTemp,
  existsSync,
  items,
  join,
  makeDir,
  makeRepo,
  mkdirSync,
  ocxBin as ocxBinPath,
  readFileSync,
  runOcx,
  writeFileSync,
  useMockServers,
} from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never"];

const setup = useMockServers();

// A TCP listener on 127.0.0.1 for the network tests.
let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((s) => s.end("hello\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
  cleanupTemp();
});

// The test folders live under the temp folder, which is itself a writable root (/tmp, $TMPDIR)
// under workspace-write; these flags leave it out so only the named roots are writable.
const ONLY_NAMED_ROOTS = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"];

/** `ocx sandbox run` of a shell script in `cwd`; stdout+stderr of the script and the exit code. */
async function sandboxed(script: string, opts: { cwd: string; args?: string[]; env?: Record<string, string> }) {
  const home = makeDir("home-");
  const r = await runOcx(["sandbox", "run", ...(opts.args ?? []), "--", "/bin/sh", "-c", script], {
    home,
    cwd: opts.cwd,
    env: opts.env,
  });
  return { code: r.code, out: r.stdout + r.stderr };
}

const DENIED = /Permission denied|Read-only file system|Operation not permitted/;

describe("exec: commands under the sandbox", () => {
  test("read-only (the default): the write fails inside the command, the item is failed with the real code, the run completes", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([sse(turn([execCommand("touch made.txt; echo more > /tmp/ocx-ro-probe", {}, "call_w")])), reply("could not write")]);
    const r = await runOcx(["exec", ...JSON_, "write a file"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const [item] = items(r.events, "item.completed", "command_execution");
    expect(item.status).toBe("failed");
    expect(item.exit_code).not.toBe(0);
    expect(item.aggregated_output).toMatch(DENIED);
    expect(callOutput(mock.requests[1]!.body, "call_w")).toMatch(DENIED);
    expect(existsSync(join(repo, "made.txt"))).toBe(false);
    expect(r.events!.at(-1).type).toBe("turn.completed");
  }, T);

  test("workspace-write: cwd and --add-dir writable; $HOME and /etc not; a grandchild process is confined too", async () => {
    const repo = makeRepo();
    const extra = makeDir("extra-");
    const home = makeDir("userhome-");
    const cmd = [
      "touch in-cwd.txt && echo cwd-ok",
      `touch ${extra}/in-extra.txt && echo extra-ok`,
      `touch ${home}/in-home.txt || echo home-denied`,
      "touch /etc/ocx-probe || echo etc-denied",
      // a script that starts another writer
      `printf '#!/bin/sh\\ntouch ${home}/grandchild.txt\\n' > writer.sh && sh -c 'sh ./writer.sh' || echo grandchild-denied`,
    ].join("; ");
    const { mock, home: codexHome } = await setup([sse(turn([execCommand(cmd, {}, "call_ww")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "--add-dir", extra, "go"], {
      home: codexHome,
      cwd: repo,
      env: { HOME: home },
    });
    expect(r.code).toBe(0);
    const out = callOutput(mock.requests[1]!.body, "call_ww")!;
    for (const word of ["cwd-ok", "extra-ok", "home-denied", "etc-denied", "grandchild-denied"]) expect(out).toContain(word);
    expect(existsSync(join(repo, "in-cwd.txt"))).toBe(true);
    expect(existsSync(join(extra, "in-extra.txt"))).toBe(true);
    expect(existsSync(join(home, "in-home.txt"))).toBe(false);
    expect(existsSync(join(home, "grandchild.txt"))).toBe(false);
  }, T);

  test("workspace-write: /tmp and $TMPDIR are writable by default, and not once excluded", async () => {
    const repo = makeRepo();
    const tmpdir = makeDir("tmpdir-");
    const probe = `/tmp/ocx-ww-${process.pid}-${Date.now()}`;
    // appends, not touch: touching an existing file only sets its times, which Landlock allows
    const cmd = `echo x >> ${probe} && echo tmp-ok; echo x >> "$TMPDIR/t" && echo tmpdir-ok`;
    const run = async (extra: string[]) => {
      const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_t")])), reply("done")]);
      const r = await runOcx(["exec", ...JSON_, "--sandbox", "workspace-write", ...extra, "go"], { home, cwd: repo, env: { TMPDIR: tmpdir } });
      expect(r.code).toBe(0);
      return callOutput(mock.requests[1]!.body, "call_t")!;
    };
    const open = await run([]);
    rmSync(probe, { force: true });
    expect(open).toContain("tmp-ok");
    expect(open).toContain("tmpdir-ok");
    const closed = await run(ONLY_NAMED_ROOTS);
    // tmpdir is under /tmp: with both excluded neither is writable
    expect(closed).not.toContain("tmp-ok");
    expect(closed).not.toContain("tmpdir-ok");
  }, T);

  test("the host cannot enforce the policy: exit 5, turn.failed sandbox_unavailable, the command never runs", async () => {
    const repo = makeRepo();
    const marker = join(repo, "ran.txt");
    for (const mode of ["read-only", "workspace-write"]) {
      const { home } = await setup([sse(turn([execCommand(`touch ${marker}`, {}, "call_x")])), reply("should not get here")]);
      const r = await runOcx(["exec", ...JSON_, "--sandbox", mode, "touch a file"], {
        home,
        cwd: repo,
        env: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated missing Landlock" },
      });
      expect(r.code).toBe(5);
      const last = r.events!.at(-1);
      expect(last).toMatchObject({ type: "turn.failed", error: { code: "sandbox_unavailable" } });
      expect(last.error.message).toContain(`cannot enforce the ${mode} sandbox`);
      expect(last.error.message).toContain("--sandbox danger-full-access");
      expect(last.error.message).toContain("simulated missing Landlock");
      expect(items(r.events, "item.started", "command_execution")).toEqual([]);
      expect(existsSync(marker)).toBe(false);
      expect(checkEventStream(r.events)).toEqual([]);
    }
  }, T);

  test("danger-full-access needs no sandbox: it runs even when the host could not enforce one", async () => {
    const repo = makeRepo();
    const { home } = await setup([sse(turn([execCommand("touch free.txt", {}, "call_f")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "danger-full-access", "go"], {
      home,
      cwd: repo,
      env: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" },
    });
    expect(r.code).toBe(0);
    expect(existsSync(join(repo, "free.txt"))).toBe(true);
  }, T);
});

describe("network", () => {
  /** A host service on a Unix socket outside every root (docker.sock, systemd's private socket). */
  async function hostService(): Promise<{ path: string; close: () => void }> {
    const path = join(makeDir("service-"), "svc.sock");
    const srv = createServer((s) => s.end("HOST-SERVICE\n"));
    await new Promise<void>((r) => srv.listen(path, r));
    return { path, close: () => srv.close() };
  }
  const unixProbe = (host: string) =>
    [
      "import os, socket, threading",
      "def tryc(addr):",
      "    s = socket.socket(socket.AF_UNIX)",
      "    try:",
      "        s.connect(addr); print('connected', s.recv(64).decode().strip())",
      "    except OSError as e: print('refused', e.errno)",
      `tryc(${JSON.stringify(host)})`,
      `os.symlink(${JSON.stringify(host)}, 'lnk')`,
      "tryc('lnk')",
      "srv = socket.socket(socket.AF_UNIX); srv.bind('in.sock'); srv.listen(1)",
      "threading.Thread(target=lambda: srv.accept()[0].sendall(b'INSIDE\\n'), daemon=True).start()",
      "tryc('in.sock')",
      "tryc('\\0ocx-abstract-probe')",
      "d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
      "try:",
      `    d.sendto(b'x', ${JSON.stringify(host)}); print('sendto-sent')`,
      "except OSError as e: print('sendto-refused', e.errno)",
    ].join("\n");

  for (const [label, env] of [["namespaces", {}], ["no namespaces", { OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "simulated" }]] as const) {
    test(`off (${label}): a Unix socket outside the roots is out of reach, directly or through a symlink; one inside works; abstract names and addressed datagrams are refused`, async () => {
      const svc = await hostService();
      try {
        const ws = makeDir("ws-");
        writeFileSync(join(ws, "probe.py"), unixProbe(svc.path));
        const r = await sandboxed("python3 probe.py", { cwd: ws, args: ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS], env });
        const lines = r.out.split("\n").filter((l) => !l.startsWith("warning"));
        expect(lines.slice(0, 6)).toEqual(["refused 13", "refused 13", "connected INSIDE", "refused 111", "sendto-refused 1", ""]);
        expect(r.out).not.toContain("HOST-SERVICE");
      } finally {
        svc.close();
      }
    }, T);
  }

  test("on: the host's Unix sockets are reachable, as the network is (a deliberate opening)", async () => {
    const svc = await hostService();
    try {
      const ws = makeDir("ws-");
      writeFileSync(join(ws, "probe.py"), unixProbe(svc.path));
      const r = await sandboxed("python3 probe.py", {
        cwd: ws,
        args: ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "-c", "sandbox_workspace_write.network_access=true"],
      });
      expect(r.out).toContain("connected HOST-SERVICE");
    } finally {
      svc.close();
    }
  }, T);

  const connect = () => `exec 3<>/dev/tcp/127.0.0.1/${port} && head -c 5 <&3 && echo " connected"`;

  test("off under workspace-write by default: connect() to a local listener fails; commands see CODEX_SANDBOX_NETWORK_DISABLED=1", async () => {
    const repo = makeRepo();
    const cmd = `bash -c '${connect()}' || echo refused; echo "flag=$CODEX_SANDBOX_NETWORK_DISABLED"`;
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_n")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "--sandbox", "workspace-write", "go"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const out = callOutput(mock.requests[1]!.body, "call_n")!;
    expect(out).toContain("refused");
    expect(out).not.toContain("connected");
    expect(out).toContain("flag=1");
  }, T);

  test("on with sandbox_workspace_write.network_access = true", async () => {
    const repo = makeRepo();
    const cmd = `bash -c '${connect()}' || echo refused; echo "flag=$CODEX_SANDBOX_NETWORK_DISABLED"`;
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_n")])), reply("ok")]);
    const r = await runOcx(
      ["exec", ...JSON_, "--sandbox", "workspace-write", "-c", "sandbox_workspace_write.network_access=true", "go"],
      { home, cwd: repo },
    );
    expect(r.code).toBe(0);
    const out = callOutput(mock.requests[1]!.body, "call_n")!;
    expect(out).toContain("hello connected");
    expect(out).toContain("flag=\n");
  }, T);

  test("sandbox run: unix sockets still work with the network off", async () => {
    const dir = makeDir();
    const r = await sandboxed("python3 -c 'import socket; a, b = socket.socketpair(); a.send(b\"x\"); print(\"unix\", b.recv(1))' 2>&1 || echo no-python", { cwd: dir, args: ["--sandbox", "workspace-write"] });
    expect(r.out).toMatch(/unix b'x'|no-python/);
  }, T);

  const python = Bun.which("python3") !== null;
  test.skipIf(!python)("abstract unix sockets outside the sandbox are out of reach with the network off (Landlock ABI 6), reachable with it on", async () => {
    const name = `ocx-e2e-abstract-${process.pid}-${Date.now()}`;
    const abstract = createServer((s) => s.end("abstract-hello\n"));
    await new Promise<void>((r) => abstract.listen(`\0${name}`, r));
    try {
      const script = `python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("\\0${name}"); print(s.recv(100).decode().strip())' 2>&1 | tail -1`;
      const home = makeDir("home-");
      const abi = JSON.parse((await runOcx(["sandbox", "check", "--json"], { home })).stdout).landlockAbi as number;
      const off = await sandboxed(script, { cwd: makeDir(), args: ["--sandbox", "workspace-write"] });
      const on = await sandboxed(script, { cwd: makeDir(), args: ["--sandbox", "workspace-write", "-c", "sandbox_workspace_write.network_access=true"] });
      expect(on.out).toContain("abstract-hello");
      if (abi >= 6) {
        expect(off.out).not.toContain("abstract-hello");
        expect(off.out).toMatch(/Operation not permitted|Permission denied|Connection refused/);
      }
    } finally {
      abstract.close();
    }
  }, T);
});

describe("escapes are refused (ocx sandbox run --sandbox workspace-write)", () => {
  function layout() {
    const ws = makeDir("ws-");
    const outside = makeDir("outside-");
    writeFileSync(join(outside, "secret.txt"), "original\n");
    return { ws, outside, secret: join(outside, "secret.txt") };
  }
  const WW = ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS];

  test("a symlink from the workspace to outside", async () => {
    const { ws, outside, secret } = layout();
    symlinkSync(outside, join(ws, "link"));
    const r = await sandboxed("echo pwned > link/secret.txt; echo pwned > link/new.txt; echo rc=$?", { cwd: ws, args: WW });
    expect(r.out).toMatch(DENIED);
    expect(readFileSync(secret, "utf8")).toBe("original\n");
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
  }, T);

  test("`..` paths", async () => {
    const { ws, outside, secret } = layout();
    mkdirSync(join(ws, "sub"));
    const rel = `../../${outside.split("/").at(-1)}`;
    const r = await sandboxed(`cd sub && echo pwned > ${rel}/secret.txt; echo pwned > ${rel}/new.txt`, { cwd: ws, args: WW });
    expect(r.out).toMatch(DENIED);
    expect(readFileSync(secret, "utf8")).toBe("original\n");
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
  }, T);

  test("a hard link to an outside file", async () => {
    const { ws, secret } = layout();
    const r = await sandboxed(`ln ${secret} hard.txt && echo pwned > hard.txt; echo done`, { cwd: ws, args: WW });
    expect(r.out).toMatch(/Permission denied|Invalid cross-device link|Operation not permitted/);
    expect(readFileSync(secret, "utf8")).toBe("original\n");
  }, T);

  test("a hard link made before the run still cannot be written", async () => {
    const { ws, secret } = layout();
    // Same filesystem (both under the temp folder), so the link works outside the sandbox.
    linkSync(secret, join(ws, "prelinked.txt"));
    const r = await sandboxed("echo pwned > prelinked.txt; echo rc=$?", { cwd: ws, args: WW });
    // The file is inside the workspace by this path: Landlock allows it. This is the same
    // inode, which is why ocx makes no promise about hard links that already exist; the test
    // documents it rather than hides it.
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rc=0/);
  }, T);

  test("renaming a workspace file out of the workspace", async () => {
    const { ws, outside } = layout();
    writeFileSync(join(ws, "mine.txt"), "x\n");
    const r = await sandboxed(`mv mine.txt ${outside}/moved.txt; echo rc=$?`, { cwd: ws, args: WW });
    expect(r.out).toMatch(DENIED);
    expect(existsSync(join(outside, "moved.txt"))).toBe(false);
    expect(existsSync(join(ws, "mine.txt"))).toBe(true);
  }, T);

  test("writing through /proc/self/root", async () => {
    const { ws, outside, secret } = layout();
    const r = await sandboxed(`echo pwned > /proc/self/root${secret}; echo pwned > /proc/self/root${outside}/new.txt`, { cwd: ws, args: WW });
    expect(r.out).toMatch(DENIED);
    expect(readFileSync(secret, "utf8")).toBe("original\n");
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
  }, T);

  test("inside the workspace everything works: create, edit, rename between folders, delete, /dev/null", async () => {
    const { ws } = layout();
    const script = "mkdir -p a/b && echo 1 > a/b/f && echo 2 >> a/b/f && mv a/b/f a/g && mkdir c && mv a/g c/h && rm -r a && cat c/h && echo x > /dev/null && echo ok";
    const r = await sandboxed(script, { cwd: ws, args: WW });
    expect(r.code).toBe(0);
    expect(r.out).toBe("1\n2\nok\n");
  }, T);
});

// Read-only carve-outs need unprivileged user namespaces; on a host without them ocx warns and
// these tests cannot show the protection (the warning itself is tested below with a forced probe).
const hostCheck = Bun.spawnSync([ocxBinPath(), "sandbox", "check", "--json"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
const hostCarveOuts = (() => {
  try {
    return JSON.parse(hostCheck.stdout.toString()).carveOuts === true;
  } catch {
    return false;
  }
})();
if (!hostCarveOuts) console.warn(`skipping carve-out tests: this host cannot create user namespaces (${hostCheck.stdout.toString().trim()})`);

describe.skipIf(!hostCarveOuts)("workspace-write: .git, .codex, .agents and .aws stay read-only for commands", () => {
  const WW = ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS];
  /** A git repository with .codex and .agents folders (with a file each) and no .aws. */
  function protectedRepo() {
    const repo = makeRepo();
    for (const d of [".codex", ".agents"]) {
      mkdirSync(join(repo, d));
      writeFileSync(join(repo, d, "keep.txt"), "original\n");
    }
    return repo;
  }
  const gitConfig = (repo: string) => readFileSync(join(repo, ".git", "config"), "utf8");
  const ROFS = /Read-only file system/;

  test("exec: writes into them fail with EROFS while the rest of the workspace is writable; the model reads why", async () => {
    const repo = protectedRepo();
    const before = gitConfig(repo);
    const cmd = [
      "echo '[core] hooksPath = /tmp' >> .git/config || echo config-denied",
      "printf '#!/bin/sh\\n' > .git/hooks/pre-commit || echo hook-denied",
      "echo x >> .codex/keep.txt || echo codex-denied",
      "rm -f .agents/keep.txt || echo agents-denied",
      "mv .git .git-moved || echo rename-denied",
      "echo fine > src.txt && echo cwd-ok",
      "git status --short >/dev/null && echo git-reads",
    ].join("; ");
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_g")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "go"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("warning");
    const out = callOutput(mock.requests[1]!.body, "call_g")!;
    for (const word of ["config-denied", "hook-denied", "codex-denied", "agents-denied", "rename-denied", "cwd-ok", "git-reads"]) {
      expect(out).toContain(word);
    }
    expect(out).toMatch(ROFS);
    expect(gitConfig(repo)).toBe(before);
    expect(existsSync(join(repo, ".git", "hooks", "pre-commit"))).toBe(false);
    expect(readFileSync(join(repo, ".codex", "keep.txt"), "utf8")).toBe("original\n");
    expect(existsSync(join(repo, ".agents", "keep.txt"))).toBe(true);
    expect(readFileSync(join(repo, "src.txt"), "utf8")).toBe("fine\n");
  }, T);

  test("exec: an absent .aws cannot be created (a read-only mount point stands in while commands run) and is gone after the run", async () => {
    const repo = protectedRepo();
    const cmd = "mkdir -p .aws/x || echo mkdir-denied; touch .aws/credentials || echo touch-denied; ls -a";
    const { mock, home } = await setup([sse(turn([execCommand(cmd, {}, "call_a"), execCommand("rmdir .aws || echo rmdir-denied", {}, "call_b")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "go"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const out = callOutput(mock.requests[1]!.body, "call_a")!;
    expect(out).toContain("mkdir-denied");
    expect(out).toContain("touch-denied");
    expect(callOutput(mock.requests[1]!.body, "call_b")).toContain("rmdir-denied");
    expect(readdirSync(repo).sort()).toEqual([".agents", ".codex", ".git"]);
  }, T);

  test("concurrent commands: one that ends quickly never takes the placeholder away from one still running", async () => {
    // The attack: while a slow command runs, quick ones start and end around it. If a quick one
    // made the placeholder and the slow one did not hold it, the quick one's release removed it,
    // the slow one's read-only mount went with it, and its mkdir created a real .aws.
    for (let round = 0; round < 4; round++) {
      const repo = protectedRepo();
      const slow = (i: number) => execCommand(`sleep 0.3; mkdir -p .aws/x && echo ESCAPED || echo denied`, {}, `call_slow${i}`);
      const quick = (i: number) => execCommand("true", {}, `call_quick${i}`);
      const calls = [quick(0), slow(0), quick(1), slow(1), quick(2), slow(2), quick(3), slow(3)];
      const { mock, home } = await setup([sse(turn(calls)), reply("done")]);
      const r = await runOcx(["exec", ...JSON_, ...WW, "go"], { home, cwd: repo });
      expect(r.code).toBe(0);
      for (let i = 0; i < 4; i++) expect(callOutput(mock.requests[1]!.body, `call_slow${i}`)).toContain("denied");
      expect(readdirSync(repo).sort()).toEqual([".agents", ".codex", ".git"]);
    }
  }, 60_000);

  test("escapes refused: a symlink to .git, a hard link out of it, umount, and a nested user namespace", async () => {
    const repo = protectedRepo();
    const before = gitConfig(repo);
    const script = [
      "ln -s .git alias && echo x >> alias/config; echo symlink=$?",
      "ln .git/config hard && echo x >> hard; echo hardlink=$?",
      "umount .git 2>/dev/null; echo x >> .git/config; echo umount=$?",
      "command -v unshare >/dev/null && unshare -Urm sh -c 'umount .git; echo x >> .git/config' 2>/dev/null; echo nested=$?",
    ].join("; ");
    const r = await sandboxed(script, { cwd: repo, args: WW });
    for (const step of ["symlink", "hardlink", "umount"]) expect(r.out).toMatch(new RegExp(`${step}=[1-9]`));
    expect(r.out).not.toContain("nested=0");
    expect(gitConfig(repo)).toBe(before);
  }, T);

  test("a .git that is a file (a worktree or submodule) is protected too", async () => {
    const ws = makeDir("worktree-");
    writeFileSync(join(ws, ".git"), "gitdir: /nowhere\n");
    const r = await sandboxed("echo x >> .git; echo rc=$?; echo y > other && echo other-ok", { cwd: ws, args: WW });
    expect(r.out).toMatch(ROFS);
    expect(r.out).toContain("other-ok");
    expect(readFileSync(join(ws, ".git"), "utf8")).toBe("gitdir: /nowhere\n");
  }, T);

  test("the command's exit code, signal and stdin pass through the namespace", async () => {
    const repo = protectedRepo();
    expect((await sandboxed("exit 7", { cwd: repo, args: WW })).code).toBe(7);
    expect((await sandboxed("kill -TERM $$", { cwd: repo, args: WW })).code).toBe(143);
    const home = makeDir("home-");
    const piped = await runOcx(["sandbox", "run", ...WW, "--", "cat"], { home, cwd: repo, stdin: "through stdin" });
    expect(piped.stdout).toBe("through stdin");
    const missing = await runOcx(["sandbox", "run", ...WW, "--", "/nonexistent/tool"], { home, cwd: repo });
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim().split("\n")).toEqual(["ocx sandbox: cannot run /nonexistent/tool: No such file or directory"]);
  }, T);

  test("without user namespaces: one warning naming what stays writable and why; the command still runs confined", async () => {
    const repo = protectedRepo();
    const home = makeDir("userhome-");
    const cmd = `echo x >> .git/config && echo git-written; touch ${home}/escape || echo home-denied`;
    const { mock, home: codexHome } = await setup([sse(turn([execCommand(cmd, {}, "call_n"), execCommand("true", {}, "call_m")])), reply("done")]);
    const r = await runOcx(["exec", ...JSON_, ...WW, "go"], {
      home: codexHome,
      cwd: repo,
      env: { HOME: home, OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "simulated" },
    });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: "));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("commands can write .git, .codex, .agents, .aws in the writable roots");
    expect(warnings[0]).toContain("simulated");
    const out = callOutput(mock.requests[1]!.body, "call_n")!;
    expect(out).toContain("git-written");
    expect(out).toContain("home-denied");
    expect(existsSync(join(home, "escape"))).toBe(false);
  }, T);

  test("nested: an ocx run inside another ocx sandbox cannot make a namespace, says so, and stays confined", async () => {
    const repo = protectedRepo();
    const before = gitConfig(repo);
    const inner = `${JSON.stringify(ocxBinPath())} sandbox run ${WW.join(" ")} -- sh -c 'echo x >> .git/config; echo inner=$?'`;
    const r = await sandboxed(inner, { cwd: repo, args: WW });
    // The inner probe fails for real (the outer Landlock domain denies writing /proc/PID/uid_map).
    expect(r.out).toMatch(/warning: this host cannot build the sandbox's namespace view \(user namespace: clone\(CLONE_NEWUSER\|CLONE_NEWNS\|CLONE_NEWPID\): Operation not permitted/);
    expect(r.out).toMatch(/inner=[1-9]/); // the outer namespace still protects it
    expect(gitConfig(repo)).toBe(before);
  }, T);

  const asRoot = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
  test.skipIf(!asRoot)("an unprivileged user keeps their own uid inside, and .git is still read-only", async () => {
    const repo = protectedRepo();
    const home = makeDir("nobody-home-");
    Bun.spawnSync(["chown", "-R", "65534:65534", repo, home]);
    chmodSync(dirname(repo), 0o711); // the test's temp folder: let the user reach their folders
    const before = gitConfig(repo);
    const p = Bun.spawnSync(
      [
        "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        ocxBinPath(), "sandbox", "run", ...WW, "--", "/bin/sh", "-c", "id -u; echo x >> .git/config; echo mine > mine.txt && echo ws-ok",
      ],
      { cwd: repo, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home } },
    );
    const out = p.stdout.toString() + p.stderr.toString();
    expect(out).toMatch(/^65534\n/);
    expect(out).toMatch(ROFS);
    expect(out).toContain("ws-ok");
    expect(gitConfig(repo)).toBe(before);
  }, T);
});

describe("without user namespaces: the metadata supervisor", () => {
  const F = { OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "simulated" };
  const WW = ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS];
  const modeOf = (p: string) => statSync(p).mode & 0o7777;

  test("chmod, chown, xattrs and timestamps work inside the roots and are refused outside, also through a symlink", async () => {
    const ws = makeDir("ws-");
    const outside = makeDir("outside-");
    const victim = join(outside, "victim");
    writeFileSync(victim, "v");
    chmodSync(victim, 0o600);
    const mtime = statSync(victim).mtimeMs;
    symlinkSync(victim, join(ws, "link"));
    const script = [
      "touch f && chmod 751 f && echo chmod-in",
      "chown $(id -u):$(id -g) f && echo chown-in",
      "touch -d 2001-02-03 f && echo touch-in",
      `python3 -c 'import os; os.setxattr("f", "user.k", b"v"); os.removexattr("f", "user.k")' && echo xattr-in`,
      `chmod 777 ${victim} || echo chmod-out-refused`,
      "chmod 777 link || echo chmod-link-refused",
      `touch -d 2001-02-03 ${victim} || echo touch-out-refused`,
      `chown $(id -u) ${victim} || echo chown-out-refused`,
      `python3 -c 'import os; os.setxattr("${victim}", "user.k", b"v")' || echo xattr-out-refused`,
    ].join("; ");
    const r = await sandboxed(script, { cwd: ws, args: WW, env: F });
    for (const word of ["chmod-in", "chown-in", "touch-in", "xattr-in", "chmod-out-refused", "chmod-link-refused", "touch-out-refused", "chown-out-refused", "xattr-out-refused"]) {
      expect(r.out).toContain(word);
    }
    expect(modeOf(join(ws, "f"))).toBe(0o751);
    expect(new Date(statSync(join(ws, "f")).mtimeMs).getUTCFullYear()).toBe(2001);
    expect(modeOf(victim)).toBe(0o600);
    expect(statSync(victim).mtimeMs).toBe(mtime);
  }, T);

  test("a path flipped between a file in the workspace and a symlink out of it never lets a chmod out", async () => {
    const victimIn = (dir: string) => {
      const victim = join(dir, "victim");
      writeFileSync(victim, "v");
      chmodSync(victim, 0o600);
      return victim;
    };
    // The flips and most of the chmods come from python3 (no process per attempt: thousands of
    // races in a second or two even where starting a process costs milliseconds); coreutils'
    // chmod races too. `t` is always there, swapped by rename between a file and a symlink out;
    // the chmods start once the flipper runs ("go"), which goes on until they are done ("stop",
    // at most 30 s). Unconfined, the victim ends up 0777.
    const flipper = [
      "import os, time",
      "end = time.time() + 30",
      'open("go", "w").close()',
      'while not os.path.exists("stop") and time.time() < end:',
      '    os.symlink(VICTIM, "s")',
      '    os.rename("s", "t")',
      '    open("f", "w").close()',
      '    os.rename("f", "t")',
    ].join("\n");
    const chmods = [
      "import os, time",
      'while not os.path.exists("go"):',
      "    time.sleep(0.001)",
      "for n in range(5000):",
      '    for p in ("t", "./t"):',
      ...["        try:", "            os.chmod(p, 0o777)", "        except OSError:", "            pass"],
    ].join("\n");
    const script = (victim: string) => [
      `python3 -c '${flipper.replace("VICTIM", JSON.stringify(victim))}' &`,
      `python3 -c '${chmods}'`,
      "n=0; while [ $n -lt 200 ]; do chmod 777 t 2>/dev/null; chmod 777 ./t 2>/dev/null; n=$((n+1)); done",
      ": > stop; wait; echo loops-done",
    ].join("\n");
    // The attack is real: run unconfined, it changes the victim's mode.
    const plain = makeDir("plain-");
    const exposed = victimIn(makeDir("outside-"));
    const unconfined = Bun.spawnSync(["sh", "-c", script(exposed)], { cwd: plain, stdio: ["ignore", "pipe", "pipe"], timeout: 45_000 });
    expect(unconfined.stdout.toString()).toContain("loops-done");
    expect(modeOf(exposed)).toBe(0o777);
    const victim = victimIn(makeDir("outside-"));
    const r = await sandboxed(script(victim), { cwd: makeDir("ws-"), args: WW, env: F });
    expect(r.out).toContain("loops-done");
    expect(modeOf(victim)).toBe(0o600);
  }, 60_000);

  test("read-only: no roots, so every metadata change is refused", async () => {
    const ws = makeDir("ws-");
    writeFileSync(join(ws, "f"), "x");
    chmodSync(join(ws, "f"), 0o644);
    const r = await sandboxed("chmod 777 f || echo chmod-refused; touch -d 2001-02-03 f || echo touch-refused", { cwd: ws, env: F });
    expect(r.out).toContain("chmod-refused");
    expect(r.out).toContain("touch-refused");
    expect(modeOf(join(ws, "f"))).toBe(0o644);
  }, T);
});

describe("danger-full-access: nothing outlives the command or ocx", () => {
  const tag = () => `30${Math.floor(Math.random() * 9000 + 1000)}.${process.pid % 1000}`;
  const alive = (t: string) => Bun.spawnSync(["pgrep", "-f", `^sleep ${t}`]).stdout.toString().trim();
  async function gone(t: string, ms = 2000) {
    for (const end = Date.now() + ms; Date.now() < end && alive(t); ) await Bun.sleep(25);
    return alive(t) === "";
  }

  test("background jobs (also setsid and double-forked) end with the call; capabilities are untouched", async () => {
    const t = tag();
    const r = await sandboxed(`sleep ${t}1 & setsid sleep ${t}2 & sh -c 'sleep ${t}3 &'; echo started`, {
      cwd: makeDir(),
      args: ["--sandbox", "danger-full-access"],
    });
    try {
      expect(r.code).toBe(0);
      expect(r.out).toContain("started");
      expect(await gone(t)).toBe(true);
    } finally {
      Bun.spawnSync(["pkill", "-f", `sleep ${t}`]);
    }
  }, T);

  test("kill -9 of ocx mid-command: every process of the command is gone", async () => {
    const t = tag();
    const home = makeDir("home-");
    const p = Bun.spawn([ocxBinPath(), "sandbox", "run", "--sandbox", "danger-full-access", "--", "/bin/sh", "-c", `sleep ${t}1 & setsid sleep ${t}2 & exec sleep ${t}3`], {
      cwd: makeDir(),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CODEX_HOME: home, HOME: home },
      stdio: ["ignore", "ignore", "ignore"],
    });
    try {
      for (const end = Date.now() + 5000; Date.now() < end && alive(t).split("\n").filter(Boolean).length < 3; ) await Bun.sleep(25);
      expect(alive(t).split("\n").filter(Boolean)).toHaveLength(3);
      p.kill(9);
      await p.exited;
      expect(await gone(t)).toBe(true);
    } finally {
      p.kill(9);
      Bun.spawnSync(["pkill", "-f", `sleep ${t}`]);
    }
  }, T);
});

describe("ocx sandbox check / run", () => {
  test("check: prints what the host enforces; exit 0 here, 5 when forced unavailable; --json", async () => {
    const home = makeDir("home-");
    const ok = await runOcx(["sandbox", "check"], { home });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^platform: linux /);
    expect(ok.stdout).toMatch(/landlock: ABI \d+/);
    expect(ok.stdout).toContain("read-only: enforced");
    expect(ok.stdout).toMatch(/^user namespaces: available \(fresh \/proc, private devpts\)$/m);
    expect(ok.stdout).toContain("  [x] .git, .codex, .agents, .aws read-only in every writable root, also when absent: read-only bind mounts");
    expect(ok.stdout).toContain("  [x] own pid namespace and /proc: ocx and other processes out of sight: pid namespace with a fresh /proc");
    expect(ok.stdout).not.toContain("NOT ENFORCED");
    const degraded = await runOcx(["sandbox", "check"], { home, env: { OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "simulated" } });
    expect(degraded.code).toBe(0);
    expect(degraded.stdout).toContain("workspace-write: enforced (partly: see the guarantees above)");
    expect(degraded.stdout).toContain("  [ ] .git, .codex, .agents, .aws read-only in every writable root, also when absent: NOT ENFORCED: no user namespaces on this host: commands can write them");
    expect(degraded.stdout).toContain("  [x] everything outside the writable roots read-only, metadata included: no user namespaces on this host: Landlock refuses writes, and ocx's supervisor");
    expect(degraded.stdout).toContain("  [x] auth.json and its lock files unreadable: Landlock grants no read on them");
    expect(degraded.stdout).toContain("  [x] no capabilities in any set, no_new_privs, securebits locked");
    const json = await runOcx(["sandbox", "check", "--json"], { home });
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ enforceable: true, platform: "linux", seccomp: true, carveOuts: true, modes: { "read-only": null, "workspace-write": null } });
    const ids = (parsed.guarantees as { id: string; enforced: boolean }[]).map((g) => `${g.id}=${g.enforced}`);
    expect(ids).toEqual([
      "writes-confined=true", "network-off=true", "no-privilege=true", "new-session=true", "host-sockets=true", "refused-calls=true", "read-only-view=true",
      "roots-pinned=true", "protected-names=true", "codex-home-read-only=true", "credentials-unreadable=true", "pid-namespace=true",
      "private-pts=true", "processes-end=true",
    ]);
    const degradedJson = JSON.parse((await runOcx(["sandbox", "check", "--json"], { home, env: { OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "x" } })).stdout);
    const off = (degradedJson.guarantees as { id: string; enforced: boolean }[]).filter((g) => !g.enforced).map((g) => g.id);
    expect(off).toEqual(["roots-pinned", "protected-names", "codex-home-read-only", "pid-namespace", "private-pts", "processes-end"]);
    const forced = await runOcx(["sandbox", "check"], { home, env: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" } });
    expect(forced.code).toBe(5);
    expect(forced.stdout).toContain("read-only: cannot be enforced");
    expect(forced.stdout).toContain("--sandbox danger-full-access");
  }, T);

  test("run: the command's exit code and output pass through; stdin too; forced unavailable exits 5 without running", async () => {
    const dir = makeDir();
    const r = await sandboxed("echo out; echo err >&2; exit 7", { cwd: dir });
    expect(r.code).toBe(7);
    expect(r.out).toContain("out\n");
    expect(r.out).toContain("err\n");
    const home = makeDir("home-");
    const piped = await runOcx(["sandbox", "run", "--", "cat"], { home, cwd: dir, stdin: "through stdin" });
    expect(piped.stdout).toBe("through stdin");
    const forced = await runOcx(["sandbox", "run", "--", "/bin/sh", "-c", "touch ran.txt"], {
      home,
      cwd: dir,
      env: { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" },
    });
    expect(forced.code).toBe(5);
    expect(forced.stderr).toContain("cannot enforce the read-only sandbox");
    expect(existsSync(join(dir, "ran.txt"))).toBe(false);
  }, T);

  test("help: `ocx sandbox run --help` describes run; `ocx sandbox` alone is a usage error", async () => {
    const home = makeDir("home-");
    const help = await runOcx(["sandbox", "run", "--help"], { home });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Run one command under a sandbox policy");
    expect(help.stdout).toContain("--sandbox=<MODE>");
    const bare = await runOcx(["sandbox"], { home });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("ocx sandbox check");
  }, T);

  test("run: a missing command exits 127 with one line, no stack", async () => {
    const r = await sandboxed("exec /nonexistent/tool", { cwd: makeDir() });
    expect(r.code).toBe(127);
    const home = makeDir("home-");
    const direct = await runOcx(["sandbox", "run", "--", "/nonexistent/tool"], { home, cwd: makeDir() });
    expect(direct.code).toBe(127);
    expect(direct.stderr.trim().split("\n")).toHaveLength(1);
    expect(direct.stderr).toContain("cannot run /nonexistent/tool");
  }, T);
});
