// FileSystem.startStatDays for the Bun adapter (dir-stats.ts): the date folders of a tree
// (root/YYYY/MM/DD) listed, and the entries of each whose names match stat'ed, here in C, on
// threads of their own. `ocx exec resume --last` among 10,000 rollouts spends most of its time in
// these calls: relative to the open folder (statx on its descriptor) a stat costs the kernel less
// than by full path, and a call through node:fs adds a few microseconds per file for its Stats
// object. The whole walk runs off the calling thread, which only starts it and takes the answer:
// a block of columns and each thread's names, memory the caller reads in place and frees.
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
/* A name's u32: its share in the top bits, its offset among the share's names below. */
#define NAME_SHARE_SHIFT 27
#define NAME_OFFSET_MAX (1L << NAME_SHARE_SHIFT)

/**
 * Bytes that grow by doubling, from FIRST_ROOM: a block that large is mapped on its own, so only
 * the pages written are ever touched, and it grows by remapping, never copied (copying grew a
 * small one through heap blocks of every size, each touched anew: pages are dear on some machines).
 */
#define FIRST_ROOM (1L << 20)
struct bytes {
  char *at;
  long used, cap;
};

static int grow(struct bytes *b, long more) {
  if (b->used + more <= b->cap) return 1;
  long cap = b->cap ? b->cap : FIRST_ROOM;
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

/** The entries one thread lists and stats: every shares-th date folder, from its own first. */
struct share {
  struct job *job;
  int index;
  unsigned long thread;
  int started, failed;
  /* Names, each NUL-terminated; they stay here, the caller reads them in place. */
  struct bytes names;
  /* Per entry, a struct row. */
  struct bytes rows;
};

struct row {
  double mtime, size;
  u32 folder, name, mode, pad;
};

struct job {
  char *root, *prefix, *suffix;
  long plen, slen;
  int shares;
  unsigned long leader;
  int leader_started, failed;
  /* The date folders' paths (each NUL-terminated, newest first), and where each starts. */
  struct bytes days;
  long *day_at;
  long ndays;
  struct share share[MAX_SHARES];
  /* The answer: the date folders' paths from 0 (days_used bytes), then the columns from
     columns_at: mtime (ms) and size as doubles, then folder (index among the date folders), name
     (share << NAME_SHARE_SHIFT | the offset of the entry's name among its share's names) and mode
     (0 where stat failed) as u32, `rows` of each. */
  char *block;
  long columns_at, total, rows;
  /* The row of the regular file with the greatest mtime when no other has that mtime, else -1. */
  long newest;
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

/** Lists and stats this share's date folders: names to its names, a struct row each to its rows. */
static void *list_share(void *arg) {
  struct share *sh = arg;
  struct job *job = sh->job;
  for (long d = sh->index; d < job->ndays && !sh->failed; d += job->shares) {
    DIR *dir = opendir(job->days.at + job->day_at[d]);
    if (!dir) continue;
    int fd = dirfd(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
      long len = length(e->d_name);
      if (!matches(job, e->d_name, len)) continue;
      struct row r = {0, 0, (u32)d, (u32)sh->names.used, 0, 0};
      struct statx sx;
      if (statx(fd, e->d_name, 0, STATX_WANTED, &sx) == 0) {
        r.mode = sx.stx_mode;
        r.mtime = (double)sx.stx_mtime.tv_sec * 1000.0 + (double)sx.stx_mtime.tv_nsec / 1000000.0;
        r.size = (double)sx.stx_size;
      }
      if (sh->names.used + len + 1 > NAME_OFFSET_MAX || !put(&sh->names, e->d_name, len + 1) || !put(&sh->rows, &r, sizeof r)) {
        sh->failed = 1;
        break;
      }
    }
    closedir(dir);
  }
  return 0;
}

/**
 * The whole walk, on the leader thread: the three levels of date folders, then each share's
 * folders listed and stat'ed on a thread of its own (the leader's is share 0), then the columns
 * of every share's rows laid out together.
 */
static void *walk(void *arg) {
  struct job *job = arg;
  struct bytes years = {0}, months = {0}, scratch = {0};
  int ok = digit_children(job->root, &years, &scratch) >= 0 && level_down(&years, &months, &scratch) && level_down(&months, &job->days, &scratch);
  free(years.at);
  free(months.at);
  free(scratch.at);
  long n = 0;
  for (long at = 0; ok && at < job->days.used; at += length(job->days.at + at) + 1) n++;
  job->day_at = ok ? malloc((n ? n : 1) * sizeof(long)) : 0;
  if (!job->day_at) {
    job->failed = 1;
    return 0;
  }
  for (long at = 0, d = 0; d < n; at += length(job->days.at + at) + 1, d++) job->day_at[d] = at;
  job->ndays = n;
  int shares = job->shares;
  if (shares > n) shares = n > 0 ? (int)n : 1;
  job->shares = shares;
  for (int t = 0; t < shares; t++) {
    struct share *sh = &job->share[t];
    sh->job = job;
    sh->index = t;
    sh->started = t > 0 && pthread_create(&sh->thread, 0, list_share, sh) == 0;
  }
  list_share(&job->share[0]);
  long rows = 0;
  for (int t = 0; t < shares; t++) {
    struct share *sh = &job->share[t];
    if (t > 0 && sh->started) pthread_join(sh->thread, 0);
    else if (t > 0) list_share(sh);
    if (sh->failed) ok = 0;
    rows += sh->rows.used / (long)sizeof(struct row);
  }
  job->rows = rows;
  job->columns_at = (job->days.used + 7) / 8 * 8;
  job->total = job->columns_at + rows * (8 + 8 + 4 + 4 + 4);
  job->block = ok && rows <= MAX_ROWS ? malloc(job->total + 8) : 0;
  if (!job->block) {
    job->failed = 1;
    return 0;
  }
  for (long i = 0; i < job->days.used; i++) job->block[i] = job->days.at[i];
  double *mtime = (double *)(job->block + job->columns_at), *size = mtime + rows;
  u32 *folder = (u32 *)(size + rows), *name = folder + rows, *mode = name + rows;
  long k = 0;
  for (int t = 0; t < shares; t++) {
    struct share *sh = &job->share[t];
    struct row *r = (struct row *)sh->rows.at;
    for (long i = 0; i < sh->rows.used / (long)sizeof(struct row); i++, k++) {
      mtime[k] = r[i].mtime;
      size[k] = r[i].size;
      folder[k] = r[i].folder;
      name[k] = (u32)t << NAME_SHARE_SHIFT | r[i].name;
      mode[k] = r[i].mode;
    }
  }
  // What `--last` takes first, found here where a pass over every row costs microseconds.
  long best = -1, ties = 0;
  for (k = 0; k < rows; k++) {
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
 * Returns the answer's block (see struct job), with out = { rows, date folders, columns_at, the
 * block's size, newest, shares, then each share's names and their size }; the caller frees the
 * block and each share's names with ocx_stat_days_free. Null when out of memory or beyond the
 * bounds (everything freed).
 */
char *ocx_stat_days_wait(struct job *job, long long *out) {
  if (job->leader_started) pthread_join(job->leader, 0);
  else walk(job);
  int ok = !job->failed;
  out[0] = job->rows;
  out[1] = job->ndays;
  out[2] = job->columns_at;
  out[3] = job->total;
  out[4] = job->newest;
  out[5] = job->shares;
  for (int t = 0; t < MAX_SHARES; t++) {
    struct share *sh = &job->share[t];
    out[6 + 2 * t] = ok ? (long long)(unsigned long)sh->names.at : 0;
    out[7 + 2 * t] = ok ? sh->names.used : 0;
    if (!ok) free(sh->names.at);
    free(sh->rows.at);
  }
  char *block = job->block;
  free(job->days.at), free(job->day_at);
  free(job->root), free(job->prefix), free(job->suffix), free(job);
  return ok ? block : 0;
}

void ocx_stat_days_free(char *block) { free(block); }
