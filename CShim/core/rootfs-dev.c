/*
 * The container's /dev, as Docker lays it out: a small tmpfs with the six
 * standard character devices, the /proc/self/fd links, its own devpts
 * instance (so /dev/ptmx -> pts/ptmx gives ptys numbered from 0 that the
 * host cannot see), a /dev/shm tmpfs and the IPC namespace's mqueue. Where
 * the config mounts something at one of these places, the config wins.
 * A /dev bound from elsewhere (e.g. the host's) is left as it is.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "moor_util.h"

static const struct dev_node {
    const char *name;
    unsigned major, minor;
} dev_nodes[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9},
    {"tty", 5, 0},
};

/* As runc (and so Docker) makes them; no /dev/core, which runc dropped. */
static const struct dev_link {
    const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},        {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},  {"ptmx", "pts/ptmx"},
};

/* A filesystem of ours at `path` (container path) under the new root. */
static int dev_mount(rootfs_ctx_t *ctx, const char *path, const char *type, const char *source,
                     unsigned long flags, const char *data, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = rootfs_open(ctx, path, ROOTFS_CREATE_DIR, err);
    if (fd < 0)
        return moor_err_wrap(err, "mount %s on %s", type, path);
    rootfs_fd_path(fd, target);
    if (mount(source, target, type, flags, data) < 0)
        return moor_fail_errno(err, "mount %s on %s", type, path);
    return 0;
}

int rootfs_dev_premount(rootfs_ctx_t *ctx, moor_err_t *err)
{
    if (ctx->dev_from_config)
        return 0;
    return dev_mount(ctx, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                     "mode=755,size=65536k", err);
}

/*
 * Without the right to mknod (a user namespace, a seccomp filter), bind the
 * host's node over an empty file instead: /dev is still the host's here.
 */
static int bind_host_node(int dev_fd, const char *name, moor_err_t *err)
{
    char host[32], target[ROOTFS_FD_PATH_MAX];
    snprintf(host, sizeof(host), "/dev/%s", name);
    int fd = openat(dev_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
        return moor_fail_errno(err, "create /dev/%s", name);
    moor_close(&fd);
    fd = openat(dev_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "open /dev/%s", name);
    rootfs_fd_path(fd, target);
    int ret = mount(host, target, NULL, MS_BIND, NULL);
    ret = ret < 0 ? moor_fail_errno(err, "bind the host's %s on /dev/%s", host, name) : 0;
    moor_close(&fd);
    return ret;
}

static int make_node(int dev_fd, const struct dev_node *n, moor_err_t *err)
{
    dev_t dev = makedev(n->major, n->minor);
    if (mknodat(dev_fd, n->name, S_IFCHR | 0666, dev) < 0) {
        if (errno == EEXIST)
            return 0;
        if (errno == EPERM)
            return bind_host_node(dev_fd, n->name, err);
        return moor_fail_errno(err, "mknod /dev/%s (%u:%u)", n->name, n->major, n->minor);
    }
    /* mknod applied our umask: every one of these is rw for all. */
    if (fchmodat(dev_fd, n->name, 0666, 0) < 0)
        return moor_fail_errno(err, "chmod 0666 /dev/%s", n->name);
    return 0;
}

static int make_nodes_and_links(rootfs_ctx_t *ctx, moor_err_t *err)
{
    int dev_fd moor_cleanup_close = rootfs_open(ctx, "/dev", ROOTFS_NO_CREATE, err);
    if (dev_fd < 0)
        return dev_fd;
    int ret = 0;
    for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]) && ret == 0; i++)
        ret = make_node(dev_fd, &dev_nodes[i], err);
    for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]) && ret == 0; i++) {
        const struct dev_link *l = &dev_links[i];
        if (symlinkat(l->target, dev_fd, l->name) < 0 && errno != EEXIST)
            ret = moor_fail_errno(err, "symlink /dev/%s -> %s", l->name, l->target);
    }
    return ret;
}

/* The pty slave on /dev/console (console.c does it instead for the ptys
 * it opens after pivot_root). */
static int bind_console(rootfs_ctx_t *ctx, const char *slave, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = rootfs_open(ctx, "/dev/console", ROOTFS_CREATE_FILE, err);
    if (fd < 0)
        return moor_err_wrap(err, "bind %s on /dev/console", slave);
    rootfs_fd_path(fd, target);
    if (mount(slave, target, NULL, MS_BIND, NULL) < 0)
        return moor_fail_errno(err, "bind %s on /dev/console", slave);
    return 0;
}

int rootfs_dev_populate(rootfs_ctx_t *ctx, const char *console_slave, moor_err_t *err)
{
    int ret = ctx->dev_is_bind ? 0 : make_nodes_and_links(ctx, err);
    if (ret == 0 && !ctx->pts_from_config)
        ret = dev_mount(ctx, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=0620,gid=5", err);
    if (ret == 0 && rootfs_config_mount_at(ctx, "/dev/shm") == NULL)
        ret = dev_mount(ctx, "/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "mode=1777,size=65536k", err);
    if (ret == 0 && rootfs_config_mount_at(ctx, "/dev/mqueue") == NULL)
        ret = dev_mount(ctx, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        NULL, err);
    if (ret == 0 && console_slave != NULL)
        ret = bind_console(ctx, console_slave, err);
    return ret;
}
