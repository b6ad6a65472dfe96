// The escape suite (issue 13): attacks a model-chosen command could try from inside
// `ocx sandbox run`, each asserted twice: the call is refused, and its effect is absent when
// looked at from outside. A matrix of configurations (root / an unprivileged user, read-only /
// workspace-write, user namespaces available (N) / forced fallback (F)); per configuration ONE
// sandboxed /bin/sh runs every attack and prints `ATTACK <name> rc=<code> <detail>`, then one
// test per attack reads its line and the disk. Attacks that need their own process (a terminal,
// kill -9, a swapped workspace, CODEX_HOME inside a root) have small runs of their own.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { appendFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { basename, dirname, join } from "node:path";
import { cleanupTemp, existsSync, makeDir, ocxBin, readFileSync, startOcx, type RunResult } from "./harness.ts";
import {
  attrFlags,
  createUser,
  currentRunAs,
  hostMountPoints,
  isRefused,
  isRoot,
  KEY,
  killPids,
  modeOf,
  mtimeOf,
  ownerOf,
  parseAttacks,
  pidsWithArg,
  prelude,
  q,
  removeUser,
  sh,
  sidOf,
  survivors,
  xattrsOf,
  PERL,
  PYTHON,
  type AttackLine,
  type RunAs,
} from "./escape-lib.ts";

const T = 60_000;
/** `test` where it applies; elsewhere nothing is registered (no "skipped" noise). */
const testIf = (cond: boolean): typeof test => (cond ? test : ((() => {}) as unknown as typeof test));
const ONLY_NAMED_ROOTS = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"];
const FORCE_F = { OCX_SANDBOX_FORCE_NO_CARVE_OUTS: "test" };
const PROTECTED = [".git", ".codex", ".agents", ".aws"];
const DENIED_OR_GONE = /Permission denied|Operation not permitted|Read-only file system|No such file|No such process/;

// ---------------------------------------------------------------------------------------------
// Users, listeners, cleanup

const self = currentRunAs();
let user: RunAs | undefined;
const made = createUser();
if (typeof made === "string") console.log(`escape suite: running as the current user only, no root/unprivileged matrix: ${made}`);
else {
  // The user must be able to run the binary (every folder on its path searchable by others).
  const probe = sh([...made.prefix, ocxBin(), "--version"]);
  if (probe.code === 0) user = made;
  else {
    console.log(`escape suite: the unprivileged user cannot run ${ocxBin()} (${probe.out.trim()}); running as root only`);
    removeUser(made);
  }
}
const USERS: RunAs[] = user ? [self, user] : [self];

let tcp: Server;
let tcpPort = 0;
let tcpConnections = 0;
let unixConnections = 0;
let udp: UdpSocket;
let udpPort = 0;
let udpDatagrams = 0;
/** Paths outside the temp root that attacks might have created (cleaned whatever happens). */
const strays = new Set<string>();
/** Throwaway workspaces created directly in /tmp (the swap attack). */
const tmpDirs: string[] = [];

beforeAll(async () => {
  tcp = createServer((s) => {
    tcpConnections++;
    s.end("hello\n");
  });
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
  tcpPort = (tcp.address() as { port: number }).port;
  udp = createSocket("udp4");
  udp.on("message", () => udpDatagrams++);
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
  udpPort = udp.address().port;
});

function cleanupAll() {
  try {
    tcp?.close();
    udp?.close();
  } catch {}
  for (const p of strays) rmSync(p, { force: true, recursive: true });
  // An attack that got through (chattr +i, a loop device) must not keep the temp folders alive.
  const base = tempBase();
  for (const d of [base, ...tmpDirs]) {
    if (!d || !existsSync(d)) continue;
    if (isRoot) {
      sh(["chattr", "-R", "-i", d]);
      for (const line of sh(["losetup", "-a"]).out.split("\n")) {
        if (line.includes(d)) sh(["losetup", "-d", line.split(":")[0]!]);
      }
    }
  }
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  removeUser(user);
  user = undefined;
}
process.on("exit", () => removeUser(user)); // also when the run dies before afterAll

afterAll(() => {
  cleanupAll();
  cleanupTemp();
});

let base: string | undefined;
/** The harness's temp root, reachable (not readable) by the unprivileged user. */
function tempBase(): string {
  if (!base) {
    base = dirname(makeDir("probe-"));
    chmodSync(base, 0o711);
  }
  return base;
}

function giveTo(u: RunAs, ...paths: string[]) {
  if (u.kind !== "user") return;
  for (const p of paths) sh(["chown", "-R", "-h", `${u.uid}:${u.gid}`, p]);
}

/** The key must never reach a command: auth.json, the environment, ocx's /proc. */
function writeCodexHome(dir: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "auth.json"), JSON.stringify({ OPENAI_API_KEY: KEY }) + "\n", { mode: 0o600 });
  writeFileSync(join(dir, "config.toml"), 'model = "gpt-5.5"\n');
}

interface Run {
  result: RunResult;
  out: string;
  lines: Map<string, AttackLine>;
  warnings: string[];
  ocxPid: number;
  ocxSid?: number;
}

/**
 * Starts `ocx sandbox run ARGS -- /bin/sh -c SCRIPT` as `u` in `cwd`; writes ocx's pid into
 * `pidFile` (when given) once it runs, which the script waits for.
 */
function startRun(
  u: RunAs,
  args: string[],
  script: string,
  opts: { cwd: string; home: string; codexHome: string; env?: Record<string, string>; pidFile?: string },
): { pid: number; done: Promise<Run> } {
  const running = startOcx(["sandbox", "run", ...args, "--", "/bin/sh", "-c", script], {
    home: opts.home,
    cwd: opts.cwd,
    command: [...u.prefix, ocxBin()],
    env: { CODEX_HOME: opts.codexHome, CODEX_API_KEY: KEY, ...opts.env },
    timeoutMs: 40_000,
  });
  const ocxSid = sidOf(running.pid);
  if (opts.pidFile) writeFileSync(opts.pidFile, `${running.pid}\n`);
  const done = (async (): Promise<Run> => {
    const result = await running.result;
    const out = result.stdout + result.stderr;
    // OCX_ESCAPE_LOG=FILE: every run's output, to read what each attack got
    if (process.env.OCX_ESCAPE_LOG) appendFileSync(process.env.OCX_ESCAPE_LOG, `=== ${u.kind} ${args.join(" ")} ${JSON.stringify(opts.env ?? {})} exit ${result.code}\n${out}\n`);
    return {
      result,
      out,
      lines: parseAttacks(result.stdout),
      warnings: result.stderr.split("\n").filter((l) => l.startsWith("warning: ")),
      ocxPid: running.pid,
      ocxSid,
    };
  })();
  return { pid: running.pid, done };
}

/** `ocx sandbox run ARGS -- /bin/sh -c SCRIPT` as `u`, to its end (see startRun). */
const ocxRun = (...a: Parameters<typeof startRun>): Promise<Run> => startRun(...a).done;

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(20);
  }
  return true;
}

/** A Unix datagram socket at `path` (any user may send) logging what it receives to `log`. */
function startDatagramSink(path: string, log: string) {
  writeFileSync(log, "");
  const code = [
    "import os, socket, sys",
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
    "s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)",
    "while True:",
    "    d = s.recv(100)",
    "    with open(sys.argv[2], 'ab') as f: f.write(d + b'\\n')",
  ].join("\n");
  const p = Bun.spawn([PYTHON, "-c", code, path, log], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  return { kill: () => p.kill("SIGKILL") };
}

function lineOf(run: Run, name: string): AttackLine {
  const l = run.lines.get(name);
  if (!l) throw new Error(`no ATTACK ${name} line; exit ${run.result.code}, output:\n${run.out.slice(0, 4000)}`);
  return l;
}

/** Refused: the call failed with a refusal errno and (the caller checks) nothing changed. */
function expectRefused(run: Run, name: string, errnos?: number[], text?: RegExp) {
  const l = lineOf(run, name);
  if (!isRefused(l, errnos, text)) throw new Error(`attack ${name} was not refused: rc=${l.rc} ${l.detail}`);
}

/** auth.json: refused, or (N) masked: read as empty. Never a byte of the key. */
function expectCredentialsUnreadable(run: Run, name: string, ns: Ns) {
  const l = lineOf(run, name);
  expect(l.detail).not.toContain(KEY);
  if (ns === "N" && l.rc === "0") expect(`masked: ${l.detail.trim()}`).toBe("masked: ");
  else expectRefused(run, name);
}

function expectAllowed(run: Run, name: string) {
  const l = lineOf(run, name);
  if (l.rc !== "0") throw new Error(`${name} should work here: rc=${l.rc} ${l.detail}`);
}

// ---------------------------------------------------------------------------------------------
// The main matrix

type Mode = "read-only" | "workspace-write";
type Ns = "N" | "F";

interface Cfg {
  u: RunAs;
  mode: Mode;
  ns: Ns;
  id: number;
}

interface Layout {
  s: string; // the configuration's scratch root
  ws: string;
  out: string; // outside every root
  home: string; // $HOME, outside every root
  ch: string; // CODEX_HOME, outside every root
  tag: string; // unique sleep argument prefix
  etcProbe: string;
  shmProbe: string;
  wsBefore: string[];
  gitConfig: string;
  metaMtime: number;
  metaOwner: string;
  ownOwner: string;
}

function makeLayout(c: Cfg): Layout {
  const s = mkdtempSync(join(tempBase(), `cfg${c.id}-`));
  const ws = join(s, "ws");
  const out = join(s, "out");
  const home = join(s, "home");
  const ch = join(s, "codex-home");
  for (const d of [ws, out, home]) mkdirSync(d);
  writeCodexHome(ch);
  const git = sh(["git", "init", "-q", ws]);
  if (git.code !== 0) throw new Error(`git init: ${git.out}`);
  writeFileSync(join(ws, "own.sh"), "#!/bin/sh\necho own\n", { mode: 0o644 });
  writeFileSync(join(ws, "ocxpid"), "");
  mkdirSync(join(ws, "m"));
  symlinkSync(out, join(ws, "lnk"));
  mkdirSync(join(ws, "race-d"));
  writeFileSync(join(ws, "race-d", "meta"), "inside\n", { mode: 0o644 });
  symlinkSync(out, join(ws, "race-e"));
  mkdirSync(join(ws, "race-s"));
  symlinkSync(out, join(ws, "race-t"));
  writeFileSync(join(out, "f"), "original\n");
  writeFileSync(join(out, "meta"), "meta\n", { mode: 0o640 });
  chmodSync(join(out, "meta"), 0o640);
  writeFileSync(join(out, "disk.img"), Buffer.alloc(1 << 20));
  giveTo(c.u, s);
  const tag = `300.${c.id}${Math.floor(Math.random() * 9000 + 1000)}`;
  const etcProbe = `/etc/ocx-escape-${c.id}-${process.pid}`;
  const shmProbe = `/dev/shm/ocx-escape-${c.id}-${process.pid}`;
  strays.add(etcProbe);
  strays.add(shmProbe);
  return {
    s,
    ws,
    out,
    home,
    ch,
    tag,
    etcProbe,
    shmProbe,
    wsBefore: readdirSync(ws).sort(),
    gitConfig: readFileSync(join(ws, ".git", "config"), "utf8"),
    metaMtime: mtimeOf(join(out, "meta")),
    metaOwner: ownerOf(join(out, "meta")),
    ownOwner: ownerOf(join(ws, "own.sh")),
  };
}

/** The one script of a configuration: every attack, in an order where none spoils a later one. */
function mainScript(c: Cfg, L: Layout): string {
  const { ws, out, home, ch, tag } = L;
  const outName = basename(out);
  const a = (name: string, cmd: string) => `r ${name} sh -c ${q(cmd)}`;
  const pl = `${PERL} -e "$PL"`;
  const py = `${PYTHON} -c "$PY"`;
  const chownTo = c.u.kind === "root" ? "65534:65534" : `${c.u.uid}:${c.u.gid}`;
  return [
    prelude(),
    `cd ${q(ws)} || exit 99`,
    // ocx's pid, written by the test once ocx runs
    `i=0; while [ ! -s ocxpid ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; OCX=$(cat ocxpid); export OCX`,

    // 1. capabilities, no_new_privs, seccomp
    `r status grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status`,
    // The sets that grant anything; the bounding set only limits (and no_new_privs keeps it unreachable).
    `caps0=1; for f in CapInh CapPrm CapEff CapAmb; do v=$(awk -v f="$f:" '$1 == f { print $2 }' /proc/self/status); [ "$v" = 0000000000000000 ] || caps0=0; done`,
    // 2. session and terminal
    `st=$(cat /proc/$$/stat); st=\${st##*") "}; set -- $st; echo "ATTACK session rc=0 pid=$$ ppid=$2 sid=$4 tty=$5 sidcomm=$(cat /proc/$4/comm 2>/dev/null)"`,
    a("tiocsti_pty", `${py} tiocsti_pty`),
    a("tiocsti_devtty", `${py} tiocsti_devtty`),
    a("tioclinux_pty", `${py} tioclinux_pty`),
    a("tioclinux_tty0", `${py} tioclinux_tty0`),
    // 3. device nodes
    a("mknod_char", "mknod c c 1 3"),
    a("mknod_block", "mknod b b 7 0"),
    a("mknod_outside", `mknod ${out}/c c 1 3`),
    a("mkfifo_ws", "mkfifo fifo"),
    a("mkfifo_outside", `mkfifo ${out}/fifo`),
    // 4. writes outside the roots
    a("write_etc", `echo x > ${L.etcProbe}`),
    a("write_home", `echo x > ${home}/x`),
    a("write_symlink", "echo x > lnk/via-symlink"),
    a("write_hardlink", `ln ${out}/f h && echo pwned >> h`),
    a("write_dotdot", `echo x > ../${outName}/via-dotdot`),
    a("write_proc_root", `echo x > /proc/self/root${out}/via-proc-root`),
    a("write_proc_cwd", `echo x > /proc/self/cwd/../${outName}/via-proc-cwd`),
    a("write_dev_shm", `echo x > ${L.shmProbe}`),
    a("write_kmsg", `echo ocx-escape-${tag} > /dev/kmsg`),
    a("write_sysctl", "h=$(cat /proc/sys/kernel/hostname) && echo \"$h\" > /proc/sys/kernel/hostname"),
    a("losetup", `/usr/sbin/losetup -f --show ${out}/disk.img`), // (/usr/sbin: not on a user's PATH)
    // 5. metadata outside the roots, then inside
    a("chmod_suid_outside", `chmod 4777 ${out}/meta`),
    a("chmod_outside", `chmod 644 ${out}/meta`),
    a("chown_outside", `chown ${chownTo} ${out}/meta`),
    a("xattr_outside", `${py} setxattr ${out}/meta`),
    a("utimes_outside", `touch -m -d '2001-02-03 04:05:06' ${out}/meta`),
    a("chattr_outside", `chattr +i ${out}/meta`),
    // ... through a workspace symlink, a descriptor, a directory descriptor, /proc/self/fd
    a("chmod_via_symlink", "chmod 777 lnk/meta"),
    a("fchmod_outside", `${py} fchmod ${out}/meta`),
    a("fchown_outside", `${py} fchown ${out}/meta ${c.u.uid} ${c.u.gid}`),
    a("fsetxattr_outside", `${py} fsetxattr ${out}/meta`),
    a("futimens_outside", `${py} futimens ${out}/meta`),
    a("chmod_dirfd_outside", `${py} chmod_dirfd ${out} meta`),
    a("chmod_procfd_outside", `${py} chmod_procfd ${out}/meta`),
    // ... while a folder of the workspace is swapped with a symlink to outside
    a("metadata_race", `${py} metadata_race race-d race-e 0.4`),
    a("chmod_ws", "chmod +x own.sh"),
    a("chown_ws_other", "chown 65534:65534 own.sh"),
    a("chown_ws", `chown ${c.u.uid}:${c.u.gid} own.sh`),
    a("xattr_ws", `${py} setxattr own.sh`),
    a("chattr_ws", "chattr +i own.sh"),
    // 6. privileged operations
    a("mount_tmpfs", "mount -t tmpfs none m"),
    a("unshare_user", "unshare -U true"),
    a("unshare_mount", "unshare -m true"),
    a("unshare_root", "unshare -r true"),
    a("setns", `${pl} setns`),
    a("chroot", `${pl} chroot`),
    `sleep ${tag}9 </dev/null >/dev/null 2>&1 & victim=$!`,
    `r ptrace_attach ${PERL} -e "$PL" ptrace $victim; kill -9 $victim 2>/dev/null`,
    `if [ $caps0 = 1 ]; then ${a("reboot", `${pl} reboot`)}; ${a("init_module", `${pl} init_module`)}; else echo "ATTACK reboot rc=skip capabilities not dropped"; echo "ATTACK init_module rc=skip capabilities not dropped"; fi`,
    a("keyctl", `${pl} keyctl`),
    a("bpf", `${pl} bpf`),
    a("perf_event_open", `${pl} perf`),
    a("io_uring_setup", `${pl} io_uring`),
    a("sethostname", `${py} sethostname`),
    a("open_by_handle_at", `${pl} open_by_handle_at`),
    // the process that started the command (the namespace's init, or the helper): its memory
    `pp=$(awk '/^PPid/ { print $2 }' /proc/$$/status); r parent_mem sh -c "exec 3<>/proc/$pp/mem"`,
    // 7. network
    a("tcp_connect", `${py} tcp ${tcpPort}`),
    a("udp_send", `${py} udp ${udpPort}`),
    a("netlink_socket", `${py} netlink`),
    a("unix_socketpair", `${py} socketpair`),
    a("unix_bind_ws", `${py} unixbind sock`),
    // a host service listening on a socket file outside the roots (docker.sock, an ssh agent, D-Bus)
    a("unix_connect_outside", `${py} unixconnect ${out}/host.sock`),
    a("unix_connect_symlink", `${py} unixconnect lnk/host.sock`),
    a("unix_connect_proc_root", `${py} unixconnect /proc/self/root${out}/host.sock`),
    a("unix_sendto_outside", `${py} unixsendto ${out}/host.dgram`),
    a("unix_connect_race", `${py} unix_race race-s race-t 0.4`),
    // 10. CODEX_HOME and credentials
    a("auth_read", `cat ${ch}/auth.json`),
    a("config_append", `echo x >> ${ch}/config.toml`),
    // 11. process view
    a("proc_list", `ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '`),
    a("ocx_environ", `tr '\\0' ' ' < /proc/$OCX/environ`),
    a("environ_scan", `${py} environ_scan ${KEY}`),
    a("env_key", "env | grep -c CODEX_API_KEY"),
    a("signal_ocx", "kill -CONT $OCX"),
    // descriptors the command inherited (beyond the r wrapper's 0-2): ocx's files must not leak in
    // (ls lists the shell's table while the shell only waits: a glob or a pipe would add its own)
    a("inherited_fds", "ls -l /proc/$$/fd"),
    // 8. protected names (destructive ones last)
    a("git_write", "echo '[core] hooksPath = /tmp' >> .git/config"),
    a("git_hook", "printf '#!/bin/sh\\n' > .git/hooks/post-checkout"),
    // mkdir -p: a placeholder mount point may stand in for an absent name; writing into it must fail
    a("codex_mkdir", "mkdir -p .codex/skills"),
    a("agents_touch", "touch .agents"),
    a("aws_mkdir", "mkdir -p .aws && echo k > .aws/credentials"),
    a("git_mv", "mv .git gitmoved"),
    a("git_rm", "rm -rf .git"),
    // 12. background jobs that try to outlive the command
    `sleep ${tag}1 </dev/null >/dev/null 2>&1 &`,
    `setsid sleep ${tag}2 </dev/null >/dev/null 2>&1 &`,
    `sh -c 'sleep ${tag}3 </dev/null >/dev/null 2>&1 &' </dev/null >/dev/null 2>&1 &`,
    `echo "ATTACK bg_jobs rc=0 started"`,
    "exit 0",
  ].join("\n");
}

interface Attack {
  name: string;
  /** Only in configurations where this holds. */
  when?: (c: Cfg) => boolean;
  check: (run: Run, c: Cfg, L: Layout) => void;
}

const isN = (c: Cfg) => c.ns === "N";
const isWW = (c: Cfg) => c.mode === "workspace-write";
const absent = (p: string) => expect(existsSync(p) || isSymlink(p)).toBe(false);
const isSymlink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};
const capsOf = (run: Run) => {
  const d = lineOf(run, "status").detail;
  const v = (k: string) => new RegExp(`${k}:\\s*(\\S+)`).exec(d)?.[1];
  return { d, v };
};

const ATTACKS: Attack[] = [
  // 1
  {
    name: "capabilities: CapInh, CapPrm, CapEff, CapBnd, CapAmb all 0",
    check: (run, c) => {
      const { v } = capsOf(run);
      for (const k of ["CapInh", "CapPrm", "CapEff", "CapAmb"]) expect(`${k}=${v(k)}`).toBe(`${k}=0000000000000000`);
      // Dropping the bounding set takes CAP_SETPCAP: an unprivileged user without namespaces has
      // none (and gains nothing from the set: no_new_privs); everywhere else it is empty too.
      if (c.u.kind === "self" && c.ns === "F") expect(capsOf(run).v("NoNewPrivs")).toBe("1");
      else expect(`CapBnd=${v("CapBnd")}`).toBe("CapBnd=0000000000000000");
    },
  },
  { name: "no_new_privs is set", check: (run) => expect(capsOf(run).v("NoNewPrivs")).toBe("1") },
  { name: "a seccomp filter is installed (Seccomp: 2)", check: (run) => expect(capsOf(run).v("Seccomp")).toBe("2") },
  // 2
  {
    name: "session: the command runs in a new session, not ocx's",
    check: (run) => {
      const d = lineOf(run, "session").detail;
      const f = Object.fromEntries(d.split(" ").map((kv) => kv.split("=")));
      expect(Number(f.sid)).not.toBe(0); // 0: the leader is outside the pid namespace, i.e. ocx's session
      expect(Number(f.sid)).not.toBe(run.ocxSid);
      if (Number(f.sid) !== Number(f.pid)) expect(f.sidcomm).not.toBe("");
    },
  },
  {
    name: "session: no controlling terminal (tty_nr 0)",
    check: (run) => expect(/tty=(\S+)/.exec(lineOf(run, "session").detail)?.[1]).toBe("0"),
  },
  { name: "TIOCSTI on a pty refused (EPERM/EIO)", check: (run) => expectRefused(run, "tiocsti_pty", [1, 5]) },
  { name: "TIOCSTI on /dev/tty refused (no terminal: ENXIO; else EPERM/EIO)", check: (run) => expectRefused(run, "tiocsti_devtty", [1, 5, 6]) },
  { name: "TIOCLINUX on a pty refused by the filter (EPERM)", check: (run) => expectRefused(run, "tioclinux_pty", [1]) },
  { name: "TIOCLINUX on /dev/tty0 refused", check: (run) => expectRefused(run, "tioclinux_tty0", [1, 2, 13]) },
  // 3
  {
    name: "mknod of a character device in the workspace refused",
    check: (run, _c, L) => {
      expectRefused(run, "mknod_char");
      absent(join(L.ws, "c"));
    },
  },
  {
    name: "mknod of a block device in the workspace refused",
    check: (run, _c, L) => {
      expectRefused(run, "mknod_block");
      absent(join(L.ws, "b"));
    },
  },
  {
    name: "mknod outside the roots refused",
    check: (run, _c, L) => {
      expectRefused(run, "mknod_outside");
      absent(join(L.out, "c"));
    },
  },
  {
    name: "mkfifo in the workspace: works under workspace-write, refused under read-only",
    check: (run, c, L) => {
      if (isWW(c)) {
        expectAllowed(run, "mkfifo_ws");
        expect(lstatSync(join(L.ws, "fifo")).isFIFO()).toBe(true);
      } else {
        expectRefused(run, "mkfifo_ws");
        absent(join(L.ws, "fifo"));
      }
    },
  },
  {
    name: "mkfifo outside the roots refused",
    check: (run, _c, L) => {
      expectRefused(run, "mkfifo_outside");
      absent(join(L.out, "fifo"));
    },
  },
  // 4
  ...(
    [
      ["write_etc", "/etc", (L: Layout) => L.etcProbe],
      ["write_home", "$HOME", (L: Layout) => join(L.home, "x")],
      ["write_symlink", "a workspace symlink to outside", (L: Layout) => join(L.out, "via-symlink")],
      ["write_dotdot", "`..`", (L: Layout) => join(L.out, "via-dotdot")],
      ["write_proc_root", "/proc/self/root", (L: Layout) => join(L.out, "via-proc-root")],
      ["write_proc_cwd", "/proc/self/cwd/..", (L: Layout) => join(L.out, "via-proc-cwd")],
      ["write_dev_shm", "/dev/shm", (L: Layout) => L.shmProbe],
    ] as const
  ).map(([name, via, target]): Attack => ({
    name: `write through ${via} refused`,
    check: (run, _c, L) => {
      expectRefused(run, name);
      absent(target(L));
    },
  })),
  {
    name: "a hard link to an outside file: linking or writing through it refused",
    check: (run, _c, L) => {
      expectRefused(run, "write_hardlink", [1, 13, 18, 30], /Permission denied|Operation not permitted|Read-only file system|Invalid cross-device link/);
      expect(readFileSync(join(L.out, "f"), "utf8")).toBe("original\n");
    },
  },
  {
    name: "writing /dev/kmsg refused",
    check: (run, _c, L) => {
      expectRefused(run, "write_kmsg");
      if (isRoot) expect(sh(["dmesg"]).out).not.toContain(`ocx-escape-${L.tag}`);
    },
  },
  { name: "writing /proc/sys refused", check: (run) => expectRefused(run, "write_sysctl") },
  {
    name: "losetup refused",
    check: (run, _c, L) => {
      expectRefused(run, "losetup", undefined, /Permission denied|Operation not permitted|Read-only file system|failed to set up loop device|cannot find an unused loop device/);
      if (isRoot) expect(sh(["losetup", "-j", join(L.out, "disk.img")]).out.trim()).toBe("");
    },
  },
  // 5
  {
    name: "chmod 4777 of an outside file refused",
    check: (run, _c, L) => {
      expectRefused(run, "chmod_suid_outside");
      expect(modeOf(join(L.out, "meta")).toString(8)).toBe("640");
    },
  },
  {
    name: "chmod 644 of an outside file refused",
    check: (run, _c, L) => {
      expectRefused(run, "chmod_outside");
      expect(modeOf(join(L.out, "meta")).toString(8)).toBe("640");
    },
  },
  {
    name: "chown of an outside file refused",
    check: (run, _c, L) => {
      expectRefused(run, "chown_outside");
      expect(ownerOf(join(L.out, "meta"))).toBe(L.metaOwner);
    },
  },
  {
    name: "setxattr user.x on an outside file refused",
    check: (run, _c, L) => {
      expectRefused(run, "xattr_outside");
      expect(xattrsOf(join(L.out, "meta"))).not.toContain("user.x");
    },
  },
  {
    name: "utimes of an outside file: refused (N); in F only with the warning naming it",
    check: (run, c, L) => {
      const l = lineOf(run, "utimes_outside");
      if (isN(c) || l.rc !== "0") {
        expectRefused(run, "utimes_outside");
        expect(mtimeOf(join(L.out, "meta"))).toBe(L.metaMtime);
      } else {
        expect(run.warnings.join("\n")).toMatch(/utime|timestamp|modification time/i);
      }
    },
  },
  {
    name: "chattr +i of an outside file refused",
    check: (run, _c, L) => {
      expectRefused(run, "chattr_outside", undefined, /Permission denied|Operation not permitted|Read-only file system/);
      expect(attrFlags(join(L.out, "meta"))).not.toContain("i");
    },
  },
  ...(
    [
      ["chmod_via_symlink", "chmod through a workspace symlink to outside"],
      ["fchmod_outside", "fchmod of a descriptor of an outside file"],
      ["fchown_outside", "fchown of a descriptor of an outside file (to its own owner)"],
      ["fsetxattr_outside", "fsetxattr of a descriptor of an outside file"],
      ["futimens_outside", "futimens of a descriptor of an outside file"],
      ["chmod_dirfd_outside", "fchmodat relative to a directory descriptor outside"],
      ["chmod_procfd_outside", "chmod of /proc/self/fd/N of an O_PATH descriptor outside"],
    ] as const
  ).map(([name, what]): Attack => ({
    name: `${what} refused`,
    check: (run, c, L) => {
      const meta = join(L.out, "meta");
      // F, workspace-write: utimes outside may pass (see "utimes of an outside file")
      if (name === "futimens_outside" && !isN(c) && lineOf(run, name).rc === "0") {
        expect(run.warnings.join("\n")).toMatch(/utime|timestamp|modification time/i);
        return;
      }
      expectRefused(run, name);
      expect(modeOf(meta).toString(8)).toBe("640");
      expect(ownerOf(meta)).toBe(L.metaOwner);
      expect(xattrsOf(meta)).toEqual([]);
      if (name === "futimens_outside") expect(mtimeOf(meta)).toBe(L.metaMtime);
    },
  })),
  {
    name: "metadata calls racing a folder swapped with a symlink to outside never reach the outside file",
    check: (run, c, L) => {
      const l = lineOf(run, "metadata_race");
      expect(l.rc).toBe("0");
      if (isWW(c)) expect(l.detail).toMatch(/swapper=0/); // the swap itself must have happened
      const meta = join(L.out, "meta");
      expect(modeOf(meta).toString(8)).toBe("640");
      expect(xattrsOf(meta)).toEqual([]);
    },
  },
  {
    name: "chown of a workspace file to another user refused (no capability, also not through a supervisor)",
    check: (run, _c, L) => {
      // (EINVAL: an unprivileged user's namespace maps no other uid)
      expectRefused(run, "chown_ws_other", undefined, /Operation not permitted|Read-only file system|Invalid argument/);
      expect(ownerOf(join(L.ws, "own.sh"))).toBe(L.ownOwner);
    },
  },
  {
    name: "chmod +x in the workspace: works under workspace-write (F: through the supervisor); refused under read-only",
    check: (run, c, L) => {
      if (isWW(c)) {
        expectAllowed(run, "chmod_ws");
        expect(modeOf(join(L.ws, "own.sh")) & 0o111).not.toBe(0);
      } else {
        expectRefused(run, "chmod_ws");
        expect(modeOf(join(L.ws, "own.sh")).toString(8)).toBe("644");
      }
    },
  },
  {
    name: "chown inside the workspace (to its own owner) refused under read-only",
    when: (c) => !isWW(c),
    check: (run, _c, L) => {
      expectRefused(run, "chown_ws");
      expect(ownerOf(join(L.ws, "own.sh"))).toBe(L.ownOwner);
    },
  },
  {
    name: "setxattr inside the workspace refused under read-only",
    when: (c) => !isWW(c),
    check: (run, _c, L) => {
      expectRefused(run, "xattr_ws");
      expect(xattrsOf(join(L.ws, "own.sh"))).not.toContain("user.x");
    },
  },
  {
    name: "chattr +i inside the workspace refused",
    check: (run, _c, L) => {
      expectRefused(run, "chattr_ws", undefined, /Permission denied|Operation not permitted|Read-only file system/);
      expect(attrFlags(join(L.ws, "own.sh"))).not.toContain("i");
    },
  },
  // 6
  {
    name: "mount -t tmpfs refused",
    check: (run, _c, L) => {
      expectRefused(run, "mount_tmpfs");
      expect(hostMountPoints()).not.toContain(join(L.ws, "m"));
    },
  },
  { name: "unshare -U refused", check: (run) => expectRefused(run, "unshare_user") },
  { name: "unshare -m refused", check: (run) => expectRefused(run, "unshare_mount") },
  { name: "unshare -r refused", check: (run) => expectRefused(run, "unshare_root") },
  { name: "setns into a mount namespace refused", check: (run) => expectRefused(run, "setns") },
  { name: "chroot refused", check: (run) => expectRefused(run, "chroot") },
  { name: "ptrace attach to a sibling process refused", check: (run) => expectRefused(run, "ptrace_attach") },
  { name: "reboot(2) refused (run only with all capabilities 0)", check: (run) => expectRefused(run, "reboot", [1]) },
  { name: "init_module refused (run only with all capabilities 0)", check: (run) => expectRefused(run, "init_module") },
  { name: "keyctl refused", check: (run) => expectRefused(run, "keyctl") },
  { name: "bpf refused", check: (run) => expectRefused(run, "bpf") },
  { name: "perf_event_open refused", check: (run) => expectRefused(run, "perf_event_open") },
  { name: "io_uring_setup refused", check: (run) => expectRefused(run, "io_uring_setup") },
  { name: "sethostname refused", check: (run) => expectRefused(run, "sethostname") },
  { name: "open_by_handle_at refused", check: (run) => expectRefused(run, "open_by_handle_at") },
  { name: "the memory of the process that started the command cannot be opened", check: (run) => expectRefused(run, "parent_mem") },
  // 7
  {
    name: "TCP connect to a local listener refused",
    check: (run) => {
      expectRefused(run, "tcp_connect");
      expect(tcpConnections).toBe(0);
    },
  },
  {
    name: "UDP socket refused",
    check: (run) => {
      expectRefused(run, "udp_send");
      expect(udpDatagrams).toBe(0);
    },
  },
  { name: "netlink socket refused", check: (run) => expectRefused(run, "netlink_socket") },
  ...(
    [
      ["unix_connect_outside", "by its path"],
      ["unix_connect_symlink", "through a workspace symlink"],
      ["unix_connect_proc_root", "through /proc/self/root"],
    ] as const
  ).map(([name, how]): Attack => ({
    name: `with the network off, a host service's socket file outside the roots cannot be connected to ${how}`,
    check: (run) => {
      expectRefused(run, name);
      expect(unixConnections).toBe(0);
    },
  })),
  {
    name: "with the network off, no datagram reaches a host socket file outside the roots",
    check: (run, _c, L) => {
      expectRefused(run, "unix_sendto_outside");
      expect(readFileSync(join(L.out, "dgram.log"), "utf8")).toBe("");
    },
  },
  {
    name: "connect() racing a folder swapped with a symlink to a host service's folder never reaches the service",
    check: (run, c) => {
      const l = lineOf(run, "unix_connect_race");
      if (isWW(c)) {
        expect(l.detail).toMatch(/hits=0 /);
        expect(l.detail).toMatch(/swapper=0/); // the swaps happened
      } else {
        expectRefused(run, "unix_connect_race"); // read-only: no socket of its own to start from
      }
      expect(unixConnections).toBe(0);
    },
  },
  { name: "AF_UNIX socketpair works", check: (run) => expectAllowed(run, "unix_socketpair") },
  {
    name: "AF_UNIX socket bound in the workspace: works under workspace-write",
    check: (run, c) => (isWW(c) ? expectAllowed(run, "unix_bind_ws") : expectRefused(run, "unix_bind_ws")),
  },
  // 8
  ...(
    [
      ["git_write", "writing into .git", (L: Layout) => expect(readFileSync(join(L.ws, ".git", "config"), "utf8")).toBe(L.gitConfig)],
      ["git_hook", "adding a git hook", (L: Layout) => absent(join(L.ws, ".git", "hooks", "post-checkout"))],
      ["git_mv", "mv .git", (L: Layout) => absent(join(L.ws, "gitmoved"))],
      ["git_rm", "rm -rf .git", (L: Layout) => expect(existsSync(join(L.ws, ".git", "HEAD"))).toBe(true)],
      ["codex_mkdir", "mkdir -p .codex/skills", (L: Layout) => absent(join(L.ws, ".codex"))],
      ["agents_touch", "touch .agents", (L: Layout) => absent(join(L.ws, ".agents"))],
      ["aws_mkdir", "mkdir -p .aws; echo > .aws/credentials", (L: Layout) => absent(join(L.ws, ".aws"))],
    ] as const
  ).map(([name, what, effect]): Attack => ({
    name: `protected names: ${what} refused`,
    when: (c) => !(c.ns === "F" && isWW(c)),
    check: (run, _c, L) => {
      expectRefused(run, name);
      effect(L);
    },
  })),
  {
    name: "protected names: the workspace listing is unchanged afterwards (no placeholder left)",
    when: (c) => !(c.ns === "F" && isWW(c)),
    check: (_run, c, L) => {
      const expected = [...L.wsBefore, ...(isWW(c) ? ["fifo", "sock"] : [])].sort();
      expect(readdirSync(L.ws).sort()).toEqual(expected);
    },
  },
  {
    name: "protected names in F: the warning names .git, .codex, .agents and .aws",
    when: (c) => c.ns === "F" && isWW(c),
    check: (run, _c, L) => {
      const w = run.warnings.join("\n");
      // either the paths in this workspace or the names (they hold in every writable root)
      for (const d of PROTECTED) expect(w).toMatch(new RegExp(`(^|[\\s/,])${d.replace(".", "\\.")}\\b`));
      expect(L.ws.length).toBeGreaterThan(0);
    },
  },
  // 10
  {
    name: "CODEX_HOME/auth.json unreadable (N: masked or refused; F: refused): nothing of the key",
    check: (run, c) => expectCredentialsUnreadable(run, "auth_read", c.ns),
  },
  {
    name: "CODEX_HOME/config.toml cannot be appended to",
    check: (run, _c, L) => {
      expectRefused(run, "config_append");
      expect(readFileSync(join(L.ch, "config.toml"), "utf8")).toBe('model = "gpt-5.5"\n');
    },
  },
  // 11
  {
    name: "/proc shows only the sandbox's processes (no ocx)",
    when: isN,
    check: (run) => {
      const pids = lineOf(run, "proc_list").detail.trim().split(/\s+/).map(Number);
      expect(pids).not.toContain(run.ocxPid);
      expect(pids.length).toBeLessThan(30);
    },
  },
  {
    name: "/proc/<ocx pid>/environ unreadable",
    check: (run) => {
      expectRefused(run, "ocx_environ", undefined, DENIED_OR_GONE);
      expect(lineOf(run, "ocx_environ").detail).not.toContain(KEY);
    },
  },
  {
    name: "no readable /proc/*/environ holds the key",
    check: (run) => expect(lineOf(run, "environ_scan").detail).toMatch(/^leaks=0 /),
  },
  {
    name: "the command's environment has no CODEX_API_KEY",
    check: (run) => expect(lineOf(run, "env_key").detail.trim()).toBe("0"),
  },
  {
    name: "ocx cannot be signalled from the sandbox",
    when: isN,
    check: (run) => expectRefused(run, "signal_ocx", undefined, DENIED_OR_GONE),
  },
  {
    name: "no file descriptor beyond stdin, stdout and stderr is inherited",
    check: (run) => {
      const fds = [...lineOf(run, "inherited_fds").detail.matchAll(/ (\d+) -> (\S+)/g)].map((m) => `${m[1]} -> ${m[2]}`);
      expect(fds.length).toBeGreaterThanOrEqual(3);
      expect(fds.filter((f) => Number(f.split(" ")[0]) > 2)).toEqual([]);
    },
  },
  {
    name: "the key appears nowhere in the run's output",
    check: (run) => expect(run.out).not.toContain(KEY),
  },
];

const MODES: Mode[] = ["read-only", "workspace-write"];
const NSS: Ns[] = ["N", "F"];
let cfgId = 0;

for (const u of USERS) {
  for (const mode of MODES) {
    for (const ns of NSS) {
      const c: Cfg = { u, mode, ns, id: ++cfgId };
      describe(`${u.kind} ${mode} ${ns === "N" ? "namespaces" : "forced fallback"}`, () => {
        let L: Layout;
        let run: Run;
        let bgLeft: number[] = [];
        let unixServer: Server | undefined;
        let dgram: { kill(): void } | undefined;
        afterAll(() => {
          unixServer?.close();
          dgram?.kill();
        });
        beforeAll(async () => {
          L = makeLayout(c);
          const args = ["--sandbox", mode, ...(mode === "workspace-write" ? ONLY_NAMED_ROOTS : [])];
          tcpConnections = 0;
          udpDatagrams = 0;
          unixConnections = 0;
          const sockPath = join(L.out, "host.sock");
          unixServer = createServer((sock) => {
            unixConnections++;
            sock.end("host-service\n");
          });
          await new Promise<void>((r) => unixServer!.listen(sockPath, r));
          chmodSync(sockPath, 0o777);
          dgram = startDatagramSink(join(L.out, "host.dgram"), join(L.out, "dgram.log"));
          await until(() => existsSync(join(L.out, "host.dgram")), 5000);
          run = await ocxRun(u, args, mainScript(c, L), {
            cwd: L.ws,
            home: L.home,
            codexHome: L.ch,
            env: ns === "F" ? FORCE_F : {},
            pidFile: join(L.ws, "ocxpid"),
          });
          const tags = [1, 2, 3, 9].map((n) => `${L.tag}${n}`);
          bgLeft = await survivors(tags, 2000);
        }, T);

        test("the run completed (exit 0) and printed every attack", () => {
          expect(run.result.code).toBe(0);
          expect(run.lines.get("bg_jobs")?.rc).toBe("0");
        });
        for (const at of ATTACKS) {
          if (at.when && !at.when(c)) continue;
          test(at.name, () => at.check(run, c, L));
        }
        test("nothing outlives the sandbox: sleep &, setsid sleep &, a double fork (gone within 2 s)", () => {
          // F too: its warning only concedes survivors of a killed ocx, not of a normal exit
          expect(bgLeft).toEqual([]);
        });
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Separate runs: a terminal, kill -9, CODEX_HOME inside a root, the workspace swap

for (const u of USERS) {
  for (const ns of NSS) {
    const label = `${u.kind} ${ns === "N" ? "namespaces" : "forced fallback"}`;
    const env = ns === "F" ? FORCE_F : {};

    test.skipIf(!existsSync("/usr/bin/script"))(`${label}: TIOCSTI into the terminal ocx was started from is refused and nothing is injected`, async () => {
      const s = mkdtempSync(join(tempBase(), "tty-"));
      const home = join(s, "home");
      mkdirSync(home);
      writeCodexHome(join(s, "ch"));
      giveTo(u, s);
      const injected = join(s, "injected");
      const inner = `${prelude()}\nr tiocsti_terminal ${PYTHON} -c "$PY" tiocsti_inject 'echo INJECTED-${ns}'\nexit 0`;
      const ocx = [...u.prefix, ocxBin(), "sandbox", "run", "--", "/bin/sh", "-c", inner].map(q).join(" ");
      // ocx's stdin is /dev/null so that it cannot swallow what is injected: the outer shell reads it.
      const cmd = `${ocx} </dev/null; read -r -t 1 x; printf '[%s]' "$x" > ${q(injected)}`;
      const r = await startOcx(["-q", "-e", "-c", cmd, "/dev/null"], {
        home,
        cwd: s,
        command: ["/usr/bin/script"],
        env: { CODEX_HOME: join(s, "ch"), CODEX_API_KEY: KEY, SHELL: "/bin/bash", ...env },
        stdin: "idle",
        timeoutMs: 20_000,
      }).result;
      const lines = parseAttacks(r.stdout.replace(/\r/g, ""));
      const l = lines.get("tiocsti_terminal");
      if (!l) throw new Error(`no ATTACK line: ${r.stdout}${r.stderr}`);
      expect(isRefused(l, [1, 5, 6, 25], /./)).toBe(true);
      expect(readFileSync(injected, "utf8")).toBe("[]");
    }, T);

    describe(`${label}: kill -9 of ocx while the command runs (workspace-write)`, () => {
      let left: number[] = [];
      let stderr = "";
      let ws = "";
      let before: string[] = [];
      let seen = 0;
      beforeAll(async () => {
        const s = mkdtempSync(join(tempBase(), "kill-"));
        ws = join(s, "ws");
        const home = join(s, "home");
        mkdirSync(home);
        sh(["git", "init", "-q", ws]);
        writeCodexHome(join(s, "ch"));
        giveTo(u, s);
        before = readdirSync(ws).sort();
        const tag = `300.9${Math.floor(Math.random() * 90000 + 10000)}`;
        const tags = [1, 2, 3, 4].map((n) => `${tag}${n}`);
        const script = [
          `sleep ${tag}1 </dev/null >/dev/null 2>&1 &`,
          `setsid sleep ${tag}2 </dev/null >/dev/null 2>&1 &`,
          `sh -c 'sleep ${tag}3 </dev/null >/dev/null 2>&1 &' </dev/null >/dev/null 2>&1`,
          `exec sleep ${tag}4`,
        ].join("\n");
        const running = startOcx(["sandbox", "run", "--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "--", "/bin/sh", "-c", script], {
          home,
          cwd: ws,
          command: [...u.prefix, ocxBin()],
          env: { CODEX_HOME: join(s, "ch"), ...env },
          timeoutMs: 20_000,
        });
        try {
          // The count of the scan that ended the wait (a second scan could race a process's exec).
          const end = Date.now() + 10_000;
          while ((seen = pidsWithArg(tags).length) < 4 && Date.now() < end) await Bun.sleep(25);
          process.kill(running.pid, "SIGKILL");
          stderr = (await running.result).stderr;
          left = await survivors(tags, 2000);
          // The helper removes its placeholders once the init is gone: give it up to 2 s too.
          for (const end = Date.now() + 2000; Date.now() < end && readdirSync(ws).length !== before.length; ) await Bun.sleep(25);
        } finally {
          killPids(pidsWithArg(tags));
          try {
            process.kill(running.pid, "SIGKILL");
          } catch {}
        }
      }, T);

      test("every process of the command is gone within 2 s", () => {
        expect(seen).toBe(4);
        // F: survivors are acceptable only when ocx's warning says so
        if (ns === "F" && left.length > 0) expect(stderr).toMatch(/background processes running after ocx is killed|survive a kill/);
        else expect(left).toEqual([]);
      });
      test("no placeholder (.codex, .agents, .aws) is left in the workspace", () => {
        expect(readdirSync(ws).sort()).toEqual(before);
      });
    });

    test(`${label}: a command that SIGKILLs the process that started it (the init) leaves no background process behind`, async () => {
      const s = mkdtempSync(join(tempBase(), "killinit-"));
      const home = join(s, "home");
      mkdirSync(home);
      writeCodexHome(join(s, "ch"));
      giveTo(u, s);
      const tag = `300.8${Math.floor(Math.random() * 90000 + 10000)}`;
      const script = [
        `sleep ${tag} </dev/null >/dev/null 2>&1 &`,
        `p=$(awk '/^PPid/ { print $2 }' /proc/$$/status); kill -9 $p`,
        "sleep 0.2",
      ].join("\n");
      const run = await ocxRun(u, [], script, { cwd: s, home, codexHome: join(s, "ch"), env });
      expect(run.result.timedOut).toBe(false);
      expect(await survivors([tag], 2000)).toEqual([]);
    }, T);

    // Not an escape but a way to stop every command: the read layer that hides auth.json walks
    // the folders on CODEX_HOME's path, and /dev holds symlinks to pipes (/dev/stderr).
    testIf(existsSync("/dev/shm") && u.kind !== "user")(`${label}: a CODEX_HOME under /dev/shm (next to /dev/stderr, a symlink to a pipe) does not stop the command`, async () => {
      const ch = mkdtempSync("/dev/shm/ocx-escape-ch-");
      tmpDirs.push(ch);
      writeCodexHome(ch);
      const ws = mkdtempSync(join(tempBase(), "shm-"));
      const run = await ocxRun(u, [], "echo ATTACK ran rc=0", { cwd: ws, home: ch, codexHome: ch, env });
      expect(run.result.stderr.split("\n").filter((l) => l && !l.startsWith("warning: "))).toEqual([]);
      expect(run.result.code).toBe(0);
      expect(run.lines.has("ran")).toBe(true);
    }, T);

    test(`${label}: CODEX_HOME inside a writable root: ${ns === "N" ? "read-only and auth.json unreadable" : "ocx refuses to run (exit 5)"}`, async () => {
      const s = mkdtempSync(join(tempBase(), "chin-"));
      const ws = join(s, "ws");
      const home = join(s, "home");
      mkdirSync(ws);
      mkdirSync(home);
      const ch = join(ws, "codex-home");
      writeCodexHome(ch);
      giveTo(u, s);
      const script = [prelude(), "echo ran > ran.txt", `r auth_read cat ${ch}/auth.json`, `r config_append sh -c 'echo x >> ${ch}/config.toml'`, "exit 0"].join("\n");
      const run = await ocxRun(u, ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS], script, { cwd: ws, home, codexHome: ch, env });
      expect(run.out).not.toContain(KEY);
      expect(readFileSync(join(ch, "config.toml"), "utf8")).toBe('model = "gpt-5.5"\n');
      if (ns === "N") {
        expect(run.result.code).toBe(0);
        expect(existsSync(join(ws, "ran.txt"))).toBe(true);
        expectCredentialsUnreadable(run, "auth_read", ns);
        expectRefused(run, "config_append");
      } else {
        expect(run.result.code).toBe(5);
        const errLines = run.result.stderr.split("\n").filter((x) => x.trim() !== "");
        expect(errLines).toHaveLength(1);
        expect(errLines[0]).toContain("CODEX_HOME");
        expect(existsSync(join(ws, "ran.txt"))).toBe(false);
        expect(run.lines.size).toBe(0);
      }
    }, T);

    const SWAPS = {
      tmp: "the workspace directly under a writable /tmp: mv ws",
      "add-dir": "the workspace inside an --add-dir parent: mv ws",
      grandparent: "the workspace two levels under a writable /tmp: mv of its grandparent",
    } as const;
    for (const variant of Object.keys(SWAPS) as (keyof typeof SWAPS)[]) {
      test(`${label}: workspace swap (${SWAPS[variant]}) refused, .git stays read-only${ns === "F" ? " (F: the warning covers it)" : ""}`, async () => {
        // `moved` is the folder the attack renames; `ws` lies in it or is it
        let moved: string;
        let ws: string;
        let args: string[];
        if (variant === "add-dir") {
          const parent = mkdtempSync(join(tempBase(), "parent-"));
          moved = ws = mkdtempSync(join(parent, "ocx-escape-ws-"));
          args = ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS, "--add-dir", parent];
          giveTo(u, parent);
        } else {
          moved = mkdtempSync(variant === "tmp" ? "/tmp/ocx-escape-ws-" : "/tmp/ocx-escape-gp-");
          tmpDirs.push(moved, `${moved}.orig`);
          ws = variant === "tmp" ? moved : join(moved, "inner", "ws");
          mkdirSync(ws, { recursive: true });
          args = ["--sandbox", "workspace-write"];
          giveTo(u, moved);
        }
        // With /tmp writable, CODEX_HOME must lie outside it (F stops a run whose CODEX_HOME is in a root)
        const s = variant === "add-dir" ? mkdtempSync(join(tempBase(), "swap-")) : mkdtempSync("/var/tmp/ocx-escape-");
        if (variant !== "add-dir") tmpDirs.push(s);
        const home = join(s, "home");
        mkdirSync(home);
        writeCodexHome(join(s, "ch"));
        sh(["git", "init", "-q", ws]);
        const before = readFileSync(join(ws, ".git", "config"), "utf8");
        const ino = lstatSync(ws).ino;
        giveTo(u, s, ws);
        const up = dirname(moved);
        const name = basename(moved);
        const replacement = join(moved, ws.slice(moved.length), ".git");
        const script = [
          prelude(),
          `r ws_swap sh -c ${q(`cd ${up} && mv ${name} ${name}.orig`)}`,
          `r ws_replace sh -c ${q(`mkdir -p ${replacement} && printf '[core]\\n\\thooksPath = /tmp/evil\\n' >> ${replacement}/config`)}`,
          `r git_via_path sh -c ${q(`echo x >> ${ws}/.git/config`)}`,
          `r git_via_cwd sh -c 'echo x >> .git/config'`,
          "exit 0",
        ].join("\n");
        const run = await ocxRun(u, args, script, { cwd: ws, home, codexHome: join(s, "ch"), env });
        if (ns === "F") {
          expect(run.warnings.join("\n")).toMatch(/rename the roots|rename .*workspace/);
          return;
        }
        expectRefused(run, "ws_swap", [1, 16]);
        expectRefused(run, "git_via_path");
        expectRefused(run, "git_via_cwd");
        expect(existsSync(`${moved}.orig`)).toBe(false);
        expect(lstatSync(ws).ino).toBe(ino);
        expect(readFileSync(join(ws, ".git", "config"), "utf8")).toBe(before);
      }, T);
    }

    testIf(ns === "N")(`${label}: protected names that are symlinks (.codex -> a folder of the workspace, .agents -> a missing one) cannot be replaced or written through`, async () => {
      const s = mkdtempSync(join(tempBase(), "symname-"));
      const ws = join(s, "ws");
      const home = join(s, "home");
      mkdirSync(home);
      sh(["git", "init", "-q", ws]);
      mkdirSync(join(ws, "codex-real"));
      symlinkSync("codex-real", join(ws, ".codex"));
      symlinkSync("agents-missing", join(ws, ".agents"));
      writeCodexHome(join(s, "ch"));
      giveTo(u, s);
      const script = [
        prelude(),
        `r sym_codex_write sh -c 'echo evil > .codex/config.toml'`,
        `r sym_codex_replace sh -c 'rm .codex && mkdir .codex && echo evil > .codex/config.toml'`,
        `r sym_agents_create sh -c 'mkdir -p agents-missing && echo evil > .agents/x'`,
        `r sym_agents_replace sh -c 'rm .agents && mkdir .agents && echo evil > .agents/y'`,
        "exit 0",
      ].join("\n");
      const run = await ocxRun(u, ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS], script, { cwd: ws, home, codexHome: join(s, "ch"), env });
      // Refusing to run at all (exit 5, nothing run) would be as good as refusing each attack.
      if (!(run.result.code === 5 && run.lines.size === 0)) {
        // (a link covered by /dev/null answers ENOTDIR: dash says "Directory nonexistent")
        const text = /Permission denied|Operation not permitted|Read-only file system|Device or resource busy|Not a directory|Directory nonexistent/;
        for (const name of ["sym_codex_write", "sym_codex_replace", "sym_agents_create", "sym_agents_replace"]) expectRefused(run, name, [1, 13, 16, 20, 30], text);
      }
      expect(isSymlink(join(ws, ".codex")) && readlinkSync(join(ws, ".codex"))).toBe("codex-real");
      expect(isSymlink(join(ws, ".agents")) && readlinkSync(join(ws, ".agents"))).toBe("agents-missing");
      expect(readdirSync(join(ws, "codex-real"))).toEqual([]);
      absent(join(ws, "agents-missing", "x"));
    }, T);

    testIf(ns === "N")(`${label}: two runs in one workspace: the first one's placeholders, removed when it ends, do not open .aws, .codex, .agents to the second`, async () => {
      const s = mkdtempSync(join(tempBase(), "race-"));
      const ws = join(s, "ws");
      const home = join(s, "home");
      mkdirSync(home);
      sh(["git", "init", "-q", ws]);
      writeCodexHome(join(s, "ch"));
      giveTo(u, s);
      const before = readdirSync(ws).sort();
      const opts = { cwd: ws, home, codexHome: join(s, "ch"), env };
      const args = ["--sandbox", "workspace-write", ...ONLY_NAMED_ROOTS];
      const wait = (f: string) => `i=0; while [ ! -e ${f} ] && [ $i -lt 400 ]; do sleep 0.025; i=$((i+1)); done`;
      // A holds until told; B starts while A runs, then attacks once A has ended.
      // A makes the placeholders; B starts once A runs, so B finds them made and does not own them.
      const a = startRun(u, args, `touch a-running; ${wait("go-a")}; exit 0`, opts);
      const aRunning = await until(() => existsSync(join(ws, "a-running")));
      const b = startRun(u, args, [
        prelude(),
        "touch b-running",
        wait("go-b"),
        `r race_aws sh -c 'mkdir -p .aws && echo k > .aws/credentials'`,
        `r race_codex sh -c 'mkdir -p .codex && echo x > .codex/config.toml'`,
        `r race_agents sh -c 'mkdir -p .agents && echo x > .agents/x'`,
        "exit 0",
      ].join("\n"), opts);
      try {
        expect(aRunning).toBe(true);
        expect(await until(() => existsSync(join(ws, "b-running")))).toBe(true);
        writeFileSync(join(ws, "go-a"), "");
        await a.done;
        writeFileSync(join(ws, "go-b"), "");
        const run = await b.done;
        for (const name of ["race_aws", "race_codex", "race_agents"]) expectRefused(run, name);
        absent(join(ws, ".aws", "credentials"));
        absent(join(ws, ".codex", "config.toml"));
        absent(join(ws, ".agents", "x"));
        expect(readdirSync(ws).sort()).toEqual([...before, "a-running", "b-running", "go-a", "go-b"].sort());
      } finally {
        writeFileSync(join(ws, "go-a"), "");
        writeFileSync(join(ws, "go-b"), "");
        await Promise.all([a.done, b.done]);
      }
    }, T);
  }
}

// ---------------------------------------------------------------------------------------------
// 13. ocx sandbox check lists each guarantee

/**
 * The guarantees `ocx sandbox check --json` reports (`guarantees[]`: id, text, enforced, detail),
 * and which of them rest on user namespaces (not enforced in the forced fallback).
 */
const GUARANTEES = [
  "writes-confined",
  "network-off",
  "no-privilege", // capabilities dropped, no_new_privs
  "new-session", // new session, no terminal, TIOCSTI/TIOCLINUX refused
  "host-sockets", // with the network off, no Unix socket outside the roots
  "refused-calls", // seccomp: mknod, mount, namespaces, ptrace, keyrings, bpf, perf, io_uring, modules, reboot
  "read-only-view", // the filesystem view
  "roots-pinned",
  "protected-names",
  "codex-home-read-only",
  "credentials-unreadable",
  "pid-namespace",
  "private-pts",
  "processes-end",
];
// (read-only-view holds in F too: Landlock, and the init's metadata supervisor)
const NAMESPACE_BASED = ["roots-pinned", "protected-names", "codex-home-read-only", "pid-namespace", "private-pts", "processes-end"];

for (const u of USERS) {
  for (const ns of NSS) {
    test(`${u.kind} ${ns}: ocx sandbox check lists each guarantee, ${ns === "N" ? "all enforced" : "namespace-based ones not enforced"}`, async () => {
      const s = mkdtempSync(join(tempBase(), "check-"));
      writeCodexHome(s);
      giveTo(u, s);
      const env = { CODEX_HOME: s, ...(ns === "F" ? FORCE_F : {}) };
      const json = await startOcx(["sandbox", "check", "--json"], { home: s, cwd: s, command: [...u.prefix, ocxBin()], env }).result;
      const text = await startOcx(["sandbox", "check"], { home: s, cwd: s, command: [...u.prefix, ocxBin()], env }).result;
      const list: { id: string; text: string; enforced: boolean }[] = JSON.parse(json.stdout).guarantees;
      expect(list.map((g) => g.id).sort()).toEqual([...GUARANTEES].sort());
      for (const g of list) {
        const expected = ns === "N" || !NAMESPACE_BASED.includes(g.id);
        expect(`${g.id}: ${g.enforced}`).toBe(`${g.id}: ${expected}`);
        // the text form says it item by item too: "[x] TEXT: how" or "[ ] TEXT: NOT ENFORCED: why"
        const line = text.stdout.split("\n").find((l) => l.includes(`] ${g.text}: `));
        expect(line ?? `no line for ${g.id}`).toMatch(expected ? /^\s*\[x\] / : /^\s*\[ \] .*NOT ENFORCED/);
      }
    }, T);
  }
}
