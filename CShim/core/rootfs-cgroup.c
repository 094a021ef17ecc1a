/*
 * A config mount of type "cgroup" (Docker's /sys/fs/cgroup) shows the
 * container its cgroups the way the host has them. On a cgroup2 host that
 * is one cgroup2 mount. On a v1 (or hybrid) host it is a tmpfs holding one
 * `cgroup` mount per hierarchy, named as the host names them, with the
 * links for co-mounted controllers (cpu -> cpu,cpuacct) and, on hybrid
 * hosts, the cgroup2 mount (at "unified"). The child unshared its cgroup
 * namespace after being placed in its cgroup, so each mount's root is the
 * container's own cgroup. "ro" makes every mount and the tmpfs read-only.
 */
#include "rootfs-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "moor_cgroup.h"
#include "moor_util.h"
#include "cgroup-internal.h"

#define HOST_CGROUP_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 32
#define MAX_MOUNTINFO_FIELDS 64
#define CONTROLLERS_MAX 256

typedef struct cg_hierarchy {
    char dir[NAME_MAX + 1];      /* under the destination: "cpu,cpuacct", "systemd", "unified" */
    char data[CONTROLLERS_MAX];  /* "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
    bool v2;
} cg_hierarchy_t;

typedef struct cg_layout {
    cg_hierarchy_t h[MAX_HIERARCHIES];
    size_t n;
} cg_layout_t;

/* ---- the host's hierarchies, from /proc/self/mountinfo ---- */

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *out = s;
    for (char *in = s; *in != '\0'; in++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
            in[3] >= '0' && in[3] <= '7') {
            *out++ = (char)((in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0'));
            in += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

/*
 * The v1 mount options that name the hierarchy -- its controllers and
 * name= -- out of the super options; the others (rw, xattr, release_agent=)
 * must not be repeated. `known` is /proc/cgroups: controller names are words.
 */
static void controllers(char *superopts, const char *known, char *out, size_t cap)
{
    size_t used = 0;
    char *save = NULL;
    out[0] = '\0';
    for (char *o = strtok_r(superopts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
        if (strncmp(o, "name=", 5) != 0 && !moor_cg_has_word(known, o))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used > 0 ? "," : "", o);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

static bool under(const char *path, const char *dir)
{
    size_t len = strlen(dir);
    return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

static bool known_dir(const cg_layout_t *l, const char *dir)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->h[i].dir, dir) == 0)
            return true;
    }
    return false;
}

/* One mountinfo line: "ID PARENT DEV ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SOURCE SUPEROPTS". */
static void add_line(rootfs_ctx_t *ctx, char *line, const char *known, cg_layout_t *l)
{
    char *f[MAX_MOUNTINFO_FIELDS], *save = NULL;
    size_t n = 0, dash = 0;
    for (char *t = strtok_r(line, " ", &save); t != NULL && n < MAX_MOUNTINFO_FIELDS;
         t = strtok_r(NULL, " ", &save)) {
        if (dash == 0 && n >= 6 && strcmp(t, "-") == 0)
            dash = n;
        f[n++] = t;
    }
    if (dash == 0 || n < dash + 4 || l->n == MAX_HIERARCHIES)
        return;
    bool v1 = strcmp(f[dash + 1], "cgroup") == 0, v2 = strcmp(f[dash + 1], "cgroup2") == 0;
    if (!(v1 || v2))
        return;
    unescape(f[4]);
    const char *slash = strrchr(f[4], '/'), *base = slash != NULL ? slash + 1 : "";
    /* Ours (under the new root) are not the host's; one mount per name. */
    if (under(f[4], ctx->root) || base[0] == '\0' || known_dir(l, base))
        return;
    cg_hierarchy_t *h = &l->h[l->n];
    snprintf(h->dir, sizeof(h->dir), "%s", base);
    h->v2 = v2;
    if (v1)
        controllers(f[dash + 3], known, h->data, sizeof(h->data));
    if (v2 || h->data[0] != '\0')
        l->n++;
}

static int read_layout(rootfs_ctx_t *ctx, cg_layout_t *l, moor_err_t *err)
{
    char *info moor_cleanup_free = NULL, *known moor_cleanup_free = NULL;
    int ret = moor_read_file_alloc("/proc/self/mountinfo", &info, NULL, err);
    if (ret == 0)
        ret = moor_read_file_alloc("/proc/cgroups", &known, NULL, err);
    if (ret < 0)
        return ret;
    char *save = NULL;
    l->n = 0;
    for (char *line = strtok_r(info, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        add_line(ctx, line, known, l);
    return 0;
}

/* ---- mounting them ---- */

static int mount_at(rootfs_ctx_t *ctx, const char *path, const char *type, unsigned long flags,
                    const char *data, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX];
    int fd moor_cleanup_close = rootfs_open(ctx, path, ROOTFS_CREATE_DIR, err);
    if (fd < 0)
        return moor_err_wrap(err, "mount %s on %s", type, path);
    rootfs_fd_path(fd, target);
    if (mount(type, target, type, flags, data) < 0)
        return moor_fail_errno(err, "mount %s%s%s on %s", type, data != NULL ? " -o " : "",
                               data != NULL ? data : "", path);
    return 0;
}

/* "cpu,cpuacct" gets the links cpu and cpuacct, as on the host. */
static int comount_links(int dest_fd, const char *dest, const char *dir, moor_err_t *err)
{
    char names[NAME_MAX + 1], *save = NULL;
    if (strchr(dir, ',') == NULL)
        return 0;
    snprintf(names, sizeof(names), "%s", dir);
    for (char *c = strtok_r(names, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
        if (strchr(c, '=') == NULL && symlinkat(dir, dest_fd, c) < 0 && errno != EEXIST)
            return moor_fail_errno(err, "symlink %s/%s -> %s", dest, c, dir);
    }
    return 0;
}

static int mount_hierarchies(rootfs_ctx_t *ctx, const char *dest, const cg_layout_t *l,
                             unsigned long flags, moor_err_t *err)
{
    int dest_fd moor_cleanup_close = rootfs_open(ctx, dest, ROOTFS_NO_CREATE, err);
    if (dest_fd < 0)
        return dest_fd;
    for (size_t i = 0; i < l->n; i++) {
        const cg_hierarchy_t *h = &l->h[i];
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dest, h->dir) >= (int)sizeof(path))
            return moor_fail(err, ENAMETOOLONG, "cgroup mount %s/%s: path too long", dest, h->dir);
        int ret = mount_at(ctx, path, h->v2 ? "cgroup2" : "cgroup", flags,
                           h->v2 ? NULL : h->data, err);
        if (ret == 0)
            ret = comount_links(dest_fd, dest, h->dir, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int remount_readonly(rootfs_ctx_t *ctx, const char *dest, moor_err_t *err)
{
    char target[ROOTFS_FD_PATH_MAX], what[PATH_MAX + 32];
    int fd moor_cleanup_close = rootfs_open(ctx, dest, ROOTFS_NO_CREATE, err);
    if (fd < 0)
        return fd;
    rootfs_fd_path(fd, target);
    snprintf(what, sizeof(what), "the cgroup tmpfs on %s", dest);
    return rootfs_remount_bind(target, MS_RDONLY, what, err);
}

static int mount_v1(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                    moor_err_t *err)
{
    cg_layout_t *l moor_cleanup_free = calloc(1, sizeof(*l));
    if (l == NULL)
        return moor_fail(err, ENOMEM, "mount cgroup on %s: out of memory", m->destination);
    int ret = read_layout(ctx, l, err);
    /* Writable until the hierarchies' directories and links are in. */
    if (ret == 0)
        ret = mount_at(ctx, m->destination, "tmpfs", flags & ~MS_RDONLY, "mode=755", err);
    if (ret == 0)
        ret = mount_hierarchies(ctx, m->destination, l, flags, err);
    if (ret == 0 && (flags & MS_RDONLY))
        ret = remount_readonly(ctx, m->destination, err);
    return ret;
}

int rootfs_mount_cgroup(rootfs_ctx_t *ctx, const moor_mount_t *m, unsigned long flags,
                        moor_err_t *err)
{
    enum moor_cgroup_mode mode;
    int ret = moor_cgroup_detect(HOST_CGROUP_ROOT, &mode, err);
    if (ret == 0)
        ret = mode == MOOR_CGROUP_V2 ? mount_at(ctx, m->destination, "cgroup2", flags, NULL, err)
                                     : mount_v1(ctx, m, flags, err);
    return ret < 0 ? moor_err_wrap(err, "mount cgroup on %s", m->destination) : 0;
}
