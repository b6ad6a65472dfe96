// Helpers for the sandbox escape suite (escape.e2e.test.ts): a throwaway unprivileged user, the
// attack tools (perl and python snippets run inside the sandbox), parsing of the `ATTACK` lines
// and checks of the disk and process state from outside the sandbox.
import { readdirSync, readFileSync, statSync } from "node:fs";

export const KEY = "sk-ocx-FAKE-KEY-escape";
export const PERL = "/usr/bin/perl";
export const PYTHON = "/usr/bin/python3"; // not a pyenv shim: the sandbox may not see ~/.pyenv

/** Single-quotes `s` for /bin/sh. */
export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const PATH = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";

export function sh(argv: string[], opts: { cwd?: string } = {}): { code: number; out: string } {
  const p = Bun.spawnSync(argv, { cwd: opts.cwd, env: { PATH }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
}

// ---------------------------------------------------------------------------------------------
// The unprivileged user

export interface RunAs {
  /** "root", "user" (the throwaway user) or "self" (the test is not root). */
  kind: "root" | "user" | "self";
  uid: number;
  gid: number;
  /** Prefix for the ocx command line. */
  prefix: string[];
  name?: string;
}

export const isRoot = process.getuid?.() === 0;

export function currentRunAs(): RunAs {
  return { kind: isRoot ? "root" : "self", uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, prefix: [] };
}

/** Creates `ocx-escape-<random>` (system user, no home, nologin); null with the reason when impossible. */
export function createUser(): RunAs | string {
  if (!isRoot) return "the test process is not root";
  for (const tool of ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/setpriv"]) {
    try {
      statSync(tool);
    } catch {
      return `${tool} is missing`;
    }
  }
  const name = `ocx-escape-${Math.random().toString(36).slice(2, 8)}`;
  const add = sh(["/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
  if (add.code !== 0) return `useradd failed: ${add.out.trim()}`;
  const uid = Number(sh(["id", "-u", name]).out.trim());
  const gid = Number(sh(["id", "-g", name]).out.trim());
  return {
    kind: "user",
    uid,
    gid,
    name,
    // A plain unprivileged process: real/effective/saved ids of the user, no supplementary
    // groups, no capabilities in any set (the uid change clears permitted/effective/ambient).
    prefix: ["/usr/bin/setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"],
  };
}

export function removeUser(u: RunAs | undefined): void {
  if (!u || u.kind !== "user" || !u.name) return;
  // userdel refuses while the user still runs processes: end ours (by pid) first.
  for (const pid of pidsOfUid(u.uid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  sh(["/usr/sbin/userdel", u.name]);
}

function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = readFileSync(`/proc/${e}/status`, "utf8").match(/^Uid:\s+(\d+)/m);
      if (m && Number(m[1]) === uid) out.push(Number(e));
    } catch {}
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Pids (host view) of live processes whose argv contains one of `args` exactly. */
export function pidsWithArg(args: readonly string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (!argv.some((a) => args.includes(a))) continue;
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && state !== "X") out.push(Number(e));
    } catch {}
  }
  return out;
}

export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

/** Polls until no process carries one of `args` or `ms` passed; returns the survivors (then killed). */
export async function survivors(args: readonly string[], ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  let left = pidsWithArg(args);
  while (left.length > 0 && Date.now() < end) {
    await Bun.sleep(50);
    left = pidsWithArg(args);
  }
  killPids(left);
  return left;
}

/** Field 6 (session id) of /proc/PID/stat. */
export function sidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Disk state seen from outside

export const modeOf = (p: string) => statSync(p).mode & 0o7777;
export const ownerOf = (p: string) => {
  const s = statSync(p);
  return `${s.uid}:${s.gid}`;
};
export const mtimeOf = (p: string) => statSync(p).mtimeMs;

export function xattrsOf(p: string): string[] {
  const r = sh([PYTHON, "-c", "import os,sys; print(' '.join(os.listxattr(sys.argv[1])))", p]);
  return r.out.trim() ? r.out.trim().split(" ") : [];
}

/** chattr flags of a file (lsattr's first field), "" when lsattr cannot tell. */
export function attrFlags(p: string): string {
  const r = sh(["lsattr", "-d", p]);
  return r.code === 0 ? r.out.trim().split(/\s+/)[0] ?? "" : "";
}

/** Mount points in the test's own mount namespace. */
export function hostMountPoints(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[4]!.replace(/\\040/g, " "));
}

// ---------------------------------------------------------------------------------------------
// ATTACK lines

export interface AttackLine {
  rc: string;
  detail: string;
}

/** `ATTACK <name> rc=<code> <detail>` lines of an output, by name. */
export function parseAttacks(output: string): Map<string, AttackLine> {
  const m = new Map<string, AttackLine>();
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const x = /^ATTACK (\S+) rc=(\S+) ?(.*)$/.exec(line);
    if (x) m.set(x[1]!, { rc: x[2]!, detail: x[3]! });
  }
  return m;
}

/** Errno values a refusal may carry: EPERM, EACCES, EROFS, EBUSY, ENOSYS. */
export const REFUSAL_ERRNOS = [1, 13, 30, 16, 38];
// (mount(8) words EPERM/EACCES as "must be superuser" / "permission denied")
export const REFUSAL_TEXT = /Permission denied|Operation not permitted|Read-only file system|Device or resource busy|Function not implemented|must be superuser/i;

/** A refusal: non-zero rc and either an allowed errno= or the text of one. */
export function isRefused(l: AttackLine, errnos: readonly number[] = REFUSAL_ERRNOS, text: RegExp = REFUSAL_TEXT): boolean {
  if (l.rc === "0") return false;
  const e = /errno=(\d+)/.exec(l.detail);
  if (e) return errnos.includes(Number(e[1]));
  return text.test(l.detail);
}

// ---------------------------------------------------------------------------------------------
// Attack tools. Both take a subcommand; they print `ok ...` (exit 0) or `errno=N text` (exit 1).

export const PERL_TOOL = String.raw`
use strict; use warnings;
my ($cmd, @a) = @ARGV;
sub done { my $r = shift; if (!defined $r || $r < 0) { printf "errno=%d %s\n", $!+0, "$!"; exit 1 } print "ok $r\n"; exit 0 }
if ($cmd eq "setns") { open(my $f, "<", "/proc/self/ns/mnt") or done(-1); done(syscall(308, fileno($f), 0)) }
if ($cmd eq "chroot") { done(chroot(".") ? 0 : -1) }
if ($cmd eq "ptrace") { done(syscall(101, 16, $a[0] + 0, 0, 0)) }
# reboot(2) with the magic numbers and a command the kernel does not know: EPERM without
# CAP_SYS_BOOT, EINVAL (and nothing done) with it. Only run after the caps were shown to be 0.
if ($cmd eq "reboot") { done(syscall(169, 0xfee1dead, 672274793, 0x0ddba11, 0)) }
if ($cmd eq "keyctl") { my $name = "ocx-escape"; done(syscall(250, 1, $name)) }
if ($cmd eq "bpf") { my $attr = pack("LLLL", 2, 4, 4, 1) . ("\0" x 112); done(syscall(321, 0, $attr, length $attr)) }
if ($cmd eq "perf") { my $attr = pack("LLQQQQQ", 1, 128, 0, 0, 0, 0, 1 | 32 | 64) . ("\0" x 80); done(syscall(298, $attr, 0, -1, -1, 0)) }
if ($cmd eq "io_uring") { my $p = "\0" x 120; done(syscall(425, 1, $p)) }
if ($cmd eq "init_module") { my $img = "\0" x 64; my $params = ""; done(syscall(175, $img, 64, $params)) }
if ($cmd eq "open_by_handle_at") { open(my $root, "<", "/") or done(-1); my $h = pack("Li", 8, 1) . ("\0" x 8); done(syscall(304, fileno($root), $h, 0)) }
if ($cmd eq "mknod") { done(syscall(133, $a[0], oct($a[1]), $a[2] + 0)) }
print "unknown $cmd\n"; exit 2;
`;

export const PY_TOOL = String.raw`
import os, sys, socket, fcntl
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
cmd, a = sys.argv[1], sys.argv[2:]
def ok(msg="ok"):
    print(msg); sys.exit(0)
try:
    if cmd == "tiocsti_pty":
        m, s = os.openpty()
        fcntl.ioctl(s, TIOCSTI, b"#")
        ok("injected into own pty")
    elif cmd == "tiocsti_devtty":
        fd = os.open("/dev/tty", os.O_RDWR)
        fcntl.ioctl(fd, TIOCSTI, b" ")
        ok("injected into /dev/tty")
    elif cmd == "tiocsti_inject":
        # every way to the terminal ocx was started from: /dev/tty, then fds 0-2
        errs = []
        fds = []
        try:
            fds.append(os.open("/dev/tty", os.O_RDWR))
        except OSError as e:
            errs.append(e)
        fds += [0, 1, 2]
        done = []
        for fd in fds:
            try:
                for ch in a[0].encode() + b"\n":
                    fcntl.ioctl(fd, TIOCSTI, bytes([ch]))
                done.append(fd)
            except OSError as e:
                errs.append(e)
        if done:
            ok("injected via fds %s" % done)
        e = [x for x in errs if x.errno not in (25,)] or errs
        raise e[0]
    elif cmd == "tioclinux_pty":
        m, s = os.openpty()
        fcntl.ioctl(s, TIOCLINUX, b"\x07")
        ok()
    elif cmd == "tioclinux_tty0":
        fd = os.open("/dev/tty0", os.O_RDONLY)
        fcntl.ioctl(fd, TIOCLINUX, b"\x07")
        ok()
    elif cmd == "setxattr":
        os.setxattr(a[0], "user.x", b"1")
        ok()
    elif cmd == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(("127.0.0.1", int(a[0])))
        ok("connected")
    elif cmd == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"ocx-escape", ("127.0.0.1", int(a[0])))
        ok("sent")
    elif cmd == "netlink":
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        ok()
    elif cmd == "socketpair":
        x, y = socket.socketpair()
        x.send(b"x")
        ok("unix " + y.recv(1).decode())
    elif cmd == "fchmod":
        os.fchmod(os.open(a[0], os.O_RDONLY), 0o777)
        ok()
    elif cmd == "fchown":
        os.fchown(os.open(a[0], os.O_RDONLY), int(a[1]), int(a[2]))
        ok()
    elif cmd == "fsetxattr":
        os.setxattr(os.open(a[0], os.O_RDONLY), "user.y", b"1")
        ok()
    elif cmd == "futimens":
        os.utime(os.open(a[0], os.O_RDONLY), (1, 1))
        ok()
    elif cmd == "chmod_dirfd":
        os.chmod(a[1], 0o777, dir_fd=os.open(a[0], os.O_RDONLY | os.O_DIRECTORY))
        ok()
    elif cmd == "chmod_procfd":
        fd = os.open(a[0], os.O_PATH)
        os.chmod("/proc/self/fd/%d" % fd, 0o777)
        ok()
    elif cmd == "metadata_race":
        # a child swaps a folder of the workspace with a symlink to outside (RENAME_EXCHANGE)
        # while this process changes the mode and an xattr of the file "in the folder"
        import ctypes, time
        libc = ctypes.CDLL(None, use_errno=True)
        d, e, secs = a[0].encode(), a[1].encode(), float(a[2])
        pid = os.fork()
        if pid == 0:
            end = time.time() + secs
            swaps = 0
            while time.time() < end:
                if libc.syscall(316, -100, d, -100, e, 2) == 0:
                    swaps += 1
            os._exit(0 if swaps else 3)
        end = time.time() + secs
        tries = done = 0
        while time.time() < end:
            tries += 1
            try:
                os.chmod(a[0] + "/meta", 0o600)
                os.setxattr(a[0] + "/meta", "user.race", b"1")
                done += 1
            except OSError:
                pass
        _, st = os.waitpid(pid, 0)
        print("tries=%d done=%d swapper=%d" % (tries, done, os.waitstatus_to_exitcode(st)))
        sys.exit(0)
    elif cmd == "unixconnect":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(a[0])
        ok("connected: " + s.recv(100).decode().strip())
    elif cmd == "unixsendto":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"ocx-escape", a[0])
        ok("sent")
    elif cmd == "unix_race":
        # a listener of our own at D/host.sock inside the workspace; a child swaps D with E, a
        # symlink to the folder of a host service's socket (RENAME_EXCHANGE), while this process
        # connects to D/host.sock again and again: did any connection reach the host service?
        import ctypes, time
        libc = ctypes.CDLL(None, use_errno=True)
        d, e, secs = a[0], a[1], float(a[2])
        own = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        own.bind(d + "/host.sock")
        own.listen(64)
        own.setblocking(False)
        pid = os.fork()
        if pid == 0:
            end = time.time() + secs
            swaps = 0
            while time.time() < end:
                if libc.syscall(316, -100, d.encode(), -100, e.encode(), 2) == 0:
                    swaps += 1
            os._exit(0 if swaps else 3)
        end = time.time() + secs
        tries = connected = hits = 0
        while time.time() < end:
            tries += 1
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(0.5)
            try:
                c.connect(d + "/host.sock")
                connected += 1
                try:
                    while True:  # our own listener: close what it accepted, so recv() sees EOF
                        own.accept()[0].close()
                except OSError:
                    pass
                try:
                    if b"host-service" in c.recv(100):
                        hits += 1
                except OSError:
                    pass
            except OSError:
                pass
            c.close()
        _, st = os.waitpid(pid, 0)
        print("tries=%d connected=%d hits=%d swapper=%d" % (tries, connected, hits, os.waitstatus_to_exitcode(st)))
        sys.exit(1 if hits else 0)
    elif cmd == "unixbind":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(a[0])
        s.listen(1)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(a[0])
        ok("bound")
    elif cmd == "sethostname":
        socket.sethostname(socket.gethostname())
        ok()
    elif cmd == "environ_scan":
        leaks, readable = [], 0
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % p, "rb") as f:
                    data = f.read()
                readable += 1
            except OSError:
                continue
            if a[0].encode() in data:
                leaks.append(p)
        print("leaks=%d pids=%s readable=%d" % (len(leaks), ",".join(leaks), readable))
        sys.exit(1 if leaks else 0)
    else:
        print("unknown " + cmd); sys.exit(2)
except OSError as e:
    print("errno=%d %s" % (e.errno, e.strerror))
    sys.exit(1)
`;

/** The shell prelude every attack script starts with: the tools and `r NAME CMD...`. */
export function prelude(): string {
  return [
    `PL=${q(PERL_TOOL)}`,
    `PY=${q(PY_TOOL)}`,
    "export PL PY",
    // r NAME CMD...: runs CMD, prints one line with its exit code and output (joined, cut).
    `r() { n=$1; shift; o=$("$@" 2>&1 </dev/null); c=$?; o=$(printf '%s' "$o" | tr '\\n\\r' '  ' | cut -c1-400); printf 'ATTACK %s rc=%s %s\\n' "$n" "$c" "$o"; }`,
    `pl() { ${PERL} -e "$PL" "$@"; }`,
    `py() { ${PYTHON} -c "$PY" "$@"; }`,
  ].join("\n");
}
