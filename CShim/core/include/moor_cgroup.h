/*
 * cgroups v1 and v2 behind one table of operations, chosen once by
 * moor_cgroup_detect() (statfs of the cgroup mount). Hybrid hosts (v1
 * controllers plus a cgroup2 mount at ROOT/unified) use v1 for resources and
 * also place the process in the unified hierarchy.
 *
 * Every path is `root` + `path`, so tests can point `root` at a directory
 * tree they control and check the files and values written.
 */
#ifndef MOOR_CGROUP_H
#define MOOR_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "moor_config.h"

enum moor_cgroup_mode {
    MOOR_CGROUP_V1 = 1,
    MOOR_CGROUP_V2 = 2,
};

typedef struct moor_cgroup moor_cgroup_t;

typedef struct moor_cgroup_ops {
    const char *name; /* "v1" or "v2" */
    /* Create the cgroup directories (and enable v2 controllers on the way). */
    int (*create)(moor_cgroup_t *cg, moor_err_t *err);
    /* Write the limits of `res`; fields not given are left alone. */
    int (*apply)(moor_cgroup_t *cg, const moor_resources_t *res, moor_err_t *err);
    /* Move `pid` into the cgroup (every hierarchy for v1). */
    int (*enter)(moor_cgroup_t *cg, pid_t pid, moor_err_t *err);
    /* Number of OOM kills so far (v1 memory.oom_control, v2 memory.events). */
    int (*oom_kills)(moor_cgroup_t *cg, uint64_t *count, moor_err_t *err);
    /* Freeze or thaw every process (v1 freezer.state, v2 cgroup.freeze). */
    int (*freeze)(moor_cgroup_t *cg, bool frozen, moor_err_t *err);
    /* Pids in the cgroup, up to `cap`; returns the count or -errno. */
    int (*pids)(moor_cgroup_t *cg, pid_t *out, int cap, moor_err_t *err);
    /* Remove the cgroup's own directory (and any cgroup the container made
     * below it) in every hierarchy; the levels above are left, they may be
     * shared. Retries EBUSY briefly (v2: then cgroup.kill). Missing is fine. */
    int (*destroy)(moor_cgroup_t *cg, moor_err_t *err);
} moor_cgroup_ops_t;

struct moor_cgroup {
    const moor_cgroup_ops_t *ops;
    enum moor_cgroup_mode mode;
    char root[PATH_MAX];         /* "/sys/fs/cgroup" or a test directory */
    char path[PATH_MAX];         /* "/moor/ID", always starting with '/' */
    /* v1 only: cgroup2 mount used for placement ("" when none). */
    char unified_root[PATH_MAX];
};

/* statfs(root): CGROUP2_SUPER_MAGIC -> V2, TMPFS_MAGIC -> V1. */
int moor_cgroup_detect(const char *root, enum moor_cgroup_mode *mode, moor_err_t *err);
/*
 * Fill `cg` for `path` under `root` with the ops of `mode`. For V1,
 * `unified_root` may name the hybrid cgroup2 mount (or be NULL/"").
 * The path is checked: absolute, no "..", no empty components.
 */
int moor_cgroup_init(moor_cgroup_t *cg, enum moor_cgroup_mode mode, const char *root,
                     const char *unified_root, const char *path, moor_err_t *err);
/* Detect the host's mode under /sys/fs/cgroup and init `cg` for `path`. */
int moor_cgroup_init_host(moor_cgroup_t *cg, const char *path, moor_err_t *err);

extern const moor_cgroup_ops_t moor_cgroup_v1_ops;
extern const moor_cgroup_ops_t moor_cgroup_v2_ops;

/* v2 helpers exposed for tests and for v1's hybrid placement. */
uint64_t moor_cgroup_v2_weight_from_shares(uint64_t shares);

#endif
