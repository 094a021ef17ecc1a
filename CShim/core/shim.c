/*
 * The detached shim: set itself up outside the starter's cgroup, start the
 * container, report to the starter, then serve the event loop until told to
 * shut down. After the report it never exits on an error: it is the only
 * holder of the container's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "moor_memory.h"
#include "moor_util.h"
#include "shim-internal.h"

static int redirect_stdio(shim_t *sh, moor_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/shim.log", sh->opt.state_dir);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (log < 0 || null < 0)
        return moor_fail_errno(err, "open `%s`", path);
    /* Never hold the starter's stdout: its reader waits for EOF. */
    if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
        return moor_fail_errno(err, "redirect the shim's stdio to `%s`", path);
    close(log);
    close(null);
    return 0;
}

static int setup_signals(shim_t *sh, moor_err_t *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return moor_fail_errno(err, "block signals");
    sh->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sh->signal_fd < 0)
        return moor_fail_errno(err, "signalfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SHIM_TAG(TAG_SIGNAL, 0)};
    if (epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, sh->signal_fd, &ev) < 0)
        return moor_fail_errno(err, "epoll_ctl add signalfd");
    return 0;
}

/* The shim's own cgroup: out of whatever cgroup the starter was in. */
static int enter_shim_cgroup(shim_t *sh, moor_err_t *err)
{
    int ret = moor_cgroup_init_host(&sh->shim_cgroup, sh->opt.shim_cgroup, err);
    if (ret == 0)
        ret = sh->shim_cgroup.ops->create(&sh->shim_cgroup, err);
    if (ret == 0) {
        sh->shim_cgroup_created = true;
        ret = sh->shim_cgroup.ops->enter(&sh->shim_cgroup, getpid(), err);
    }
    return ret < 0 ? moor_err_wrap(err, "shim cgroup") : 0;
}

static int setup_container_cgroup(shim_t *sh, moor_err_t *err)
{
    char fallback[PATH_MAX];
    const char *path = sh->cfg.cgroups_path;
    if (path == NULL || path[0] == '\0') {
        snprintf(fallback, sizeof(fallback), "/moor/%s", sh->opt.id);
        path = fallback;
    }
    int ret = moor_cgroup_init_host(&sh->cgroup, path, err);
    if (ret == 0 && (ret = sh->cgroup.ops->create(&sh->cgroup, err)) == 0) {
        sh->cgroup_created = true;
        ret = sh->cgroup.ops->apply(&sh->cgroup, &sh->cfg.resources, err);
    }
    return ret < 0 ? moor_err_wrap(err, "container %s: cgroup %s", sh->opt.id, path) : 0;
}

static int setup_init_proc(shim_t *sh, moor_err_t *err)
{
    shim_proc_t *p = &sh->procs[0];
    p->used = true;
    p->id = MOOR_PROCESS_INIT;
    p->out_fd = p->err_fd = p->stdin_fd = -1;
    p->terminal = sh->cfg.process.terminal;
    snprintf(p->exit_path, sizeof(p->exit_path), "%s", sh->opt.exit_path);
    /* A stale exit record would describe an earlier run. */
    if (unlink(p->exit_path) < 0 && errno != ENOENT)
        return moor_fail_errno(err, "remove stale exit record `%s`", p->exit_path);
    int ret = moor_spool_open(&p->spool, sh->opt.spool_dir, sh->opt.spool_max, err);
    if (ret == 0)
        p->spool_open = true;
    return ret;
}

/* Compiled here, before the clone: the child only installs it. */
static int compile_seccomp(shim_t *sh, moor_err_t *err)
{
    if (!sh->cfg.has_seccomp)
        return 0;
    int ret = moor_seccomp_compile(&sh->cfg.seccomp, sh->opt.seccomp_cache, &sh->seccomp, err);
    if (ret < 0)
        return moor_err_wrap(err, "container %s: linux.seccomp", sh->opt.id);
    sh->has_seccomp = true;
    return 0;
}

static int start_container(shim_t *sh, moor_err_t *err)
{
    shim_proc_t *p = &sh->procs[0];
    shim_stdio_t io;
    const moor_process_t *proc = &sh->cfg.process;
    int ret = shim_stdio_open(&io, proc->terminal, sh->opt.stdin_open, proc->console_rows,
                              proc->console_cols, err);
    if (ret < 0)
        return ret;
    p->exit.started_ns = moor_now_realtime_ns();
    if ((ret = shim_container_start(sh, &io, err)) < 0) {
        shim_stdio_close_all(&io);
        return ret;
    }
    p->status = MOOR_STATUS_RUNNING;
    p->out_fd = io.parent_out;
    p->err_fd = io.parent_err;
    p->stdin_fd = io.parent_in;
    return shim_proc_watch(sh, p, 0, err);
}

static int setup(shim_t *sh, moor_err_t *err)
{
    int ret = redirect_stdio(sh, err);
    if (ret == 0 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        ret = moor_fail_errno(err, "become a child subreaper");
    if (ret == 0 && (sh->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        ret = moor_fail_errno(err, "epoll_create1");
    if (ret == 0)
        ret = setup_signals(sh, err);
    if (ret == 0)
        ret = enter_shim_cgroup(sh, err);
    if (ret == 0)
        ret = setup_init_proc(sh, err);
    if (ret == 0)
        ret = shim_control_listen(sh, err);
    if (ret == 0)
        ret = compile_seccomp(sh, err);
    if (ret == 0)
        ret = setup_container_cgroup(sh, err);
    if (ret == 0)
        ret = start_container(sh, err);
    return ret;
}

static void write_pid_file(shim_t *sh)
{
    char path[PATH_MAX], pid[32];
    snprintf(path, sizeof(path), "%s/shim.pid", sh->opt.state_dir);
    int len = snprintf(pid, sizeof(pid), "%d\n", getpid());
    moor_err_t err;
    if (moor_write_file_atomic(path, pid, (size_t)len, &err) < 0)
        shim_log("%s", err.msg);
}

/* Move the shim somewhere outside its own cgroup, so that can be removed. */
static int move_out_of_shim_cgroup(shim_t *sh, moor_err_t *err)
{
    /* v2: the parent has controllers enabled for its children, so it
     * cannot hold a process (EBUSY); the root always can. */
    if (sh->shim_cgroup.mode == MOOR_CGROUP_V2)
        return moor_cg_write_pid(sh->shim_cgroup.root, getpid(), err);
    /* v1: the parent, which moor created. */
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", sh->opt.shim_cgroup);
    char *slash = strrchr(parent, '/');
    if (slash == NULL || slash == parent)
        return 0;
    *slash = '\0';
    moor_cgroup_t up;
    int ret = moor_cgroup_init_host(&up, parent, err);
    return ret < 0 ? ret : up.ops->enter(&up, getpid(), err);
}

/* Leave our own cgroup and remove it. */
static void leave_shim_cgroup(shim_t *sh)
{
    if (!sh->shim_cgroup_created)
        return;
    moor_err_t err;
    if (move_out_of_shim_cgroup(sh, &err) < 0) {
        shim_log("leaving the shim cgroup: %s", err.msg);
        return;
    }
    if (sh->shim_cgroup.ops->destroy(&sh->shim_cgroup, &err) < 0)
        shim_log("removing the shim cgroup: %s", err.msg);
    sh->shim_cgroup_created = false;
}

static void cleanup_resources(shim_t *sh)
{
    moor_err_t err;
    if (sh->listen_fd > 0) {
        close(sh->listen_fd);
        unlink(sh->opt.socket_path);
    }
    if (sh->cgroup_created && sh->cgroup.ops->destroy(&sh->cgroup, &err) < 0)
        shim_log("removing the container cgroup: %s", err.msg);
    leave_shim_cgroup(sh);
}

/* Failed start: undo everything, so the starter's error leaves nothing. */
static void fail_start(shim_t *sh, int start_fd, const moor_err_t *err)
{
    cleanup_resources(sh);
    if (sh->procs[0].spool_open)
        moor_spool_remove(&sh->procs[0].spool, NULL);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/shim.log", sh->opt.state_dir);
    unlink(path);
    shim_start_report_t rep = {.code = err->code != 0 ? err->code : EIO};
    /* Only a failed execve maps to Docker's 126/127; the rest is 1. */
    rep.exit_status = strncmp(err->msg, "exec", 4) == 0 ? shim_exec_exit_status(rep.code) : 1;
    snprintf(rep.msg, sizeof(rep.msg), "%s", err->msg);
    moor_write_all(start_fd, &rep, sizeof(rep));
    _exit(1);
}

void shim_shutdown_and_exit(shim_t *sh)
{
    shim_proc_t *init = &sh->procs[0];
    if (!init->reaped && init->pid > 0) {
        kill(init->pid, SIGKILL);
        int status;
        while (waitpid(init->pid, &status, 0) < 0 && errno == EINTR)
            ;
        shim_proc_on_reaped(sh, init, status);
        shim_proc_check_finished(sh, init, true);
    }
    for (int i = 0; i < SHIM_MAX_PROCS; i++)
        if (sh->procs[i].spool_open)
            moor_spool_close(&sh->procs[i].spool);
    cleanup_resources(sh);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/shim.pid", sh->opt.state_dir);
    unlink(path);
    shim_log("container %s: shim exits", sh->opt.id);
    _exit(0);
}

static void reap_children(shim_t *sh)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return;
        for (int i = 0; i < SHIM_MAX_PROCS; i++) {
            shim_proc_t *p = &sh->procs[i];
            if (p->used && !p->reaped && p->pid == pid)
                shim_proc_on_reaped(sh, p, status);
        }
    }
}

static void on_signals(shim_t *sh)
{
    struct signalfd_siginfo si;
    while (read(sh->signal_fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            reap_children(sh);
        else
            shim_log("ignoring signal %u: the shim stays with its container", si.ssi_signo);
    }
    /* Coalesced SIGCHLDs: reap anyway. */
    reap_children(sh);
}

static void dispatch_event(shim_t *sh, uint64_t tag)
{
    uint32_t kind = (uint32_t)(tag >> 32), idx = (uint32_t)tag;
    switch (kind) {
    case TAG_SIGNAL: on_signals(sh); break;
    case TAG_LISTEN: shim_control_accept(sh); break;
    case TAG_CLIENT: shim_control_on_readable(sh, (int)idx); break;
    case TAG_OUT: shim_proc_on_output(sh, &sh->procs[idx], MOOR_STREAM_STDOUT); break;
    case TAG_ERR: shim_proc_on_output(sh, &sh->procs[idx], MOOR_STREAM_STDERR); break;
    default: shim_log("unknown event tag %#llx", (unsigned long long)tag);
    }
}

/* Poll quickly only while some process waits out its output grace;
 * otherwise sleep until the nearest parked spool read is due. */
static int loop_timeout(shim_t *sh)
{
    for (int i = 0; i < SHIM_MAX_PROCS; i++) {
        shim_proc_t *p = &sh->procs[i];
        if (p->used && p->reaped && !p->finished)
            return 100;
    }
    return shim_control_spool_timeout_ms(sh, moor_now_monotonic_ns());
}

static void check_grace(shim_t *sh)
{
    for (int i = 0; i < SHIM_MAX_PROCS; i++) {
        shim_proc_t *p = &sh->procs[i];
        if (p->used && p->reaped && !p->finished)
            shim_proc_check_finished(sh, p, false);
    }
}

void shim_run(shim_t *sh, int start_fd)
{
    moor_err_t err = {0};
    sh->listen_fd = -1;
    sh->next_exec_id = 1;
    for (int i = 0; i < SHIM_MAX_CLIENTS; i++)
        sh->clients[i].fd = -1;
    if (setup(sh, &err) < 0)
        fail_start(sh, start_fd, &err);
    write_pid_file(sh);
    shim_start_report_t rep = {.shim_pid = getpid(), .init_pid = sh->procs[0].pid};
    moor_write_all(start_fd, &rep, sizeof(rep));
    close(start_fd);
    shim_log("container %s: init pid %d", sh->opt.id, sh->procs[0].pid);
    moor_trim_memory();
    struct epoll_event events[32];
    for (;;) {
        int n = epoll_wait(sh->epoll_fd, events, 32, loop_timeout(sh));
        if (n < 0 && errno != EINTR)
            shim_log("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            dispatch_event(sh, events[i].data.u64);
        check_grace(sh);
        shim_control_answer_spool_waiters(sh, NULL, moor_now_monotonic_ns());
    }
}
