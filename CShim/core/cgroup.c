/*
 * cgroup entry points: detect the host's mode with statfs, check the path,
 * pick the v1 or v2 table of operations. Also the file helpers both versions
 * share, so every cgroup error names the full path and the value written.
 */
#include "moor_cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup-internal.h"
#include "moor_util.h"

#define HOST_ROOT "/sys/fs/cgroup"
#define HOST_UNIFIED HOST_ROOT "/unified"

/* EBUSY on rmdir: the last task may still be leaving; wait up to ~1s. */
#define RMDIR_TRIES 100
#define RMDIR_SLEEP_MS 10

int moor_cgroup_detect(const char *root, enum moor_cgroup_mode *mode, moor_err_t *err)
{
    struct statfs st;
    if (statfs(root, &st) < 0)
        return moor_fail_errno(err, "cgroup: statfs `%s`", root);
    if (st.f_type == CGROUP2_SUPER_MAGIC) {
        *mode = MOOR_CGROUP_V2;
        return 0;
    }
    /* v1 mounts one hierarchy per controller on a tmpfs at the root. */
    if (st.f_type == TMPFS_MAGIC) {
        *mode = MOOR_CGROUP_V1;
        return 0;
    }
    return moor_fail(err, ENOTSUP, "cgroup: `%s` is neither a cgroup2 mount nor a tmpfs of "
                     "v1 hierarchies (filesystem type 0x%lx)", root, (unsigned long)st.f_type);
}

/* Absolute, no empty, "." or ".." components, no trailing slash. */
static int validate_path(const char *path, moor_err_t *err)
{
    if (path == NULL || path[0] != '/')
        return moor_fail(err, EINVAL, "cgroup path `%s` is not absolute", path ? path : "");
    const char *p = path + 1;
    for (;;) {
        const char *end = strchrnul(p, '/');
        size_t len = (size_t)(end - p);
        if (len == 0)
            return moor_fail(err, EINVAL, "cgroup path `%s` has an empty component", path);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return moor_fail(err, EINVAL, "cgroup path `%s` has a `%.*s` component", path,
                             (int)len, p);
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

/* Copy a root; every file path is root + "/controller" + path + "/file",
 * so keep room for the longest of those beside `path`. */
static int copy_root(char *dst, const char *root, const char *path, moor_err_t *err)
{
    if (root[0] != '/')
        return moor_fail(err, EINVAL, "cgroup root `%s` is not absolute", root);
    size_t len = strlen(root);
    if (len + strlen(path) + 64 >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "cgroup path `%s%s` is too long", root, path);
    memcpy(dst, root, len + 1);
    return 0;
}

int moor_cgroup_init(moor_cgroup_t *cg, enum moor_cgroup_mode mode, const char *root,
                     const char *unified_root, const char *path, moor_err_t *err)
{
    memset(cg, 0, sizeof(*cg));
    int ret = validate_path(path, err);
    if (ret < 0)
        return ret;
    if (mode != MOOR_CGROUP_V1 && mode != MOOR_CGROUP_V2)
        return moor_fail(err, EINVAL, "cgroup: unknown mode %d for `%s`", (int)mode, path);
    if ((ret = copy_root(cg->root, root ? root : "", path, err)) < 0)
        return ret;
    /* The unified placement only exists beside v1 hierarchies. */
    if (mode == MOOR_CGROUP_V1 && unified_root != NULL && unified_root[0] != '\0' &&
        (ret = copy_root(cg->unified_root, unified_root, path, err)) < 0)
        return ret;
    memcpy(cg->path, path, strlen(path) + 1);
    cg->mode = mode;
    cg->ops = mode == MOOR_CGROUP_V1 ? &moor_cgroup_v1_ops : &moor_cgroup_v2_ops;
    return 0;
}

int moor_cgroup_init_host(moor_cgroup_t *cg, const char *path, moor_err_t *err)
{
    enum moor_cgroup_mode mode;
    int ret = moor_cgroup_detect(HOST_ROOT, &mode, err);
    if (ret < 0)
        return ret;
    const char *unified = NULL;
    struct statfs st;
    /* Hybrid hosts mount cgroup2 (no controllers) beside the v1 ones; placing
     * the process there too keeps systemd-style tools consistent. A missing
     * or non-cgroup2 "unified" just means a pure v1 host. */
    if (mode == MOOR_CGROUP_V1 && statfs(HOST_UNIFIED, &st) == 0 &&
        st.f_type == CGROUP2_SUPER_MAGIC)
        unified = HOST_UNIFIED;
    return moor_cgroup_init(cg, mode, HOST_ROOT, unified, path, err);
}

/* ---- paths ------------------------------------------------------------- */

int moor_cg_join(char *out, const char *dir, const char *file, moor_err_t *err)
{
    int n = file != NULL && file[0] != '\0' ? snprintf(out, PATH_MAX, "%s/%s", dir, file)
                                            : snprintf(out, PATH_MAX, "%s", dir);
    if (n < 0 || n >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "cgroup path `%s/%s` is too long", dir,
                         file ? file : "");
    return 0;
}

int moor_cg_depth(const char *path)
{
    int n = 0;
    for (const char *p = path; *p != '\0'; p++)
        n += *p == '/';
    return n;
}

int moor_cg_level(char *out, const char *base, const char *path, int n, moor_err_t *err)
{
    /* The prefix of `path` up to (not including) its (n+1)-th slash. */
    size_t len = 0;
    for (int seen = 0; path[len] != '\0'; len++) {
        if (path[len] == '/' && seen++ == n)
            break;
    }
    int w = snprintf(out, PATH_MAX, "%s%.*s", base, (int)len, path);
    if (w < 0 || w >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "cgroup path `%s%s` is too long", base, path);
    return 0;
}

int moor_cg_leaf(char *out, const char *base, const char *path, moor_err_t *err)
{
    return moor_cg_level(out, base, path, moor_cg_depth(path), err);
}

/* ---- files ------------------------------------------------------------- */

static int write_flags(const char *dir, const char *file, const char *value, int flags,
                       moor_err_t *err)
{
    char path[PATH_MAX];
    int ret = moor_cg_join(path, dir, file, err);
    if (ret < 0)
        return ret;
    /* No O_CREAT: cgroupfs makes every interface file itself, so an absent
     * one means the controller is missing and must not turn into a new file. */
    int fd moor_cleanup_close = open(path, O_WRONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return moor_fail_errno(err, "open `%s` to write `%s`", path, value);
    /* cgroupfs parses each write() on its own, so one call per value. */
    ssize_t n;
    do
        n = write(fd, value, strlen(value));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return moor_fail_errno(err, "write `%s` to `%s`", value, path);
    if ((size_t)n != strlen(value))
        return moor_fail(err, EIO, "write `%s` to `%s`: short write", value, path);
    return 0;
}

int moor_cg_write(const char *dir, const char *file, const char *value, moor_err_t *err)
{
    return write_flags(dir, file, value, O_TRUNC, err);
}

int moor_cg_set(const char *dir, const char *controller, const char *file, const char *value,
                moor_err_t *err)
{
    /* The interface file is what tells us the controller is there, and its
     * absence deserves a clearer message than ENOENT from open(). */
    if (!moor_cg_exists(dir, file))
        return moor_fail(err, ENOENT, "cgroup controller `%s` is not available: `%s/%s` does not "
                         "exist (cannot write `%s`)", controller, dir, file, value);
    return moor_cg_write(dir, file, value, err);
}

void moor_cg_trim(char *text)
{
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        text[--len] = '\0';
}

int moor_cg_append(const char *dir, const char *file, const char *value, moor_err_t *err)
{
    return write_flags(dir, file, value, O_APPEND, err);
}

int moor_cg_read(const char *dir, const char *file, char *buf, size_t cap, moor_err_t *err)
{
    char path[PATH_MAX];
    int ret = moor_cg_join(path, dir, file, err);
    if (ret < 0)
        return ret;
    return moor_read_file(path, buf, cap, NULL, err);
}

int moor_cg_read_opt(const char *dir, const char *file, char *buf, size_t cap, moor_err_t *err)
{
    int ret = moor_cg_read(dir, file, buf, cap, err);
    if (ret == -ENOENT) {
        buf[0] = '\0';
        return 0;
    }
    return ret;
}

bool moor_cg_exists(const char *dir, const char *file)
{
    char path[PATH_MAX];
    if (moor_cg_join(path, dir, file, NULL) < 0)
        return false;
    /* Only ENOENT means absent; anything else is left for the write to report. */
    return access(path, F_OK) == 0 || errno != ENOENT;
}

bool moor_cg_has_word(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len == wlen && strncmp(p, word, len) == 0)
            return true;
        p += len;
    }
    return false;
}

int moor_cg_flat_key(const char *text, const char *key, uint64_t *value)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            *value = strtoull(line + klen + 1, NULL, 10);
            return 0;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -ENOENT;
}

/* ---- directories ------------------------------------------------------- */

int moor_cg_make_dir(const char *dir, moor_err_t *err)
{
    if (mkdir(dir, 0755) == 0)
        return 1;
    if (errno == EEXIST)
        return 0;
    return moor_fail_errno(err, "cgroup: mkdir `%s`", dir);
}

int moor_cg_make_levels(const char *base, const char *path, int *first, moor_err_t *err)
{
    int depth = moor_cg_depth(path);
    char dir[PATH_MAX];
    *first = 0;
    for (int i = 1; i <= depth; i++) {
        int ret = moor_cg_level(dir, base, path, i, err);
        if (ret == 0)
            ret = moor_cg_make_dir(dir, err);
        if (ret < 0) {
            moor_cg_unmake_levels(base, path, *first);
            *first = 0;
            return ret;
        }
        if (ret == 1 && *first == 0)
            *first = i;
    }
    return 0;
}

void moor_cg_unmake_levels(const char *base, const char *path, int first)
{
    char dir[PATH_MAX];
    if (first <= 0)
        return;
    /* Best effort: this only undoes a failed create, whose error is the one
     * worth reporting; a level left behind is empty and harmless. */
    for (int i = moor_cg_depth(path); i >= first; i--) {
        if (moor_cg_level(dir, base, path, i, NULL) == 0 && rmdir(dir) < 0 && errno != ENOENT)
            break;
    }
}

/* rmdir one cgroup; EBUSY is retried ~1s, ENOENT is fine. */
static int remove_dir(const char *dir, moor_err_t *err)
{
    for (int i = 0;; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        /* EBUSY: a killed task is still on its way out of the cgroup. */
        if (errno != EBUSY || i + 1 >= RMDIR_TRIES)
            return moor_fail_errno(err, "cgroup: rmdir `%s`", dir);
        moor_cg_sleep_ms(RMDIR_SLEEP_MS);
    }
}

int moor_cg_remove_leaf(const char *base, const char *path, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_level(dir, base, path, moor_cg_depth(path), err);
    if (ret < 0)
        return ret;
    return remove_dir(dir, err);
}

/* Whether entry `de` of the open directory `d` is a real directory. */
static bool is_subdir(DIR *d, const struct dirent *de)
{
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        return false;
    if (de->d_type != DT_UNKNOWN)
        return de->d_type == DT_DIR;
    struct stat st;
    return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/*
 * rmdir every cgroup below `dir` (len = strlen(dir)), deepest first. `dir`
 * is one PATH_MAX buffer extended in place, so depth costs no stack buffers.
 */
static int remove_children(char *dir, size_t len, moor_err_t *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : moor_fail_errno(err, "cgroup: open directory `%s`", dir);
    int ret = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                ret = moor_fail_errno(err, "cgroup: read directory `%s`", dir);
            break;
        }
        if (!is_subdir(d, de))
            continue;
        int n = snprintf(dir + len, PATH_MAX - len, "/%s", de->d_name);
        if (n < 0 || (size_t)n >= PATH_MAX - len)
            ret = moor_fail(err, ENAMETOOLONG, "cgroup path `%s/%s` is too long", dir, de->d_name);
        else if ((ret = remove_children(dir, len + (size_t)n, err)) == 0)
            ret = remove_dir(dir, err);
        dir[len] = '\0';
        if (ret < 0)
            break;
    }
    closedir(d);
    return ret;
}

int moor_cg_remove_tree(const char *base, const char *path, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_leaf(dir, base, path, err);
    if (ret == 0)
        ret = remove_children(dir, strlen(dir), err);
    return ret < 0 ? ret : remove_dir(dir, err);
}

/* ---- processes --------------------------------------------------------- */

int moor_cg_write_pid(const char *dir, pid_t pid, moor_err_t *err)
{
    char value[32];
    snprintf(value, sizeof(value), "%d", (int)pid);
    return moor_cg_write(dir, "cgroup.procs", value, err);
}

int moor_cg_read_pids(const char *dir, pid_t *out, int cap, moor_err_t *err)
{
    char path[PATH_MAX];
    int ret = moor_cg_join(path, dir, "cgroup.procs", err);
    if (ret < 0)
        return ret;
    char *text moor_cleanup_free = NULL;
    if ((ret = moor_read_file_alloc(path, &text, NULL, err)) < 0)
        return ret;
    int n = 0;
    for (char *p = text, *end; n < cap && *p != '\0'; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        out[n++] = (pid_t)pid;
    }
    return n;
}

void moor_cg_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
