/* SPDX-License-Identifier: MIT
 * dirlock.c — the data directory's exclusive lock (dirlock.h): fcntl(F_SETLK) on
 * <dir>/gateway.lock, opened O_CLOEXEC so no child inherits it. A record lock rather than
 * flock: F_GETLK names the process that holds it, which is what an operator needs to see.
 */
#include "base/prelude.h"
#include "base/dirlock.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define LOCK_FILE "gateway.lock"

struct gw_dirlock {
    int fd;
};

gw_err gw_dirlock_acquire(const char *dir, struct gw_dirlock **out, pid_t *holder)
{
    *out = NULL;
    *holder = 0;
    char *path = gw_xasprintf("%s/%s", dir, LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(path);
    if (fd < 0)
        return GW_EIO;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
            *holder = q.l_pid;
        close(fd);
        return e == EACCES || e == EAGAIN ? GW_ECONFLICT : GW_EIO;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    bool noted = ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n;
    GW_UNUSED(noted); /* the lock holds regardless; the PID in the file is only a courtesy */
    struct gw_dirlock *l = gw_xmalloc(sizeof *l);
    l->fd = fd;
    *out = l;
    return GW_OK;
}

void gw_dirlock_release(struct gw_dirlock *l)
{
    if (!l)
        return;
    bool cleared = ftruncate(l->fd, 0) == 0;
    GW_UNUSED(cleared); /* a stale PID is harmless: the lock, not the file, decides */
    close(l->fd);
    free(l);
}
