// FileSystem.statEntries for the Bun adapter (dir-stats.ts): the entries of many folders whose
// names match, each with its stat, listed and stat'ed here in C, on a thread per processor.
// `ocx exec resume --last` among 10,000 rollouts spends most of its time in these calls:
// relative to the open folder (statx on its descriptor) a stat costs the kernel less than by
// full path, and a call through node:fs adds a few microseconds per file for its Stats object.
//
// No #include: the host may have no C headers (TinyCC compiles this file when the binary has no
// prebuilt object). Every libc function used is declared here; statx and dirent are the Linux
// layouts, the same on every 64-bit architecture (glibc and musl).

typedef unsigned int u32;
typedef unsigned long long u64;

struct statx_timestamp {
  long long tv_sec;
  u32 tv_nsec;
  int reserved;
};
struct statx {
  u32 stx_mask, stx_blksize;
  u64 stx_attributes;
  u32 stx_nlink, stx_uid, stx_gid;
  unsigned short stx_mode, spare0;
  u64 stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
  u32 stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  u64 spare[14];
};
struct dirent {
  u64 d_ino;
  long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[256];
};
typedef struct DIR DIR;

extern DIR *opendir(const char *name);
extern struct dirent *readdir(DIR *dir);
extern int closedir(DIR *dir);
extern int dirfd(DIR *dir);
extern int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf);
extern int pthread_create(unsigned long *thread, const void *attr, void *(*start)(void *), void *arg);
extern int pthread_join(unsigned long thread, void **ret);
extern void *malloc(unsigned long size);
extern void free(void *p);

#define STATX_WANTED 0x243 /* STATX_TYPE | STATX_MODE | STATX_MTIME | STATX_SIZE */

/** One thread's share: folders start, start + step, …; its entries go to its own arrays. */
struct share {
  const char *const *dirs;
  int ndirs, start, step;
  const char *prefix, *suffix;
  int plen, slen;
  /* Per entry: its folder's index, where its name starts in names, its mode (0 where stat
     failed), mtime (ms), size. */
  u32 *folder, *name, *mode;
  double *mtime, *size;
  int cap, count;
  /* Names, each followed by a NUL, from names + names_base. */
  char *names;
  long names_base, names_cap, names_used;
  int overflow;
};

static int length(const char *s) {
  int n = 0;
  while (s[n]) n++;
  return n;
}

static int matches(const struct share *s, const char *name, int len) {
  if (len < s->plen + s->slen) return 0;
  for (int i = 0; i < s->plen; i++)
    if (name[i] != s->prefix[i]) return 0;
  for (int i = 0; i < s->slen; i++)
    if (name[len - s->slen + i] != s->suffix[i]) return 0;
  return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

static void *scan(void *arg) {
  struct share *s = arg;
  for (int d = s->start; d < s->ndirs; d += s->step) {
    DIR *dir = opendir(s->dirs[d]);
    if (!dir) continue;
    int fd = dirfd(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
      const char *name = e->d_name;
      int len = length(name);
      if (!matches(s, name, len)) continue;
      // Out of room: only counted from then on, for the caller to make enough.
      if (s->overflow || s->count == s->cap || s->names_used + len + 1 > s->names_cap) {
        s->overflow = 1;
        s->count++;
        s->names_used += len + 1;
        continue;
      }
      struct statx sx;
      int k = s->count++;
      s->folder[k] = d;
      s->name[k] = (u32)(s->names_base + s->names_used);
      if (statx(fd, name, 0, STATX_WANTED, &sx) == 0) {
        s->mode[k] = sx.stx_mode;
        s->mtime[k] = (double)sx.stx_mtime.tv_sec * 1000.0 + (double)sx.stx_mtime.tv_nsec / 1000000.0;
        s->size[k] = (double)sx.stx_size;
      } else {
        s->mode[k] = 0;
        s->mtime[k] = 0;
        s->size[k] = 0;
      }
      for (int i = 0; i <= len; i++) s->names[s->names_base + s->names_used + i] = name[i];
      s->names_used += len + 1;
    }
    closedir(dir);
  }
  return 0;
}

#define MAX_SHARES 16

struct job {
  int shares;
  struct share share[MAX_SHARES];
  unsigned long thread[MAX_SHARES];
  int started[MAX_SHARES];
};

/**
 * Starts listing `ndirs` folders (NUL-terminated paths) and stating each entry whose name starts
 * with `prefix` and ends with `suffix`, following symlinks, on `shares` threads (at most
 * MAX_SHARES), each taking every shares-th folder, and returns at once; ocx_stat_entries_wait
 * waits for them. Share t writes entries [t * cap, t * cap + count) of folder, name (the offset
 * of the entry's NUL-terminated name in names), mode, mtime and size, and up to names_cap bytes
 * of names from t * names_cap. Every buffer stays the caller's, untouched by it until the wait.
 * Null when out of memory.
 */
struct job *ocx_stat_entries_start(const char *const *dirs, int ndirs, const char *prefix, const char *suffix, u32 *folder,
                                   u32 *name, u32 *mode, double *mtime, double *size, int cap, char *names, long names_cap,
                                   int shares) {
  struct job *job = malloc(sizeof(struct job));
  if (!job) return 0;
  if (shares < 1) shares = 1;
  if (shares > MAX_SHARES) shares = MAX_SHARES;
  job->shares = shares;
  for (int t = 0; t < shares; t++) {
    struct share *s = &job->share[t];
    s->dirs = dirs;
    s->ndirs = ndirs;
    s->start = t;
    s->step = shares;
    s->prefix = prefix;
    s->suffix = suffix;
    s->plen = length(prefix);
    s->slen = length(suffix);
    s->folder = folder + t * cap;
    s->name = name + t * cap;
    s->mode = mode + t * cap;
    s->mtime = mtime + t * cap;
    s->size = size + t * cap;
    s->cap = cap;
    s->count = 0;
    s->names = names;
    s->names_base = t * names_cap;
    s->names_cap = names_cap;
    s->names_used = 0;
    s->overflow = 0;
  }
  for (int t = 0; t < shares; t++) job->started[t] = pthread_create(&job->thread[t], 0, scan, &job->share[t]) == 0;
  return job;
}

/**
 * Waits for a job's threads (a share whose thread could not start is done now, on this one) and
 * frees the job. counts[t] is share t's number of entries. Returns 0, or 1 when a share ran out
 * of room: then counts[t] and counts[shares + t] are the entries and bytes of names share t
 * needs (when the folders have not changed meanwhile), for the caller to try again.
 */
int ocx_stat_entries_wait(struct job *job, int *counts) {
  int full = 0, shares = job->shares;
  for (int t = 0; t < shares; t++) {
    if (job->started[t]) pthread_join(job->thread[t], 0);
    else scan(&job->share[t]);
  }
  for (int t = 0; t < shares; t++) {
    counts[t] = job->share[t].count;
    counts[shares + t] = (int)job->share[t].names_used;
    full |= job->share[t].overflow;
  }
  free(job);
  return full;
}
