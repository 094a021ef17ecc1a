/*
 * Terminals live in the container's own devpts instance: the child opens
 * /dev/ptmx after pivot_root, passes the master to the shim over a unix
 * socketpair (SCM_RIGHTS) and keeps the slave as its controlling terminal,
 * so `tty` in the container names /dev/pts/0 as under Docker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "moor_util.h"
#include "shim-internal.h"

static int send_fd(int sock, int fd, moor_err_t *err)
{
    char byte = 'c';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    while (sendmsg(sock, &msg, 0) < 0) {
        if (errno != EINTR)
            return moor_fail_errno(err, "send the terminal to the shim");
    }
    return 0;
}

static int recv_fd(int sock, int *out, moor_err_t *err)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return moor_fail_errno(err, "receive the container's terminal");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (n == 0 || cm == NULL || cm->cmsg_type != SCM_RIGHTS)
        return 0; /* the child failed before; its error pipe says why */
    memcpy(out, CMSG_DATA(cm), sizeof(int));
    return 1;
}

/* /dev/console is the container's terminal too (Docker's -t does this). */
static int bind_console(const char *slave, moor_err_t *err)
{
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST)
        return moor_fail_errno(err, "create /dev/console");
    moor_close(&fd);
    if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return moor_fail_errno(err, "bind %s on /dev/console", slave);
    return 0;
}

static int open_container_pty(shim_stdio_t *io, bool console, moor_err_t *err)
{
    int master moor_cleanup_close = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return moor_fail_errno(err, "open /dev/ptmx in the container");
    char slave[64];
    if (unlockpt(master) < 0 || ptsname_r(master, slave, sizeof(slave)) != 0)
        return moor_fail_errno(err, "unlock the container's terminal");
    int fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "open %s", slave);
    io->child_in = fd;
    /* Close-on-exec: after the dup2s onto 0, 1, 2 the container must not
     * keep these extra copies of its terminal (runc gives it 0-2 only). */
    io->child_out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    io->child_err = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (io->child_out < 0 || io->child_err < 0)
        return moor_fail_errno(err, "dup %s", slave);
    if (console && bind_console(slave, err) < 0)
        return -err->code;
    int ret = send_fd(io->console_child, master, err);
    moor_close(&io->console_child);
    return ret;
}

int shim_stdio_install(shim_stdio_t *io, bool console, moor_err_t *err)
{
    if (io->console_child >= 0) {
        if (open_container_pty(io, console, err) < 0)
            return -err->code;
        if (ioctl(io->child_in, TIOCSCTTY, 0) < 0)
            return moor_fail_errno(err, "make the terminal the controlling one");
    }
    int src[3] = {io->child_in, io->child_out, io->child_err};
    for (int i = 0; i < 3; i++) {
        /* dup2 onto itself would keep O_CLOEXEC: clear it instead. */
        if (src[i] == i) {
            if (fcntl(i, F_SETFD, 0) < 0)
                return moor_fail_errno(err, "clear close-on-exec of fd %d", i);
        } else if (dup2(src[i], i) < 0)
            return moor_fail_errno(err, "dup2 container stdio onto fd %d", i);
    }
    return 0;
}

int shim_stdio_receive_console(shim_stdio_t *io, moor_err_t *err)
{
    if (io->console_parent < 0)
        return 0;
    int master = -1;
    int ret = recv_fd(io->console_parent, &master, err);
    moor_close(&io->console_parent);
    if (ret <= 0)
        return ret;
    if (fcntl(master, F_SETFL, O_NONBLOCK) < 0) {
        close(master);
        return moor_fail_errno(err, "set O_NONBLOCK on the terminal");
    }
    if (io->rows > 0 && io->cols > 0) {
        struct winsize ws = {.ws_row = (unsigned short)io->rows, .ws_col = (unsigned short)io->cols};
        ioctl(master, TIOCSWINSZ, &ws);
    }
    io->pty_master = master;
    io->parent_out = master;
    io->parent_in = fcntl(master, F_DUPFD_CLOEXEC, 0);
    if (io->parent_in < 0)
        return moor_fail_errno(err, "dup the terminal");
    return 0;
}
