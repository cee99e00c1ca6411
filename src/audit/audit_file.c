/* SPDX-License-Identifier: MIT
 * audit_file.c — the JSON Lines sink of the audit trail.
 *
 * Owns the file descriptor only; what goes into the file (rows, head lines) is decided by the
 * writer, after the store committed it. The file is derived from the store, which is durable,
 * so a batch is written without a sync of its own: a crash that loses the end of the file is
 * repaired from the store at the next start (audit_reconcile.c), which reads the file back from
 * its end with audit_tail_*. A failed write cuts a regular file back to its size before it.
 * Non-regular targets (a pipe, /dev/stdout, /dev/full) are written without sync or cut. The file
 * is synced when it is closed or rotated. Daily rotation renames the file to <path>.YYYY-MM-DD
 * (the UTC day it was written) and retention deletes rotated files by the date in their name.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS 86400000LL

static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

static void day_str(int64_t day, char out[16])
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "invalid-date");
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return gw_xstrdup(".");
    if (slash == path)
        return gw_xstrdup("/");
    return gw_xstrndup(path, (size_t)(slash - path));
}

static void sync_dir(const char *path)
{
    char *dir = parent_dir(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
}

void audit_file_init(struct audit_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

void audit_file_close(struct audit_file *f)
{
    if (f->fd >= 0) {
        audit_file_sync(f);
        close(f->fd);
    }
    f->fd = -1;
}

void audit_file_release(struct audit_file *f)
{
    audit_file_close(f);
    free(f->path);
    audit_file_init(f);
}

static gw_err open_fd(struct audit_file *f, int64_t now_ms)
{
    struct stat st;
    char *dir = parent_dir(f->path);
    if (stat(dir, &st) != 0)
        gw_mkdirs(dir, 0700); /* the open below reports any failure */
    free(dir);
    /* No O_NOFOLLOW: operators may point log_path at /dev/stdout or a FIFO. Read access is for
     * reading the tail back; a target that refuses it is written only. */
    f->fd = open(f->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0 && errno != ENOENT)
        f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        f->err = errno;
        return GW_EAUDIT;
    }
    if (fstat(f->fd, &st) != 0) {
        f->err = errno;
        audit_file_close(f);
        return GW_EAUDIT;
    }
    f->regular = S_ISREG(st.st_mode);
    /* A non-empty file left from an earlier run belongs to the day it was last written. */
    if (f->regular && st.st_size > 0)
        f->day = day_of((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
    else
        f->day = day_of(now_ms);
    f->err = 0;
    return GW_OK;
}

gw_err audit_file_open(struct audit_file *f, const char *path, bool rotate_daily,
                       unsigned retain_days, int64_t now_ms)
{
    audit_file_close(f);
    if (f->path != path) {
        free(f->path);
        f->path = gw_xstrdup(path);
    }
    f->rotate_daily = rotate_daily;
    f->retain_days = retain_days;
    gw_err rc = open_fd(f, now_ms);
    if (rc == GW_OK && f->rotate_daily)
        audit_file_apply_retention(f, now_ms);
    return rc;
}

bool audit_file_rotation_due(const struct audit_file *f, int64_t now_ms)
{
    return f->rotate_daily && f->fd >= 0 && f->regular && day_of(now_ms) != f->day;
}

gw_err audit_file_rotate(struct audit_file *f, int64_t now_ms)
{
    char day[16];
    day_str(f->day, day);
    char *target = gw_xasprintf("%s.%s", f->path, day);
    struct stat st;
    for (int n = 1; lstat(target, &st) == 0 && n < 1000; n++) {
        free(target);
        target = gw_xasprintf("%s.%s.%d", f->path, day, n);
    }
    if (rename(f->path, target) != 0) {
        /* Keep writing to the current file; try again tomorrow. */
        gw_warn("audit: cannot rotate %s to %s: %s", f->path, target, strerror(errno));
        f->day = day_of(now_ms);
        free(target);
        return GW_ECONFLICT;
    }
    free(target);
    sync_dir(f->path);
    audit_file_close(f); /* synced: the rotated file is complete */
    gw_err rc = open_fd(f, now_ms);
    f->day = day_of(now_ms); /* the fresh file belongs to today whatever its mtime says */
    audit_file_apply_retention(f, now_ms);
    return rc;
}

gw_err audit_file_append(struct audit_file *f, const char *data, size_t n)
{
    off_t start = 0;
    if (f->fd < 0)
        return GW_EAUDIT;
    if (f->regular) {
        start = lseek(f->fd, 0, SEEK_END);
        if (start < 0) {
            f->err = errno;
            return GW_EAUDIT;
        }
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(f->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            f->err = w < 0 ? errno : EIO;
            goto fail;
        }
        off += (size_t)w;
    }
    return GW_OK;
fail:
    if (f->regular && off > 0)
        audit_file_truncate(f, start);
    return GW_EAUDIT;
}

gw_err audit_file_sync(struct audit_file *f)
{
    if (f->fd < 0 || !f->regular || fdatasync(f->fd) == 0)
        return GW_OK;
    f->err = errno;
    return GW_EAUDIT;
}

gw_err audit_file_truncate(struct audit_file *f, off_t offset)
{
    if (f->fd < 0 || !f->regular)
        return GW_OK;
    if (ftruncate(f->fd, offset) != 0 || fdatasync(f->fd) != 0) {
        f->err = errno;
        gw_error("audit: cannot cut %s to %lld bytes: %s (it is reconciled again before the "
                 "next batch)",
                 f->path, (long long)offset, strerror(errno));
        return GW_EAUDIT;
    }
    return GW_OK;
}

gw_err audit_file_set_aside(struct audit_file *f, const char *tag, int64_t now_ms)
{
    char ts[40];
    gw_time_iso8601(now_ms, ts, sizeof ts);
    char *target = gw_xasprintf("%s.%s-%s", f->path, tag, ts);
    gw_err rc = GW_OK;
    if (rename(f->path, target) != 0) {
        f->err = errno;
        rc = GW_EAUDIT;
    } else {
        gw_error("audit: %s does not match the store; kept as %s, a new file starts", f->path,
                 target);
        sync_dir(f->path);
        audit_file_close(f);
        rc = open_fd(f, now_ms);
    }
    free(target);
    return rc;
}

/* --- reading lines back from the end ------------------------------------------------------- */

#define TAIL_CHUNK (256u * 1024u)

struct audit_tail {
    int fd;
    off_t pos; /* file offset of buf[0] */
    char *buf;
    size_t len, cap; /* buf holds [pos, pos + len): whole lines after the first '\n' of it */
    bool bof;        /* buf reaches the start of the file */
};

struct audit_tail *audit_tail_open(int fd)
{
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        return NULL;
    struct audit_tail *t = gw_xcalloc(1, sizeof *t);
    t->fd = fd;
    t->pos = end;
    t->cap = AUDIT_MAX_LINE + TAIL_CHUNK + 2;
    t->buf = gw_xmalloc(t->cap);
    t->bof = end == 0;
    return t;
}

void audit_tail_close(struct audit_tail *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t);
}

/* Reads up to TAIL_CHUNK bytes before buf into its front. */
static int tail_fill(struct audit_tail *t)
{
    size_t want = (size_t)GW_MIN((off_t)TAIL_CHUNK, t->pos);
    if (t->len + want > t->cap)
        want = t->cap - t->len;
    memmove(t->buf + want, t->buf, t->len);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(t->fd, t->buf + got, want - got, t->pos - (off_t)want + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    t->pos -= (off_t)want;
    t->len += want;
    t->bof = t->pos == 0;
    return 0;
}

int audit_tail_prev(struct audit_tail *t, const char **line, size_t *len, off_t *offset)
{
    size_t skipped = 0; /* bytes of an overlong line already dropped from the end of buf */
    for (;;) {
        /* the previous line ends at the end of buf (a final '\n' is its terminator) */
        size_t end = t->len;
        if (skipped == 0 && end > 0 && t->buf[end - 1] == '\n')
            end--;
        char *nl = end ? memrchr(t->buf, '\n', end) : NULL;
        if (nl || (t->bof && (end > 0 || skipped > 0))) {
            size_t start = nl ? (size_t)(nl - t->buf) + 1 : 0;
            *offset = t->pos + (off_t)start;
            *len = end - start + skipped;
            *line = *len > AUDIT_MAX_LINE ? NULL : t->buf + start;
            t->len = start; /* its '\n' stays: the end of the line before */
            return 1;
        }
        if (t->bof)
            return 0;
        if (t->len + 1 >= t->cap) { /* longer than any line we read: forget what we have */
            skipped += end;
            t->len = 0;
        }
        if (tail_fill(t) != 0)
            return -1;
    }
}

/* "YYYY-MM-DD" at s (exactly 10 chars) → UTC day number. */
static bool parse_day(const char *s, int64_t *day)
{
    char buf[11];
    memcpy(buf, s, 10);
    buf[10] = '\0';
    int64_t ms;
    if (!gw_time_parse(buf, &ms))
        return false;
    *day = day_of(ms);
    return true;
}

void audit_file_apply_retention(const struct audit_file *f, int64_t now_ms)
{
    if (!f->path || f->retain_days == 0)
        return;
    char *dir = parent_dir(f->path);
    const char *slash = strrchr(f->path, '/');
    const char *base = slash ? slash + 1 : f->path;
    size_t blen = strlen(base);
    int64_t oldest = day_of(now_ms) - (int64_t)f->retain_days;
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 || name[blen] != '.' || strlen(name + blen + 1) < 10)
            continue;
        const char *date = name + blen + 1;
        const char *rest = date + 10;
        if (*rest == '.') { /* <path>.YYYY-MM-DD.N */
            const char *p = rest + 1;
            if (!*p)
                continue;
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p)
                continue;
        } else if (*rest) {
            continue;
        }
        int64_t day;
        if (!parse_day(date, &day) || day >= oldest)
            continue;
        char *full = gw_xasprintf("%s/%s", dir, name);
        if (unlink(full) == 0)
            gw_info("audit: removed %s (older than %u days)", full, f->retain_days);
        else
            gw_warn("audit: cannot remove %s: %s", full, strerror(errno));
        free(full);
    }
    closedir(d);
    free(dir);
}

/* --- the sink (audit_sink.h) ----------------------------------------------------------------- */

struct file_sink {
    struct audit_sink base;
    struct audit_file f;
};

static gw_err file_ready(struct audit_sink *s, int64_t now_ms, bool *fresh)
{
    struct audit_file *f = &((struct file_sink *)s)->f;
    *fresh = false;
    if (f->fd < 0) {
        if (audit_file_open(f, f->path, f->rotate_daily, f->retain_days, now_ms) != GW_OK)
            return GW_EAUDIT;
        *fresh = true;
    }
    if (audit_file_rotation_due(f, now_ms)) {
        gw_err rc = audit_file_rotate(f, now_ms);
        if (rc == GW_ECONFLICT) /* not rotated, the current file stays usable */
            return GW_OK;
        if (rc != GW_OK)
            return GW_EAUDIT;
        *fresh = true;
    }
    return GW_OK;
}

static gw_err file_append(struct audit_sink *s, const struct audit_batch *b)
{
    struct file_sink *fs = (struct file_sink *)s;
    return b->len ? audit_file_append(&fs->f, b->lines, b->len) : GW_OK;
}

static const char *file_error(const struct audit_sink *s)
{
    return strerror(((const struct file_sink *)s)->f.err);
}

static void file_close(struct audit_sink *s)
{
    audit_file_release(&((struct file_sink *)s)->f);
    free(s);
}

static const struct audit_sink_ops file_ops = {
    .name = "file",
    .wants_lines = true,
    .ready = file_ready,
    .append = file_append,
    .error = file_error,
    .close = file_close,
};

struct audit_sink *audit_file_sink_new(void)
{
    struct file_sink *fs = gw_xcalloc(1, sizeof *fs);
    fs->base.ops = &file_ops;
    audit_file_init(&fs->f);
    return &fs->base;
}

gw_err audit_file_sink_configure(struct audit_sink *s, const char *path, bool rotate_daily,
                                 unsigned retain_days, int64_t now_ms)
{
    struct audit_file *f = &((struct file_sink *)s)->f;
    audit_file_release(f);
    if (!path || !*path)
        return GW_OK;
    return audit_file_open(f, path, rotate_daily, retain_days, now_ms);
}

bool audit_file_sink_enabled(const struct audit_sink *s)
{
    return ((const struct file_sink *)s)->f.path != NULL;
}

struct audit_file *audit_file_sink_file(struct audit_sink *s)
{
    return &((struct file_sink *)s)->f;
}
