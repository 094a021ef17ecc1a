/*
 * The config's mounts, each onto its destination resolved under the new
 * root. Binds take two steps: the kernel ignores ro/nosuid/nodev/noexec on
 * the bind itself, so they are applied by a remount of the new mount.
 * Propagation (rprivate, slave, ...) is a separate call after the mount.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "moor_util.h"

/* Flags a bind remount may set; MS_BIND/MS_REC/MS_REMOUNT are ours. */
#define BIND_REMOUNT_FLAGS                                                                 \
    (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |          \
     MS_RELATIME | MS_STRICTATIME)

void rootfs_describe(const moor_mount_t *m, char *buf, size_t cap)
{
    if (m->source == NULL || strcmp(m->source, m->type) == 0)
        snprintf(buf, cap, "mount %s on %s", m->type, m->destination);
    else
        snprintf(buf, cap, "mount %s `%s` on %s", m->type, m->source, m->destination);
}

int rootfs_mount_flags(const char *path, unsigned long *flags, moor_err_t *err)
{
    static const struct {
        unsigned long st, ms;
    } map[] = {
        {ST_NOSUID, MS_NOSUID},     {ST_NODEV, MS_NODEV},         {ST_NOEXEC, MS_NOEXEC},
        {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
    };
    struct statvfs sv;
    if (statvfs(path, &sv) < 0)
        return moor_fail_errno(err, "statvfs `%s`", path);
    *flags = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (sv.f_flag & map[i].st)
            *flags |= map[i].ms;
    }
    return 0;
}

int rootfs_remount_bind(const char *target, unsigned long flags, const char *what,
                        moor_err_t *err)
{
    unsigned long have;
    int ret = rootfs_mount_flags(target, &have, err);
    if (ret < 0)
        return moor_err_wrap(err, "remount %s", what);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | have | flags, NULL) < 0)
        return moor_fail_errno(err, "remount %s read-only or with its options", what);
    return 0;
}

/* Reach the mount just made at m->destination (the old fd is under it). */
static int reopen(rootfs_ctx_t *ctx, const moor_mount_t *m, char target[ROOTFS_FD_PATH_MAX],
                  moor_err_t *err)
{
    int fd = rootfs_open(ctx, m->destination, ROOTFS_NO_CREATE, err);
    if (fd >= 0)
        rootfs_fd_path(fd, target);
    return fd;
}

/* Bind options: exactly what was asked, else (EPERM) kept locked flags too. */
static int bind_remount(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                        const char *what, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = reopen(ctx, m, target, err);
    if (fd < 0)
        return moor_err_wrap(err, "%s", what);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
        return 0;
    if (errno != EPERM)
        return moor_fail_errno(err, "%s: remount with its options", what);
    return rootfs_remount_bind(target, flags, what, err);
}

static int mount_bind(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                      const char *what, moor_err_t *err)
{
    struct stat st;
    if (stat(m->source, &st) < 0)
        return moor_fail_errno(err, "%s: source", what);
    /* A file is bound onto a file: create an empty one if needed. */
    enum rootfs_create create = S_ISDIR(st.st_mode) ? ROOTFS_CREATE_DIR : ROOTFS_CREATE_FILE;
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = rootfs_open(ctx, m->destination, create, err);
    if (fd < 0)
        return moor_err_wrap(err, "%s", what);
    rootfs_fd_path(fd, target);
    if (mount(m->source, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
        return moor_fail_errno(err, "%s", what);
    if ((flags & BIND_REMOUNT_FLAGS) == 0)
        return 0;
    return bind_remount(ctx, m, flags & BIND_REMOUNT_FLAGS, what, err);
}

static int mount_fs(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                    const char *data, const char *what, moor_err_t *err)
{
    if (strcmp(m->type, "cgroup") == 0)
        return rootfs_mount_cgroup(ctx, m, flags, err);
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = rootfs_open(ctx, m->destination, ROOTFS_CREATE_DIR, err);
    if (fd < 0)
        return moor_err_wrap(err, "%s", what);
    rootfs_fd_path(fd, target);
    if (mount(m->source, target, m->type, flags, data[0] != '\0' ? data : NULL) < 0)
        return moor_fail_errno(err, "%s", what);
    return 0;
}

static int set_propagation(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long propagation,
                           const char *what, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = reopen(ctx, m, target, err);
    if (fd < 0)
        return moor_err_wrap(err, "%s", what);
    if (mount(NULL, target, NULL, propagation, NULL) < 0)
        return moor_fail_errno(err, "%s: set its propagation", what);
    return 0;
}

int rootfs_mount_one(rootfs_ctx_t *ctx, const moor_mount_t *m, moor_err_t *err)
{
    char what[2 * PATH_MAX], data[ROOTFS_DATA_MAX];
    unsigned long flags, propagation;
    rootfs_describe(m, what, sizeof(what));
    int ret = moor_mount_options(m->options, m->n_options, &flags, &propagation, data,
                                 sizeof(data), err);
    if (ret < 0)
        return moor_err_wrap(err, "%s", what);
    if (strcmp(m->type, "bind") == 0 || (flags & MS_BIND))
        ret = mount_bind(ctx, m, flags, what, err);
    else
        ret = mount_fs(ctx, m, flags, data, what, err);
    if (ret == 0 && propagation != 0)
        ret = set_propagation(ctx, m, propagation, what, err);
    return ret;
}
