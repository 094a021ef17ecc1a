/*
 * OCI config.json -> moor_config_t: the document, process, root and mounts
 * (linux.* is in config-linux.c). Everything is validated here, before the
 * shim creates anything, and every error names its JSON path.
 *
 * Parsing writes straight into the output struct; arrays are attached to it
 * before their elements are filled, so on any error one moor_config_free()
 * releases whatever was built and the caller gets a zeroed struct back.
 */
#include "moor_config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config-json.h"
#include "moor_caps.h"
#include "moor_util.h"

/* ---- process ---- */

#define RLIMIT_ENTRY(name) {#name, name}
static const cj_enum_t rlimit_names[] = {
    RLIMIT_ENTRY(RLIMIT_AS),       RLIMIT_ENTRY(RLIMIT_CORE),       RLIMIT_ENTRY(RLIMIT_CPU),
    RLIMIT_ENTRY(RLIMIT_DATA),     RLIMIT_ENTRY(RLIMIT_FSIZE),      RLIMIT_ENTRY(RLIMIT_LOCKS),
    RLIMIT_ENTRY(RLIMIT_MEMLOCK),  RLIMIT_ENTRY(RLIMIT_MSGQUEUE),   RLIMIT_ENTRY(RLIMIT_NICE),
    RLIMIT_ENTRY(RLIMIT_NOFILE),   RLIMIT_ENTRY(RLIMIT_NPROC),      RLIMIT_ENTRY(RLIMIT_RSS),
    RLIMIT_ENTRY(RLIMIT_RTPRIO),   RLIMIT_ENTRY(RLIMIT_RTTIME),     RLIMIT_ENTRY(RLIMIT_SIGPENDING),
    RLIMIT_ENTRY(RLIMIT_STACK),
};
#define N_RLIMITS (sizeof(rlimit_names) / sizeof(rlimit_names[0]))

static int check_env_entry(cj_ctx_t *c, json_object *item, size_t i, void *ud)
{
    (void)i;
    (void)ud;
    const char *s;
    int ret = cj_as_string(c, item, &s);
    if (ret < 0)
        return ret;
    const char *eq = strchr(s, '=');
    if (eq == NULL || eq == s)
        return cj_fail(c, EINVAL, "expected \"NAME=value\", got \"%s\"", s);
    return 0;
}

static int parse_command(cj_ctx_t *c, json_object *o, moor_process_t *p)
{
    int ret = cj_get_strings(c, o, "args", &p->args, &p->n_args);
    if (ret < 0)
        return ret;
    if (p->n_args == 0)
        return cj_missing(c, "args");
    if ((ret = cj_get_strings(c, o, "env", &p->env, &p->n_env)) < 0)
        return ret;
    if ((ret = cj_for_each(c, o, "env", check_env_entry, NULL)) < 0)
        return ret;
    if ((ret = cj_get_abs_path(c, o, "cwd", &p->cwd)) < 0)
        return ret;
    return ret == 0 ? cj_missing(c, "cwd") : 0;
}

static int parse_gid(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    (void)ud;
    uint32_t gid = 0;
    int ret = cj_as_uint32(c, item, &gid);
    *(gid_t *)slot = gid;
    return ret;
}

static int parse_user(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_process_t *p = ud;
    uint32_t id = 0;
    int ret = cj_get_uint32(c, o, "uid", &id);
    if (ret < 0)
        return ret;
    p->uid = id;
    id = 0;
    if ((ret = cj_get_uint32(c, o, "gid", &id)) < 0)
        return ret;
    p->gid = id;
    ret = cj_with_array(c, o, "additionalGids", sizeof(gid_t), (void **)&p->additional_gids,
                        &p->n_additional_gids, parse_gid, NULL);
    return ret < 0 ? ret : 0;
}

static int parse_console_size(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_process_t *p = ud;
    uint32_t v = 0;
    int ret = cj_get_uint32(c, o, "height", &v);
    if (ret < 0)
        return ret;
    p->console_rows = v;
    v = 0;
    if ((ret = cj_get_uint32(c, o, "width", &v)) < 0)
        return ret;
    p->console_cols = v;
    return 0;
}

static int add_cap(cj_ctx_t *c, json_object *item, size_t i, void *ud)
{
    (void)i;
    const char *name;
    int ret = cj_as_string(c, item, &name);
    if (ret < 0)
        return ret;
    int cap = moor_cap_from_name(name);
    if (cap < 0 || cap >= 64)
        return cj_fail(c, EINVAL, "unknown capability \"%s\"", name);
    *(uint64_t *)ud |= 1ull << cap;
    return 0;
}

static int parse_caps(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_caps_t *caps = ud;
    /* A set that is not given is empty, as in runc. */
    caps->present = true;
    int ret = cj_for_each(c, o, "bounding", add_cap, &caps->bounding);
    if (ret >= 0)
        ret = cj_for_each(c, o, "effective", add_cap, &caps->effective);
    if (ret >= 0)
        ret = cj_for_each(c, o, "inheritable", add_cap, &caps->inheritable);
    if (ret >= 0)
        ret = cj_for_each(c, o, "permitted", add_cap, &caps->permitted);
    if (ret >= 0)
        ret = cj_for_each(c, o, "ambient", add_cap, &caps->ambient);
    return ret < 0 ? ret : 0;
}

static int parse_rlimit(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    moor_rlimit_t *rl = slot;
    unsigned *seen = ud; /* bitmask of RLIMIT_* already given */
    int ret = cj_as_object(c, item);
    if (ret < 0 || (ret = cj_get_enum(c, item, "type", rlimit_names, N_RLIMITS, "rlimit",
                                      &rl->resource)) < 0)
        return ret;
    if (ret == 0)
        return cj_missing(c, "type");
    if ((ret = cj_get_uint64(c, item, "hard", &rl->hard)) <= 0)
        return ret < 0 ? ret : cj_missing(c, "hard");
    if ((ret = cj_get_uint64(c, item, "soft", &rl->soft)) <= 0)
        return ret < 0 ? ret : cj_missing(c, "soft");
    if (rl->soft > rl->hard)
        return cj_fail(c, EINVAL, "soft limit %llu exceeds hard limit %llu",
                       (unsigned long long)rl->soft, (unsigned long long)rl->hard);
    if (*seen & (1u << rl->resource))
        return cj_fail(c, EINVAL, "duplicate rlimit \"%s\"",
                       json_object_get_string(cj_field(item, "type")));
    *seen |= 1u << rl->resource;
    return 0;
}

static int parse_oom_score_adj(cj_ctx_t *c, json_object *o, moor_process_t *p)
{
    int64_t v;
    int ret = cj_get_int64(c, o, "oomScoreAdj", &v);
    if (ret <= 0)
        return ret;
    if (v < -1000 || v > 1000) {
        size_t mark = cj_push_key(c, "oomScoreAdj");
        ret = cj_fail(c, EINVAL, "%lld is out of range (-1000 to 1000)", (long long)v);
        cj_pop(c, mark);
        return ret;
    }
    p->has_oom_score_adj = true;
    p->oom_score_adj = (int)v;
    return 0;
}

int cfg_parse_process(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_process_t *p = ud;
    unsigned rlimits_seen = 0;
    int ret = parse_command(c, o, p);
    if (ret >= 0)
        ret = cj_get_bool(c, o, "terminal", &p->terminal);
    if (ret >= 0)
        ret = cj_with_object(c, o, "consoleSize", parse_console_size, p);
    if (ret >= 0)
        ret = cj_with_object(c, o, "user", parse_user, p);
    if (ret >= 0)
        ret = cj_get_bool(c, o, "noNewPrivileges", &p->no_new_privileges);
    if (ret >= 0)
        ret = cj_with_object(c, o, "capabilities", parse_caps, &p->caps);
    if (ret >= 0)
        ret = parse_oom_score_adj(c, o, p);
    if (ret >= 0)
        ret = cj_with_array(c, o, "rlimits", sizeof(moor_rlimit_t), (void **)&p->rlimits,
                            &p->n_rlimits, parse_rlimit, &rlimits_seen);
    return ret < 0 ? ret : 0;
}

/* ---- root and mounts ---- */

static int parse_root(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_config_t *cfg = ud;
    int ret = cj_get_string(c, o, "path", &cfg->root_path);
    if (ret < 0)
        return ret;
    if (ret == 0 || cfg->root_path[0] == '\0')
        return cj_missing(c, "path");
    ret = cj_get_bool(c, o, "readonly", &cfg->root_readonly);
    return ret < 0 ? ret : 0;
}

static bool has_bind_option(const moor_mount_t *m)
{
    for (size_t i = 0; i < m->n_options; i++) {
        if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
            return true;
    }
    return false;
}

static const char *const mount_types[] = {
    "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2",
};

/* runc's rule: "none" (or no type) with a bind option is a bind mount. */
static int resolve_mount_type(cj_ctx_t *c, moor_mount_t *m)
{
    bool none = m->type == NULL || strcmp(m->type, "none") == 0 || m->type[0] == '\0';
    if (none && has_bind_option(m)) {
        free(m->type);
        if ((m->type = strdup("bind")) == NULL)
            return cj_oom(c);
        return 0;
    }
    if (m->type == NULL)
        return cj_missing(c, "type");
    for (size_t i = 0; i < sizeof(mount_types) / sizeof(mount_types[0]); i++) {
        if (strcmp(m->type, mount_types[i]) == 0)
            return 0;
    }
    size_t mark = cj_push_key(c, "type");
    int ret = cj_fail(c, EINVAL, "unsupported mount type \"%s\"", m->type);
    cj_pop(c, mark);
    return ret;
}

/* Filesystems need no source; give them their type, as Docker does. */
static int default_mount_source(cj_ctx_t *c, moor_mount_t *m)
{
    if (m->source != NULL)
        return 0;
    if (strcmp(m->type, "bind") == 0)
        return cj_missing(c, "source");
    if ((m->source = strdup(m->type)) == NULL)
        return cj_oom(c);
    return 0;
}

static int parse_mount(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    (void)ud;
    moor_mount_t *m = slot;
    int ret = cj_as_object(c, item);
    if (ret < 0 || (ret = cj_get_abs_path(c, item, "destination", &m->destination)) < 0)
        return ret;
    if (ret == 0)
        return cj_missing(c, "destination");
    if ((ret = cj_get_string(c, item, "type", &m->type)) < 0 ||
        (ret = cj_get_string(c, item, "source", &m->source)) < 0 ||
        (ret = cj_get_strings(c, item, "options", &m->options, &m->n_options)) < 0)
        return ret;
    if ((ret = resolve_mount_type(c, m)) < 0)
        return ret;
    return default_mount_source(c, m);
}

/* ---- documents ---- */

static int parse_config_object(cj_ctx_t *c, json_object *top, moor_config_t *cfg)
{
    int ret = cj_get_string(c, top, "ociVersion", &cfg->oci_version);
    if (ret >= 0 && (ret = cj_with_object(c, top, "process", cfg_parse_process, &cfg->process)) == 0)
        ret = cj_missing(c, "process");
    if (ret >= 0 && (ret = cj_with_object(c, top, "root", parse_root, cfg)) == 0)
        ret = cj_missing(c, "root");
    if (ret >= 0)
        ret = cj_get_string(c, top, "hostname", &cfg->hostname);
    if (ret >= 0)
        ret = cj_with_array(c, top, "mounts", sizeof(moor_mount_t), (void **)&cfg->mounts,
                            &cfg->n_mounts, parse_mount, NULL);
    if (ret >= 0)
        ret = cj_with_object(c, top, "linux", cfg_parse_linux, cfg);
    return ret < 0 ? ret : 0;
}

static int parse_named(const char *json, size_t len, const char *source, moor_config_t *out,
                       moor_err_t *err)
{
    memset(out, 0, sizeof(*out));
    cj_ctx_t c = {.err = err, .source = source};
    json_object *top = NULL;
    int ret = cj_parse_document(&c, json, len, &top);
    if (ret == 0)
        ret = parse_config_object(&c, top, out);
    json_object_put(top);
    if (ret < 0)
        moor_config_free(out);
    return ret;
}

int moor_config_parse(const char *json, size_t len, moor_config_t *out, moor_err_t *err)
{
    return parse_named(json, len, "config.json", out, err);
}

int moor_process_parse(const char *json, size_t len, moor_process_t *out, moor_err_t *err)
{
    memset(out, 0, sizeof(*out));
    cj_ctx_t c = {.err = err, .source = NULL};
    cj_push_key(&c, "process");
    json_object *top = NULL;
    int ret = cj_parse_document(&c, json, len, &top);
    if (ret == 0)
        ret = cfg_parse_process(&c, top, out);
    json_object_put(top);
    if (ret < 0)
        moor_process_free(out);
    return ret;
}

/* root.path "rootfs" or "./rootfs" -> "/abs/bundle/rootfs". */
static int absolute_root(const char *bundle_dir, moor_config_t *cfg, moor_err_t *err)
{
    if (cfg->root_path[0] == '/')
        return 0;
    char *base moor_cleanup_free = NULL;
    if (bundle_dir[0] != '/' && (base = realpath(bundle_dir, NULL)) == NULL)
        return moor_fail_errno(err, "resolve the bundle directory `%s`", bundle_dir);
    const char *rel = cfg->root_path;
    while (rel[0] == '.' && rel[1] == '/')
        rel += 2;
    char *abs = NULL;
    if (asprintf(&abs, "%s/%s", base != NULL ? base : bundle_dir, rel) < 0)
        return moor_fail(err, ENOMEM, "root.path: out of memory");
    free(cfg->root_path);
    cfg->root_path = abs;
    return 0;
}

int moor_config_load(const char *bundle_dir, moor_config_t *out, moor_err_t *err)
{
    memset(out, 0, sizeof(*out));
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/config.json", bundle_dir) >= (int)sizeof(path))
        return moor_fail(err, ENAMETOOLONG, "bundle path too long: `%s`", bundle_dir);
    char *text moor_cleanup_free = NULL;
    size_t len = 0;
    int ret = moor_read_file_alloc(path, &text, &len, err);
    if (ret < 0)
        return ret;
    if ((ret = parse_named(text, len, path, out, err)) < 0)
        return ret;
    if ((ret = absolute_root(bundle_dir, out, err)) < 0)
        moor_config_free(out);
    return ret;
}

/* ---- freeing ---- */

void moor_process_free(moor_process_t *proc)
{
    if (proc == NULL)
        return;
    cj_free_strings(proc->args, proc->n_args);
    cj_free_strings(proc->env, proc->n_env);
    free(proc->cwd);
    free(proc->additional_gids);
    free(proc->rlimits);
    memset(proc, 0, sizeof(*proc));
}

static void free_mounts(moor_mount_t *mounts, size_t n)
{
    for (size_t i = 0; mounts != NULL && i < n; i++) {
        free(mounts[i].destination);
        free(mounts[i].type);
        free(mounts[i].source);
        cj_free_strings(mounts[i].options, mounts[i].n_options);
    }
    free(mounts);
}

void moor_config_free(moor_config_t *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->oci_version);
    moor_process_free(&cfg->process);
    free(cfg->root_path);
    free(cfg->hostname);
    free_mounts(cfg->mounts, cfg->n_mounts);
    cfg_free_linux(cfg);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- lookups ---- */

const moor_namespace_t *moor_config_namespace(const moor_config_t *cfg, enum moor_ns_type type)
{
    for (size_t i = 0; i < cfg->n_namespaces; i++) {
        if (cfg->namespaces[i].type == type)
            return &cfg->namespaces[i];
    }
    return NULL;
}

const char *moor_ns_type_name(enum moor_ns_type type)
{
    static const char *const names[MOOR_NS_COUNT] = {
        [MOOR_NS_MOUNT] = "mount", [MOOR_NS_PID] = "pid",         [MOOR_NS_UTS] = "uts",
        [MOOR_NS_IPC] = "ipc",     [MOOR_NS_NET] = "network",     [MOOR_NS_CGROUP] = "cgroup",
    };
    return (unsigned)type < MOOR_NS_COUNT ? names[type] : NULL;
}

int moor_ns_clone_flag(enum moor_ns_type type)
{
    static const int flags[MOOR_NS_COUNT] = {
        [MOOR_NS_MOUNT] = CLONE_NEWNS, [MOOR_NS_PID] = CLONE_NEWPID,
        [MOOR_NS_UTS] = CLONE_NEWUTS,  [MOOR_NS_IPC] = CLONE_NEWIPC,
        [MOOR_NS_NET] = CLONE_NEWNET,  [MOOR_NS_CGROUP] = CLONE_NEWCGROUP,
    };
    return (unsigned)type < MOOR_NS_COUNT ? flags[type] : 0;
}

/* First match, as getenv(3) sees it once this env is the process's environ. */
const char *moor_process_getenv(const moor_process_t *proc, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < proc->n_env; i++) {
        const char *e = proc->env[i];
        if (strncmp(e, name, n) == 0 && e[n] == '=')
            return e + n + 1;
    }
    return NULL;
}
