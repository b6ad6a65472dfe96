// ocx's command runner, compiled at run time by Bun's embedded TinyCC (bun:ffi cc).
//
// The sandbox helper (a Bun process, so always several threads) calls ocx_run(), which clones a
// child without CLONE_VM: the child has one thread and runs only this file's code (syscalls, no
// allocation, no atfork handlers) until the command execs. With namespaces (the kernel creates a
// user namespace only for a single-threaded process, hence the clone) the child is pid 1 of a new
// pid namespace, in its own user and mount namespace, and builds the view bubblewrap would:
//   - every mount read-only (mount_setattr, recursively), so metadata changes outside the
//     writable roots fail with EROFS too, which Landlock cannot refuse;
//   - each writable root bound onto itself read-write (a mount point cannot be renamed away);
//   - the protected names and CODEX_HOME bound read-only on top, credential files covered by
//     /dev/null, a private devpts and a fresh /proc of the new pid namespace.
// Without namespaces the child is a subreaper instead. Either way it forks the command, which
// leaves the session, drops every capability, sets no_new_privs, installs the seccomp filter,
// restricts itself with the prepared Landlock ruleset and execs. The child (the "init") forwards
// signals to the command's processes, waits for the command, hands its wait status to the
// helper through a pipe and ends every process the command left behind (in a pid namespace the
// kernel does that when its init exits). If the helper dies, the init gets SIGKILL.
//
// No #include: the host may have no C headers. Every libc function used is declared here.

typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long long u64;

extern long syscall(long number, ...);
extern int open(const char *path, int flags, ...);
extern ssize_t read(int fd, void *buf, size_t count);
extern ssize_t write(int fd, const void *buf, size_t count);
extern int close(int fd);
extern int pipe2(int fds[2], int flags);
extern int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data);
extern int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
extern int execvp(const char *file, char *const argv[]);
extern void _exit(int status);
extern int *__errno_location(void);
extern char *strerror(int errnum);
extern int waitpid(int pid, int *status, int options);
extern int kill(int pid, int sig);
extern int getpid(void);
extern int getppid(void);
extern int setpgid(int pid, int pgid);
extern int setsid(void);
extern void *signal(int sig, void *handler);
extern int sigprocmask(int how, const void *set, void *old);
extern int usleep(unsigned int usec);
extern char *getcwd(char *buf, size_t size);
extern int chdir(const char *path);

#define O_WRONLY 01
#define O_RDONLY 0
#define O_PATH 010000000
#define O_CLOEXEC 02000000
#define EINTR 4
#define ENOENT 2
#define EINVAL 22
#define EPERM 1
#define ECHILD 10
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGKILL 9
#define SIGUSR1 10
#define SIGUSR2 12
#define SIGTERM 15
#define SIGCHLD 17
#define SIGPWR 30
#define SIGSTOP 19
#define WNOHANG 1
#define AT_FDCWD (-100)
#define AT_RECURSIVE 0x8000
#define MOUNT_ATTR_RDONLY 1ULL
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_BIND 4096
#define MS_REC 16384
#define MS_SLAVE (1 << 19)
#define PR_SET_PDEATHSIG 1
#define PR_SET_SECCOMP 22
#define PR_CAPBSET_DROP 24
#define PR_SET_SECUREBITS 28
#define PR_SET_NO_NEW_PRIVS 38
#define PR_SET_CHILD_SUBREAPER 36
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define SECCOMP_MODE_FILTER 2
#define SIG_SETMASK 2
#define SYS_MOUNT_SETATTR 442
#define LINUX_CAPABILITY_VERSION_3 0x20080522
/* SECBIT_NOROOT, _LOCKED, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE, _LOCKED */
#define SECURE_BITS 0xe3

/* ocx_run flags */
#define RUN_NAMESPACES 1
#define RUN_FRESH_PROC 2
#define RUN_PRIVATE_PTS 4

/* ocx_probe result bits */
#define PROBE_NAMESPACES 1
#define PROBE_FRESH_PROC 2
#define PROBE_PRIVATE_PTS 4

/* The syscall numbers that differ per architecture, from the caller. */
struct sysnos {
  long clone;
  long restrict_self;
  long capset;
  long add_rule;
};

/* Landlock rules for what the init mounted itself (a rule on a covered mount point counts for nothing). */
struct late_rules {
  const char **paths;
  const u64 *rights;
};

static size_t text_length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* Decimal text of v at out; returns the number of characters written (no terminator). */
static size_t put_uint(char *out, unsigned long v) {
  char rev[24];
  size_t d = 0, n = 0;
  do {
    rev[d++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (d > 0) out[n++] = rev[--d];
  return n;
}

static int errno_now(void) { return *__errno_location(); }

/* "PREFIX WHAT: strerror (errno N)" into buf (size >= 64), terminated; returns its length. */
static size_t format_error(char *buf, size_t size, const char *prefix, const char *what, int err, int with_errno) {
  size_t n = 0;
  const char *parts[5] = {prefix, what, ": ", strerror(err), with_errno ? " (errno " : ""};
  for (int p = 0; p < 5; p++)
    for (const char *c = parts[p]; *c && n < size - 32; c++) buf[n++] = *c;
  if (with_errno) {
    n += put_uint(buf + n, (unsigned long)err);
    buf[n++] = ')';
  }
  buf[n] = 0;
  return n;
}

/* One line on fd, in one write. */
static void report(int fd, const char *prefix, const char *what, int err, int with_errno) {
  char line[1024];
  size_t n = format_error(line, sizeof(line) - 1, prefix, what, err, with_errno);
  line[n++] = '\n';
  write(fd, line, n);
}

static const char *CONFINE_FAILED = "ocx sandbox: could not confine the command: ";

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = text_length(text);
  ssize_t w = write(fd, text, n);
  int err = errno_now();
  close(fd);
  *__errno_location() = err;
  return w == (ssize_t)n ? 0 : -1;
}

static void reap(int pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno_now() == EINTR) {
  }
}

/*
 * Parent side: the child's uid/gid maps. Root (CAP_SETUID in the parent namespace) maps every
 * id to itself, so ownership looks the same inside; anyone else maps only their own ids.
 * The child waits on `go` until this is done. Returns 0, or -1 with *what set.
 */
static int write_maps(int pid, int uid, int gid, const char **what) {
  const char *names[3] = {"setgroups", "uid_map", "gid_map"};
  for (int k = 0; k < 3; k++) {
    char path[64], map[96];
    size_t n = 0, m = 0;
    for (const char *c = "/proc/"; *c; c++) path[n++] = *c;
    n += put_uint(path + n, (unsigned long)pid);
    path[n++] = '/';
    for (const char *c = names[k]; *c; c++) path[n++] = *c;
    path[n] = 0;

    if (k == 0) {
      if (uid == 0) continue; /* root keeps its supplementary groups */
      if (write_file(path, "deny") != 0 && errno_now() != ENOENT) {
        *what = "write setgroups";
        return -1;
      }
      continue;
    }
    if (uid == 0) {
      for (const char *c = "0 0 4294967295"; *c; c++) map[m++] = *c;
    } else {
      unsigned long id = (unsigned long)(k == 1 ? uid : gid);
      m += put_uint(map + m, id);
      map[m++] = ' ';
      m += put_uint(map + m, id);
      map[m++] = ' ';
      map[m++] = '1';
    }
    map[m] = 0;
    if (write_file(path, map) != 0) {
      *what = k == 1 ? "write uid_map" : "write gid_map";
      return -1;
    }
  }
  return 0;
}

/*
 * Clones the init: with namespaces a new user + mount + pid namespace whose id maps the parent
 * writes before the child goes on; without, a plain child. Returns the pid in the parent (the
 * child sees *is_child = 1 and reads `go` from *go_read), or -1 with *what set.
 */
static int clone_init(long sys_clone, int namespaces, int uid, int gid, int *is_child, int *go_read, const char **what) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    *what = "pipe2";
    return -1;
  }
  long flags = SIGCHLD | (namespaces ? (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) : 0);
  long pid = syscall(sys_clone, flags, 0L, 0L, 0L, 0L);
  if (pid < 0) {
    int err = errno_now();
    close(go[0]);
    close(go[1]);
    *__errno_location() = err;
    *what = namespaces ? "clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID)" : "clone";
    return -1;
  }
  if (pid == 0) {
    close(go[1]);
    *is_child = 1;
    *go_read = go[0];
    return 0;
  }
  close(go[0]);
  *is_child = 0;
  if (namespaces && write_maps((int)pid, uid, gid, what) != 0) {
    int err = errno_now();
    close(go[1]); /* the child reads EOF and exits */
    reap((int)pid);
    *__errno_location() = err;
    return -1;
  }
  char one = 1;
  write(go[1], &one, 1);
  close(go[1]);
  return (int)pid;
}

static int wait_go(int fd) {
  char c = 0;
  ssize_t n;
  do n = read(fd, &c, 1);
  while (n < 0 && errno_now() == EINTR);
  close(fd);
  return n == 1 && c == 1 ? 0 : -1;
}

/* mount_setattr(path, AT_RECURSIVE?): read-only set or cleared. */
static int set_read_only(const char *path, int read_only, int recursive) {
  u64 attr[4];
  attr[0] = read_only ? MOUNT_ATTR_RDONLY : 0;
  attr[1] = read_only ? 0 : MOUNT_ATTR_RDONLY;
  attr[2] = 0;
  attr[3] = 0;
  return (int)syscall(SYS_MOUNT_SETATTR, (long)AT_FDCWD, (long)path, (long)(recursive ? AT_RECURSIVE : 0), (long)attr, 32L);
}

/* A bind mount of path onto itself (recursive); ENOENT is reported as 1 (nothing to bind). */
static int bind_self(const char *path) {
  if (mount(path, path, 0, MS_BIND | MS_REC, 0) == 0) return 0;
  return errno_now() == ENOENT ? 1 : -1;
}

/*
 * The init's view (namespaces only): everything read-only, `rw` bound read-write onto
 * themselves (parents before children), `ro` read-only on top, `hide` covered by /dev/null.
 * Returns 0, or -1 with *what naming the step.
 */
static int build_view(const char **rw, const char **ro, const char **hide, const char **what) {
  /* Mounts made here must not travel back to the parent namespace. */
  *what = "make / a slave mount";
  if (mount(0, "/", 0, MS_REC | MS_SLAVE, 0) != 0) return -1;
  /* With / itself writable (--add-dir /) the tree stays as it is; the carve-outs still apply. */
  int whole = 0;
  for (int i = 0; rw[i]; i++)
    if (rw[i][0] == '/' && rw[i][1] == 0) whole = 1;
  *what = "make every mount read-only";
  if (!whole && set_read_only("/", 1, 1) != 0) return -1;
  for (int i = 0; rw[i] && !whole; i++) {
    *what = rw[i];
    int r = bind_self(rw[i]);
    if (r == 1) continue;
    if (r != 0) return -1;
    /* A mount that was read-only before ocx came stays so (the kernel locks its flag: EPERM). */
    if (set_read_only(rw[i], 0, 1) != 0 && set_read_only(rw[i], 0, 0) != 0 && errno_now() != EPERM) return -1;
  }
  for (int i = 0; ro[i]; i++) {
    *what = ro[i];
    int r = bind_self(ro[i]);
    if (r == 1) continue;
    if (r != 0 || set_read_only(ro[i], 1, 1) != 0) return -1;
  }
  for (int i = 0; hide[i]; i++) {
    *what = hide[i];
    if (mount("/dev/null", hide[i], 0, MS_BIND, 0) != 0 && errno_now() != ENOENT) return -1;
  }
  return 0;
}

/* A devpts instance of the sandbox's own, so other terminals of the host are out of sight. */
static int private_pts(void) {
  if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0) return -1;
  mount("/dev/pts/ptmx", "/dev/ptmx", 0, MS_BIND, 0); /* the kernel finds pts/ beside ptmx anyway */
  return 0;
}

static int fresh_proc(void) { return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0); }

/*
 * Can this host run commands in namespaces? Clones a throwaway init that builds a minimal view
 * (everything read-only, / bound onto itself read-write again) and tries the optional parts.
 * Returns PROBE_* bits; when PROBE_NAMESPACES is missing, `out` (size outlen) says why.
 */
int ocx_probe(long sys_clone, int uid, int gid, char *out, int outlen) {
  int errpipe[2];
  out[0] = 0;
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    format_error(out, (size_t)outlen, "", "pipe2", errno_now(), 1);
    return 0;
  }
  int is_child = 0, go_read = -1;
  const char *what = "";
  int pid = clone_init(sys_clone, 1, uid, gid, &is_child, &go_read, &what);
  if (pid >= 0 && is_child) {
    close(errpipe[0]);
    if (wait_go(go_read) != 0) _exit(1);
    const char *rw[2] = {"/tmp", 0};
    const char *none[1] = {0};
    if (build_view(rw, none, none, &what) != 0) {
      report(errpipe[1], "mount ", what, errno_now(), 1);
      _exit(1);
    }
    char bits = '0' + PROBE_NAMESPACES;
    if (fresh_proc() == 0) bits += PROBE_FRESH_PROC;
    if (private_pts() == 0) bits += PROBE_PRIVATE_PTS;
    char word[3] = {'o', 'k', bits};
    write(errpipe[1], word, 3);
    _exit(0);
  }
  close(errpipe[1]);
  if (pid < 0) {
    int err = errno_now();
    close(errpipe[0]);
    format_error(out, (size_t)outlen, "", what, err, 1);
    return 0;
  }
  /* The child's word is the verdict, not its wait status: the runtime may reap it first. */
  ssize_t n = 0, r;
  while (n < outlen - 1 && ((r = read(errpipe[0], out + n, (size_t)(outlen - 1 - n))) > 0 || (r < 0 && errno_now() == EINTR)))
    if (r > 0) n += r;
  close(errpipe[0]);
  out[n] = 0;
  if (n > 0 && out[n - 1] == '\n') out[--n] = 0;
  reap(pid);
  if (n == 3 && out[0] == 'o' && out[1] == 'k') {
    int bits = out[2] - '0';
    out[0] = 0;
    return bits;
  }
  if (n == 0) format_error(out, (size_t)outlen, "", "the probe process ended without a word", 0, 0);
  return 0;
}

/* Every capability gone from every set, and no way back through uid 0 or ambient raising. */
static int drop_capabilities(long sys_capset, const char **what) {
  /* Needs CAP_SETPCAP: refused for an unprivileged user outside a namespace, who has none anyway. */
  prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0);
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0) {
      if (errno_now() == EINVAL) break; /* past the last capability this kernel knows */
      if (errno_now() != EPERM) {
        *what = "prctl(PR_CAPBSET_DROP)";
        return -1;
      }
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno_now() != EINVAL) {
    *what = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
    return -1;
  }
  unsigned int header[2] = {LINUX_CAPABILITY_VERSION_3, 0};
  unsigned int data[6] = {0, 0, 0, 0, 0, 0};
  if (syscall(sys_capset, (long)header, (long)data, 0L, 0L, 0L) != 0) {
    *what = "capset";
    return -1;
  }
  return 0;
}

/* The command's process: confine, exec; never returns. */
static void exec_command(const struct sysnos *sys, int ruleset_fd, const void *fprog, char **argv) {
  const char *what = "";
  setsid(); /* no controlling terminal, and ocx's process group signals go through the init */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (drop_capabilities(sys->capset, &what) != 0) {
    report(2, CONFINE_FAILED, what, errno_now(), 1);
    _exit(126);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report(2, CONFINE_FAILED, "prctl(PR_SET_NO_NEW_PRIVS)", errno_now(), 1);
    _exit(126);
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (unsigned long)fprog, 0, 0) != 0) {
    report(2, CONFINE_FAILED, "seccomp filter", errno_now(), 1);
    _exit(126);
  }
  if (syscall(sys->restrict_self, (long)ruleset_fd, 0L, 0L, 0L, 0L) != 0) {
    report(2, CONFINE_FAILED, "landlock_restrict_self", errno_now(), 1);
    _exit(126);
  }
  close(ruleset_fd);
  for (int sig = 1; sig < 32; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, 0);
  unsigned long empty[16];
  for (int i = 0; i < 16; i++) empty[i] = 0;
  sigprocmask(SIG_SETMASK, empty, 0);
  execvp(argv[0], argv);
  int err = errno_now();
  report(2, "ocx sandbox: cannot run ", argv[0], err, 0);
  _exit(err == ENOENT ? 127 : 126);
}

/* Where the init sends the signals it is given: every process of the pid namespace (-1), or the command's group. */
static volatile int forward_target = 0;
static volatile int command_pid = 0;

static void init_forward(int sig) {
  if (forward_target == -1) {
    kill(-1, sig);
  } else if (command_pid > 0) {
    kill(-command_pid, sig);
    kill(command_pid, sig);
  }
}

/* Without a pid namespace nothing ends the command's processes for us when the helper dies (ocx
 * was killed): the init learns of it by this signal and ends them itself. */
static volatile int helper_gone = 0;
static void on_helper_death(int sig) {
  (void)sig;
  helper_gone = 1;
  if (command_pid > 0) {
    kill(-command_pid, SIGKILL);
    kill(command_pid, SIGKILL);
  }
}

/* The helper passes the signals ocx sends it on to the init. */
static volatile int init_pid = 0;
static void helper_forward(int sig) {
  if (init_pid > 0) kill(init_pid, sig);
}

static const int FORWARDED[6] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/* Outside a pid namespace: SIGKILL whatever the command left behind (reparented to us, the subreaper). */
static void end_leftovers(int self) {
  char path[64];
  size_t n = 0;
  for (const char *c = "/proc/self/task/"; *c; c++) path[n++] = *c;
  n += put_uint(path + n, (unsigned long)self);
  for (const char *c = "/children"; *c; c++) path[n++] = *c;
  path[n] = 0;
  for (int round = 0; round < 200; round++) {
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len <= 0) {
      if (waitpid(-1, &status, WNOHANG) < 0 && errno_now() == ECHILD) return;
      usleep(2000);
      continue;
    }
    int pid = 0;
    for (ssize_t i = 0; i <= len; i++) {
      char c = i < len ? buf[i] : ' ';
      if (c >= '0' && c <= '9') {
        pid = pid * 10 + (c - '0');
      } else if (pid > 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        pid = 0;
      }
    }
    usleep(1000);
  }
}

/* struct landlock_path_beneath_attr (packed: u64 allowed_access, s32 parent_fd). */
static int add_late_rules(const struct sysnos *sys, int ruleset_fd, const struct late_rules *late, const char **what) {
  for (int i = 0; late->paths[i]; i++) {
    if (late->rights[i] == 0) continue;
    int fd = open(late->paths[i], O_PATH | O_CLOEXEC);
    if (fd < 0) continue;
    unsigned char attr[12];
    u64 rights = late->rights[i];
    for (int b = 0; b < 8; b++) attr[b] = (unsigned char)(rights >> (8 * b));
    for (int b = 0; b < 4; b++) attr[8 + b] = (unsigned char)((unsigned int)fd >> (8 * b));
    long r = syscall(sys->add_rule, (long)ruleset_fd, 1L /* LANDLOCK_RULE_PATH_BENEATH */, (long)attr, 0L, 0L);
    close(fd);
    if (r != 0) {
      *what = late->paths[i];
      return -1;
    }
  }
  return 0;
}

/* The init: view, command, wait; reports the command's wait status on status_fd. Never returns. */
static void run_init(const struct sysnos *sys, int flags, const char **rw, const char **ro, const char **hide, const struct late_rules *late,
                     int ruleset_fd, const void *fprog, char **argv, int status_fd, int helper) {
  const char *what = "";
  /* A group of its own: ocx's SIGKILL to the helper's group must leave the init alive to clean up. */
  setpgid(0, 0);
  if (flags & RUN_NAMESPACES) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* the kernel then ends the whole pid namespace */
  } else {
    signal(SIGPWR, (void *)on_helper_death);
    prctl(PR_SET_PDEATHSIG, SIGPWR, 0, 0, 0);
  }
  /* Outside a pid namespace: the helper may have died before the death signal was armed. */
  if (!(flags & RUN_NAMESPACES) && getppid() != helper) _exit(126);
  if (flags & RUN_NAMESPACES) {
    if (build_view(rw, ro, hide, &what) != 0) {
      report(2, "ocx sandbox: could not confine the command: mount ", what, errno_now(), 1);
      _exit(126);
    }
    /* The working directory still points into the mount below the new binds: look it up again. */
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) != 0) chdir(cwd);
    if ((flags & RUN_PRIVATE_PTS) && private_pts() != 0) {
      report(2, CONFINE_FAILED, "mount devpts", errno_now(), 1);
      _exit(126);
    }
    if ((flags & RUN_FRESH_PROC) && fresh_proc() != 0) {
      report(2, CONFINE_FAILED, "mount proc", errno_now(), 1);
      _exit(126);
    }
    if (add_late_rules(sys, ruleset_fd, late, &what) != 0) {
      report(2, "ocx sandbox: could not confine the command: landlock_add_rule ", what, errno_now(), 1);
      _exit(126);
    }
    forward_target = -1;
  } else {
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  }
  for (int i = 0; i < 6; i++) signal(FORWARDED[i], (void *)init_forward);
  long pid = syscall(sys->clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
  if (pid < 0) {
    report(2, CONFINE_FAILED, "clone", errno_now(), 1);
    _exit(126);
  }
  if (pid == 0) exec_command(sys, ruleset_fd, fprog, argv);
  command_pid = (int)pid;
  close(ruleset_fd);
  int status = 0, command_status = -1;
  for (;;) {
    int w = waitpid(-1, &status, 0);
    if (w == (int)pid) {
      command_status = status;
      break;
    }
    if (w < 0 && errno_now() != EINTR) break;
  }
  if (helper_gone) {
    on_helper_death(SIGPWR);
    end_leftovers(getpid());
    _exit(0);
  }
  if (!(flags & RUN_NAMESPACES)) end_leftovers(getpid());
  write(status_fd, &command_status, sizeof(command_status));
  _exit(0);
}

/*
 * Runs argv confined: sysnos {clone, landlock_restrict_self, capset, landlock_add_rule}; flags
 * RUN_*; rw, ro, hide NULL-terminated path lists (used with namespaces); late_paths with
 * late_rights: Landlock rules the init adds once its own mounts (/proc, /dev/pts) are in place;
 * the prepared Landlock ruleset and seccomp program (struct sock_fprog). Returns
 * the command's raw wait status, or -1 when it could not be started (the reason is on stderr).
 */
int ocx_run(const long *sysnos, int flags, int uid, int gid, const char **rw, const char **ro, const char **hide, const char **late_paths,
            const u64 *late_rights, int ruleset_fd, const void *fprog, char **argv) {
  struct sysnos sys;
  sys.clone = sysnos[0];
  sys.restrict_self = sysnos[1];
  sys.capset = sysnos[2];
  sys.add_rule = sysnos[3];
  struct late_rules late;
  late.paths = late_paths;
  late.rights = late_rights;
  long sys_clone = sys.clone;
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    report(2, CONFINE_FAILED, "pipe2", errno_now(), 1);
    return -1;
  }
  int is_child = 0, go_read = -1;
  const char *what = "";
  int helper = getpid();
  int pid = clone_init(sys_clone, flags & RUN_NAMESPACES, uid, gid, &is_child, &go_read, &what);
  if (pid < 0) {
    report(2, CONFINE_FAILED, what, errno_now(), 1);
    close(status_pipe[0]);
    close(status_pipe[1]);
    return -1;
  }
  if (is_child) {
    close(status_pipe[0]);
    if (wait_go(go_read) != 0) _exit(126);
    run_init(&sys, flags, rw, ro, hide, &late, ruleset_fd, fprog, argv, status_pipe[1], helper);
  }
  close(status_pipe[1]);
  close(ruleset_fd);
  init_pid = pid;
  for (int i = 0; i < 6; i++) signal(FORWARDED[i], (void *)helper_forward);
  int command_status = -1;
  ssize_t n;
  do n = read(status_pipe[0], &command_status, sizeof(command_status));
  while (n < 0 && errno_now() == EINTR);
  close(status_pipe[0]);
  int init_status = 0, w;
  while ((w = waitpid(pid, &init_status, 0)) < 0 && errno_now() == EINTR) {
  }
  if (n == (ssize_t)sizeof(command_status) && command_status != -1) return command_status;
  /* No word from the init: killed (ocx ended the group) is reported as such; else it said why on stderr. */
  if (w == pid && (init_status & 0x7f) != 0) return init_status & 0x7f;
  return -1;
}
