/*
 * The last steps, after pivot_root, on paths as the container sees them (no
 * way out of the root is left, so plain paths are safe): sysctls, then the
 * paths Docker hides (/proc/kcore, ...) and the ones it makes read-only
 * (/proc/sys, ...). Sysctls come first because /proc/sys is one of those.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "moor_util.h"

/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward". */
static int sysctl_path(const char *key, char *out, size_t cap, moor_err_t *err)
{
    /* The key is a name, never a way to another file. */
    if (key[0] == '\0' || key[0] == '/' || key[0] == '.' || strstr(key, "..") != NULL)
        return moor_fail(err, EINVAL, "sysctl \"%s\": not a valid key", key);
    if (snprintf(out, cap, "/proc/sys/%s", key) >= (int)cap)
        return moor_fail(err, ENAMETOOLONG, "sysctl \"%s\": key too long", key);
    for (char *p = out + strlen("/proc/sys/"); *p != '\0'; p++) {
        if (*p == '.')
            *p = '/';
    }
    return 0;
}

int rootfs_apply_sysctls(const moor_config_t *cfg, moor_err_t *err)
{
    for (size_t i = 0; i < cfg->n_sysctls; i++) {
        const moor_sysctl_t *s = &cfg->sysctls[i];
        char path[PATH_MAX];
        int ret = sysctl_path(s->key, path, sizeof(path), err);
        if (ret < 0)
            return ret;
        if (moor_write_file(path, s->value, strlen(s->value), err) < 0)
            return moor_err_wrap(err, "sysctl \"%s\" = \"%s\"", s->key, s->value);
    }
    return 0;
}

/* stat that tells "missing: skip it" (1) from a real failure. */
static int exists(const char *path, struct stat *st, const char *what, moor_err_t *err)
{
    if (stat(path, st) == 0)
        return 1;
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    return moor_fail_errno(err, "%s `%s`", what, path);
}

/* A file gets /dev/null on top, a directory an empty read-only tmpfs. */
static int mask_one(const char *path, moor_err_t *err)
{
    struct stat st;
    int ret = exists(path, &st, "masked path", err);
    if (ret <= 0)
        return ret;
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            return moor_fail_errno(err, "masked path `%s`: mount an empty read-only tmpfs", path);
        return 0;
    }
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return moor_fail_errno(err, "masked path `%s`: bind /dev/null", path);
    return 0;
}

int rootfs_mask_paths(const moor_config_t *cfg, moor_err_t *err)
{
    for (size_t i = 0; i < cfg->n_masked_paths; i++) {
        int ret = mask_one(cfg->masked_paths[i], err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int readonly_one(const char *path, moor_err_t *err)
{
    struct stat st;
    char what[PATH_MAX + 32];
    int ret = exists(path, &st, "read-only path", err);
    if (ret <= 0)
        return ret;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return moor_fail_errno(err, "read-only path `%s`: bind it onto itself", path);
    snprintf(what, sizeof(what), "read-only path `%s`", path);
    return rootfs_remount_bind(path, MS_RDONLY, what, err);
}

int rootfs_readonly_paths(const moor_config_t *cfg, moor_err_t *err)
{
    for (size_t i = 0; i < cfg->n_readonly_paths; i++) {
        int ret = readonly_one(cfg->readonly_paths[i], err);
        if (ret < 0)
            return ret;
    }
    return 0;
}
