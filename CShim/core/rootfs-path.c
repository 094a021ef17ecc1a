/*
 * Paths under the new root, resolved as the container will see them. A
 * rootfs is untrusted: an image may hold "etc -> /" or "x -> ../../..", and
 * joining a destination to the root path as a string would let a mount land
 * on the host. So every destination is opened component by component with
 * the root as "/" (openat2 RESOLVE_IN_ROOT, or our own walk where openat2 is
 * missing), and the mount goes onto the fd we got, as /proc/self/fd/N.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "moor_util.h"

#define MAX_SYMLINKS 40

void rootfs_fd_path(int fd, char buf[ROOTFS_FD_PATH_MAX])
{
    snprintf(buf, ROOTFS_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* The kernel does the confinement; EAGAIN means a rename raced the walk. */
static int open_openat2(int root_fd, const char *path)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    for (int tries = 0; tries < 16; tries++) {
        long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd >= 0)
            return (int)fd;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
    return -EAGAIN;
}

/* ".." at the root stays at the root, as it does at the real "/". */
static int walk_up(int root_fd, int *cur)
{
    struct stat a, b;
    if (fstat(root_fd, &a) < 0 || fstat(*cur, &b) < 0)
        return -errno;
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return 0;
    int up = openat(*cur, "..", O_PATH | O_CLOEXEC);
    if (up < 0)
        return -errno;
    moor_close(cur);
    *cur = up;
    return 0;
}

/*
 * A symlink at `link` replaces itself in the walk: its target followed by
 * what was left of the path. An absolute target restarts at the root.
 */
static int splice_link(int root_fd, int link, char *rest, const char *left, int *cur)
{
    char target[PATH_MAX], joined[PATH_MAX];
    ssize_t n = readlinkat(link, "", target, sizeof(target) - 1);
    if (n < 0)
        return -errno;
    target[n] = '\0';
    if (snprintf(joined, sizeof(joined), "%s/%s", target, left) >= (int)sizeof(joined))
        return -ENAMETOOLONG;
    memcpy(rest, joined, strlen(joined) + 1);
    if (target[0] == '/') {
        int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        moor_close(cur);
        *cur = fd;
    }
    return 0;
}

/*
 * One step of the manual walk: `comp` from *cur. Returns 1 when comp was a
 * symlink and `rest` now holds its target plus `left`, 0 when *cur moved.
 */
static int step(int root_fd, int *cur, const char *comp, char *rest, const char *left, int *links)
{
    if (strcmp(comp, ".") == 0)
        return 0;
    if (strcmp(comp, "..") == 0)
        return walk_up(root_fd, cur);
    int next moor_cleanup_close = openat(*cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (next < 0 || fstat(next, &st) < 0)
        return -errno;
    if (S_ISLNK(st.st_mode)) {
        if (++*links > MAX_SYMLINKS)
            return -ELOOP;
        int ret = splice_link(root_fd, next, rest, left, cur);
        return ret < 0 ? ret : 1;
    }
    moor_close(cur);
    *cur = next;
    next = -1;
    return 0;
}

/* Without openat2: walk the path ourselves, never above root_fd. */
static int open_manual(int root_fd, const char *path)
{
    char rest[PATH_MAX], comp[NAME_MAX + 1];
    if (strlen(path) >= sizeof(rest))
        return -ENAMETOOLONG;
    memcpy(rest, path, strlen(path) + 1);
    int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    int links = 0, ret = cur < 0 ? -errno : 0;
    const char *p = rest;
    while (ret >= 0 && *(p += strspn(p, "/")) != '\0') {
        size_t len = strcspn(p, "/");
        if (len > NAME_MAX) {
            ret = -ENAMETOOLONG;
            break;
        }
        memcpy(comp, p, len);
        comp[len] = '\0';
        p += len;
        if ((ret = step(root_fd, &cur, comp, rest, p, &links)) == 1)
            p = rest; /* a symlink was spliced in: walk its target next */
    }
    if (ret < 0)
        moor_close(&cur);
    return ret < 0 ? ret : cur;
}

static int resolve(rootfs_ctx_t *ctx, const char *path)
{
    if (!ctx->manual_resolve) {
        int fd = open_openat2(ctx->root_fd, path);
        if (fd != -ENOSYS)
            return fd;
        ctx->manual_resolve = true; /* kernel < 5.6, or a seccomp filter says no */
    }
    return open_manual(ctx->root_fd, path);
}

/* Create the missing entry `name` in `parent`; losing a race is fine. */
static int create_entry(int parent, const char *name, bool file)
{
    if (!file)
        return mkdirat(parent, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
    /* O_NOFOLLOW|O_EXCL: never create through a (dangling) symlink. */
    int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : -errno;
    close(fd);
    return 0;
}

/* Resolve `path` one prefix at a time, creating what is missing. */
static int create_path(rootfs_ctx_t *ctx, const char *path, enum rootfs_create create,
                       moor_err_t *err)
{
    char prefix[PATH_MAX];
    int parent = fcntl(ctx->root_fd, F_DUPFD_CLOEXEC, 0);
    if (parent < 0)
        return moor_fail_errno(err, "dup the root fd of `%s`", ctx->root);
    for (size_t end = strspn(path, "/"); path[end] != '\0'; end += strspn(path + end, "/")) {
        size_t start = end;
        end += strcspn(path + end, "/");
        snprintf(prefix, sizeof(prefix), "%.*s", (int)end, path);
        int fd = resolve(ctx, prefix);
        if (fd == -ENOENT) {
            /* prefix + start is the missing component itself. */
            bool last = path[end + strspn(path + end, "/")] == '\0';
            fd = create_entry(parent, prefix + start, last && create == ROOTFS_CREATE_FILE);
            fd = fd < 0 ? fd : resolve(ctx, prefix);
        }
        moor_close(&parent);
        if (fd < 0) {
            errno = -fd;
            return moor_fail_errno(err, "create `%s` under `%s`", prefix, ctx->root);
        }
        parent = fd;
    }
    return parent;
}

int rootfs_open(rootfs_ctx_t *ctx, const char *path, enum rootfs_create create, moor_err_t *err)
{
    if (strlen(path) >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "path `%.64s...` is too long", path);
    int fd = resolve(ctx, path);
    if (fd == -ENOENT && create != ROOTFS_NO_CREATE)
        return create_path(ctx, path, create, err);
    if (fd < 0) {
        errno = -fd;
        return moor_fail_errno(err, "resolve `%s` under `%s`", path, ctx->root);
    }
    return fd;
}
