// FileSystem.startStatDays for the Bun adapter (dir-stats.ts): the date folders of a tree
// (root/YYYY/MM/DD) listed, and the entries of each whose names match stat'ed, here in C, on
// threads of their own. `ocx exec resume --last` among 10,000 rollouts spends most of its time in
// these calls: relative to the open folder (statx on its descriptor) a stat costs the kernel less
// than by full path, and a call through node:fs adds a few microseconds per file for its Stats
// object. The whole walk runs off the calling thread, which only starts it and takes the answer:
// one block of memory the caller reads in place and frees.
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
extern void *realloc(void *p, unsigned long size);
extern void free(void *p);
extern void qsort(void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *));

#define S_IFMT 0170000
#define S_IFREG 0100000
#define STATX_WANTED 0x243 /* STATX_TYPE | STATX_MODE | STATX_MTIME | STATX_SIZE */
#define MAX_SHARES 16
/* Bounds that keep every offset a u32 (beyond them the caller lists the tree itself). */
#define MAX_BYTES 0x7fffffffL
#define MAX_ROWS 0x1000000L

/** Bytes that grow by doubling (realloc: a large block moves without being copied). */
struct bytes {
  char *at;
  long used, cap;
};

static int grow(struct bytes *b, long more) {
  if (b->used + more <= b->cap) return 1;
  long cap = b->cap ? b->cap : 4096;
  while (cap < b->used + more) cap *= 2;
  if (cap > MAX_BYTES) return 0;
  char *at = realloc(b->at, cap);
  if (!at) return 0;
  b->at = at;
  b->cap = cap;
  return 1;
}

static int put(struct bytes *b, const void *from, long n) {
  if (!grow(b, n)) return 0;
  for (long i = 0; i < n; i++) b->at[b->used + i] = ((const char *)from)[i];
  b->used += n;
  return 1;
}

static long length(const char *s) {
  long n = 0;
  while (s[n]) n++;
  return n;
}

static char *copy(const char *s) {
  long n = length(s) + 1;
  char *c = malloc(n);
  if (c)
    for (long i = 0; i < n; i++) c[i] = s[i];
  return c;
}

struct job {
  char *root, *prefix, *suffix;
  long plen, slen;
  int shares;
  unsigned long leader;
  int leader_started, failed;
  /* The answer, in one block: names (each NUL-terminated) from 0, the date folders' paths (each
     NUL-terminated, newest first) from days_at, then the columns from columns_at: mtime (ms) and
     size as doubles, then folder (index among the date folders), name (offset of the entry's name)
     and mode (0 where stat failed) as u32, `rows` of each. */
  struct bytes block;
  long days_at, days_used, columns_at, total;
  long rows, ndays;
  /* The row of the regular file with the greatest mtime when no other has that mtime, else -1. */
  long newest;
};

/** One thread's part of the stats: rows [from, to). */
struct part {
  struct job *job;
  long from, to;
  unsigned long thread;
  int started;
};

static int is_digits(const char *s) {
  if (!s[0]) return 0;
  for (long i = 0; s[i]; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/** A folder's name among its siblings: the order it was read in breaks ties. */
struct named {
  const char *name;
  long order;
};

/** Greatest number first (leading zeros ignored), then the order read. */
static int by_number_desc(const void *x, const void *y) {
  const struct named *a = x, *b = y;
  const char *p = a->name, *q = b->name;
  while (*p == '0') p++;
  while (*q == '0') q++;
  long lp = length(p), lq = length(q);
  if (lp != lq) return lp > lq ? -1 : 1;
  for (long i = 0; i < lp; i++)
    if (p[i] != q[i]) return p[i] > q[i] ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order ? 1 : 0;
}

/**
 * Appends to `out` the paths `parent/<n>` (NUL-terminated) of parent's entries named by digits,
 * greatest number first. `scratch` is working space. Returns how many, or -1 when out of memory;
 * a folder that cannot be read has none.
 */
static long digit_children(const char *parent, struct bytes *out, struct bytes *scratch) {
  DIR *dir = opendir(parent);
  if (!dir) return 0;
  scratch->used = 0;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (!is_digits(e->d_name)) continue;
    if (!put(scratch, e->d_name, length(e->d_name) + 1)) {
      closedir(dir);
      return -1;
    }
    n++;
  }
  closedir(dir);
  struct named *list = malloc((n ? n : 1) * sizeof(struct named));
  if (!list) return -1;
  for (long i = 0, at = 0; i < n; i++) {
    list[i].name = scratch->at + at;
    list[i].order = i;
    at += length(scratch->at + at) + 1;
  }
  qsort(list, n, sizeof(struct named), by_number_desc);
  long plen = length(parent), ok = 1;
  for (long i = 0; i < n && ok; i++) ok = put(out, parent, plen) && put(out, "/", 1) && put(out, list[i].name, length(list[i].name) + 1);
  free(list);
  return ok ? n : -1;
}

/** The next level down: the digit-named children of every path in `level`, in order. */
static int level_down(const struct bytes *level, struct bytes *out, struct bytes *scratch) {
  for (long at = 0; at < level->used; at += length(level->at + at) + 1)
    if (digit_children(level->at + at, out, scratch) < 0) return 0;
  return 1;
}

static int matches(const struct job *job, const char *name, long len) {
  if (len < job->plen + job->slen) return 0;
  for (long i = 0; i < job->plen; i++)
    if (name[i] != job->prefix[i]) return 0;
  for (long i = 0; i < job->slen; i++)
    if (name[len - job->slen + i] != job->suffix[i]) return 0;
  return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

static double *mtime_col(struct job *j) { return (double *)(j->block.at + j->columns_at); }
static double *size_col(struct job *j) { return mtime_col(j) + j->rows; }
static u32 *folder_col(struct job *j) { return (u32 *)(size_col(j) + j->rows); }
static u32 *name_col(struct job *j) { return folder_col(j) + j->rows; }
static u32 *mode_col(struct job *j) { return name_col(j) + j->rows; }

/** Stats rows [from, to), each relative to its folder, opened once per run of rows in it. */
static void *stat_rows(void *arg) {
  struct part *part = arg;
  struct job *job = part->job;
  const char *days = job->block.at + job->days_at;
  u32 *folder = folder_col(job), *name = name_col(job), *mode = mode_col(job);
  double *mtime = mtime_col(job), *size = size_col(job);
  DIR *dir = 0;
  long open_folder = -1, path_at = 0, path_folder = 0;
  for (long k = part->from; k < part->to; k++) {
    if (folder[k] != open_folder) {
      if (dir) closedir(dir);
      // Folder paths are in order and rows grouped by folder: walk forward to this one.
      while (path_folder < (long)folder[k]) path_at += length(days + path_at) + 1, path_folder++;
      dir = opendir(days + path_at);
      open_folder = folder[k];
    }
    struct statx sx;
    if (dir && statx(dirfd(dir), job->block.at + name[k], 0, STATX_WANTED, &sx) == 0) {
      mode[k] = sx.stx_mode;
      mtime[k] = (double)sx.stx_mtime.tv_sec * 1000.0 + (double)sx.stx_mtime.tv_nsec / 1000000.0;
      size[k] = (double)sx.stx_size;
    } else {
      mode[k] = 0;
      mtime[k] = 0;
      size[k] = 0;
    }
  }
  if (dir) closedir(dir);
  return 0;
}

/**
 * The whole walk, on the leader thread: the three levels of date folders, the matching names of
 * each (read into the block, where they stay), then the stats, shared with up to shares - 1 more
 * threads by equal runs of rows.
 */
static void *walk(void *arg) {
  struct job *job = arg;
  struct bytes years = {0}, months = {0}, days = {0}, scratch = {0};
  struct bytes rows = {0}; /* (folder, name offset) pairs of u32 */
  struct bytes *names = &job->block;
  int ok = digit_children(job->root, &years, &scratch) >= 0 && level_down(&years, &months, &scratch) && level_down(&months, &days, &scratch);
  long ndays = 0;
  for (long at = 0; ok && at < days.used; at += length(days.at + at) + 1, ndays++) {
    DIR *dir = opendir(days.at + at);
    if (!dir) continue;
    struct dirent *e;
    while (ok && (e = readdir(dir))) {
      long len = length(e->d_name);
      if (!matches(job, e->d_name, len)) continue;
      u32 row[2] = {(u32)ndays, (u32)names->used};
      ok = rows.used / 8 < MAX_ROWS && put(&rows, row, 8) && put(names, e->d_name, len + 1);
    }
    closedir(dir);
  }
  free(years.at);
  free(months.at);
  free(scratch.at);
  if (ok) {
    job->rows = rows.used / 8;
    job->ndays = ndays;
    job->days_at = names->used;
    job->days_used = days.used;
    job->columns_at = (job->days_at + days.used + 7) / 8 * 8;
    job->total = job->columns_at + job->rows * (8 + 8 + 4 + 4 + 4);
    ok = grow(names, job->total - names->used + 8);
  }
  if (ok) {
    char *block = job->block.at;
    for (long i = 0; i < days.used; i++) block[job->days_at + i] = days.at[i];
    u32 *pairs = (u32 *)rows.at, *folder = folder_col(job), *name = name_col(job);
    for (long k = 0; k < job->rows; k++) folder[k] = pairs[2 * k], name[k] = pairs[2 * k + 1];
  }
  free(days.at);
  free(rows.at);
  if (!ok) {
    job->failed = 1;
    return 0;
  }
  struct part parts[MAX_SHARES];
  int shares = job->shares;
  if (shares > job->rows) shares = job->rows > 0 ? (int)job->rows : 1;
  for (int t = 0; t < shares; t++) {
    parts[t].job = job;
    parts[t].from = job->rows * t / shares;
    parts[t].to = job->rows * (t + 1) / shares;
    parts[t].started = t > 0 && pthread_create(&parts[t].thread, 0, stat_rows, &parts[t]) == 0;
  }
  stat_rows(&parts[0]);
  for (int t = 1; t < shares; t++) {
    if (parts[t].started) pthread_join(parts[t].thread, 0);
    else stat_rows(&parts[t]);
  }
  // What `--last` takes first, found here where a pass over every row costs microseconds.
  long best = -1, ties = 0;
  double *mtime = mtime_col(job);
  u32 *mode = mode_col(job);
  for (long k = 0; k < job->rows; k++) {
    if ((mode[k] & S_IFMT) != S_IFREG) continue;
    if (best < 0 || mtime[k] > mtime[best]) best = k, ties = 1;
    else if (mtime[k] == mtime[best]) ties++;
  }
  job->newest = ties == 1 ? best : -1;
  return 0;
}

/**
 * Starts the walk of `root`'s date folders (three levels of folders named by digits, each level
 * greatest number first) and the stat of every entry of theirs whose name starts with `prefix`
 * and ends with `suffix` (links followed) on up to `shares` threads (at most MAX_SHARES), and
 * returns at once; ocx_stat_days_wait takes the answer. The strings are copied. Null when out
 * of memory.
 */
struct job *ocx_stat_days_start(const char *root, const char *prefix, const char *suffix, int shares) {
  struct job *job = malloc(sizeof(struct job));
  if (!job) return 0;
  struct job zero = {0};
  *job = zero;
  job->newest = -1;
  job->root = copy(root);
  job->prefix = copy(prefix);
  job->suffix = copy(suffix);
  if (!job->root || !job->prefix || !job->suffix) {
    free(job->root), free(job->prefix), free(job->suffix), free(job);
    return 0;
  }
  job->plen = length(prefix);
  job->slen = length(suffix);
  job->shares = shares < 1 ? 1 : shares > MAX_SHARES ? MAX_SHARES : shares;
  job->leader_started = pthread_create(&job->leader, 0, walk, job) == 0;
  return job;
}

/**
 * Waits for a job (one whose thread could not start is done now, on this one) and frees it.
 * Returns the answer's block (see struct job; the caller frees it with ocx_stat_days_free), with
 * out = { rows, date folders, days_at, columns_at, the block's size, newest }; or null when out
 * of memory or beyond the bounds.
 */
char *ocx_stat_days_wait(struct job *job, long long *out) {
  if (job->leader_started) pthread_join(job->leader, 0);
  else walk(job);
  char *block = job->failed ? 0 : job->block.at;
  if (job->failed) free(job->block.at);
  out[0] = job->rows;
  out[1] = job->ndays;
  out[2] = job->days_at;
  out[3] = job->columns_at;
  out[4] = job->total;
  out[5] = job->newest;
  free(job->root), free(job->prefix), free(job->suffix), free(job);
  return block;
}

void ocx_stat_days_free(char *block) { free(block); }
