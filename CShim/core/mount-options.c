/*
 * OCI mount options -> mount(2) arguments. Words the kernel knows as flags
 * become MS_* bits (set or cleared), propagation words become a separate
 * mask applied after the mount, and everything else (size=, mode=,
 * newinstance, ...) is filesystem data passed through, joined by commas.
 */
#include "moor_rootfs.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>

enum opt_kind {
    OPT_SET,         /* flags |= bits */
    OPT_CLEAR,       /* flags &= ~bits */
    OPT_PROPAGATION, /* propagation = bits (the last one given wins) */
};

typedef struct mount_opt {
    const char *name;
    enum opt_kind kind;
    unsigned long bits;
} mount_opt_t;

static const mount_opt_t mount_opts[] = {
    {"ro", OPT_SET, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"nosuid", OPT_SET, MS_NOSUID},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nodev", OPT_SET, MS_NODEV},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"noexec", OPT_SET, MS_NOEXEC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"sync", OPT_SET, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_SET, MS_DIRSYNC},
    {"remount", OPT_SET, MS_REMOUNT},
    {"mand", OPT_SET, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"noatime", OPT_SET, MS_NOATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"nodiratime", OPT_SET, MS_NODIRATIME},
    {"relatime", OPT_SET, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_SET, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"bind", OPT_SET, MS_BIND},
    {"rbind", OPT_SET, MS_BIND | MS_REC},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
};

static const mount_opt_t *find_opt(const char *name)
{
    for (size_t i = 0; i < sizeof(mount_opts) / sizeof(mount_opts[0]); i++) {
        if (strcmp(mount_opts[i].name, name) == 0)
            return &mount_opts[i];
    }
    return NULL;
}

/* Append ",opt" (or "opt" first) to data; the cap counts the final NUL. */
static int append_data(char *data, size_t cap, size_t *used, const char *opt, moor_err_t *err)
{
    size_t len = strlen(opt);
    size_t sep = *used > 0 ? 1 : 0;
    if (*used + sep + len + 1 > cap)
        return moor_fail(err, E2BIG, "mount option \"%s\": filesystem data longer than %zu bytes",
                         opt, cap - 1);
    if (sep)
        data[(*used)++] = ',';
    memcpy(data + *used, opt, len + 1);
    *used += len;
    return 0;
}

int moor_mount_options(char *const *options, size_t n, unsigned long *flags,
                       unsigned long *propagation, char *data, size_t data_cap,
                       moor_err_t *err)
{
    if (data == NULL || data_cap == 0)
        return moor_fail(err, EINVAL, "mount options: no room for filesystem data");
    *flags = 0;
    *propagation = 0;
    data[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = options[i];
        if (name == NULL || name[0] == '\0')
            continue;
        const mount_opt_t *o = find_opt(name);
        int ret = 0;
        if (o == NULL)
            ret = append_data(data, data_cap, &used, name, err);
        else if (o->kind == OPT_SET)
            *flags |= o->bits;
        else if (o->kind == OPT_CLEAR)
            *flags &= ~o->bits;
        else
            *propagation = o->bits;
        if (ret < 0)
            return ret;
    }
    return 0;
}
