/*
 * The container's init: cloned into new namespaces, held until the shim has
 * placed it in its cgroup, then it builds its root and execs. Errors cross
 * back on a close-on-exec pipe as {errno, message}; EOF means execve worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "moor_net.h"
#include "moor_util.h"
#include "shim-internal.h"

#define CHILD_STACK_SIZE (256 * 1024)

typedef struct child_args {
    shim_t *sh;
    shim_stdio_t *io;
    int go_fd;      /* read end: the parent says "go" after cgroup placement */
    int error_fd;   /* write end, close-on-exec */
    int join_fds[MOOR_NS_COUNT]; /* namespaces to join by path, -1 if none */
} child_args_t;

static int join_namespaces(child_args_t *a, moor_err_t *err)
{
    for (int t = 0; t < MOOR_NS_COUNT; t++) {
        if (a->join_fds[t] < 0)
            continue;
        const moor_namespace_t *ns = moor_config_namespace(&a->sh->cfg, (enum moor_ns_type)t);
        if (setns(a->join_fds[t], moor_ns_clone_flag((enum moor_ns_type)t)) < 0)
            return moor_fail_errno(err, "join %s namespace `%s`", moor_ns_type_name(ns->type),
                                   ns->path);
        moor_close(&a->join_fds[t]);
    }
    return 0;
}

static int wait_for_go(int fd, moor_err_t *err)
{
    char go;
    ssize_t n = moor_read_all(fd, &go, 1);
    if (n != 1)
        return moor_fail(err, EIO, "the shim went away before the container could start");
    return 0;
}

static int setup_identity(shim_t *sh, moor_err_t *err)
{
    const moor_config_t *cfg = &sh->cfg;
    const moor_namespace_t *uts = moor_config_namespace(cfg, MOOR_NS_UTS);
    if (cfg->hostname != NULL && uts != NULL &&
        sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return moor_fail_errno(err, "sethostname \"%s\"", cfg->hostname);
    return 0;
}

static int child_setup(child_args_t *a, moor_err_t *err)
{
    shim_t *sh = a->sh;
    int ret = wait_for_go(a->go_fd, err);
    if (ret == 0)
        ret = join_namespaces(a, err);
    /* A new cgroup namespace now roots the container at its own cgroup. */
    if (ret == 0 && moor_config_namespace(&sh->cfg, MOOR_NS_CGROUP) != NULL &&
        moor_config_namespace(&sh->cfg, MOOR_NS_CGROUP)->path == NULL &&
        unshare(CLONE_NEWCGROUP) < 0)
        ret = moor_fail_errno(err, "unshare the cgroup namespace");
    if (ret == 0 && setsid() < 0)
        ret = moor_fail_errno(err, "setsid in the container");
    /* A network namespace of its own starts with lo down. */
    const moor_namespace_t *net = moor_config_namespace(&sh->cfg, MOOR_NS_NET);
    if (ret == 0 && net != NULL && net->path == NULL)
        ret = moor_net_loopback_up(err);
    if (ret == 0)
        ret = setup_identity(sh, err);
    if (ret < 0)
        return ret;
    moor_overlay_t ov = {
        .lower = sh->opt.lower, .n_lower = sh->opt.n_lower,
        .upper = sh->opt.upper, .work = sh->opt.work,
    };
    if ((ret = moor_rootfs_setup(&sh->cfg, &ov, NULL, err)) < 0)
        return ret;
    /* After pivot_root: a terminal comes from the container's devpts. */
    if ((ret = shim_stdio_install(a->io, true, err)) < 0)
        return ret;
    return shim_exec_process(&sh->cfg.process, sh->has_seccomp ? &sh->seccomp : NULL, err);
}

static int child_main(void *arg)
{
    child_args_t *a = arg;
    moor_err_t err = {0};
    /* No PDEATHSIG: a shim that dies before "go" makes wait_for_go fail. */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    child_setup(a, &err);
    shim_child_fail(a->error_fd, &err);
}

static int clone_flags(const moor_config_t *cfg)
{
    int flags = SIGCHLD;
    for (size_t i = 0; i < cfg->n_namespaces; i++) {
        const moor_namespace_t *ns = &cfg->namespaces[i];
        /* cgroup ns is unshared by the child after cgroup placement. */
        if (ns->path == NULL && ns->type != MOOR_NS_CGROUP)
            flags |= moor_ns_clone_flag(ns->type);
    }
    return flags;
}

static int open_join_fds(const moor_config_t *cfg, int fds[MOOR_NS_COUNT], moor_err_t *err)
{
    for (int t = 0; t < MOOR_NS_COUNT; t++)
        fds[t] = -1;
    for (size_t i = 0; i < cfg->n_namespaces; i++) {
        const moor_namespace_t *ns = &cfg->namespaces[i];
        if (ns->path == NULL)
            continue;
        if (ns->type == MOOR_NS_PID || ns->type == MOOR_NS_MOUNT)
            return moor_fail(err, ENOTSUP, "linux.namespaces: joining a %s namespace by path is not supported",
                             moor_ns_type_name(ns->type));
        fds[ns->type] = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fds[ns->type] < 0)
            return moor_fail_errno(err, "open %s namespace `%s`", moor_ns_type_name(ns->type), ns->path);
    }
    return 0;
}

static void close_join_fds(int fds[MOOR_NS_COUNT])
{
    for (int t = 0; t < MOOR_NS_COUNT; t++)
        moor_close(&fds[t]);
}

/* Parent side once the child exists: cgroup, oom score, then "go". */
static int place_child(shim_t *sh, pid_t pid, int go_fd, moor_err_t *err)
{
    int ret = sh->cgroup.ops->enter(&sh->cgroup, pid, err);
    if (ret < 0)
        return ret;
    if (sh->cfg.process.has_oom_score_adj) {
        char path[64], value[32];
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
        int len = snprintf(value, sizeof(value), "%d", sh->cfg.process.oom_score_adj);
        if ((ret = moor_write_file(path, value, (size_t)len, err)) < 0)
            return ret;
    }
    if (sh->cgroup.ops->oom_kills(&sh->cgroup, &sh->oom_baseline, err) < 0)
        sh->oom_baseline = 0;
    if (moor_write_all(go_fd, "g", 1) < 0)
        return moor_fail_errno(err, "tell the container process to go on");
    return 0;
}

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int shim_container_start(shim_t *sh, shim_stdio_t *io, moor_err_t *err)
{
    static char stack[CHILD_STACK_SIZE] __attribute__((aligned(16)));
    child_args_t a = {.sh = sh, .io = io};
    int go[2] = {-1, -1}, errp[2] = {-1, -1};
    int ret = open_join_fds(&sh->cfg, a.join_fds, err);
    if (ret == 0 && (pipe2(go, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
        ret = moor_fail_errno(err, "pipes to the container process");
    if (ret < 0)
        goto out;
    a.go_fd = go[0];
    a.error_fd = errp[1];
    pid_t pid = clone(child_main, stack + sizeof(stack), clone_flags(&sh->cfg), &a);
    if (pid < 0) {
        ret = moor_fail_errno(err, "clone the container process");
        goto out;
    }
    moor_close(&errp[1]);
    moor_close(&go[0]);
    shim_stdio_close_child(io);
    if ((ret = place_child(sh, pid, go[1], err)) < 0) {
        kill_and_reap(pid);
        goto out;
    }
    moor_err_t child_err = {0};
    int got = shim_stdio_receive_console(io, &child_err);
    if (got < 0) {
        kill_and_reap(pid);
        *err = child_err;
        ret = got;
        goto out;
    }
    if (shim_read_child_error(errp[0], &child_err) > 0) {
        kill_and_reap(pid);
        *err = child_err;
        ret = -child_err.code;
        goto out;
    }
    sh->procs[0].pid = pid;
    ret = 0;
out:
    moor_close(&go[0]);
    moor_close(&go[1]);
    moor_close(&errp[0]);
    moor_close(&errp[1]);
    close_join_fds(a.join_fds);
    return ret;
}
