/*
 * Compiled seccomp filters. libseccomp turns Docker's profile (300+ rules)
 * into BPF in several milliseconds, once per container start and again per
 * exec. The result depends only on the profile, the architecture and this
 * build, so the shim compiles in the parent, before the container's clone,
 * and keeps the program in a cache directory the daemon gives it
 * (EXEC_ROOT/seccomp: tmpfs, gone with the reboot that could change the
 * kernel); the child only installs it.
 */
#include "moor_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "moor_shim.h"
#include "moor_util.h"
#include "seccomp-internal.h"

/* FNV-1a, 64 bits: a cache key, not a security boundary (the cache is
 * root's, in the daemon's exec-root). */
static void fnv(uint64_t *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        *h ^= p[i];
        *h *= 0x100000001b3ull;
    }
}

static void fnv_str(uint64_t *h, const char *s)
{
    fnv(h, s, strlen(s) + 1);
}

static void fnv_u64(uint64_t *h, uint64_t v)
{
    fnv(h, &v, sizeof(v));
}

/* Everything that shapes the program: this build, the profile's fields. */
static uint64_t profile_key(const moor_seccomp_t *p)
{
    uint64_t h = 0xcbf29ce484222325ull;
    fnv_str(&h, MOOR_SHIM_VERSION);
    fnv_u64(&h, (uint64_t)seccomp_version()->major << 32 | seccomp_version()->minor << 16 |
                    seccomp_version()->micro);
    fnv_u64(&h, (uint64_t)p->default_action << 32 | p->has_default_errno_ret << 16 | p->default_errno_ret);
    for (size_t i = 0; i < p->n_architectures; i++)
        fnv_str(&h, p->architectures[i]);
    for (size_t r = 0; r < p->n_rules; r++) {
        const moor_seccomp_rule_t *rule = &p->rules[r];
        fnv_u64(&h, r);
        for (size_t i = 0; i < rule->n_names; i++)
            fnv_str(&h, rule->names[i]);
        fnv_u64(&h, (uint64_t)rule->action << 32 | rule->has_errno_ret << 16 | rule->errno_ret);
        for (size_t i = 0; i < rule->n_args; i++) {
            fnv_u64(&h, rule->args[i].index);
            fnv_u64(&h, rule->args[i].value);
            fnv_u64(&h, rule->args[i].value_two);
            fnv_u64(&h, rule->args[i].op);
        }
    }
    return h;
}

static int cache_path(char *out, const char *dir, uint64_t key)
{
    return snprintf(out, PATH_MAX, "%s/%016llx.bpf", dir, (unsigned long long)key) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* A cached program: a whole number of instructions, within BPF's limit. */
static int load_cached(const char *path, moor_bpf_t *out)
{
    char *data = NULL;
    size_t len = 0;
    if (moor_read_file_alloc(path, &data, &len, NULL) < 0)
        return -ENOENT;
    if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        free(data);
        unlink(path); /* torn or foreign: compile afresh */
        return -EINVAL;
    }
    out->insns = (struct sock_filter *)data;
    out->len = (unsigned short)(len / sizeof(struct sock_filter));
    return 0;
}

/* libseccomp writes BPF to an fd: a memfd, read back into memory. */
static int export_program(scmp_filter_ctx ctx, moor_bpf_t *out, moor_err_t *err)
{
    int fd moor_cleanup_close = memfd_create("moor-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "seccomp: memfd_create");
    int ret = seccomp_export_bpf(ctx, fd);
    if (ret < 0) {
        errno = -ret;
        return moor_fail_errno(err, "seccomp: seccomp_export_bpf");
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        return moor_fail(err, EINVAL, "seccomp: the compiled filter has a bad size (%lld bytes)", (long long)size);
    struct sock_filter *insns = malloc((size_t)size);
    if (insns == NULL)
        return moor_fail(err, ENOMEM, "seccomp: out of memory for the filter");
    if (pread(fd, insns, (size_t)size, 0) != size) {
        free(insns);
        return moor_fail_errno(err, "seccomp: read the compiled filter");
    }
    out->insns = insns;
    out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    return 0;
}

int moor_seccomp_compile(const moor_seccomp_t *profile, const char *cache_dir, moor_bpf_t *out, moor_err_t *err)
{
    memset(out, 0, sizeof(*out));
    char path[PATH_MAX];
    bool cached = cache_dir != NULL && cache_dir[0] != '\0' && cache_path(path, cache_dir, profile_key(profile)) == 0;
    if (cached && load_cached(path, out) == 0)
        return 0;
    scmp_filter_ctx ctx = NULL;
    int ret = moor_seccomp_build(profile, &ctx, err);
    if (ret == 0)
        ret = export_program(ctx, out, err);
    seccomp_release(ctx);
    if (ret < 0 || !cached)
        return ret;
    /* Best effort: a cache that cannot be written only costs time. */
    if (moor_mkdir_p(cache_dir, 0700, NULL) == 0)
        moor_write_file_atomic(path, (const char *)out->insns, out->len * sizeof(struct sock_filter), NULL);
    return 0;
}

int moor_seccomp_install(const moor_bpf_t *bpf, moor_err_t *err)
{
    struct sock_fprog prog = {.len = bpf->len, .filter = bpf->insns};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return moor_fail_errno(err, "seccomp: install the filter (%u instructions)", bpf->len);
    return 0;
}

void moor_bpf_free(moor_bpf_t *bpf)
{
    free(bpf->insns);
    bpf->insns = NULL;
    bpf->len = 0;
}
