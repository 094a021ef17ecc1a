/*
 * cgroup v2: one hierarchy, controllers handed down level by level through
 * each parent's cgroup.subtree_control. Every file lives in the cgroup's own
 * directory, root + path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-internal.h"
#include "moor_cgroup.h"
#include "moor_util.h"

/* cgroup.freeze: how long to wait for cgroup.events to say "frozen N". */
#define V2_FREEZE_WAIT_MS 5000
/* cpu.max period when the config gives a quota alone (the kernel default). */
#define V2_DEFAULT_PERIOD 100000
/* cpu.shares range of v1, mapped linearly onto cpu.weight's 1..10000. */
#define V2_SHARES_MIN 2
#define V2_SHARES_MAX 262144
#define V2_WEIGHT_MAX 10000

/* The controllers moor sets limits with, in the kernel's own order. */
static const char *const v2_controllers[] = {"cpuset", "cpu", "memory", "pids"};

uint64_t moor_cgroup_v2_weight_from_shares(uint64_t shares)
{
    if (shares == 0)
        return 0;
    if (shares < V2_SHARES_MIN)
        shares = V2_SHARES_MIN;
    if (shares > V2_SHARES_MAX)
        shares = V2_SHARES_MAX;
    return 1 + ((shares - V2_SHARES_MIN) * (V2_WEIGHT_MAX - 1)) /
                   (V2_SHARES_MAX - V2_SHARES_MIN);
}

/* ---- create ------------------------------------------------------------- */

/*
 * Enable in `dir`'s subtree_control each of our controllers that `dir` has
 * and has not enabled yet. One write per controller so a refused one (busy,
 * threaded) does not block the others; a limit that later needs it fails in
 * apply, naming the missing file.
 */
static void enable_controllers(const char *dir)
{
    char have[MOOR_CG_VALUE_MAX], enabled[MOOR_CG_VALUE_MAX], value[32];
    if (moor_cg_read_opt(dir, "cgroup.controllers", have, sizeof(have), NULL) < 0 ||
        moor_cg_read_opt(dir, "cgroup.subtree_control", enabled, sizeof(enabled), NULL) < 0)
        return;
    for (size_t i = 0; i < sizeof(v2_controllers) / sizeof(v2_controllers[0]); i++) {
        const char *name = v2_controllers[i];
        if (!moor_cg_has_word(have, name) || moor_cg_has_word(enabled, name))
            continue;
        snprintf(value, sizeof(value), "+%s", name);
        moor_cg_append(dir, "cgroup.subtree_control", value, NULL);
    }
}

static int v2_create(moor_cgroup_t *cg, moor_err_t *err)
{
    char dir[PATH_MAX];
    int depth = moor_cg_depth(cg->path), first = 0;
    for (int i = 0; i < depth; i++) {
        int ret = moor_cg_level(dir, cg->root, cg->path, i, err);
        if (ret == 0) {
            enable_controllers(dir);
            ret = moor_cg_level(dir, cg->root, cg->path, i + 1, err);
        }
        if (ret == 0)
            ret = moor_cg_make_dir(dir, err);
        if (ret < 0) {
            moor_cg_unmake_levels(cg->root, cg->path, first);
            return ret;
        }
        if (ret == 1 && first == 0)
            first = i + 1;
    }
    return 0;
}

/* ---- apply -------------------------------------------------------------- */

/* "max" for no limit (negative), else the number. */
static void format_max(char *out, int64_t value)
{
    if (value < 0)
        snprintf(out, MOOR_CG_VALUE_MAX, "max");
    else
        snprintf(out, MOOR_CG_VALUE_MAX, "%" PRId64, value);
}

/*
 * OCI's memory.swap is memory + swap; memory.swap.max is the swap alone.
 * *skip is set when there is nothing to write: no swap limit asked (-1 or
 * swap equal to memory) and no swap controller file to write it to.
 */
static int swap_value(const char *dir, const moor_resources_t *res, char *out, bool *skip,
                      moor_err_t *err)
{
    int64_t swap = res->memory_swap, mem = res->memory_limit;
    *skip = false;
    if (swap != -1 && (!res->has_memory_limit || mem < 0))
        return moor_fail(err, EINVAL, "memory+swap limit %" PRId64 " needs a memory limit "
                         "(linux.resources.memory.limit) for `%s`", swap, dir);
    if (swap != -1 && swap < mem)
        return moor_fail(err, EINVAL, "memory+swap limit %" PRId64 " is below the memory limit "
                         "%" PRId64 " for `%s`", swap, mem, dir);
    format_max(out, swap == -1 ? -1 : swap - mem);
    *skip = (swap == -1 || swap == mem) && !moor_cg_exists(dir, "memory.swap.max");
    return 0;
}

static int v2_apply_memory(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    char value[MOOR_CG_VALUE_MAX];
    bool skip = false;
    int ret = 0;
    if (res->has_memory_swap && (ret = swap_value(dir, res, value, &skip, err)) < 0)
        return ret;
    /* Swap after memory: memory.swap.max does not depend on memory.max, but
     * an error on the limit users asked for first reads better. */
    if (res->has_memory_limit) {
        char limit[MOOR_CG_VALUE_MAX];
        format_max(limit, res->memory_limit);
        if ((ret = moor_cg_set(dir, "memory", "memory.max", limit, err)) < 0)
            return ret;
    }
    if (res->has_memory_swap && !skip)
        ret = moor_cg_set(dir, "memory", "memory.swap.max", value, err);
    return ret;
}

/* The quota currently in cpu.max ("max 100000" -> "max"), to keep it when
 * only the period changes. */
static int current_quota(const char *dir, char *out, moor_err_t *err)
{
    int ret = moor_cg_read(dir, "cpu.max", out, MOOR_CG_VALUE_MAX, err);
    if (ret == -ENOENT)
        return moor_fail(err, ENOENT, "cgroup controller `cpu` is not available: `%s/cpu.max` "
                         "does not exist", dir);
    if (ret == 0)
        out[strcspn(out, " \n")] = '\0';
    return ret;
}

static int v2_apply_cpu(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    char value[MOOR_CG_VALUE_MAX + 32], quota[MOOR_CG_VALUE_MAX];
    int ret = 0;
    if (res->has_cpu_shares && res->cpu_shares != 0) {
        uint64_t weight = moor_cgroup_v2_weight_from_shares(res->cpu_shares);
        snprintf(value, sizeof(value), "%" PRIu64, weight);
        if ((ret = moor_cg_set(dir, "cpu", "cpu.weight", value, err)) < 0)
            return ret;
    }
    /* A quota of 0 is "not set" (docker sends 0; the kernel refuses it). */
    bool has_quota = res->has_cpu_quota && res->cpu_quota != 0;
    if (!has_quota && !res->has_cpu_period)
        return 0;
    if (has_quota)
        format_max(quota, res->cpu_quota);
    else if ((ret = current_quota(dir, quota, err)) < 0)
        return ret;
    uint64_t period = res->has_cpu_period ? res->cpu_period : V2_DEFAULT_PERIOD;
    snprintf(value, sizeof(value), "%s %" PRIu64, quota, period);
    return moor_cg_set(dir, "cpu", "cpu.max", value, err);
}

static int v2_apply_rest(const char *dir, const moor_resources_t *res, moor_err_t *err)
{
    char value[MOOR_CG_VALUE_MAX];
    int ret = 0;
    if (res->has_pids_limit) {
        /* OCI: 0 and -1 both mean no limit. */
        format_max(value, res->pids_limit > 0 ? res->pids_limit : -1);
        ret = moor_cg_set(dir, "pids", "pids.max", value, err);
    }
    if (ret == 0 && res->cpuset_cpus != NULL)
        ret = moor_cg_set(dir, "cpuset", "cpuset.cpus", res->cpuset_cpus, err);
    if (ret == 0 && res->cpuset_mems != NULL)
        ret = moor_cg_set(dir, "cpuset", "cpuset.mems", res->cpuset_mems, err);
    return ret;
}

static int v2_apply(moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_leaf(dir, cg->root, cg->path, err);
    if (ret == 0)
        ret = v2_apply_memory(dir, res, err);
    if (ret == 0)
        ret = v2_apply_cpu(dir, res, err);
    if (ret == 0)
        ret = v2_apply_rest(dir, res, err);
    return ret;
}

/* ---- processes ---------------------------------------------------------- */

static int v2_enter(moor_cgroup_t *cg, pid_t pid, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_leaf(dir, cg->root, cg->path, err);
    return ret < 0 ? ret : moor_cg_write_pid(dir, pid, err);
}

static int v2_oom_kills(moor_cgroup_t *cg, uint64_t *count, moor_err_t *err)
{
    char dir[PATH_MAX], text[MOOR_CG_VALUE_MAX * 2];
    *count = 0;
    int ret = moor_cg_leaf(dir, cg->root, cg->path, err);
    /* No memory controller (no memory.events): nothing was OOM killed. */
    if (ret == 0)
        ret = moor_cg_read_opt(dir, "memory.events", text, sizeof(text), err);
    if (ret == 0)
        moor_cg_flat_key(text, "oom_kill", count);
    return ret;
}

static int v2_pids(moor_cgroup_t *cg, pid_t *out, int cap, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_leaf(dir, cg->root, cg->path, err);
    return ret < 0 ? ret : moor_cg_read_pids(dir, out, cap, err);
}

/* ---- freezer ------------------------------------------------------------ */

/* Poll cgroup.events until "frozen" reads `want` (bounded). */
static int wait_frozen(const char *dir, uint64_t want, moor_err_t *err)
{
    char text[MOOR_CG_VALUE_MAX];
    uint64_t deadline = moor_now_monotonic_ns() + (uint64_t)V2_FREEZE_WAIT_MS * 1000000u;
    for (unsigned i = 1;; i++) {
        uint64_t frozen = !want;
        int ret = moor_cg_read(dir, "cgroup.events", text, sizeof(text), err);
        if (ret < 0)
            return ret;
        if (moor_cg_flat_key(text, "frozen", &frozen) == 0 && frozen == want)
            return 0;
        if (moor_now_monotonic_ns() >= deadline)
            return moor_fail(err, ETIMEDOUT, "cgroup v2: `%s/cgroup.events` does not say "
                             "`frozen %" PRIu64 "` after %d ms", dir, want, V2_FREEZE_WAIT_MS);
        moor_cg_sleep_ms(i < 10 ? 1 : 10);
    }
}

static int v2_freeze(moor_cgroup_t *cg, bool frozen, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_leaf(dir, cg->root, cg->path, err);
    if (ret == 0)
        ret = moor_cg_set(dir, "freezer", "cgroup.freeze", frozen ? "1" : "0", err);
    if (ret < 0 || (ret = wait_frozen(dir, frozen, err)) == 0)
        return ret;
    /* Half frozen is the worst outcome: give the tasks back. */
    if (frozen)
        moor_cg_write(dir, "cgroup.freeze", "0", NULL);
    return ret;
}

/* ---- destroy ------------------------------------------------------------ */

/* Only the leaf (and what the container made below it) goes: the levels
 * above may be shared. Processes still inside (EBUSY) are killed through
 * cgroup.kill (5.14+) and the removal is tried once more. */
static int v2_destroy(moor_cgroup_t *cg, moor_err_t *err)
{
    char dir[PATH_MAX];
    int ret = moor_cg_remove_tree(cg->root, cg->path, err);
    if (ret != -EBUSY || moor_cg_leaf(dir, cg->root, cg->path, NULL) < 0 ||
        !moor_cg_exists(dir, "cgroup.kill"))
        return ret;
    if ((ret = moor_cg_write(dir, "cgroup.kill", "1", err)) < 0)
        return ret;
    return moor_cg_remove_tree(cg->root, cg->path, err);
}

const moor_cgroup_ops_t moor_cgroup_v2_ops = {
    .name = "v2",
    .create = v2_create,
    .apply = v2_apply,
    .enter = v2_enter,
    .oom_kills = v2_oom_kills,
    .freeze = v2_freeze,
    .pids = v2_pids,
    .destroy = v2_destroy,
};
