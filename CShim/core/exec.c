/*
 * A further process in the running container: join its namespaces and
 * cgroup from /proc/INIT/ns, fork once more so the process is inside the
 * container's pid namespace, then the same last steps as init.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "moor_util.h"
#include "shim-internal.h"

/* Order matters: the mount namespace last, /proc/INIT is gone after it. */
static const enum moor_ns_type join_order[] = {
    MOOR_NS_IPC, MOOR_NS_UTS, MOOR_NS_NET, MOOR_NS_PID, MOOR_NS_CGROUP, MOOR_NS_MOUNT,
};
static const char *const ns_files[] = {
    [MOOR_NS_MOUNT] = "mnt", [MOOR_NS_PID] = "pid", [MOOR_NS_UTS] = "uts",
    [MOOR_NS_IPC] = "ipc",   [MOOR_NS_NET] = "net", [MOOR_NS_CGROUP] = "cgroup",
};

static int open_ns_fds(pid_t init, int fds[MOOR_NS_COUNT], moor_err_t *err)
{
    for (int t = 0; t < MOOR_NS_COUNT; t++)
        fds[t] = -1;
    for (size_t i = 0; i < sizeof(join_order) / sizeof(join_order[0]); i++) {
        enum moor_ns_type t = join_order[i];
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", init, ns_files[t]);
        fds[t] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[t] < 0)
            return moor_fail_errno(err, "open `%s`", path);
    }
    return 0;
}

static void close_ns_fds(int fds[MOOR_NS_COUNT])
{
    for (int t = 0; t < MOOR_NS_COUNT; t++)
        moor_close(&fds[t]);
}

/* In the intermediate child: join everything, fork the real process. */
static void exec_child(shim_t *sh, const moor_process_t *proc, shim_stdio_t *io, int fds[],
                       int pid_fd, int error_fd)
{
    moor_err_t err = {0};
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (sh->cgroup.ops->enter(&sh->cgroup, getpid(), &err) < 0)
        shim_child_fail(error_fd, &err);
    for (size_t i = 0; i < sizeof(join_order) / sizeof(join_order[0]); i++) {
        enum moor_ns_type t = join_order[i];
        if (setns(fds[t], 0) < 0) {
            moor_fail_errno(&err, "join the container's %s namespace", moor_ns_type_name(t));
            shim_child_fail(error_fd, &err);
        }
    }
    pid_t pid = fork();
    if (pid < 0) {
        moor_fail_errno(&err, "fork the exec process");
        shim_child_fail(error_fd, &err);
    }
    if (pid == 0) {
        if (setsid() < 0)
            moor_fail_errno(&err, "setsid");
        else if (shim_stdio_install(io, false, &err) == 0)
            shim_exec_process(proc, sh->has_seccomp ? &sh->seccomp : NULL, &err);
        shim_child_fail(error_fd, &err);
    }
    /* Report the host pid of the real process, then leave: the shim,
     * as subreaper, becomes its parent. */
    moor_write_all(pid_fd, &pid, sizeof(pid));
    _exit(0);
}

static shim_proc_t *free_slot(shim_t *sh, int *slot)
{
    for (int i = 1; i < SHIM_MAX_PROCS; i++) {
        if (!sh->procs[i].used) {
            *slot = i;
            return &sh->procs[i];
        }
    }
    /* Reuse the oldest finished exec whose record is already on disk. */
    for (int i = 1; i < SHIM_MAX_PROCS; i++) {
        if (sh->procs[i].finished) {
            moor_spool_close(&sh->procs[i].spool);
            *slot = i;
            return &sh->procs[i];
        }
    }
    return NULL;
}

static int prepare_proc(shim_t *sh, shim_proc_t *p, uint32_t id, moor_err_t *err)
{
    char dir[PATH_MAX], spool[PATH_MAX];
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->out_fd = p->err_fd = p->stdin_fd = -1;
    if (snprintf(dir, sizeof(dir), "%s/exec-%u", sh->opt.state_dir, id) >= (int)sizeof(dir))
        return moor_fail(err, ENAMETOOLONG, "exec %u: state path too long", id);
    snprintf(spool, sizeof(spool), "%s/spool", dir);
    snprintf(p->exit_path, sizeof(p->exit_path), "%s/exit", dir);
    int ret = moor_spool_open(&p->spool, spool, sh->opt.spool_max, err);
    if (ret < 0)
        return ret;
    p->spool_open = true;
    return 0;
}

static int spawn(shim_t *sh, const moor_process_t *proc, shim_stdio_t *io, pid_t *out, moor_err_t *err)
{
    int fds[MOOR_NS_COUNT], pidp[2] = {-1, -1}, errp[2] = {-1, -1};
    int ret = open_ns_fds(sh->procs[0].pid, fds, err);
    if (ret == 0 && (pipe2(pidp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
        ret = moor_fail_errno(err, "pipes for exec");
    pid_t mid = ret == 0 ? fork() : -1;
    if (ret == 0 && mid < 0)
        ret = moor_fail_errno(err, "fork for exec");
    if (mid == 0)
        exec_child(sh, proc, io, fds, pidp[1], errp[1]);
    moor_close(&pidp[1]);
    moor_close(&errp[1]);
    /* Our copies of the child's ends must go, or a failing child's EOF never comes. */
    shim_stdio_close_child(io);
    pid_t pid = -1;
    if (ret == 0) {
        ssize_t n = moor_read_all(pidp[0], &pid, sizeof(pid));
        while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
            ;
        moor_err_t child_err = {0};
        int got = shim_stdio_receive_console(io, &child_err);
        if (got < 0) {
            *err = child_err;
            ret = got;
        } else if (shim_read_child_error(errp[0], &child_err) > 0) {
            *err = child_err;
            ret = -child_err.code;
        } else if (n != sizeof(pid))
            ret = moor_fail(err, EIO, "exec: the process died while starting");
    }
    close_ns_fds(fds);
    moor_close(&pidp[0]);
    moor_close(&errp[0]);
    *out = pid;
    return ret;
}

int shim_exec_start(shim_t *sh, const char *json, size_t len, bool want_stdin, uint32_t *out_id,
                    pid_t *out_pid, moor_err_t *err)
{
    shim_proc_t *init = &sh->procs[0];
    if (init->reaped)
        return moor_fail(err, ESRCH, "container %s is not running", sh->opt.id);
    int slot;
    shim_proc_t *p = free_slot(sh, &slot);
    if (p == NULL)
        return moor_fail(err, EAGAIN, "container %s: too many execs running", sh->opt.id);
    moor_process_t proc;
    int ret = moor_process_parse(json, len, &proc, err);
    if (ret < 0)
        return ret;
    shim_stdio_t io;
    uint32_t id = sh->next_exec_id;
    if ((ret = prepare_proc(sh, p, id, err)) == 0 &&
        (ret = shim_stdio_open(&io, proc.terminal, want_stdin, proc.console_rows, proc.console_cols, err)) == 0) {
        pid_t pid;
        ret = spawn(sh, &proc, &io, &pid, err);
        shim_stdio_close_child(&io);
        if (ret == 0) {
            sh->next_exec_id++;
            p->used = true;
            p->pid = pid;
            p->status = MOOR_STATUS_RUNNING;
            p->terminal = proc.terminal;
            p->out_fd = io.parent_out;
            p->err_fd = io.parent_err;
            p->stdin_fd = io.parent_in;
            p->exit.started_ns = moor_now_realtime_ns();
            *out_id = id;
            *out_pid = pid;
            ret = shim_proc_watch(sh, p, slot, err);
        } else
            shim_stdio_close_all(&io);
    }
    if (ret < 0 && !p->used && p->spool_open)
        moor_spool_remove(&p->spool, NULL);
    moor_process_free(&proc);
    return ret;
}
