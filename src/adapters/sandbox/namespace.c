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
extern int socketpair(int domain, int type, int protocol, int sv[2]);
extern ssize_t sendmsg(int fd, const void *msg, int flags);
extern ssize_t recvmsg(int fd, void *msg, int flags);
extern int ioctl(int fd, unsigned long request, ...);
extern int poll(void *fds, unsigned long nfds, int timeout);
extern int openat(int dirfd, const char *path, int flags, ...);
extern ssize_t readlink(const char *path, char *buf, size_t size);
extern ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size);
extern int chmod(const char *path, unsigned int mode);
extern int fchownat(int dirfd, const char *path, unsigned int uid, unsigned int gid, int flags);
extern int setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
extern int removexattr(const char *path, const char *name);
extern int utimensat(int dirfd, const char *path, const void *times, int flags);
extern int connect(int fd, const void *addr, unsigned int len);
extern int fstat(int fd, void *st);
extern int flock(int fd, int op);
extern int mkdir(const char *path, unsigned int mode);
extern unsigned int umask(unsigned int mask);
extern int rmdir(const char *path);
extern int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf);
extern int chdir(const char *path);

#define O_WRONLY 01
#define O_RDONLY 0
#define O_PATH 010000000
#if defined(__aarch64__)
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000
#else
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#endif
#define O_CLOEXEC 02000000
#define EINTR 4
#define ENOENT 2
#define EINVAL 22
#define EPERM 1
#define EFAULT 14
#define EEXIST 17
#define ENAMETOOLONG 36
#define E2BIG 7
#define EOPNOTSUPP 95
#define ERANGE 34
#define EINVAL_ 22
#define EACCES 13
#define EAFNOSUPPORT 97
#define ECONNREFUSED 111
#define SYS_PIDFD_OPEN 434
#define SYS_PIDFD_GETFD 438
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
#define PR_SET_DUMPABLE 4
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
/* danger-full-access: no confinement, only the init's care that nothing outlives the command */
#define RUN_UNCONFINED 8

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

/* "<a><pid><b><num>" into out (pid or num below 0: left out); returns its length. */
static size_t proc_path(char *out, const char *a, int pid, const char *b, long num) {
  size_t n = 0;
  for (const char *c = a; *c; c++) out[n++] = *c;
  if (pid >= 0) n += put_uint(out + n, (unsigned long)pid);
  for (const char *c = b; *c; c++) out[n++] = *c;
  if (num >= 0) n += put_uint(out + n, (unsigned long)num);
  out[n] = 0;
  return n;
}

/*
 * Parent side: the child's uid/gid maps. Root (CAP_SETUID in the parent namespace) maps every
 * id to itself, so ownership looks the same inside; anyone else maps only their own ids.
 * The child waits on `go` until this is done. Returns 0, or -1 with *what set.
 */
static int write_maps(int pid, int uid, int gid, const char **what) {
  const char *names[3] = {"/setgroups", "/uid_map", "/gid_map"};
  for (int k = 0; k < 3; k++) {
    char path[64], map[96];
    size_t m = 0;
    proc_path(path, "/proc/", pid, names[k], -1);

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

#define SYS_OPEN_TREE 428
#define SYS_MOVE_MOUNT 429
#define OPEN_TREE_CLONE 1
#define MOVE_MOUNT_F_EMPTY_PATH 4

/*
 * A protected name that is a symbolic link: mount(2) would follow it (protecting only its
 * target, and the link could still be replaced), so /dev/null is mounted over the link itself
 * (move_mount without following): the name can no longer be removed, replaced or written through.
 * 1 when path is not a symlink, 0 when covered, -1 on failure.
 */
static int cover_symlink(const char *path) {
  char target[8];
  if (readlink(path, target, sizeof(target)) < 0) return 1;
  long tree = syscall(SYS_OPEN_TREE, (long)AT_FDCWD, (long)"/dev/null", (long)(OPEN_TREE_CLONE | O_CLOEXEC), 0L, 0L);
  if (tree < 0) return -1;
  long r = syscall(SYS_MOVE_MOUNT, tree, (long)"", (long)AT_FDCWD, (long)path, (long)MOVE_MOUNT_F_EMPTY_PATH);
  int err = errno_now();
  close((int)tree);
  *__errno_location() = err;
  return r == 0 ? 0 : -1;
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
    int link = cover_symlink(ro[i]);
    if (link == 0) continue;
    if (link < 0) return -1;
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


/*
 * The metadata supervisor (without namespaces, where seccomp user notification exists): Landlock
 * has no right for chmod, chown, extended attributes or timestamps, and without the read-only
 * mount view nothing else stops them outside the writable roots. The command's notify filter
 * hands each such call to the init, which reads the arguments from the caller's memory, opens
 * the target once (O_PATH), checks where that open file really is, and performs the call on that
 * file itself, without capabilities, only when it lies inside a writable root; the caller gets
 * the result, or EPERM. Swapping a path after the check cannot move the call: it acts on the
 * file that was checked.
 */
enum {
  OP_CHMOD, OP_FCHMOD, OP_FCHMODAT, OP_FCHMODAT2, OP_CHOWN, OP_FCHOWN, OP_LCHOWN, OP_FCHOWNAT,
  OP_SETXATTR, OP_LSETXATTR, OP_FSETXATTR, OP_REMOVEXATTR, OP_LREMOVEXATTR, OP_FREMOVEXATTR,
  OP_UTIME, OP_UTIMES, OP_FUTIMESAT, OP_UTIMENSAT, OP_CONNECT, OP_COUNT
};

/* sup[0] notify sock_fprog (0: no supervisor), sup[1] writable roots (char**, real paths),
 * sup[2] int[OP_COUNT] syscall numbers (-1: none), sup[3] seccomp(2), sup[4] process_vm_readv */
struct supervisor {
  const void *fprog;
  const char **roots;
  const int *ops;
  long sys_seccomp;
  long sys_vm_readv;
};

struct seccomp_data_s {
  int nr;
  unsigned int arch;
  u64 ip;
  u64 args[6];
};
struct notif {
  u64 id;
  unsigned int pid;
  unsigned int flags;
  struct seccomp_data_s data;
};
struct notif_resp {
  u64 id;
  long long val;
  int error;
  unsigned int flags;
};
struct iovec_s {
  void *base;
  size_t len;
};
struct pollfd_s {
  int fd;
  short events;
  short revents;
};

#define NOTIF_RECV 0xc0502100UL
#define NOTIF_SEND 0xc0182101UL
#define NOTIF_ID_VALID 0x40082102UL
#define SECCOMP_SET_MODE_FILTER_OP 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER 8
#define AT_EMPTY_PATH 0x1000
#define AT_SYMLINK_NOFOLLOW 0x100
#define POLLIN 1
#define XATTR_MAX 65536

/* struct msghdr and one SCM_RIGHTS cmsg, laid out for LP64 (x86_64, aarch64). */
struct msghdr_s {
  void *name;
  unsigned int namelen;
  struct iovec_s *iov;
  size_t iovlen;
  void *control;
  size_t controllen;
  int flags;
};

static int send_fd(int sock, int fd) {
  char byte = 0;
  struct iovec_s iov = {&byte, 1};
  unsigned char control[24];
  for (int i = 0; i < 24; i++) control[i] = 0;
  *(size_t *)control = 20;          /* cmsg_len = CMSG_LEN(sizeof(int)) */
  *(int *)(control + 8) = 1;        /* SOL_SOCKET */
  *(int *)(control + 12) = 1;       /* SCM_RIGHTS */
  *(int *)(control + 16) = fd;
  struct msghdr_s msg = {0, 0, &iov, 1, control, 24, 0};
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
  char byte = 0;
  struct iovec_s iov = {&byte, 1};
  unsigned char control[24];
  for (int i = 0; i < 24; i++) control[i] = 0;
  struct msghdr_s msg = {0, 0, &iov, 1, control, 24, 0};
  ssize_t n;
  do n = recvmsg(sock, &msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
  while (n < 0 && errno_now() == EINTR);
  if (n != 1 || *(size_t *)control != 20 || *(int *)(control + 12) != 1) return -1;
  return *(int *)(control + 16);
}

/* Up to len bytes of the caller's memory at addr; the count read, or -1. */
static ssize_t read_remote(const struct supervisor *sup, int pid, u64 addr, void *buf, size_t len) {
  struct iovec_s local = {buf, len};
  struct iovec_s remote = {(void *)addr, len};
  return syscall(sup->sys_vm_readv, (long)pid, (long)&local, 1L, (long)&remote, 1L, 0L);
}

/* A NUL-terminated string of the caller (page by page: it may end just before unmapped memory). */
static int read_remote_string(const struct supervisor *sup, int pid, u64 addr, char *buf, size_t size) {
  size_t n = 0;
  while (n < size) {
    size_t chunk = 4096 - ((addr + n) & 4095);
    if (chunk > size - n) chunk = size - n;
    ssize_t r = read_remote(sup, pid, addr + n, buf + n, chunk);
    if (r <= 0) return -EFAULT;
    for (ssize_t i = 0; i < r; i++)
      if (buf[n + (size_t)i] == 0) return 0;
    n += (size_t)r;
  }
  return -ENAMETOOLONG;
}


/* The caller's file descriptor fd, or its directory dirfd + path, opened O_PATH here; -errno. */
static int open_target(int pid, long dirfd, const char *path, int nofollow) {
  char where[96];
  if (path == 0) {
    proc_path(where, "/proc/", pid, "/fd/", dirfd);
    int fd = open(where, O_PATH | O_CLOEXEC);
    return fd < 0 ? -errno_now() : fd;
  }
  if (path[0] == 0) return -ENOENT;
  int base = -1;
  if (path[0] != '/') {
    if ((int)dirfd == AT_FDCWD) proc_path(where, "/proc/", pid, "/cwd", -1);
    else proc_path(where, "/proc/", pid, "/fd/", (long)(unsigned int)dirfd);
    base = open(where, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (base < 0) return -errno_now();
  }
  int fd = openat(base < 0 ? AT_FDCWD : base, path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  int err = errno_now();
  if (base >= 0) close(base);
  return fd < 0 ? -err : fd;
}

/* Whether the opened file lies inside a writable root (its path as the kernel sees it now). */
static int inside_roots(int fd, const char **roots, char *self_path) {
  char real[4096];
  proc_path(self_path, "/proc/self/fd/", -1, "", fd);
  ssize_t n = readlink(self_path, real, sizeof(real) - 1);
  if (n <= 0) return 0;
  real[n] = 0;
  for (int i = 0; roots[i]; i++) {
    const char *r = roots[i];
    size_t k = 0;
    while (r[k] && real[k] == r[k]) k++;
    if (r[k] != 0) continue;
    if (real[k] == 0 || real[k] == '/' || (k == 1 && r[0] == '/')) return 1;
  }
  return 0;
}

static int op_of(const struct supervisor *sup, int nr) {
  for (int op = 0; op < OP_COUNT; op++)
    if (sup->ops[op] == nr) return op;
  return -1;
}

/* Whether an O_PATH descriptor is a symbolic link itself (readlinkat of "" works only then). */
static int is_symlink_fd(int fd) {
  char buf[8];
  return readlinkat(fd, "", buf, sizeof(buf)) >= 0;
}

/* The thread group of a task (pidfd_open wants the leader): its /proc status says. */
static int thread_group_of(int tid) {
  char path[64], buf[512];
  proc_path(path, "/proc/", tid, "/status", -1);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  for (ssize_t i = 0; i + 5 < n; i++) {
    if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'T' && buf[i + 1] == 'g' && buf[i + 2] == 'i' && buf[i + 3] == 'd' && buf[i + 4] == ':') {
      int v = 0;
      for (ssize_t j = i + 5; j < n && buf[j] != '\n'; j++)
        if (buf[j] >= '0' && buf[j] <= '9') v = v * 10 + (buf[j] - '0');
      return v;
    }
  }
  return -1;
}

/*
 * connect() of a Unix socket, made by the supervisor on the caller's own socket (pidfd_getfd):
 * to a socket file inside the writable roots only, reached through the descriptor that was
 * checked. Abstract names are refused (they cannot be told apart from the host's). 0 or -errno.
 */
static int supervise_connect(const struct supervisor *sup, int nfd, const struct notif *req) {
  const u64 *a = req->data.args;
  int pid = (int)req->pid;
  unsigned int len = (unsigned int)a[2];
  unsigned char sa[112];
  if (len < 2 || len > 110) return -EINVAL_;
  if (read_remote(sup, pid, a[1], sa, len) != (ssize_t)len) return -EFAULT;
  if ((sa[0] | (sa[1] << 8)) != 1 /* AF_UNIX */) return -EAFNOSUPPORT;
  if (len == 2 || sa[2] == 0) return -ECONNREFUSED;
  char path[112];
  size_t n = 0;
  for (unsigned int i = 2; i < len && sa[i]; i++) path[n++] = (char)sa[i];
  path[n] = 0;
  int target = open_target(pid, AT_FDCWD, path, 0);
  if (target < 0) return target;
  u64 id = req->id;
  char via[64];
  int result;
  if (ioctl(nfd, NOTIF_ID_VALID, &id) != 0) {
    result = -ENOENT;
  } else if (!inside_roots(target, sup->roots, via)) {
    result = -EACCES;
  } else {
    long pidfd = syscall(SYS_PIDFD_OPEN, (long)pid, 0L, 0L, 0L, 0L);
    if (pidfd < 0) {
      int tgid = thread_group_of(pid);
      pidfd = tgid > 0 ? syscall(SYS_PIDFD_OPEN, (long)tgid, 0L, 0L, 0L, 0L) : -1;
    }
    long sock = pidfd < 0 ? -1 : syscall(SYS_PIDFD_GETFD, pidfd, (long)(int)a[0], 0L, 0L, 0L);
    if (sock < 0) {
      result = -errno_now();
    } else {
      /* struct sockaddr_un naming /proc/self/fd/N: the checked socket file itself. */
      unsigned char un[112];
      size_t k = 0;
      un[k++] = 1;
      un[k++] = 0;
      for (const char *c = via; *c; c++) un[k++] = (unsigned char)*c;
      un[k++] = 0;
      result = connect((int)sock, un, (unsigned int)k) == 0 ? 0 : -errno_now();
      close((int)sock);
    }
    if (pidfd >= 0) close((int)pidfd);
  }
  close(target);
  return result;
}

/* Performs one supervised call; 0 or -errno. */
static int supervise_call(const struct supervisor *sup, int nfd, const struct notif *req) {
  const u64 *a = req->data.args;
  int op = op_of(sup, req->data.nr);
  if (op < 0) return -EPERM;
  if (op == OP_CONNECT) return supervise_connect(sup, nfd, req);
  int pid = (int)req->pid;
  static char path[4096];
  static char name[256];
  static unsigned char value[XATTR_MAX];
  const char *target_path = path;
  long dirfd = AT_FDCWD;
  int nofollow = 0;
  u64 path_arg = 0;
  switch (op) {
    case OP_FCHMOD: case OP_FCHOWN: case OP_FSETXATTR: case OP_FREMOVEXATTR:
      target_path = 0;
      dirfd = (long)(unsigned int)a[0];
      break;
    case OP_CHMOD: case OP_CHOWN: case OP_SETXATTR: case OP_REMOVEXATTR: case OP_UTIME: case OP_UTIMES:
      path_arg = a[0];
      break;
    case OP_LCHOWN: case OP_LSETXATTR: case OP_LREMOVEXATTR:
      path_arg = a[0];
      nofollow = 1;
      break;
    case OP_FCHMODAT: case OP_FUTIMESAT:
      dirfd = (long)(int)a[0];
      path_arg = a[1];
      break;
    case OP_FCHMODAT2:
      dirfd = (long)(int)a[0];
      path_arg = a[1];
      nofollow = (a[3] & AT_SYMLINK_NOFOLLOW) != 0;
      break;
    case OP_FCHOWNAT:
      dirfd = (long)(int)a[0];
      path_arg = a[1];
      nofollow = (a[4] & AT_SYMLINK_NOFOLLOW) != 0;
      break;
    case OP_UTIMENSAT:
      dirfd = (long)(int)a[0];
      path_arg = a[1];
      nofollow = (a[3] & AT_SYMLINK_NOFOLLOW) != 0;
      if (path_arg == 0) target_path = 0; /* the descriptor itself */
      break;
  }
  if (target_path && path_arg == 0) return -EFAULT;
  if (target_path) {
    int r = read_remote_string(sup, pid, path_arg, path, sizeof(path));
    if (r != 0) return r;
    if (path[0] == 0 && (op == OP_FCHMODAT2 ? (a[3] & AT_EMPTY_PATH) : op == OP_FCHOWNAT ? (a[4] & AT_EMPTY_PATH) : op == OP_UTIMENSAT ? (a[3] & AT_EMPTY_PATH) : 0)) {
      target_path = 0; /* AT_EMPTY_PATH: the directory descriptor is the file */
    }
  }
  /* Arguments in the caller's memory, read before the target is opened. */
  unsigned long long times[4];
  int have_times = 0;
  size_t xsize = 0;
  if (op == OP_SETXATTR || op == OP_LSETXATTR || op == OP_FSETXATTR || op == OP_REMOVEXATTR || op == OP_LREMOVEXATTR ||
      op == OP_FREMOVEXATTR) {
    int r = read_remote_string(sup, pid, a[1], name, sizeof(name));
    if (r != 0) return r == -ENAMETOOLONG ? -ERANGE : r;
    if (op == OP_SETXATTR || op == OP_LSETXATTR || op == OP_FSETXATTR) {
      xsize = (size_t)a[3];
      if (xsize > XATTR_MAX) return -E2BIG;
      if (xsize > 0 && read_remote(sup, pid, a[2], value, xsize) != (ssize_t)xsize) return -EFAULT;
    }
  }
  if (op == OP_UTIME && a[1] != 0) {
    long long ut[2];
    if (read_remote(sup, pid, a[1], ut, sizeof(ut)) != (ssize_t)sizeof(ut)) return -EFAULT;
    times[0] = (u64)ut[0]; times[1] = 0; times[2] = (u64)ut[1]; times[3] = 0;
    have_times = 1;
  } else if ((op == OP_UTIMES || op == OP_FUTIMESAT) && a[op == OP_UTIMES ? 1 : 2] != 0) {
    long long tv[4];
    if (read_remote(sup, pid, a[op == OP_UTIMES ? 1 : 2], tv, sizeof(tv)) != (ssize_t)sizeof(tv)) return -EFAULT;
    times[0] = (u64)tv[0]; times[1] = (u64)(tv[1] * 1000); times[2] = (u64)tv[2]; times[3] = (u64)(tv[3] * 1000);
    have_times = 1;
  } else if (op == OP_UTIMENSAT && a[2] != 0) {
    if (read_remote(sup, pid, a[2], times, sizeof(times)) != (ssize_t)sizeof(times)) return -EFAULT;
    have_times = 1;
  }
  int fd = open_target(pid, dirfd, target_path, nofollow);
  if (fd < 0) return fd;
  /* The caller may have gone, and its pid been reused, while its memory and files were read. */
  u64 id = req->id;
  if (ioctl(nfd, NOTIF_ID_VALID, &id) != 0) {
    close(fd);
    return -ENOENT;
  }
  char self_path[64];
  int link = nofollow && is_symlink_fd(fd);
  int result;
  if (!inside_roots(fd, sup->roots, self_path)) {
    result = -EPERM;
  } else {
    int r;
    switch (op) {
      case OP_CHMOD: case OP_FCHMOD: case OP_FCHMODAT: case OP_FCHMODAT2:
        r = link ? (*__errno_location() = EOPNOTSUPP, -1) : chmod(self_path, (unsigned int)a[op == OP_FCHMODAT || op == OP_FCHMODAT2 ? 2 : 1]);
        break;
      case OP_CHOWN: case OP_FCHOWN: case OP_LCHOWN:
        r = fchownat(fd, "", (unsigned int)a[1], (unsigned int)a[2], AT_EMPTY_PATH);
        break;
      case OP_FCHOWNAT:
        r = fchownat(fd, "", (unsigned int)a[2], (unsigned int)a[3], AT_EMPTY_PATH);
        break;
      case OP_SETXATTR: case OP_LSETXATTR: case OP_FSETXATTR:
        r = link ? (*__errno_location() = EPERM, -1) : setxattr(self_path, name, value, xsize, (int)a[4]);
        break;
      case OP_REMOVEXATTR: case OP_LREMOVEXATTR: case OP_FREMOVEXATTR:
        r = link ? (*__errno_location() = EPERM, -1) : removexattr(self_path, name);
        break;
      default: /* timestamps */
        r = link ? (*__errno_location() = EPERM, -1) : utimensat(AT_FDCWD, self_path, have_times ? (const void *)times : 0, 0);
        break;
    }
    result = r == 0 ? 0 : -errno_now();
  }
  close(fd);
  return result;
}

/* Answers one notification (a caller that has gone makes RECV or SEND fail: nothing to do). */
static void supervise_one(const struct supervisor *sup, int nfd) {
  struct notif req;
  unsigned char *bytes = (unsigned char *)&req;
  for (size_t i = 0; i < sizeof(req); i++) bytes[i] = 0;
  if (ioctl(nfd, NOTIF_RECV, &req) != 0) return;
  struct notif_resp resp;
  resp.id = req.id;
  resp.val = 0;
  resp.flags = 0;
  resp.error = supervise_call(sup, nfd, &req);
  ioctl(nfd, NOTIF_SEND, &resp);
}

/*
 * Placeholders. An absent protected name (.codex, ...) can only be kept from being created by
 * mounting something there, and a mount needs a mount point: an empty folder of mode 01555 (the
 * sticky bit marks it as ocx's), made in the real tree. Every command that uses one holds a
 * shared flock on it; whoever lets go last (an exclusive lock granted) removes it, so concurrent
 * commands and runs never pull one from under another, and a killed run's leftover is adopted
 * and removed by the next.
 */
#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define PLACEHOLDER 041555
#define STATX_TYPE_MODE_INO 0x103

static int stat_of(int dirfd, const char *path, int flags, unsigned int *mode, u64 *ino) {
  unsigned char buf[256];
  if (statx(dirfd, path, flags, STATX_TYPE_MODE_INO, buf) != 0) return -1;
  *mode = *(unsigned short *)(buf + 28);
  *ino = *(u64 *)(buf + 32);
  return 0;
}

/* Whether fd still is the placeholder at path (nobody removed or replaced it meanwhile). */
static int same_placeholder(int fd, const char *path) {
  unsigned int m1, m2;
  u64 i1, i2;
  if (stat_of(fd, "", 0x1000 /* AT_EMPTY_PATH */, &m1, &i1) != 0) return 0;
  if (stat_of(AT_FDCWD, path, 0x100 /* AT_SYMLINK_NOFOLLOW */, &m2, &i2) != 0) return 0;
  return i1 == i2 && m2 == PLACEHOLDER;
}

/*
 * fds[i]: a shared-locked placeholder standing at paths[i], or -1 (the name exists, or cannot be
 * made). Returns 0, or i + 1 for the first paths[i] where a placeholder stands that this helper
 * could not hold (others kept making and removing it): the command must not run then, since the
 * placeholder's last holder may remove it under the command's read-only mount.
 */
int ocx_hold_placeholders(const char **paths, int *fds) {
  int unheld = 0;
  for (int i = 0; paths[i]; i++) {
    fds[i] = -1;
    for (int attempt = 0; attempt < 64; attempt++) {
      unsigned int mode;
      u64 ino;
      if (stat_of(AT_FDCWD, paths[i], 0x100, &mode, &ino) != 0) {
        if (errno_now() != ENOENT) break;
        /* Born with its exact mode: another helper racing this one must never see a
         * half-made placeholder, take it for the user's own folder and not hold it (then this
         * helper's release would remove it under that helper's read-only mount). */
        unsigned int old = umask(0);
        int made = mkdir(paths[i], 01555);
        int err = errno_now();
        umask(old);
        if (made != 0) {
          if (err == EEXIST) continue;
          break; /* not creatable by ocx, so not by its commands either */
        }
        chmod(paths[i], 01555); /* a setgid parent passes its bit on: drop it */
        continue;
      }
      /* A placeholder whose setgid bit (from its parent) is being dropped: wait for it. */
      if (mode == (PLACEHOLDER | 02000)) {
        usleep(1000);
        continue;
      }
      if (mode != PLACEHOLDER) break; /* the user's own: protected as it is */
      int fd = open(paths[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      while (flock(fd, LOCK_SH) != 0 && errno_now() == EINTR) {
      }
      if (same_placeholder(fd, paths[i])) {
        fds[i] = fd;
        break;
      }
      close(fd); /* removed by its last holder meanwhile: make another */
    }
    unsigned int mode;
    u64 ino;
    if (fds[i] < 0 && !unheld && stat_of(AT_FDCWD, paths[i], 0x100, &mode, &ino) == 0 && (mode | 02000) == (PLACEHOLDER | 02000)) unheld = i + 1;
  }
  return unheld;
}

/* Lets go of them (fds from ocx_hold_placeholders, or NULL to look at the paths): a placeholder
 * nobody else holds is removed if still empty. */
void ocx_release_placeholders(const char **paths, int *fds) {
  for (int i = 0; paths[i]; i++) {
    int fd = fds ? fds[i] : open(paths[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && same_placeholder(fd, paths[i])) rmdir(paths[i]);
    close(fd);
  }
}

/*
 * Can this process's children get a notify listener? (Not under a filter that already has one:
 * a nested ocx.) A throwaway child installs an allow-all filter with a listener and says so.
 * Returns 0, or the errno of the attempt.
 */
int ocx_probe_supervisor(long sys_clone, long sys_seccomp) {
  int word[2];
  if (pipe2(word, O_CLOEXEC) != 0) return errno_now();
  long pid = syscall(sys_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
  if (pid < 0) {
    int err = errno_now();
    close(word[0]);
    close(word[1]);
    return err;
  }
  if (pid == 0) {
    close(word[0]);
    int result = 0;
    /* ret ALLOW: one instruction */
    unsigned char insn[8] = {0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f};
    unsigned char prog[16];
    for (int i = 0; i < 16; i++) prog[i] = 0;
    prog[0] = 1;
    *(void **)(prog + 8) = insn;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) result = errno_now();
    else if (syscall(sys_seccomp, (long)SECCOMP_SET_MODE_FILTER_OP, (long)SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)prog, 0L, 0L) < 0) result = errno_now();
    write(word[1], &result, sizeof(result));
    _exit(0);
  }
  close(word[1]);
  int result = -1;
  ssize_t n;
  do n = read(word[0], &result, sizeof(result));
  while (n < 0 && errno_now() == EINTR);
  close(word[0]);
  reap((int)pid);
  return n == (ssize_t)sizeof(result) ? result : EINVAL;
}

/* The command's side: a filter whose calls go to the init, its listener sent there. 0, or -1. */
static int hand_over_listener(const struct supervisor *sup, int sock, const char **what) {
  long listener = syscall(sup->sys_seccomp, (long)SECCOMP_SET_MODE_FILTER_OP, (long)SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)sup->fprog, 0L, 0L);
  if (listener < 0) {
    *what = "seccomp user notification filter";
    return -1;
  }
  int r = send_fd(sock, (int)listener);
  close((int)listener);
  close(sock);
  if (r != 0) *what = "send the notification listener";
  return r;
}

/* The command's process: confine, exec; never returns. */
static void exec_command(const struct sysnos *sys, int flags, int ruleset_fd, const void *fprog, char **argv, const struct supervisor *sup,
                         int sock) {
  const char *what = "";
  setsid(); /* no controlling terminal, and ocx's process group signals go through the init */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (flags & RUN_UNCONFINED) goto exec;
  if (drop_capabilities(sys->capset, &what) != 0) {
    report(2, CONFINE_FAILED, what, errno_now(), 1);
    _exit(126);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report(2, CONFINE_FAILED, "prctl(PR_SET_NO_NEW_PRIVS)", errno_now(), 1);
    _exit(126);
  }
  if (sup->fprog && hand_over_listener(sup, sock, &what) != 0) {
    report(2, CONFINE_FAILED, what, errno_now(), 1);
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
exec:
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
/* How the helper ends the init when ocx dies: SIGKILL ends a pid namespace; without one the init
 * is told (SIGPWR) and ends what the command started itself. The helper then cleans up. */
static volatile int init_death_signal = SIGKILL;
static void helper_on_parent_death(int sig) {
  (void)sig;
  if (init_pid > 0) kill(init_pid, init_death_signal);
}
static void helper_forward(int sig) {
  if (init_pid > 0) kill(init_pid, sig);
}

static const int FORWARDED[6] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/* Outside a pid namespace: SIGKILL whatever the command left behind (reparented to us, the subreaper). */
static void end_leftovers(int self) {
  char path[64];
  proc_path(path, "/proc/self/task/", self, "/children", -1);
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
static void on_child(int sig) { (void)sig; }

static void run_init(const struct sysnos *sys, int flags, const char **rw, const char **ro, const char **hide, const struct late_rules *late,
                     int ruleset_fd, const void *fprog, char **argv, int status_fd, int helper, const struct supervisor *sup) {
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
  signal(SIGCHLD, (void *)on_child); /* wakes poll() when a child ends */
  int sv[2] = {-1, -1};
  if (sup->fprog && socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0, sv) != 0) {
    report(2, CONFINE_FAILED, "socketpair", errno_now(), 1);
    _exit(126);
  }
  long pid = syscall(sys->clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
  if (pid < 0) {
    report(2, CONFINE_FAILED, "clone", errno_now(), 1);
    _exit(126);
  }
  if (pid == 0) {
    if (sv[0] >= 0) close(sv[0]);
    exec_command(sys, flags, ruleset_fd, fprog, argv, sup, sv[1]);
  }
  command_pid = (int)pid;
  close(ruleset_fd);
  int nfd = -1;
  if (sup->fprog) {
    close(sv[1]);
    nfd = recv_fd(sv[0]); /* -1 when the command failed before: it says why and exits */
    close(sv[0]);
    /* The supervisor acts for the command: with no more privilege than it has. */
    if (drop_capabilities(sys->capset, &what) != 0) {
      kill(-command_pid, SIGKILL);
      kill(command_pid, SIGKILL);
      report(2, CONFINE_FAILED, what, errno_now(), 1);
    }
  }
  int status = 0, command_status = -1;
  for (;;) {
    int done = 0, w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0)
      if (w == (int)pid) {
        command_status = status;
        done = 1;
      }
    if (done || (w < 0 && errno_now() == ECHILD)) break;
    if (nfd >= 0) {
      struct pollfd_s p = {nfd, POLLIN, 0};
      int r = poll(&p, 1, 100);
      if (r > 0 && (p.revents & POLLIN)) supervise_one(sup, nfd);
      else if (r > 0) {
        close(nfd);
        nfd = -1;
      }
      continue;
    }
    w = waitpid(-1, &status, 0);
    if (w == (int)pid) {
      command_status = status;
      break;
    }
    if (w < 0 && errno_now() != EINTR) break;
  }
  if (nfd >= 0) close(nfd);
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
 * the prepared Landlock ruleset and seccomp program (struct sock_fprog); supervise: the metadata
 * supervisor's settings (struct supervisor; a null program: none). Returns
 * the command's raw wait status, or -1 when it could not be started (the reason is on stderr).
 */
int ocx_run(const long *sysnos, int flags, int uid, int gid, const char **rw, const char **ro, const char **hide, const char **late_paths,
            const u64 *late_rights, int ruleset_fd, const void *fprog, char **argv, const u64 *supervise) {
  struct supervisor sup;
  sup.fprog = (const void *)supervise[0];
  sup.roots = (const char **)supervise[1];
  sup.ops = (const int *)supervise[2];
  sup.sys_seccomp = (long)supervise[3];
  sup.sys_vm_readv = (long)supervise[4];
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
  int parent = getppid();
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
    /* The id maps are written: from now on the command cannot read the init's memory or files. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    run_init(&sys, flags, rw, ro, hide, &late, ruleset_fd, fprog, argv, status_pipe[1], helper, &sup);
  }
  close(status_pipe[1]);
  close(ruleset_fd);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the helper too, now that the init's id maps are written */
  init_pid = pid;
  init_death_signal = (flags & RUN_NAMESPACES) ? SIGKILL : SIGPWR;
  /* ocx dying no longer kills the helper outright: it ends the init, then returns to clean up. */
  signal(SIGPWR, (void *)helper_on_parent_death);
  prctl(PR_SET_PDEATHSIG, SIGPWR, 0, 0, 0);
  if (getppid() != parent) helper_on_parent_death(SIGPWR);
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
