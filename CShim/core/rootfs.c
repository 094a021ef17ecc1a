/*
 * The container's root, built in the child's new mount namespace:
 *
 *   1. every mount becomes a slave, so nothing we do reaches the host;
 *   2. the root: overlayfs of the image layers on root.path, or root.path
 *      bound onto itself (pivot_root wants a mount point);
 *   3. /dev as a tmpfs, the config's mounts in order, /dev's nodes;
 *   4. pivot_root, and the old root detached;
 *   5. sysctls, masked and read-only paths, then the root read-only if asked.
 *
 * Why rslave and not rprivate for step 1: both keep our mounts from
 * propagating to the host. A slave also keeps receiving the host's events,
 * so a volume unmounted on the host is gone here too (no copy pins it), and
 * a bind mount asking for "rslave" propagation gets a real master -- the
 * behaviour runc gives Docker. Nothing flows the other way.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "moor_util.h"

/* ---- the config's mounts, looked up by destination ---- */

/* Compare two absolute paths, ignoring repeated and trailing slashes. */
static bool same_path(const char *a, const char *b)
{
    for (;;) {
        a += strspn(a, "/");
        b += strspn(b, "/");
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        if (la != lb || strncmp(a, b, la) != 0)
            return false;
        if (la == 0)
            return true;
        a += la;
        b += lb;
    }
}

const moor_mount_t *rootfs_config_mount_at(const rootfs_ctx_t *ctx, const char *path)
{
    const moor_mount_t *found = NULL;
    for (size_t i = 0; i < ctx->cfg->n_mounts; i++) {
        if (same_path(ctx->cfg->mounts[i].destination, path))
            found = &ctx->cfg->mounts[i];
    }
    return found;
}

static bool is_bind(const moor_mount_t *m)
{
    if (strcmp(m->type, "bind") == 0)
        return true;
    for (size_t i = 0; i < m->n_options; i++) {
        if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
            return true;
    }
    return false;
}

/* ---- the root mount ---- */

/* Append `s` to buf if it fits (NUL included); false otherwise. */
static bool append(char *buf, size_t cap, size_t *used, const char *s)
{
    size_t len = strlen(s);
    if (*used + len >= cap)
        return false;
    memcpy(buf + *used, s, len + 1);
    *used += len;
    return true;
}

/* overlayfs splits its options at ',' and lowerdir at ':'. */
static int check_layer(const char *path, const char *what, moor_err_t *err)
{
    if (path == NULL || path[0] != '/')
        return moor_fail(err, EINVAL, "%s `%s` is not an absolute path", what,
                         path != NULL ? path : "");
    if (strpbrk(path, ",:") != NULL)
        return moor_fail(err, EINVAL, "%s `%s` contains ',' or ':'", what, path);
    return 0;
}

static int check_layers(const moor_overlay_t *ov, moor_err_t *err)
{
    int ret = 0;
    for (size_t i = 0; i < ov->n_lower && ret == 0; i++)
        ret = check_layer(ov->lower[i], "lower layer", err);
    if (ret == 0 && ov->upper != NULL)
        ret = check_layer(ov->upper, "upper directory", err);
    if (ret == 0 && ov->upper != NULL)
        ret = check_layer(ov->work, "work directory", err);
    return ret;
}

/* "lowerdir=L1:L2:...,upperdir=U,workdir=W", top-most layer first. */
static int overlay_data(const moor_overlay_t *ov, char *data, size_t cap, moor_err_t *err)
{
    int ret = check_layers(ov, err);
    if (ret < 0)
        return ret;
    size_t used = 0;
    bool fits = append(data, cap, &used, "lowerdir=");
    for (size_t i = 0; i < ov->n_lower && fits; i++)
        fits = (i == 0 || append(data, cap, &used, ":")) && append(data, cap, &used, ov->lower[i]);
    if (fits && ov->upper != NULL)
        fits = append(data, cap, &used, ",upperdir=") && append(data, cap, &used, ov->upper) &&
               append(data, cap, &used, ",workdir=") && append(data, cap, &used, ov->work);
    if (!fits)
        return moor_fail(err, E2BIG, "the options for %zu lower layers are longer than the "
                         "%zu bytes the kernel takes; use fewer layers or shorter paths",
                         ov->n_lower, cap - 1);
    return 0;
}

static int mount_root(const moor_config_t *cfg, const moor_overlay_t *ov, moor_err_t *err)
{
    const char *root = cfg->root_path;
    if (ov == NULL || ov->n_lower == 0) {
        /* REC: whatever is mounted inside root.path comes along. */
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
            return moor_fail_errno(err, "bind the root `%s` onto itself", root);
        return 0;
    }
    char data[ROOTFS_DATA_MAX];
    int ret = overlay_data(ov, data, sizeof(data), err);
    if (ret < 0)
        return moor_err_wrap(err, "mount overlay on `%s`", root);
    if (mount("overlay", root, "overlay", 0, data) < 0)
        return moor_fail_errno(err, "mount overlay on `%s`", root);
    return 0;
}

static int open_root(rootfs_ctx_t *ctx, moor_err_t *err)
{
    ctx->root_fd = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->root_fd < 0)
        return moor_fail_errno(err, "open the root `%s`", ctx->root);
    const moor_mount_t *dev = rootfs_config_mount_at(ctx, "/dev");
    ctx->dev_from_config = dev != NULL;
    ctx->dev_is_bind = dev != NULL && is_bind(dev);
    ctx->pts_from_config = rootfs_config_mount_at(ctx, "/dev/pts") != NULL;
    return 0;
}

/* ---- the sequence ---- */

static int mount_all(rootfs_ctx_t *ctx, const char *console_slave, moor_err_t *err)
{
    int ret = rootfs_dev_premount(ctx, err);
    for (size_t i = 0; i < ctx->cfg->n_mounts && ret == 0; i++)
        ret = rootfs_mount_one(ctx, &ctx->cfg->mounts[i], err);
    if (ret == 0)
        ret = rootfs_dev_populate(ctx, console_slave, err);
    return ret;
}

/*
 * pivot_root(".", ".") stacks the old root on top of the new one at "/";
 * detaching "." then removes it. It is made a slave first so the detach
 * cannot propagate to the host's mounts.
 */
static int pivot(rootfs_ctx_t *ctx, moor_err_t *err)
{
    if (fchdir(ctx->root_fd) < 0)
        return moor_fail_errno(err, "pivot_root to `%s`: fchdir", ctx->root);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return moor_fail_errno(err, "pivot_root to `%s`", ctx->root);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return moor_fail_errno(err, "pivot_root to `%s`: make the old root a slave", ctx->root);
    if (umount2(".", MNT_DETACH) < 0)
        return moor_fail_errno(err, "pivot_root to `%s`: detach the old root", ctx->root);
    if (chdir("/") < 0)
        return moor_fail_errno(err, "pivot_root to `%s`: chdir /", ctx->root);
    return 0;
}

static int after_pivot(const moor_config_t *cfg, moor_err_t *err)
{
    int ret = rootfs_apply_sysctls(cfg, err);
    if (ret == 0)
        ret = rootfs_mask_paths(cfg, err);
    if (ret == 0)
        ret = rootfs_readonly_paths(cfg, err);
    if (ret == 0 && cfg->root_readonly)
        ret = rootfs_remount_bind("/", MS_RDONLY, "the root `/` (root.readonly)", err);
    return ret;
}

int rootfs_setup(const moor_config_t *cfg, const moor_overlay_t *overlay,
                 const char *console_slave, bool manual_resolve, moor_err_t *err)
{
    rootfs_ctx_t ctx = {
        .cfg = cfg, .root = cfg->root_path, .root_fd = -1, .manual_resolve = manual_resolve,
    };
    if (cfg->root_path == NULL || cfg->root_path[0] != '/')
        return moor_fail(err, EINVAL, "root.path `%s` must be absolute here",
                         cfg->root_path != NULL ? cfg->root_path : "");
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return moor_fail_errno(err, "make the container's mounts slaves of the host's (`/`)");
    int ret = mount_root(cfg, overlay, err);
    if (ret == 0)
        ret = open_root(&ctx, err);
    if (ret == 0)
        ret = mount_all(&ctx, console_slave, err);
    if (ret == 0)
        ret = pivot(&ctx, err);
    moor_close(&ctx.root_fd);
    return ret < 0 ? ret : after_pivot(cfg, err);
}

int moor_rootfs_setup(const moor_config_t *cfg, const moor_overlay_t *overlay,
                      const char *console_slave, moor_err_t *err)
{
    return rootfs_setup(cfg, overlay, console_slave, false, err);
}
