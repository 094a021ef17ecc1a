/*
 * What every container process needs, init or exec: its stdio (pipes, or a
 * pty), and the last steps before execve — rlimits, cwd, capabilities, user,
 * no_new_privs, seccomp — in the order that keeps each one possible.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "moor_caps.h"
#include "moor_seccomp.h"
#include "moor_util.h"
#include "shim-internal.h"

/* A pipe big enough that bursts wait in the kernel, not in the container. */
#define SHIM_PIPE_SIZE (1024 * 1024)

static void stdio_reset(shim_stdio_t *io)
{
    memset(io, 0, sizeof(*io));
    io->child_in = io->child_out = io->child_err = -1;
    io->parent_in = io->parent_out = io->parent_err = -1;
    io->pty_master = -1;
    io->console_parent = io->console_child = -1;
}

static int open_pipe(int *read_end, int *write_end, bool parent_reads, moor_err_t *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return moor_fail_errno(err, "pipe for container stdio");
    /* The shim's end never blocks the event loop. */
    int mine = parent_reads ? fds[0] : fds[1];
    if (fcntl(mine, F_SETFL, O_NONBLOCK) < 0) {
        close(fds[0]);
        close(fds[1]);
        return moor_fail_errno(err, "set O_NONBLOCK on container stdio");
    }
    if (parent_reads)
        fcntl(fds[0], F_SETPIPE_SZ, SHIM_PIPE_SIZE); /* best effort: a bigger buffer */
    *read_end = fds[0];
    *write_end = fds[1];
    return 0;
}

static int open_console_channel(shim_stdio_t *io, unsigned rows, unsigned cols, moor_err_t *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return moor_fail_errno(err, "socketpair for the container's terminal");
    io->console_parent = sv[0];
    io->console_child = sv[1];
    io->rows = rows;
    io->cols = cols;
    return 0;
}

static int open_null_stdin(shim_stdio_t *io, moor_err_t *err)
{
    io->child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (io->child_in < 0)
        return moor_fail_errno(err, "open /dev/null for stdin");
    return 0;
}

int shim_stdio_open(shim_stdio_t *io, bool terminal, bool want_stdin, unsigned rows,
                    unsigned cols, moor_err_t *err)
{
    stdio_reset(io);
    int ret;
    if (terminal)
        ret = open_console_channel(io, rows, cols, err);
    else {
        ret = open_pipe(&io->parent_out, &io->child_out, true, err);
        if (ret == 0)
            ret = open_pipe(&io->parent_err, &io->child_err, true, err);
        if (ret == 0)
            ret = want_stdin ? open_pipe(&io->child_in, &io->parent_in, false, err)
                             : open_null_stdin(io, err);
    }
    if (ret < 0)
        shim_stdio_close_all(io);
    return ret;
}

void shim_stdio_close_child(shim_stdio_t *io)
{
    moor_close(&io->child_in);
    moor_close(&io->child_out);
    moor_close(&io->child_err);
    moor_close(&io->console_child);
}

void shim_stdio_close_all(shim_stdio_t *io)
{
    shim_stdio_close_child(io);
    moor_close(&io->parent_in);
    moor_close(&io->parent_out);
    moor_close(&io->parent_err);
    moor_close(&io->console_parent);
    io->pty_master = -1;
}

static int apply_rlimits(const moor_process_t *proc, moor_err_t *err)
{
    for (size_t i = 0; i < proc->n_rlimits; i++) {
        const moor_rlimit_t *rl = &proc->rlimits[i];
        struct rlimit lim = {.rlim_cur = rl->soft, .rlim_max = rl->hard};
        if (setrlimit(rl->resource, &lim) < 0)
            return moor_fail_errno(err, "setrlimit(%d, soft %llu, hard %llu)", rl->resource,
                                   (unsigned long long)rl->soft, (unsigned long long)rl->hard);
    }
    return 0;
}

static int enter_cwd(const char *cwd, moor_err_t *err)
{
    /* Like Docker's WORKDIR: a missing working directory is created. */
    if (chdir(cwd) == 0)
        return 0;
    if (errno != ENOENT)
        return moor_fail_errno(err, "chdir to the working directory `%s`", cwd);
    if (moor_mkdir_p(cwd, 0755, err) < 0)
        return moor_err_wrap(err, "create the working directory");
    if (chdir(cwd) < 0)
        return moor_fail_errno(err, "chdir to the working directory `%s`", cwd);
    return 0;
}

/* seccomp, with no_new_privs first when asked (else it needs CAP_SYS_ADMIN). */
static int confine(const moor_process_t *proc, const moor_bpf_t *seccomp, moor_err_t *err)
{
    int ret = moor_caps_drop_bounding(&proc->caps, err);
    if (ret < 0)
        return ret;
    /* Without no_new_privs the filter must go in while we still hold
     * CAP_SYS_ADMIN, i.e. before the capability sets shrink. */
    if (!proc->no_new_privileges && seccomp != NULL && (ret = moor_seccomp_install(seccomp, err)) < 0)
        return ret;
    if ((ret = moor_caps_apply_user(proc, err)) < 0)
        return ret;
    if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return moor_fail_errno(err, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (proc->no_new_privileges && seccomp != NULL && (ret = moor_seccomp_install(seccomp, err)) < 0)
        return ret;
    return 0;
}

/*
 * The container starts with every signal at its default, whatever the shim
 * or its starter ignored: libc's own internal signals (32, 33) included,
 * which sigaction() refuses to touch, hence the raw system call.
 */
static void reset_signal_dispositions(void)
{
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {0};
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
    }
}

int shim_exec_process(const moor_process_t *proc, const moor_bpf_t *seccomp, moor_err_t *err)
{
    int ret = apply_rlimits(proc, err);
    if (ret == 0)
        ret = enter_cwd(proc->cwd != NULL ? proc->cwd : "/", err);
    if (ret == 0)
        ret = confine(proc, seccomp, err);
    if (ret < 0)
        return ret;
    reset_signal_dispositions();
    /* execvp searches the PATH of `environ`: make it the container's. */
    extern char **environ;
    environ = proc->env != NULL ? proc->env : (char *[]){NULL};
    execvp(proc->args[0], proc->args);
    int code = errno;
    if (code == ENOENT)
        return moor_fail(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                         proc->args[0]);
    /* Go's wording, which the docker CLI matches to pick exit status 126. */
    if (code == EACCES || code == EISDIR)
        return moor_fail(err, code, "exec: \"%s\": permission denied", proc->args[0]);
    if (code == ENOEXEC)
        return moor_fail(err, code, "exec: \"%s\": exec format error", proc->args[0]);
    errno = code;
    return moor_fail_errno(err, "exec \"%s\"", proc->args[0]);
}

int shim_exec_exit_status(int code)
{
    if (code == ENOENT || code == ENOTDIR)
        return 127;
    if (code == EACCES || code == EPERM || code == ENOEXEC || code == EISDIR)
        return 126;
    return 1;
}

void shim_child_fail(int fd, const moor_err_t *err)
{
    moor_write_all(fd, err, sizeof(*err));
    _exit(shim_exec_exit_status(err->code));
}

int shim_read_child_error(int fd, moor_err_t *out)
{
    ssize_t n = moor_read_all(fd, out, sizeof(*out));
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(*out)) {
        moor_fail(out, EIO, "the container process died before reporting (short report)");
        return 1;
    }
    out->msg[sizeof(out->msg) - 1] = '\0';
    return 1;
}
