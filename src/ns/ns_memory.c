/* SPDX-License-Identifier: MIT
 * ns_memory.c — symlink-safe reads and atomic writes of memory documents.
 *
 * Paths under the data directory are walked component by component from the data directory
 * with O_NOFOLLOW (directories) and O_NOFOLLOW (the file), so neither a symlinked directory nor
 * a symlinked file inside the memory tree is ever followed. A path an administrator configured
 * outside the data directory is trusted up to its parent directory and only its last component
 * is checked.
 *
 * In cluster mode (reg->memory_in_store) the documents live in the store every node shares,
 * keyed by their path relative to the data directory (absolute when configured outside it),
 * so a write through one node is read through any other. A document not yet in the store is
 * read from its file: what a node wrote before cluster mode stays readable until rewritten.
 */
#include "base/prelude.h"
#include "ns/ns_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens the directory that holds `path` without following symlinks below the root; returns
 * the dir fd and the file name (pointer into path). */
static gw_err open_parent(struct ns_registry *reg, const char *path, bool create, int *dirfd,
                          const char **name)
{
    const char *root = reg->data_dir;
    size_t rootlen = strlen(root);
    const char *slash = strrchr(path, '/');
    if (!slash || slash[1] == '\0')
        return GW_EINVAL;
    *name = slash + 1;
    bool under_root = strncmp(path, root, rootlen) == 0 && path[rootlen] == '/';
    if (!under_root) {
        char *dir = gw_xstrndup(path, (size_t)(slash - path));
        if (create)
            gw_mkdirs(dir, 0700);
        int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(dir);
        if (fd < 0)
            return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
        *dirfd = fd;
        return GW_OK;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return GW_EIO;
    const char *p = path + rootlen + 1;
    while (p < slash) {
        const char *next = strchr(p, '/');
        char comp[256];
        size_t n = (size_t)(next - p);
        if (n == 0 || n >= sizeof(comp)) {
            close(fd);
            return GW_EINVAL;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0700) != 0 && errno != EEXIST) {
                close(fd);
                return GW_EIO;
            }
            sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int err = errno;
        close(fd);
        if (sub < 0)
            return err == ENOENT                      ? GW_ENOTFOUND
                   : (err == ELOOP || err == ENOTDIR) ? GW_EFORBIDDEN
                                                      : GW_EIO;
        fd = sub;
        p = next + 1;
    }
    *dirfd = fd;
    return GW_OK;
}

static gw_err file_read(struct ns_registry *reg, const char *path, size_t max, char **out,
                        size_t *len)
{
    int dirfd = -1;
    const char *name = NULL;
    gw_err rc = open_parent(reg, path, false, &dirfd, &name);
    if (rc != GW_OK)
        return rc;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int err = errno;
    close(dirfd);
    if (fd < 0)
        return err == ENOENT ? GW_ENOTFOUND : err == ELOOP ? GW_EFORBIDDEN : GW_EIO;
    /* a FIFO or device planted in the tree is refused like a symlink */
    return gw_fd_read_all(fd, max, out, len);
}

static gw_err file_write(struct ns_registry *reg, const char *path, const char *data, size_t len)
{
    int dirfd = -1;
    const char *name = NULL;
    gw_err rc = open_parent(reg, path, true, &dirfd, &name);
    if (rc != GW_OK)
        return rc;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
        close(dirfd);
        return GW_EFORBIDDEN;
    }
    char tmp[300];
    char rnd[17];
    gw_random_hex(rnd, 8);
    snprintf(tmp, sizeof(tmp), ".%.200s.%s.tmp", name, rnd);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        close(dirfd);
        return GW_EIO;
    }
    size_t off = 0;
    while (off < len && rc == GW_OK) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = GW_EIO;
        else
            off += (size_t)w;
    }
    if (rc == GW_OK && fsync(fd) != 0)
        rc = GW_EIO;
    close(fd);
    if (rc == GW_OK && renameat(dirfd, tmp, dirfd, name) != 0)
        rc = GW_EIO;
    if (rc != GW_OK)
        unlinkat(dirfd, tmp, 0);
    else
        fsync(dirfd);
    close(dirfd);
    return rc;
}

static gw_err file_remove(struct ns_registry *reg, const char *path)
{
    int dirfd = -1;
    const char *name = NULL;
    gw_err rc = open_parent(reg, path, false, &dirfd, &name);
    if (rc != GW_OK)
        return rc == GW_ENOTFOUND ? GW_OK : rc;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        rc = errno == ENOENT ? GW_OK : GW_EIO;
    else if (!S_ISREG(st.st_mode))
        rc = GW_EFORBIDDEN; /* never follow or remove what someone planted there */
    else if (unlinkat(dirfd, name, 0) != 0)
        rc = GW_EIO;
    else
        fsync(dirfd);
    close(dirfd);
    return rc;
}

/* The document's key in the store: its path relative to the data directory, which differs
 * from node to node, or the absolute path an administrator configured outside it. */
static const char *store_key(const struct ns_registry *reg, const char *path)
{
    size_t n = strlen(reg->data_dir);
    return strncmp(path, reg->data_dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

gw_err ns_memory_read(struct ns_registry *reg, const char *path, size_t max, char **out,
                      size_t *len)
{
    if (!reg->memory_in_store)
        return file_read(reg, path, max, out, len);
    gw_err rc = store_memory_get(reg->st, store_key(reg, path), max, out, len);
    return rc == GW_ENOTFOUND ? file_read(reg, path, max, out, len) : rc;
}

gw_err ns_memory_write(struct ns_registry *reg, const char *path, const char *data, size_t len)
{
    if (!reg->memory_in_store)
        return file_write(reg, path, data, len);
    gw_err rc = store_memory_put(reg->st, store_key(reg, path), data, len, gw_now_ms());
    return rc == GW_OK || rc == GW_EINVAL ? rc : GW_EIO;
}

gw_err ns_memory_remove(struct ns_registry *reg, const char *path)
{
    gw_err rc = reg->memory_in_store ? store_memory_delete(reg->st, store_key(reg, path)) : GW_OK;
    return rc == GW_OK ? file_remove(reg, path) : rc;
}
