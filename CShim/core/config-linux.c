/*
 * The "linux" section of config.json: namespaces, resources, masked and
 * read-only paths, seccomp, cgroupsPath, sysctl. User namespaces (and their
 * id mappings) and time namespaces are refused as unsupported (ENOTSUP).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-json.h"

#define N_OF(table) (sizeof(table) / sizeof((table)[0]))

/* ---- namespaces ---- */

static const cj_enum_t ns_types[] = {
    {"mount", MOOR_NS_MOUNT}, {"pid", MOOR_NS_PID},         {"uts", MOOR_NS_UTS},
    {"ipc", MOOR_NS_IPC},     {"network", MOOR_NS_NET},     {"cgroup", MOOR_NS_CGROUP},
};

static int check_ns_supported(cj_ctx_t *c, json_object *item)
{
    json_object *type = cj_field(item, "type");
    if (type == NULL || !json_object_is_type(type, json_type_string))
        return 0; /* cj_get_enum reports it */
    const char *s = json_object_get_string(type);
    if (strcmp(s, "user") != 0 && strcmp(s, "time") != 0)
        return 0;
    size_t mark = cj_push_key(c, "type");
    int ret = cj_fail(c, ENOTSUP, "%s namespaces are not supported", s);
    cj_pop(c, mark);
    return ret;
}

static int parse_namespace(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    moor_namespace_t *ns = slot;
    unsigned *seen = ud; /* bitmask of types already given */
    int type = 0;
    int ret = cj_as_object(c, item);
    if (ret < 0 || (ret = check_ns_supported(c, item)) < 0 ||
        (ret = cj_get_enum(c, item, "type", ns_types, N_OF(ns_types), "namespace type", &type)) < 0)
        return ret;
    if (ret == 0)
        return cj_missing(c, "type");
    ns->type = (enum moor_ns_type)type;
    if (*seen & (1u << type))
        return cj_fail(c, EINVAL, "duplicate namespace type \"%s\"", moor_ns_type_name(ns->type));
    *seen |= 1u << type;
    ret = cj_get_abs_path(c, item, "path", &ns->path);
    return ret < 0 ? ret : 0;
}

/* ---- resources ---- */

/* Store a keyed value and whether it was there; -errno on a bad value. */
#define GET_HAS(getter, obj, key, field, has)                                                       \
    do {                                                                                            \
        int ret_ = getter(c, obj, key, &(field));                                                   \
        if (ret_ < 0)                                                                               \
            return ret_;                                                                            \
        (has) = ret_ > 0;                                                                           \
    } while (0)

static int parse_memory(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_resources_t *r = ud;
    GET_HAS(cj_get_int64, o, "limit", r->memory_limit, r->has_memory_limit);
    GET_HAS(cj_get_int64, o, "swap", r->memory_swap, r->has_memory_swap);
    return 0;
}

static int parse_pids(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_resources_t *r = ud;
    GET_HAS(cj_get_int64, o, "limit", r->pids_limit, r->has_pids_limit);
    return 0;
}

static int parse_cpu(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_resources_t *r = ud;
    GET_HAS(cj_get_uint64, o, "shares", r->cpu_shares, r->has_cpu_shares);
    GET_HAS(cj_get_int64, o, "quota", r->cpu_quota, r->has_cpu_quota);
    GET_HAS(cj_get_uint64, o, "period", r->cpu_period, r->has_cpu_period);
    int ret = cj_get_string(c, o, "cpus", &r->cpuset_cpus);
    if (ret >= 0)
        ret = cj_get_string(c, o, "mems", &r->cpuset_mems);
    return ret < 0 ? ret : 0;
}

/* Other controllers (devices, blockIO, hugepages...) are not ours to apply. */
static int parse_resources(cj_ctx_t *c, json_object *o, void *ud)
{
    int ret = cj_with_object(c, o, "memory", parse_memory, ud);
    if (ret >= 0)
        ret = cj_with_object(c, o, "pids", parse_pids, ud);
    if (ret >= 0)
        ret = cj_with_object(c, o, "cpu", parse_cpu, ud);
    return ret < 0 ? ret : 0;
}

/* ---- seccomp ---- */

static const cj_enum_t seccomp_actions[] = {
    {"SCMP_ACT_KILL", MOOR_SECCOMP_KILL},
    {"SCMP_ACT_KILL_THREAD", MOOR_SECCOMP_KILL},
    {"SCMP_ACT_KILL_PROCESS", MOOR_SECCOMP_KILL_PROCESS},
    {"SCMP_ACT_TRAP", MOOR_SECCOMP_TRAP},
    {"SCMP_ACT_ERRNO", MOOR_SECCOMP_ERRNO},
    {"SCMP_ACT_TRACE", MOOR_SECCOMP_TRACE},
    {"SCMP_ACT_ALLOW", MOOR_SECCOMP_ALLOW},
    {"SCMP_ACT_LOG", MOOR_SECCOMP_LOG},
};

static const cj_enum_t seccomp_ops[] = {
    {"SCMP_CMP_NE", MOOR_SECCOMP_OP_NE},
    {"SCMP_CMP_LT", MOOR_SECCOMP_OP_LT},
    {"SCMP_CMP_LE", MOOR_SECCOMP_OP_LE},
    {"SCMP_CMP_EQ", MOOR_SECCOMP_OP_EQ},
    {"SCMP_CMP_GE", MOOR_SECCOMP_OP_GE},
    {"SCMP_CMP_GT", MOOR_SECCOMP_OP_GT},
    {"SCMP_CMP_MASKED_EQ", MOOR_SECCOMP_OP_MASKED_EQ},
};

static int get_action(cj_ctx_t *c, json_object *o, const char *key, enum moor_seccomp_action *out)
{
    int action = 0;
    int ret = cj_get_enum(c, o, key, seccomp_actions, N_OF(seccomp_actions), "seccomp action",
                          &action);
    if (ret == 0)
        return cj_missing(c, key);
    *out = (enum moor_seccomp_action)action;
    return ret;
}

static int parse_seccomp_arg(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    (void)ud;
    moor_seccomp_arg_t *a = slot;
    uint32_t index = 0;
    int op = 0;
    int ret = cj_as_object(c, item);
    if (ret < 0 || (ret = cj_get_uint32(c, item, "index", &index)) < 0)
        return ret;
    if (ret == 0)
        return cj_missing(c, "index");
    if (index > 5) {
        size_t mark = cj_push_key(c, "index");
        ret = cj_fail(c, EINVAL, "syscall argument index %u out of range (0 to 5)", index);
        cj_pop(c, mark);
        return ret;
    }
    a->index = index;
    if ((ret = cj_get_uint64(c, item, "value", &a->value)) <= 0)
        return ret < 0 ? ret : cj_missing(c, "value");
    if ((ret = cj_get_uint64(c, item, "valueTwo", &a->value_two)) < 0 ||
        (ret = cj_get_enum(c, item, "op", seccomp_ops, N_OF(seccomp_ops), "seccomp operator",
                           &op)) < 0)
        return ret;
    a->op = (enum moor_seccomp_op)op;
    return ret == 0 ? cj_missing(c, "op") : 0;
}

static int parse_seccomp_rule(cj_ctx_t *c, json_object *item, void *slot, void *ud)
{
    (void)ud;
    moor_seccomp_rule_t *r = slot;
    uint32_t errno_ret = 0;
    int ret = cj_as_object(c, item);
    if (ret < 0 || (ret = cj_get_strings(c, item, "names", &r->names, &r->n_names)) < 0)
        return ret;
    if (r->n_names == 0)
        return cj_missing(c, "names");
    if ((ret = get_action(c, item, "action", &r->action)) < 0 ||
        (ret = cj_get_uint32(c, item, "errnoRet", &errno_ret)) < 0)
        return ret;
    r->has_errno_ret = ret > 0;
    r->errno_ret = errno_ret;
    ret = cj_with_array(c, item, "args", sizeof(moor_seccomp_arg_t), (void **)&r->args, &r->n_args,
                        parse_seccomp_arg, NULL);
    return ret < 0 ? ret : 0;
}

static int parse_seccomp(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_seccomp_t *s = ud;
    uint32_t errno_ret = 0;
    int ret = get_action(c, o, "defaultAction", &s->default_action);
    if (ret < 0 || (ret = cj_get_uint32(c, o, "defaultErrnoRet", &errno_ret)) < 0)
        return ret;
    s->has_default_errno_ret = ret > 0;
    s->default_errno_ret = errno_ret;
    if ((ret = cj_get_strings(c, o, "architectures", &s->architectures, &s->n_architectures)) < 0)
        return ret;
    ret = cj_with_array(c, o, "syscalls", sizeof(moor_seccomp_rule_t), (void **)&s->rules,
                        &s->n_rules, parse_seccomp_rule, NULL);
    return ret < 0 ? ret : 0;
}

/* ---- paths, sysctl, id mappings ---- */

static int check_abs_path(cj_ctx_t *c, json_object *item, size_t i, void *ud)
{
    (void)i;
    (void)ud;
    const char *s;
    int ret = cj_as_string(c, item, &s);
    if (ret == 0 && s[0] != '/')
        ret = cj_fail(c, EINVAL, "expected an absolute path, got \"%s\"", s);
    return ret;
}

static int get_abs_paths(cj_ctx_t *c, json_object *o, const char *key, char ***out, size_t *n)
{
    int ret = cj_get_strings(c, o, key, out, n);
    if (ret > 0)
        ret = cj_for_each(c, o, key, check_abs_path, NULL);
    return ret;
}

static int parse_sysctl(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_config_t *cfg = ud;
    size_t count = (size_t)json_object_object_length(o);
    if (count == 0)
        return 0;
    if ((cfg->sysctls = calloc(count, sizeof(moor_sysctl_t))) == NULL)
        return cj_oom(c);
    json_object_object_foreach(o, key, val)
    {
        moor_sysctl_t *s = &cfg->sysctls[cfg->n_sysctls];
        const char *v;
        size_t mark = cj_push_key(c, key);
        int ret = cj_as_string(c, val, &v);
        cj_pop(c, mark);
        if (ret < 0)
            return ret;
        s->key = strdup(key);
        s->value = strdup(v);
        cfg->n_sysctls++;
        if (s->key == NULL || s->value == NULL)
            return cj_oom(c);
    }
    return 0;
}

/* Id mappings only make sense with a user namespace, which moor does not do. */
static int refuse_mappings(cj_ctx_t *c, json_object *o, const char *key)
{
    json_object *arr;
    int ret = cj_get_array(c, o, key, &arr);
    if (ret <= 0 || json_object_array_length(arr) == 0)
        return ret;
    size_t mark = cj_push_key(c, key);
    ret = cj_fail(c, ENOTSUP, "user namespace id mappings are not supported");
    cj_pop(c, mark);
    return ret;
}

int cfg_parse_linux(cj_ctx_t *c, json_object *o, void *ud)
{
    moor_config_t *cfg = ud;
    unsigned ns_seen = 0;
    int ret = refuse_mappings(c, o, "uidMappings");
    if (ret >= 0)
        ret = refuse_mappings(c, o, "gidMappings");
    if (ret >= 0)
        ret = cj_with_array(c, o, "namespaces", sizeof(moor_namespace_t),
                            (void **)&cfg->namespaces, &cfg->n_namespaces, parse_namespace,
                            &ns_seen);
    if (ret >= 0)
        ret = cj_with_object(c, o, "resources", parse_resources, &cfg->resources);
    if (ret >= 0)
        ret = get_abs_paths(c, o, "maskedPaths", &cfg->masked_paths, &cfg->n_masked_paths);
    if (ret >= 0)
        ret = get_abs_paths(c, o, "readonlyPaths", &cfg->readonly_paths, &cfg->n_readonly_paths);
    if (ret >= 0 && (ret = cj_with_object(c, o, "seccomp", parse_seccomp, &cfg->seccomp)) > 0)
        cfg->has_seccomp = true;
    if (ret >= 0)
        ret = cj_get_string(c, o, "cgroupsPath", &cfg->cgroups_path);
    if (ret >= 0)
        ret = cj_with_object(c, o, "sysctl", parse_sysctl, cfg);
    return ret < 0 ? ret : 0;
}

/* ---- freeing ---- */

static void free_seccomp(moor_seccomp_t *s)
{
    cj_free_strings(s->architectures, s->n_architectures);
    for (size_t i = 0; s->rules != NULL && i < s->n_rules; i++) {
        cj_free_strings(s->rules[i].names, s->rules[i].n_names);
        free(s->rules[i].args);
    }
    free(s->rules);
}

void cfg_free_linux(moor_config_t *cfg)
{
    for (size_t i = 0; cfg->namespaces != NULL && i < cfg->n_namespaces; i++)
        free(cfg->namespaces[i].path);
    free(cfg->namespaces);
    free(cfg->resources.cpuset_cpus);
    free(cfg->resources.cpuset_mems);
    cj_free_strings(cfg->masked_paths, cfg->n_masked_paths);
    cj_free_strings(cfg->readonly_paths, cfg->n_readonly_paths);
    free_seccomp(&cfg->seccomp);
    free(cfg->cgroups_path);
    for (size_t i = 0; cfg->sysctls != NULL && i < cfg->n_sysctls; i++) {
        free(cfg->sysctls[i].key);
        free(cfg->sysctls[i].value);
    }
    free(cfg->sysctls);
}
