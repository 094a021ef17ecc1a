/*
 * The default config.json: what Docker gives a container when asked for
 * nothing (its default capabilities, mounts, masked and read-only paths and
 * seccomp profile), with the changes of --cap-add, --cap-drop, --privileged
 * and seccomp=unconfined. No rlimits and no cgroupsPath: the first would
 * change what the container may do beyond Docker's defaults (and this
 * machine refuses RLIMIT_NPROC), the second is the caller's to choose.
 */
#include "moor_spec.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "config-json.h"
#include "moor_caps.h"
#include "moor_seccomp.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_MOUNT_OPTIONS 8
#define OUT_OF_MEMORY "build the default spec: out of memory"

typedef struct spec_mount {
    const char *destination, *type, *source;
    const char *options[MAX_MOUNT_OPTIONS]; /* NULL-terminated */
    bool rw_when_privileged;                /* Docker drops "ro" here for --privileged */
} spec_mount_t;

static const spec_mount_t mounts[] = {
    {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, false},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, false},
    {"/dev/pts", "devpts", "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, false},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}, true},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}, true},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}, false},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"},
     false},
};

static const char *const masked_paths[] = {
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Docker's order: pid, network, ipc, uts, mount, then cgroup. */
static const char *const namespaces[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

/* ---- capabilities ---- */

uint64_t moor_spec_all_caps(void)
{
    uint64_t mask = 0;
    for (int cap = 0; cap < 64; cap++) {
        /* As Docker: only what the kernel knows and our bounding set still
         * has (a nested or restricted host may lack some); asking for more
         * would make the container's capset fail. */
        if (moor_cap_name(cap) != NULL && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
            mask |= 1ull << cap;
    }
    return mask;
}

uint64_t moor_spec_caps(const moor_spec_options_t *opt)
{
    if (opt->privileged)
        return moor_spec_all_caps();
    if (opt->cap_add_all)
        return moor_spec_all_caps() & ~opt->cap_drop;
    if (opt->cap_drop_all)
        return opt->cap_add;
    return (moor_caps_docker_default() & ~opt->cap_drop) | opt->cap_add;
}

int moor_spec_cap_from_flag(const char *name)
{
    char full[64];
    if (name == NULL || strlen(name) + 5 > sizeof(full))
        return -EINVAL;
    /* Docker takes "NET_ADMIN" as well as "CAP_NET_ADMIN". */
    bool prefixed = strncasecmp(name, "CAP_", 4) == 0;
    snprintf(full, sizeof(full), "%s%s", prefixed ? "" : "CAP_", name);
    int cap = moor_cap_from_name(full);
    return cap >= 0 && cap < 64 ? cap : -EINVAL;
}


/* A new array of `n` strings (NULL ends it early), or NULL when out of memory. */
static json_object *strings(const char *const *v, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < n && v[i] != NULL; i++) {
        if (cj_push(a, json_object_new_string(v[i])) < 0) {
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

/* Names of the caps in `mask`, in CAP_* order. */
static json_object *cap_names(uint64_t mask)
{
    const char *names[64];
    size_t n = 0;
    for (int cap = 0; cap < 64; cap++) {
        if ((mask >> cap & 1) != 0 && moor_cap_name(cap) != NULL)
            names[n++] = moor_cap_name(cap);
    }
    return strings(names, n);
}

/* Objects are attached to their parent first and filled after: on failure
 * everything goes with the document, which the caller drops. */
static json_object *child(json_object *parent, const char *key)
{
    json_object *o = json_object_new_object();
    return cj_put(parent, key, o) == 0 ? o : NULL;
}

/* ---- sections ---- */

static int build_capabilities(json_object *process, uint64_t caps)
{
    json_object *c = child(process, "capabilities");
    if (c == NULL)
        return -ENOMEM;
    /* Docker gives no inheritable or ambient caps. */
    static const char *const sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < N_OF(sets); i++) {
        if (cj_put(c, sets[i], cap_names(caps)) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int build_process(json_object *doc, uint64_t caps)
{
    static const char *const args[] = {"sh"};
    json_object *p = child(doc, "process"), *user = NULL;
    if (p == NULL || cj_put(p, "terminal", json_object_new_boolean(0)) < 0 ||
        (user = child(p, "user")) == NULL || cj_put(user, "uid", json_object_new_int(0)) < 0 ||
        cj_put(user, "gid", json_object_new_int(0)) < 0 ||
        cj_put(p, "args", strings(args, N_OF(args))) < 0 ||
        cj_put(p, "env", strings(default_env, N_OF(default_env))) < 0 ||
        cj_put(p, "cwd", json_object_new_string("/")) < 0)
        return -ENOMEM;
    if (build_capabilities(p, caps) < 0)
        return -ENOMEM;
    return cj_put(p, "noNewPrivileges", json_object_new_boolean(0));
}

static json_object *mount_options(const spec_mount_t *m, bool privileged)
{
    const char *opts[MAX_MOUNT_OPTIONS];
    size_t n = 0;
    for (size_t i = 0; i < MAX_MOUNT_OPTIONS && m->options[i] != NULL; i++) {
        if (!(privileged && m->rw_when_privileged && strcmp(m->options[i], "ro") == 0))
            opts[n++] = m->options[i];
    }
    return strings(opts, n);
}

static int build_mounts(json_object *doc, bool privileged)
{
    json_object *arr = json_object_new_array();
    if (cj_put(doc, "mounts", arr) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < N_OF(mounts); i++) {
        json_object *m = json_object_new_object();
        if (cj_push(arr, m) < 0 ||
            cj_put(m, "destination", json_object_new_string(mounts[i].destination)) < 0 ||
            cj_put(m, "type", json_object_new_string(mounts[i].type)) < 0 ||
            cj_put(m, "source", json_object_new_string(mounts[i].source)) < 0 ||
            cj_put(m, "options", mount_options(&mounts[i], privileged)) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int build_namespaces(json_object *linux_obj)
{
    json_object *arr = json_object_new_array();
    if (cj_put(linux_obj, "namespaces", arr) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < N_OF(namespaces); i++) {
        json_object *ns = json_object_new_object();
        if (cj_push(arr, ns) < 0 || cj_put(ns, "type", json_object_new_string(namespaces[i])) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The profile comes as text from seccomp-default.c: parse it into the tree. */
static int build_seccomp(json_object *linux_obj, uint64_t caps, moor_err_t *err)
{
    char *text = NULL;
    int ret = moor_seccomp_default_json(caps, &text, err);
    if (ret < 0)
        return ret;
    json_object *profile = json_tokener_parse(text);
    free(text);
    if (profile == NULL)
        return moor_fail(err, EINVAL, "the default seccomp profile is not valid JSON");
    if (cj_put(linux_obj, "seccomp", profile) < 0)
        return moor_fail(err, ENOMEM, OUT_OF_MEMORY);
    return 0;
}

static int build_linux(json_object *doc, const moor_spec_options_t *opt, uint64_t caps,
                       moor_err_t *err)
{
    json_object *l = child(doc, "linux");
    if (l == NULL || build_namespaces(l) < 0)
        return moor_fail(err, ENOMEM, OUT_OF_MEMORY);
    /* --privileged shows the container everything, as Docker does. */
    if (!opt->privileged &&
        (cj_put(l, "maskedPaths", strings(masked_paths, N_OF(masked_paths))) < 0 ||
         cj_put(l, "readonlyPaths", strings(readonly_paths, N_OF(readonly_paths))) < 0))
        return moor_fail(err, ENOMEM, OUT_OF_MEMORY);
    if (opt->privileged || opt->no_seccomp)
        return 0;
    return build_seccomp(l, caps, err);
}

static int build_document(json_object *doc, const moor_spec_options_t *opt, moor_err_t *err)
{
    uint64_t caps = moor_spec_caps(opt);
    json_object *root = NULL;
    if (cj_put(doc, "ociVersion", json_object_new_string("1.0.2")) < 0 ||
        build_process(doc, caps) < 0 || (root = child(doc, "root")) == NULL ||
        cj_put(root, "path", json_object_new_string("rootfs")) < 0 ||
        cj_put(root, "readonly", json_object_new_boolean(0)) < 0 ||
        cj_put(doc, "hostname", json_object_new_string("moor")) < 0 ||
        build_mounts(doc, opt->privileged) < 0)
        return moor_fail(err, ENOMEM, OUT_OF_MEMORY);
    return build_linux(doc, opt, caps, err);
}

int moor_spec_build(const moor_spec_options_t *opt, char **out, moor_err_t *err)
{
    *out = NULL;
    json_object *doc = json_object_new_object();
    if (doc == NULL)
        return moor_fail(err, ENOMEM, OUT_OF_MEMORY);
    int ret = build_document(doc, opt, err);
    if (ret == 0) {
        const char *text = json_object_to_json_string_ext(
            doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (text == NULL || (*out = strdup(text)) == NULL)
            ret = moor_fail(err, ENOMEM, "print the default spec: out of memory");
    }
    json_object_put(doc);
    return ret;
}

int moor_spec_default(char **out, moor_err_t *err)
{
    moor_spec_options_t opt = {0};
    return moor_spec_build(&opt, out, err);
}
