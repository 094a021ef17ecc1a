/*
 * Bookkeeping for the processes a shim holds (init and execs): reading their
 * output into their spools, recording their exits, and deciding when an
 * exited process is finished (exit recorded and output drained).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "moor_util.h"
#include "shim-internal.h"

/* One read buffer for all output: the loop handles one fd at a time. */
static char output_buf[MOOR_RECORD_MAX_PAYLOAD];

void shim_log(const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s moor-shim[%d]: ", when, getpid());
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

shim_proc_t *shim_proc_get(shim_t *sh, uint32_t id)
{
    for (int i = 0; i < SHIM_MAX_PROCS; i++) {
        if (sh->procs[i].used && sh->procs[i].id == id)
            return &sh->procs[i];
    }
    return NULL;
}

static int watch_fd(shim_t *sh, int fd, int kind, int slot, moor_err_t *err)
{
    if (fd < 0)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SHIM_TAG(kind, slot)};
    if (epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return moor_fail_errno(err, "epoll_ctl add fd %d", fd);
    return 0;
}

int shim_proc_watch(shim_t *sh, shim_proc_t *p, int slot, moor_err_t *err)
{
    int ret = watch_fd(sh, p->out_fd, TAG_OUT, slot, err);
    if (ret == 0)
        ret = watch_fd(sh, p->err_fd, TAG_ERR, slot, err);
    return ret;
}

static void close_output(shim_t *sh, int *fd)
{
    if (*fd >= 0) {
        epoll_ctl(sh->epoll_fd, EPOLL_CTL_DEL, *fd, NULL);
        moor_close(fd);
    }
}

/* Read what is there now (at most a few buffers, to stay fair), spool it. */
static void drain_output(shim_t *sh, shim_proc_t *p, int stream)
{
    int *fd = stream == MOOR_STREAM_STDERR ? &p->err_fd : &p->out_fd;
    for (int round = 0; round < 16 && *fd >= 0; round++) {
        ssize_t n = read(*fd, output_buf, sizeof(output_buf));
        if (n > 0) {
            moor_err_t err;
            if (moor_spool_append(&p->spool, (uint8_t)stream, moor_now_realtime_ns(), output_buf,
                                  (size_t)n, &err) < 0)
                shim_log("process %u: spool: %s", p->id, err.msg);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        /* EOF, or EIO from a pty whose slave side is all closed. */
        close_output(sh, fd);
        if (stream == MOOR_STREAM_STDOUT && p->terminal)
            moor_close(&p->stdin_fd);
    }
}

void shim_proc_on_output(shim_t *sh, shim_proc_t *p, int stream)
{
    drain_output(sh, p, stream);
    if (p->reaped)
        shim_proc_check_finished(sh, p, false);
    shim_control_answer_spool_waiters(sh, p, moor_now_monotonic_ns());
}

static void record_exit(shim_t *sh, shim_proc_t *p, int status)
{
    moor_exit_from_status(&p->exit, status);
    p->exit.pid = p->pid;
    p->exit.finished_ns = moor_now_realtime_ns();
    if (p->id == MOOR_PROCESS_INIT) {
        uint64_t kills = 0;
        moor_err_t err;
        if (sh->cgroup.ops->oom_kills(&sh->cgroup, &kills, &err) == 0)
            p->exit.oom_killed = kills > sh->oom_baseline;
        else
            shim_log("container %s: reading OOM kills: %s", sh->opt.id, err.msg);
    }
    moor_err_t err;
    if (moor_exit_write(p->exit_path, &p->exit, &err) < 0)
        shim_log("process %u: exit record: %s", p->id, err.msg);
}

void shim_proc_on_reaped(shim_t *sh, shim_proc_t *p, int status)
{
    /* The exit record goes to disk before anything else happens. */
    record_exit(sh, p, status);
    p->reaped = true;
    p->status = MOOR_STATUS_EXITED;
    p->reaped_at_ns = moor_now_monotonic_ns();
    shim_log("process %u (pid %d) exited with %d%s", p->id, p->pid, p->exit.exit_code,
             p->exit.oom_killed ? " (OOM killed)" : "");
    /* Drain what is already in the pipes, then see whether we are done. */
    drain_output(sh, p, MOOR_STREAM_STDOUT);
    drain_output(sh, p, MOOR_STREAM_STDERR);
    shim_proc_check_finished(sh, p, false);
}

static void remove_container_cgroup(shim_t *sh)
{
    if (!sh->cgroup_created)
        return;
    moor_err_t err;
    if (sh->cgroup.ops->destroy(&sh->cgroup, &err) < 0)
        shim_log("container %s: removing cgroup: %s", sh->opt.id, err.msg);
    else
        sh->cgroup_created = false;
}

/*
 * Finished = reaped and its output closed (or the grace period is over: a
 * background child may keep an exec's pipe open forever).
 */
void shim_proc_check_finished(shim_t *sh, shim_proc_t *p, bool force)
{
    if (!p->reaped || p->finished)
        return;
    bool drained = p->out_fd < 0 && p->err_fd < 0;
    bool late = moor_now_monotonic_ns() - p->reaped_at_ns > SHIM_OUTPUT_GRACE_NS;
    if (!drained && !force && !late)
        return;
    if (!drained) {
        drain_output(sh, p, MOOR_STREAM_STDOUT);
        drain_output(sh, p, MOOR_STREAM_STDERR);
        close_output(sh, &p->out_fd);
        close_output(sh, &p->err_fd);
    }
    moor_close(&p->stdin_fd);
    moor_err_t err;
    if (moor_spool_flush_loss(&p->spool, &err) < 0)
        shim_log("process %u: spool: %s", p->id, err.msg);
    p->finished = true;
    if (p->id == MOOR_PROCESS_INIT)
        remove_container_cgroup(sh);
    shim_control_answer_waiters(sh, p);
    shim_control_answer_spool_waiters(sh, p, moor_now_monotonic_ns());
}
