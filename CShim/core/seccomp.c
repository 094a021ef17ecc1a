/*
 * Loading an OCI seccomp profile with libseccomp. The profile means what it
 * means under runc, so a bundle behaves the same under both runtimes: names
 * this libseccomp does not know are skipped, several conditions on one
 * argument index become separate rules (any of them matches), rules whose
 * action is the default are dropped, and no_new_privs is left to the caller.
 */
#include "moor_seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "moor_util.h"
#include "seccomp-internal.h"

#define MAX_SYSCALL_ARGS 6

static void release_filter(scmp_filter_ctx *ctx)
{
    if (*ctx != NULL)
        seccomp_release(*ctx);
}
#define cleanup_filter __attribute__((cleanup(release_filter)))

/* libseccomp calls return -errno; report them like a failed syscall. */
static int fail_scmp(moor_err_t *err, int ret, const char *what, const char *name)
{
    errno = -ret;
    return moor_fail_errno(err, "seccomp: %s \"%s\"", what, name);
}

static int to_action(enum moor_seccomp_action action, bool has_errno, unsigned errno_ret,
                     uint32_t *out, moor_err_t *err)
{
    /* OCI: errnoRet defaults to EPERM; TRACE carries it to the tracer too. */
    unsigned code = has_errno ? errno_ret : EPERM;
    if (code > 0xffff)
        return moor_fail(err, EINVAL, "seccomp: errnoRet %u out of range", code);
    switch (action) {
    case MOOR_SECCOMP_KILL: *out = SCMP_ACT_KILL_THREAD; return 0;
    case MOOR_SECCOMP_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 0;
    case MOOR_SECCOMP_TRAP: *out = SCMP_ACT_TRAP; return 0;
    case MOOR_SECCOMP_ERRNO: *out = SCMP_ACT_ERRNO(code); return 0;
    case MOOR_SECCOMP_TRACE: *out = SCMP_ACT_TRACE(code); return 0;
    case MOOR_SECCOMP_ALLOW: *out = SCMP_ACT_ALLOW; return 0;
    case MOOR_SECCOMP_LOG: *out = SCMP_ACT_LOG; return 0;
    }
    return moor_fail(err, EINVAL, "seccomp: unknown action %d", (int)action);
}

static int to_cmp(const moor_seccomp_arg_t *arg, const char *name, struct scmp_arg_cmp *out,
                  moor_err_t *err)
{
    static const enum scmp_compare ops[] = {
        [MOOR_SECCOMP_OP_NE] = SCMP_CMP_NE, [MOOR_SECCOMP_OP_LT] = SCMP_CMP_LT,
        [MOOR_SECCOMP_OP_LE] = SCMP_CMP_LE, [MOOR_SECCOMP_OP_EQ] = SCMP_CMP_EQ,
        [MOOR_SECCOMP_OP_GE] = SCMP_CMP_GE, [MOOR_SECCOMP_OP_GT] = SCMP_CMP_GT,
        [MOOR_SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
    };
    if (arg->index >= MAX_SYSCALL_ARGS)
        return moor_fail(err, EINVAL, "seccomp: syscall \"%s\": argument index %u out of range",
                         name, arg->index);
    if ((unsigned)arg->op >= sizeof(ops) / sizeof(ops[0]))
        return moor_fail(err, EINVAL, "seccomp: syscall \"%s\": unknown operator %d", name,
                         (int)arg->op);
    /* For MASKED_EQ the OCI "value" is the mask and "valueTwo" the datum,
     * which is libseccomp's (datum_a, datum_b) order. */
    *out = (struct scmp_arg_cmp){
        .arg = arg->index, .op = ops[arg->op], .datum_a = arg->value, .datum_b = arg->value_two,
    };
    return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> its token; 0 if unknown. */
static uint32_t resolve_arch(const char *name)
{
    char lower[32];
    if (strncasecmp(name, "SCMP_ARCH_", 10) == 0)
        name += 10;
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(lower))
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    return seccomp_arch_resolve_name(lower);
}

static int add_arches(scmp_filter_ctx ctx, const moor_seccomp_t *profile, moor_err_t *err)
{
    for (size_t i = 0; i < profile->n_architectures; i++) {
        const char *name = profile->architectures[i];
        uint32_t arch = resolve_arch(name);
        if (arch == 0)
            return moor_fail(err, EINVAL, "seccomp: unknown architecture \"%s\"", name);
        /* The native architecture is in every new filter already. */
        int ret = seccomp_arch_add(ctx, arch);
        if (ret < 0 && ret != -EEXIST)
            return fail_scmp(err, ret, "seccomp_arch_add", name);
    }
    return 0;
}

/* Does some argument index carry more than one condition? */
static bool index_repeats(const moor_seccomp_rule_t *rule)
{
    unsigned seen = 0;
    for (size_t i = 0; i < rule->n_args; i++) {
        unsigned bit = 1u << (rule->args[i].index % MAX_SYSCALL_ARGS);
        if (seen & bit)
            return true;
        seen |= bit;
    }
    return false;
}

static int add_one(scmp_filter_ctx ctx, int nr, uint32_t action, unsigned n,
                   const struct scmp_arg_cmp *cmps, const char *name, moor_err_t *err)
{
    /* Non-exact add: libseccomp rewrites the rule for each architecture
     * (e.g. socket() through socketcall() on x86). */
    int ret = seccomp_rule_add_array(ctx, action, nr, n, cmps);
    return ret < 0 ? fail_scmp(err, ret, "seccomp_rule_add_array for syscall", name) : 0;
}

/*
 * Conditions on distinct indexes go into one rule (all must hold). libseccomp
 * refuses two conditions on the same index in one rule, so then each becomes
 * its own rule (any may hold) -- the meaning Docker's profiles are written for.
 */
static int add_syscall(scmp_filter_ctx ctx, int nr, uint32_t action,
                       const moor_seccomp_rule_t *rule, const char *name, moor_err_t *err)
{
    struct scmp_arg_cmp cmps[MAX_SYSCALL_ARGS];
    bool split = index_repeats(rule);
    size_t n = 0;
    int ret;
    for (size_t i = 0; i < rule->n_args; i++) {
        if ((ret = to_cmp(&rule->args[i], name, &cmps[split ? 0 : n++], err)) < 0)
            return ret;
        if (split && (ret = add_one(ctx, nr, action, 1, cmps, name, err)) < 0)
            return ret;
    }
    return split ? 0 : add_one(ctx, nr, action, (unsigned)n, cmps, name, err);
}

static int add_rule(scmp_filter_ctx ctx, const moor_seccomp_rule_t *rule, uint32_t default_action,
                    moor_err_t *err)
{
    uint32_t action;
    int ret = to_action(rule->action, rule->has_errno_ret, rule->errno_ret, &action, err);
    /* libseccomp rejects a rule that only restates the default. */
    if (ret < 0 || action == default_action)
        return ret;
    for (size_t i = 0; i < rule->n_names; i++) {
        int nr = seccomp_syscall_resolve_name(rule->names[i]);
        /* Unknown to this libseccomp: skip it, as runc does, so one profile
         * serves old and new kernels. */
        if (nr == __NR_SCMP_ERROR)
            continue;
        if ((ret = add_syscall(ctx, nr, action, rule, rule->names[i], err)) < 0)
            return ret;
    }
    return 0;
}

int moor_seccomp_build(const moor_seccomp_t *profile, scmp_filter_ctx *out, moor_err_t *err)
{
    uint32_t default_action;
    int ret = to_action(profile->default_action, profile->has_default_errno_ret,
                        profile->default_errno_ret, &default_action, err);
    if (ret < 0)
        return moor_err_wrap(err, "defaultAction");
    scmp_filter_ctx ctx cleanup_filter = seccomp_init(default_action);
    if (ctx == NULL)
        return moor_fail(err, ENOMEM, "seccomp: seccomp_init failed");
    /* The caller sets no_new_privs (or not) itself, in runc's order; and we
     * want the kernel's errno from seccomp_load, not libseccomp's ECANCELED. */
    if ((ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        return fail_scmp(err, ret, "seccomp_attr_set", "SCMP_FLTATR_CTL_NNP");
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if ((ret = add_arches(ctx, profile, err)) < 0)
        return ret;
    for (size_t i = 0; i < profile->n_rules; i++) {
        if ((ret = add_rule(ctx, &profile->rules[i], default_action, err)) < 0)
            return ret;
    }
    *out = ctx;
    ctx = NULL;
    return 0;
}

int moor_seccomp_load(const moor_seccomp_t *profile, moor_err_t *err)
{
    scmp_filter_ctx ctx cleanup_filter = NULL;
    int ret = moor_seccomp_build(profile, &ctx, err);
    if (ret < 0)
        return ret;
    if ((ret = seccomp_load(ctx)) < 0) {
        errno = -ret;
        return moor_fail_errno(err, "seccomp: seccomp_load");
    }
    return 0;
}

/* ---- probe: load a profile in a throw-away child and try one syscall ---- */

struct probe_report {
    int load_ret;     /* moor_seccomp_load's result in the child */
    int probe_errno;  /* errno of the probed syscall, 0 if it succeeded */
    char msg[MOOR_ERR_MSG_MAX];
};

static __attribute__((noreturn)) void probe_child(int fd, const moor_seccomp_t *profile, int nr,
                                                  const unsigned long *a)
{
    struct probe_report rep = {0};
    moor_err_t err = {0};
    /* no_new_privs lets the filter load without CAP_SYS_ADMIN. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        rep.load_ret = moor_fail_errno(&err, "prctl(PR_SET_NO_NEW_PRIVS)");
    else
        rep.load_ret = moor_seccomp_load(profile, &err);
    if (rep.load_ret == 0) {
        errno = 0;
        if (syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) < 0)
            rep.probe_errno = errno;
    }
    memcpy(rep.msg, err.msg, sizeof(rep.msg));
    (void)moor_write_all(fd, &rep, sizeof(rep));
    _exit(0);
}

static int reap_probe(pid_t pid, moor_err_t *err)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return moor_fail_errno(err, "seccomp probe: waitpid(%d)", (int)pid);
    }
    if (WIFSIGNALED(status))
        return moor_fail(err, ECHILD, "seccomp probe: child killed by signal %d (%s)",
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
    return 0;
}

int moor_seccomp_selftest_in_child(const moor_seccomp_t *profile, const char *syscall_name,
                                   const unsigned long *args, int *out_errno, moor_err_t *err)
{
    static const unsigned long zeros[MAX_SYSCALL_ARGS] = {0};
    int nr = seccomp_syscall_resolve_name(syscall_name);
    if (nr < 0)
        return moor_fail(err, EINVAL, "seccomp probe: no syscall \"%s\" here", syscall_name);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return moor_fail_errno(err, "seccomp probe: pipe2");
    int rfd moor_cleanup_close = fds[0], wfd moor_cleanup_close = fds[1];
    pid_t pid = fork();
    if (pid < 0)
        return moor_fail_errno(err, "seccomp probe: fork");
    if (pid == 0)
        probe_child(wfd, profile, nr, args != NULL ? args : zeros);
    moor_close(&wfd);
    struct probe_report rep;
    ssize_t n = moor_read_all(rfd, &rep, sizeof(rep));
    int ret = reap_probe(pid, err);
    if (ret < 0)
        return ret;
    if (n != (ssize_t)sizeof(rep))
        return moor_fail(err, EPIPE, "seccomp probe: child reported nothing (write denied?)");
    if (rep.load_ret < 0)
        return moor_fail(err, -rep.load_ret, "%s", rep.msg);
    *out_errno = rep.probe_errno;
    return 0;
}
