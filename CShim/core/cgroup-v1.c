/*
 * cgroup v1: one hierarchy per controller (or group of controllers) mounted
 * under the root. The hierarchies are found by listing the root, so named
 * ones (name=systemd) and any the host adds are covered too; symlinks
 * (cpu -> cpu,cpuacct) are skipped so nothing is made or entered twice.
 * Hybrid hosts also get the process placed in the cgroup2 mount
 * (cg->unified_root), without controllers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup-internal.h"
#include "moor_cgroup.h"
#include "moor_util.h"

/* More hierarchies than any kernel has controllers, plus named ones. */
#define V1_MAX_HIER 32
/* freezer.state: how long to wait for FROZEN/THAWED, and how often to
 * repeat the request (tasks forked or woken meanwhile are caught again). */
#define V1_FREEZE_WAIT_MS 5000
#define V1_FREEZE_REWRITE_EVERY 10
/* cpuset.cpus can list every cpu one by one on big machines. */
#define V1_CPUSET_MAX 4096

typedef struct v1_hiers {
    int n;
    char name[V1_MAX_HIER][NAME_MAX + 1];
} v1_hiers_t;

/* ---- hierarchies -------------------------------------------------------- */

/* A v1 hierarchy: a real directory (not a symlink) with cgroup.procs that is
 * not a cgroup2 mount (those have cgroup.controllers, e.g. root/unified). */
static bool is_hierarchy(const moor_cgroup_t *cg, DIR *d, const struct dirent *de)
{
    struct stat st;
    char dir[PATH_MAX];
    if (de->d_name[0] == '.' || strcmp(de->d_name, "unified") == 0)
        return false;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
        return false;
    if (moor_cg_join(dir, cg->root, de->d_name, NULL) < 0)
        return false;
    return moor_cg_exists(dir, "cgroup.procs") && !moor_cg_exists(dir, "cgroup.controllers");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names of the hierarchies under cg->root, sorted so every call (and every
 * rollback) visits them in the same order. */
static int v1_list(const moor_cgroup_t *cg, v1_hiers_t *h, moor_err_t *err)
{
    DIR *d = opendir(cg->root);
    h->n = 0;
    if (d == NULL)
        return moor_fail_errno(err, "cgroup v1: open the root `%s`", cg->root);
    int ret = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                ret = moor_fail_errno(err, "cgroup v1: read the root `%s`", cg->root);
            break;
        }
        if (!is_hierarchy(cg, d, de))
            continue;
        if (h->n == V1_MAX_HIER) {
            ret = moor_fail(err, E2BIG, "cgroup v1: more than %d hierarchies under `%s`",
                            V1_MAX_HIER, cg->root);
            break;
        }
        snprintf(h->name[h->n++], NAME_MAX + 1, "%s", de->d_name);
    }
    closedir(d);
    qsort(h->name, (size_t)h->n, sizeof(h->name[0]), cmp_names);
    return ret;
}

/* Whether hierarchy `name` ("cpu,cpuacct") carries `controller`. */
static bool carries(const char *name, const char *controller)
{
    size_t len = strlen(controller);
    for (const char *p = name; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, controller, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* Base directory of the hierarchy that carries `controller`: root/controller
 * (the usual name or symlink), else a co-mounted "a,b" directory. */
static int v1_base(const moor_cgroup_t *cg, const char *controller, char *out, moor_err_t *err)
{
    int ret = moor_cg_join(out, cg->root, controller, err);
    if (ret < 0 || moor_cg_exists(out, "cgroup.procs"))
        return ret;
    v1_hiers_t h;
    if ((ret = v1_list(cg, &h, err)) < 0)
        return ret;
    for (int i = 0; i < h.n; i++) {
        if (carries(h.name[i], controller))
            return moor_cg_join(out, cg->root, h.name[i], err);
    }
    return moor_fail(err, ENOENT, "cgroup v1: no `%s` hierarchy under `%s`", controller, cg->root);
}

/* The cgroup's own directory in the hierarchy that carries `controller`. */
static int v1_dir(const moor_cgroup_t *cg, const char *controller, char *out, moor_err_t *err)
{
    char base[PATH_MAX];
    int ret = v1_base(cg, controller, base, err);
    return ret < 0 ? ret : moor_cg_leaf(out, base, cg->path, err);
}

/* ---- create ------------------------------------------------------------- */

/* v1 cpuset refuses tasks while cpuset.cpus or cpuset.mems is empty, and a
 * new cgroup starts empty: copy both from the parent, level by level. */
static int cpuset_init(const char *base, const char *path, int first, moor_err_t *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    char parent[PATH_MAX], dir[PATH_MAX], value[V1_CPUSET_MAX];
    for (int i = first; i <= moor_cg_depth(path); i++) {
        int ret = moor_cg_level(parent, base, path, i - 1, err);
        if (ret == 0)
            ret = moor_cg_level(dir, base, path, i, err);
        for (size_t f = 0; ret == 0 && f < sizeof(files) / sizeof(files[0]); f++) {
            ret = moor_cg_read(parent, files[f], value, sizeof(value), err);
            moor_cg_trim(value);
            if (ret == 0 && value[0] != '\0')
                ret = moor_cg_set(dir, "cpuset", files[f], value, err);
        }
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Make the levels in one hierarchy; *first as for moor_cg_make_levels. */
static int create_in(const moor_cgroup_t *cg, const char *name, int *first, moor_err_t *err)
{
    char base[PATH_MAX];
    int ret = moor_cg_join(base, cg->root, name, err);
    if (ret == 0)
        ret = moor_cg_make_levels(base, cg->path, first, err);
    if (ret < 0 || *first == 0 || !carries(name, "cpuset"))
        return ret;
    if ((ret = cpuset_init(base, cg->path, *first, err)) < 0) {
        moor_cg_unmake_levels(base, cg->path, *first);
        *first = 0;
    }
    return ret;
}

/* Undo the levels this create made in the first `n` hierarchies. */
static void undo_create(const moor_cgroup_t *cg, const v1_hiers_t *h, const int *first, int n)
{
    char base[PATH_MAX];
    for (int i = n - 1; i >= 0; i--) {
        if (moor_cg_join(base, cg->root, h->name[i], NULL) == 0)
            moor_cg_unmake_levels(base, cg->path, first[i]);
    }
}

static int v1_create(moor_cgroup_t *cg, moor_err_t *err)
{
    v1_hiers_t h;
    int first[V1_MAX_HIER] = {0}, ufirst = 0;
    int ret = v1_list(cg, &h, err);
    if (ret == 0 && h.n == 0)
        ret = moor_fail(err, ENOENT, "cgroup v1: no hierarchy (directory with cgroup.procs) "
                        "under `%s`", cg->root);
    for (int i = 0; ret == 0 && i < h.n; i++) {
        if ((ret = create_in(cg, h.name[i], &first[i], err)) < 0)
            undo_create(cg, &h, first, i);
    }
    if (ret == 0 && cg->unified_root[0] != '\0' &&
        (ret = moor_cg_make_levels(cg->unified_root, cg->path, &ufirst, err)) < 0)
        undo_create(cg, &h, first, h.n);
    return ret;
}

/* ---- apply -------------------------------------------------------------- */

static void format_i64(char *out, int64_t value)
{
    snprintf(out, MOOR_CG_VALUE_MAX, "%" PRId64, value);
}

/* -1 (unlimited) compares above every limit. */
static uint64_t as_limit(int64_t value)
{
    return value < 0 ? UINT64_MAX : (uint64_t)value;
}

/* Without swap accounting there is no memsw file; only "no swap limit"
 * (-1, or memory+swap equal to memory) can then be honoured. */
static int check_no_memsw(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    if (res->memory_swap == -1 ||
        (res->has_memory_limit && res->memory_swap == res->memory_limit))
        return 0;
    return moor_fail(err, ENOENT, "cgroup v1: memory+swap limit %" PRId64 " asked, but "
                     "`%s/memory.memsw.limit_in_bytes` does not exist (swap accounting is off; "
                     "boot with swapaccount=1)", res->memory_swap, dir);
}

/*
 * The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at
 * every step, so when the new limit is above the current memsw limit
 * (raising both) memsw goes first, otherwise the limit does.
 */
static int set_memory_and_swap(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    char cur[MOOR_CG_VALUE_MAX], limit[MOOR_CG_VALUE_MAX], swap[MOOR_CG_VALUE_MAX];
    format_i64(swap, res->memory_swap);
    if (!res->has_memory_limit)
        return moor_cg_set(dir, "memory", "memory.memsw.limit_in_bytes", swap, err);
    int ret = moor_cg_read(dir, "memory.memsw.limit_in_bytes", cur, sizeof(cur), err);
    if (ret < 0)
        return ret;
    bool swap_first = as_limit(res->memory_limit) > strtoull(cur, NULL, 10);
    format_i64(limit, res->memory_limit);
    const char *files[2] = {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"};
    const char *values[2] = {limit, swap};
    for (int k = 0; k < 2; k++) {
        int i = swap_first ? 1 - k : k;
        if ((ret = moor_cg_set(dir, "memory", files[i], values[i], err)) < 0)
            return ret;
    }
    return 0;
}

static int v1_apply_memory(const moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    char dir[PATH_MAX], value[MOOR_CG_VALUE_MAX];
    if (!res->has_memory_limit && !res->has_memory_swap)
        return 0;
    int ret = v1_dir(cg, "memory", dir, err);
    if (ret < 0)
        return ret;
    if (res->has_memory_swap && !moor_cg_exists(dir, "memory.memsw.limit_in_bytes")) {
        if ((ret = check_no_memsw(dir, res, err)) < 0 || !res->has_memory_limit)
            return ret;
        format_i64(value, res->memory_limit);
        return moor_cg_set(dir, "memory", "memory.limit_in_bytes", value, err);
    }
    if (res->has_memory_swap)
        return set_memory_and_swap(dir, res, err);
    format_i64(value, res->memory_limit);
    return moor_cg_set(dir, "memory", "memory.limit_in_bytes", value, err);
}

static int v1_apply_pids(const moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    char dir[PATH_MAX], value[MOOR_CG_VALUE_MAX] = "max";
    if (!res->has_pids_limit)
        return 0;
    int ret = v1_dir(cg, "pids", dir, err);
    if (ret < 0)
        return ret;
    /* OCI: 0 and -1 both mean no limit. */
    if (res->pids_limit > 0)
        format_i64(value, res->pids_limit);
    return moor_cg_set(dir, "pids", "pids.max", value, err);
}

/* Period then quota; if the kernel refuses the new period against the old
 * quota (EINVAL), the other order is the one that fits. */
static int set_quota_period(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    char quota[MOOR_CG_VALUE_MAX], period[MOOR_CG_VALUE_MAX];
    format_i64(quota, res->cpu_quota < 0 ? -1 : res->cpu_quota);
    snprintf(period, sizeof(period), "%" PRIu64, res->cpu_period);
    bool quota_given = res->has_cpu_quota && res->cpu_quota != 0;
    int ret = 0;
    if (res->has_cpu_period) {
        ret = moor_cg_set(dir, "cpu", "cpu.cfs_period_us", period, err);
        if (ret == -EINVAL && quota_given &&
            (ret = moor_cg_set(dir, "cpu", "cpu.cfs_quota_us", quota, err)) == 0)
            return moor_cg_set(dir, "cpu", "cpu.cfs_period_us", period, err);
    }
    if (ret == 0 && quota_given)
        ret = moor_cg_set(dir, "cpu", "cpu.cfs_quota_us", quota, err);
    return ret;
}

static int v1_apply_cpu(const moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    char dir[PATH_MAX], value[MOOR_CG_VALUE_MAX];
    /* Shares and quota of 0 are "not set" (docker sends 0; the kernel
     * refuses a zero quota). */
    bool shares = res->has_cpu_shares && res->cpu_shares != 0;
    bool quota = res->has_cpu_quota && res->cpu_quota != 0;
    if (!shares && !quota && !res->has_cpu_period)
        return 0;
    int ret = v1_dir(cg, "cpu", dir, err);
    if (ret < 0)
        return ret;
    if (shares) {
        snprintf(value, sizeof(value), "%" PRIu64, res->cpu_shares);
        if ((ret = moor_cg_set(dir, "cpu", "cpu.shares", value, err)) < 0)
            return ret;
    }
    return set_quota_period(dir, res, err);
}

static int v1_apply_cpuset(const moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    char dir[PATH_MAX];
    if (res->cpuset_cpus == NULL && res->cpuset_mems == NULL)
        return 0;
    int ret = v1_dir(cg, "cpuset", dir, err);
    if (ret == 0 && res->cpuset_cpus != NULL)
        ret = moor_cg_set(dir, "cpuset", "cpuset.cpus", res->cpuset_cpus, err);
    if (ret == 0 && res->cpuset_mems != NULL)
        ret = moor_cg_set(dir, "cpuset", "cpuset.mems", res->cpuset_mems, err);
    return ret;
}

static int v1_apply(moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    int ret = v1_apply_memory(cg, res, err);
    if (ret == 0)
        ret = v1_apply_pids(cg, res, err);
    if (ret == 0)
        ret = v1_apply_cpu(cg, res, err);
    if (ret == 0)
        ret = v1_apply_cpuset(cg, res, err);
    return ret;
}

/* ---- processes ---------------------------------------------------------- */

static int v1_enter(moor_cgroup_t *cg, pid_t pid, moor_err_t *err)
{
    v1_hiers_t h;
    char base[PATH_MAX], dir[PATH_MAX];
    int ret = v1_list(cg, &h, err);
    for (int i = 0; ret == 0 && i < h.n; i++) {
        if ((ret = moor_cg_join(base, cg->root, h.name[i], err)) == 0 &&
            (ret = moor_cg_leaf(dir, base, cg->path, err)) == 0)
            ret = moor_cg_write_pid(dir, pid, err);
    }
    if (ret == 0 && cg->unified_root[0] != '\0' &&
        (ret = moor_cg_leaf(dir, cg->unified_root, cg->path, err)) == 0)
        ret = moor_cg_write_pid(dir, pid, err);
    return ret;
}

static int v1_oom_kills(moor_cgroup_t *cg, uint64_t *count, moor_err_t *err)
{
    char dir[PATH_MAX], text[MOOR_CG_VALUE_MAX];
    *count = 0;
    int ret = v1_dir(cg, "memory", dir, err);
    /* No memory hierarchy: nothing can be OOM killed by a cgroup. */
    if (ret == -ENOENT)
        return 0;
    if (ret == 0)
        ret = moor_cg_read_opt(dir, "memory.oom_control", text, sizeof(text), err);
    /* Kernels before 4.13 have no oom_kill line: count stays 0. */
    if (ret == 0)
        moor_cg_flat_key(text, "oom_kill", count);
    return ret;
}

static int v1_pids(moor_cgroup_t *cg, pid_t *out, int cap, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = v1_dir(cg, "pids", dir, err);
    if (ret == -ENOENT)
        ret = v1_dir(cg, "memory", dir, err);
    return ret < 0 ? ret : moor_cg_read_pids(dir, out, cap, err);
}

/* ---- freezer ------------------------------------------------------------ */

/* Poll freezer.state until it reads `want` ("FROZEN" passes through
 * "FREEZING"), asking again now and then for tasks that escaped. */
static int wait_state(const char *dir, const char *want, moor_err_t *err)
{
    char state[MOOR_CG_VALUE_MAX] = "";
    uint64_t deadline = moor_now_monotonic_ns() + (uint64_t)V1_FREEZE_WAIT_MS * 1000000u;
    for (unsigned i = 1;; i++) {
        int ret = moor_cg_read(dir, "freezer.state", state, sizeof(state), err);
        if (ret < 0)
            return ret;
        moor_cg_trim(state);
        if (strcmp(state, want) == 0)
            return 0;
        if (moor_now_monotonic_ns() >= deadline)
            return moor_fail(err, ETIMEDOUT, "cgroup v1: `%s/freezer.state` still reads `%s` "
                             "after %d ms (wanted `%s`)", dir, state, V1_FREEZE_WAIT_MS, want);
        if (i % V1_FREEZE_REWRITE_EVERY == 0 &&
            (ret = moor_cg_write(dir, "freezer.state", want, err)) < 0)
            return ret;
        moor_cg_sleep_ms(i < 10 ? 1 : 10);
    }
}

static int v1_freeze(moor_cgroup_t *cg, bool frozen, moor_err_t *err)
{
    char dir[PATH_MAX];
    const char *want = frozen ? "FROZEN" : "THAWED";
    int ret = v1_dir(cg, "freezer", dir, err);
    if (ret == 0)
        ret = moor_cg_set(dir, "freezer", "freezer.state", want, err);
    if (ret < 0 || (ret = wait_state(dir, want, err)) == 0)
        return ret;
    /* Half frozen is the worst outcome: give the tasks back. */
    if (frozen)
        moor_cg_write(dir, "freezer.state", "THAWED", NULL);
    return ret;
}

/* ---- destroy ------------------------------------------------------------ */

/* Only the leaf (and what the container made below it) goes: the levels
 * above may be shared with other containers. Every hierarchy is tried;
 * the first error is reported. */
static int v1_destroy(moor_cgroup_t *cg, moor_err_t *err)
{
    v1_hiers_t h;
    char base[PATH_MAX];
    int ret = v1_list(cg, &h, err);
    for (int i = 0; i < h.n; i++) {
        int r = moor_cg_join(base, cg->root, h.name[i], ret < 0 ? NULL : err);
        if (r == 0)
            r = moor_cg_remove_tree(base, cg->path, ret < 0 ? NULL : err);
        if (ret == 0)
            ret = r;
    }
    if (cg->unified_root[0] != '\0') {
        int r = moor_cg_remove_tree(cg->unified_root, cg->path, ret < 0 ? NULL : err);
        if (ret == 0)
            ret = r;
    }
    return ret;
}

const moor_cgroup_ops_t moor_cgroup_v1_ops = {
    .name = "v1",
    .create = v1_create,
    .apply = v1_apply,
    .enter = v1_enter,
    .oom_kills = v1_oom_kills,
    .freeze = v1_freeze,
    .pids = v1_pids,
    .destroy = v1_destroy,
};
