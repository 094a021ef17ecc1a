/*
 * The subset of the OCI runtime-spec config.json that moor-shim reads.
 * Parsing validates everything up front: a malformed or unsupported field is
 * an error naming it (e.g. "linux.resources.memory.limit: expected integer"),
 * returned before anything is created.
 */
#ifndef MOOR_CONFIG_H
#define MOOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "moor_error.h"

enum moor_ns_type {
    MOOR_NS_MOUNT = 0,
    MOOR_NS_PID,
    MOOR_NS_UTS,
    MOOR_NS_IPC,
    MOOR_NS_NET,
    MOOR_NS_CGROUP,
    MOOR_NS_COUNT,
};

typedef struct moor_namespace {
    enum moor_ns_type type;
    char *path; /* NULL: create a new one; else join this nsfs path */
} moor_namespace_t;

typedef struct moor_mount {
    char *destination;
    char *type;    /* "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2" */
    char *source;
    char **options;
    size_t n_options;
} moor_mount_t;

typedef struct moor_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t hard;
    uint64_t soft;
} moor_rlimit_t;

/* Capability sets as bitmasks indexed by CAP_* numbers. */
typedef struct moor_caps {
    bool present; /* process.capabilities was given */
    uint64_t bounding, effective, inheritable, permitted, ambient;
} moor_caps_t;

typedef struct moor_process {
    char **args;
    size_t n_args;
    char **env;
    size_t n_env;
    char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    bool terminal;
    unsigned console_rows, console_cols; /* consoleSize, 0 if absent */
    bool no_new_privileges;
    moor_caps_t caps;
    bool has_oom_score_adj;
    int oom_score_adj;
    moor_rlimit_t *rlimits;
    size_t n_rlimits;
} moor_process_t;

enum moor_seccomp_action {
    MOOR_SECCOMP_KILL = 0, /* SCMP_ACT_KILL (thread) */
    MOOR_SECCOMP_KILL_PROCESS,
    MOOR_SECCOMP_TRAP,
    MOOR_SECCOMP_ERRNO,
    MOOR_SECCOMP_TRACE,
    MOOR_SECCOMP_ALLOW,
    MOOR_SECCOMP_LOG,
};

enum moor_seccomp_op {
    MOOR_SECCOMP_OP_NE = 0,
    MOOR_SECCOMP_OP_LT,
    MOOR_SECCOMP_OP_LE,
    MOOR_SECCOMP_OP_EQ,
    MOOR_SECCOMP_OP_GE,
    MOOR_SECCOMP_OP_GT,
    MOOR_SECCOMP_OP_MASKED_EQ,
};

typedef struct moor_seccomp_arg {
    unsigned index;
    uint64_t value;
    uint64_t value_two;
    enum moor_seccomp_op op;
} moor_seccomp_arg_t;

typedef struct moor_seccomp_rule {
    char **names;
    size_t n_names;
    enum moor_seccomp_action action;
    bool has_errno_ret;
    unsigned errno_ret;
    moor_seccomp_arg_t *args;
    size_t n_args;
} moor_seccomp_rule_t;

typedef struct moor_seccomp {
    enum moor_seccomp_action default_action;
    bool has_default_errno_ret;
    unsigned default_errno_ret;
    char **architectures; /* "SCMP_ARCH_X86_64", ... */
    size_t n_architectures;
    moor_seccomp_rule_t *rules;
    size_t n_rules;
} moor_seccomp_t;

/* linux.resources; each has_* says whether the field was given. */
typedef struct moor_resources {
    bool has_memory_limit;
    int64_t memory_limit;       /* bytes, -1 unlimited */
    bool has_memory_swap;
    int64_t memory_swap;        /* memory + swap in bytes (OCI), -1 unlimited */
    bool has_pids_limit;
    int64_t pids_limit;         /* -1 or 0 unlimited */
    bool has_cpu_shares;
    uint64_t cpu_shares;
    bool has_cpu_quota;
    int64_t cpu_quota;          /* microseconds per period, -1 unlimited */
    bool has_cpu_period;
    uint64_t cpu_period;        /* microseconds */
    char *cpuset_cpus;          /* NULL if absent */
    char *cpuset_mems;
} moor_resources_t;

typedef struct moor_sysctl {
    char *key;
    char *value;
} moor_sysctl_t;

typedef struct moor_config {
    char *oci_version;
    moor_process_t process;
    char *root_path;    /* absolute, or relative to the bundle (made absolute by load) */
    bool root_readonly;
    char *hostname;     /* NULL if absent */
    moor_mount_t *mounts;
    size_t n_mounts;
    moor_namespace_t *namespaces;
    size_t n_namespaces;
    moor_resources_t resources;
    char **masked_paths;
    size_t n_masked_paths;
    char **readonly_paths;
    size_t n_readonly_paths;
    bool has_seccomp;
    moor_seccomp_t seccomp;
    char *cgroups_path; /* NULL if absent */
    moor_sysctl_t *sysctls;
    size_t n_sysctls;
} moor_config_t;

/* Parse config.json text. On error *out is left zeroed (nothing to free). */
int moor_config_parse(const char *json, size_t len, moor_config_t *out, moor_err_t *err);
/* Read and parse BUNDLE/config.json; a relative root.path becomes absolute. */
int moor_config_load(const char *bundle_dir, moor_config_t *out, moor_err_t *err);
/* Parse a bare OCI "process" object (used by exec). */
int moor_process_parse(const char *json, size_t len, moor_process_t *out, moor_err_t *err);
void moor_config_free(moor_config_t *cfg);
void moor_process_free(moor_process_t *proc);

/* Lookup helpers; NULL / false when absent. */
const moor_namespace_t *moor_config_namespace(const moor_config_t *cfg, enum moor_ns_type type);
const char *moor_ns_type_name(enum moor_ns_type type);   /* "mount", "pid", ... */
int moor_ns_clone_flag(enum moor_ns_type type);          /* CLONE_NEWNS, ... */
/* Value of NAME in env ("PATH"), or NULL. */
const char *moor_process_getenv(const moor_process_t *proc, const char *name);

#endif
