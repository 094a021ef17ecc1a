/*
 * Shared between rootfs.c (the sequence), rootfs-path.c (resolving paths
 * confined to the new root), rootfs-mount.c (the config's mounts),
 * rootfs-cgroup.c (cgroup mounts), rootfs-dev.c (/dev) and rootfs-masked.c
 * (sysctls, masked and read-only paths). Internal to MoorShimCore.
 */
#ifndef MOOR_ROOTFS_INTERNAL_H
#define MOOR_ROOTFS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "moor_rootfs.h"

/* Mount data is copied by the kernel as one page. */
#define ROOTFS_DATA_MAX 4096
/* "/proc/self/fd/N": mount(2) on a path that names an fd we resolved. */
#define ROOTFS_FD_PATH_MAX 32

typedef struct rootfs_ctx {
    const moor_config_t *cfg;
    const char *root;     /* the new root as the host sees it (cfg->root_path) */
    int root_fd;          /* O_PATH of `root`; every destination resolves under it */
    bool manual_resolve;  /* walk symlinks ourselves (no openat2, or forced by a test) */
    bool dev_from_config; /* a config mount is at /dev */
    bool dev_is_bind;     /* ... and it binds a directory: leave its nodes alone */
    bool pts_from_config; /* a config mount is at /dev/pts */
} rootfs_ctx_t;

/* What to create when the destination is missing. */
enum rootfs_create {
    ROOTFS_NO_CREATE = 0,
    ROOTFS_CREATE_DIR,
    ROOTFS_CREATE_FILE,
};

/*
 * Open `path` (container-absolute) as an O_PATH fd, resolving every
 * component, symlinks included, as if ctx->root were "/": nothing can lead
 * outside the new root. Missing components are created as directories, the
 * last one as `create` says. Returns the fd or -errno (err names the path).
 */
int rootfs_open(rootfs_ctx_t *ctx, const char *path, enum rootfs_create create, moor_err_t *err);
/*
 * "/proc/self/fd/N" for fd, the target mount(2) and friends are given. It
 * names what the fd was opened on: after a mount there, the mount is on top
 * and only a fresh rootfs_open() reaches it (to remount, say).
 */
void rootfs_fd_path(int fd, char buf[ROOTFS_FD_PATH_MAX]);
/* MS_NOSUID/NODEV/NOEXEC/... the mount at `path` already has (statvfs). */
int rootfs_mount_flags(const char *path, unsigned long *flags, moor_err_t *err);
/*
 * Remount the mount at `target` as a bind with `flags` (e.g. MS_RDONLY),
 * keeping the flags it already has: the kernel refuses (EPERM) to drop
 * locked ones. `what` names the mount in errors.
 */
int rootfs_remount_bind(const char *target, unsigned long flags, const char *what,
                        moor_err_t *err);

/* "mount TYPE on DEST" or "mount TYPE `SOURCE` on DEST", for errors. */
void rootfs_describe(const moor_mount_t *m, char *buf, size_t cap);
/* Mount the config's mount `m` under the new root. */
int rootfs_mount_one(rootfs_ctx_t *ctx, const moor_mount_t *m, moor_err_t *err);
/* A cgroup mount: cgroup2, or the host's v1/hybrid hierarchies on a tmpfs. */
int rootfs_mount_cgroup(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                        moor_err_t *err);

/* /dev before the config's mounts: a tmpfs unless the config has one. */
int rootfs_dev_premount(rootfs_ctx_t *ctx, moor_err_t *err);
/* /dev after them: nodes, symlinks, devpts, the console. */
int rootfs_dev_populate(rootfs_ctx_t *ctx, const char *console_slave, moor_err_t *err);

/*
 * The config's last mount whose destination is `path` (both compared
 * without repeated or trailing slashes), or NULL.
 */
const moor_mount_t *rootfs_config_mount_at(const rootfs_ctx_t *ctx, const char *path);

/*
 * After pivot_root (rootfs-masked.c), with paths as the container sees
 * them: linux.sysctl written under /proc/sys, then maskedPaths hidden and
 * readonlyPaths made read-only. A path that does not exist is skipped.
 */
int rootfs_apply_sysctls(const moor_config_t *cfg, moor_err_t *err);
int rootfs_mask_paths(const moor_config_t *cfg, moor_err_t *err);
int rootfs_readonly_paths(const moor_config_t *cfg, moor_err_t *err);

/* moor_rootfs_setup with the test-only choice of the manual resolver. */
int rootfs_setup(const moor_config_t *cfg, const moor_overlay_t *overlay,
                 const char *console_slave, bool manual_resolve, moor_err_t *err);

#endif
