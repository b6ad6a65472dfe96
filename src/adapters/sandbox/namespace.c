// ocx's user + mount namespace step, compiled at run time by Bun's embedded TinyCC (bun:ffi cc).
//
// Why C: Landlock only grants, so a writable root's .git cannot be made read-only by Landlock
// alone. A read-only bind mount over it needs a mount namespace, and for an unprivileged user a
// user namespace, which the kernel only creates for a single-threaded process. Bun always runs
// several threads, so the namespace is made in a child cloned without CLONE_VM: the child has one
// thread and runs only this file's code (syscalls, no allocation) until it execs the command.
//
// No #include: the host may have no C headers. Every libc function used is declared here.

typedef unsigned long size_t;
typedef long ssize_t;

extern long syscall(long number, ...);
extern int open(const char *path, int flags, ...);
extern ssize_t read(int fd, void *buf, size_t count);
extern ssize_t write(int fd, const void *buf, size_t count);
extern int close(int fd);
extern int pipe2(int fds[2], int flags);
extern int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data);
extern int statvfs(const char *path, void *buf);
extern int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
extern int execvp(const char *file, char *const argv[]);
extern void _exit(int status);
extern int *__errno_location(void);
extern char *strerror(int errnum);
extern int waitpid(int pid, int *status, int options);
extern int kill(int pid, int sig);
extern int getppid(void);
extern void *signal(int sig, void *handler);
extern int sigprocmask(int how, const void *set, void *old);

#define O_WRONLY 01
#define O_RDONLY 0
#define O_CLOEXEC 02000000
#define EINTR 4
#define ENOENT 2
#define SIGCHLD 17
#define SIGKILL 9
#define SIGTERM 15
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUSER 0x10000000
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_REMOUNT 32
#define MS_NOATIME 1024
#define MS_NODIRATIME 2048
#define MS_BIND 4096
#define MS_REC 16384
#define MS_SLAVE (1 << 19)
#define MS_RELATIME (1 << 21)
#define ST_NOSUID 2
#define ST_NODEV 4
#define ST_NOEXEC 8
#define ST_NOATIME 1024
#define ST_NODIRATIME 2048
#define ST_RELATIME 4096
#define PR_SET_PDEATHSIG 1
#define PR_SET_SECCOMP 22
#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_MODE_FILTER 2
#define SIG_SETMASK 2

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

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = text_length(text);
  ssize_t w = write(fd, text, n);
  int err = *__errno_location();
  close(fd);
  *__errno_location() = err;
  return w == (ssize_t)n ? 0 : -1;
}

static unsigned long locked_flags(const char *path) {
  /* glibc and musl struct statvfs on 64-bit targets: f_flag is the tenth unsigned long. */
  unsigned long buf[32];
  if (statvfs(path, buf) != 0) return 0;
  unsigned long f = buf[9], flags = 0;
  if (f & ST_NOSUID) flags |= MS_NOSUID;
  if (f & ST_NODEV) flags |= MS_NODEV;
  if (f & ST_NOEXEC) flags |= MS_NOEXEC;
  if (f & ST_NOATIME) flags |= MS_NOATIME;
  if (f & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (f & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
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
      if (write_file(path, "deny") != 0 && *__errno_location() != ENOENT) {
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

/* Child side: every path in ro (NULL-terminated) becomes a read-only bind mount of itself. */
static int make_read_only(const char **ro, const char **what) {
  /* Mounts made here must not travel back to the parent namespace. */
  mount(0, "/", 0, MS_REC | MS_SLAVE, 0);
  for (int i = 0; ro[i]; i++) {
    *what = ro[i];
    if (mount(ro[i], ro[i], 0, MS_BIND | MS_REC, 0) != 0) return -1;
    if (mount(0, ro[i], 0, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(ro[i]), 0) != 0) return -1;
  }
  return 0;
}

/*
 * Clones a child in a new user + mount namespace. The parent writes the id maps; the child waits
 * for them, then makes `ro` read-only. Returns the child's pid in the parent (0 never: the child
 * continues in the caller's branch via *is_child), or -1 with *what set.
 */
static int clone_into_namespace(long sys_clone, int uid, int gid, int *is_child, int *go_read, const char **what) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    *what = "pipe2";
    return -1;
  }
  long pid = syscall(sys_clone, (long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), 0L, 0L, 0L, 0L);
  if (pid < 0) {
    int err = *__errno_location();
    close(go[0]);
    close(go[1]);
    *__errno_location() = err;
    *what = "clone(CLONE_NEWUSER|CLONE_NEWNS)";
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
  if (write_maps((int)pid, uid, gid, what) != 0) {
    int err = *__errno_location();
    close(go[1]); /* the child reads EOF and exits */
    int status;
    while (waitpid((int)pid, &status, 0) < 0 && *__errno_location() == EINTR) {
    }
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
  while (n < 0 && *__errno_location() == EINTR);
  close(fd);
  return n == 1 && c == 1 ? 0 : -1;
}

/*
 * Can this host give a command read-only carve-outs? Clones a child that does the whole setup on
 * `target` and exits. Returns 0, or the errno with a description in `out` (size outlen).
 */
int ocx_ns_probe(long sys_clone, int uid, int gid, const char *target, char *out, int outlen) {
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return *__errno_location();
  int is_child = 0, go_read = -1;
  const char *what = "";
  int pid = clone_into_namespace(sys_clone, uid, gid, &is_child, &go_read, &what);
  if (pid >= 0 && is_child) {
    close(errpipe[0]);
    if (wait_go(go_read) != 0) _exit(1);
    const char *ro[2];
    ro[0] = target;
    ro[1] = 0;
    if (make_read_only(ro, &what) != 0) {
      report(errpipe[1], "mount ", what, *__errno_location(), 1);
      _exit(1);
    }
    write(errpipe[1], "ok", 2);
    _exit(0);
  }
  close(errpipe[1]);
  if (pid < 0) {
    int err = *__errno_location();
    close(errpipe[0]);
    format_error(out, (size_t)outlen, "", what, err, 1);
    return err ? err : 1;
  }
  /* The child's word is the verdict, not its wait status: the runtime may reap it first. */
  ssize_t n = 0, r;
  while (n < outlen - 1 && ((r = read(errpipe[0], out + n, (size_t)(outlen - 1 - n))) > 0 || (r < 0 && *__errno_location() == EINTR)))
    if (r > 0) n += r;
  close(errpipe[0]);
  out[n] = 0;
  if (n > 0 && out[n - 1] == '\n') out[--n] = 0;
  int status;
  while (waitpid(pid, &status, 0) < 0 && *__errno_location() == EINTR) {
  }
  if (n == 2 && out[0] == 'o' && out[1] == 'k') {
    out[0] = 0;
    return 0;
  }
  if (n == 0) format_error(out, (size_t)outlen, "", "the probe process ended without a word", 0, 0);
  return 1;
}

/*
 * Runs argv in a new user + mount namespace with `ro` read-only, then the same confinement as
 * the direct path: no_new_privs, the seccomp filter (fprog, or 0 for none), the prepared
 * Landlock ruleset, default signal dispositions and an empty mask. Returns the raw wait status
 * of the command, or -1 when no child could be started (message already on stderr).
 */
int ocx_ns_run(long sys_clone, long sys_restrict_self, int uid, int gid, const char **ro, int ruleset_fd, const void *fprog,
               char **argv) {
  int is_child = 0, go_read = -1;
  const char *what = "";
  int pid = clone_into_namespace(sys_clone, uid, gid, &is_child, &go_read, &what);
  if (pid < 0) {
    report(2, "ocx sandbox: could not confine the command: ", what, *__errno_location(), 1);
    return -1;
  }
  if (!is_child) {
    close(ruleset_fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (*__errno_location() != EINTR) {
        report(2, "ocx sandbox: ", "lost the command's exit status", *__errno_location(), 1);
        return -1;
      }
    }
    return status;
  }

  /* The child: one thread, no allocation, ends in exec or _exit. */
  if (wait_go(go_read) != 0) _exit(126);
  /* If the helper dies, the command goes too (the helper is its only reporter). */
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  if (make_read_only(ro, &what) != 0) {
    report(2, "ocx sandbox: could not confine the command: mount read-only ", what, *__errno_location(), 1);
    _exit(126);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report(2, "ocx sandbox: could not confine the command: ", "prctl(PR_SET_NO_NEW_PRIVS)", *__errno_location(), 1);
    _exit(126);
  }
  if (fprog && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (unsigned long)fprog, 0, 0) != 0) {
    report(2, "ocx sandbox: could not confine the command: ", "seccomp filter", *__errno_location(), 1);
    _exit(126);
  }
  if (syscall(sys_restrict_self, (long)ruleset_fd, 0L, 0L, 0L, 0L) != 0) {
    report(2, "ocx sandbox: could not confine the command: ", "landlock_restrict_self", *__errno_location(), 1);
    _exit(126);
  }
  close(ruleset_fd);
  for (int sig = 1; sig < 32; sig++)
    if (sig != SIGKILL && sig != 19) signal(sig, 0);
  unsigned long empty[16];
  for (int i = 0; i < 16; i++) empty[i] = 0;
  sigprocmask(SIG_SETMASK, empty, 0);
  execvp(argv[0], argv);
  int err = *__errno_location();
  report(2, "ocx sandbox: cannot run ", argv[0], err, 0);
  _exit(err == ENOENT ? 127 : 126);
  return -1;
}
