/*
 * The control socket: accept clients, read one framed request at a time,
 * answer it. Whatever a client sends, the shim answers with an error at
 * worst and never exits: it is the only holder of the container's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "moor_util.h"
#include "shim-control.h"
#include "shim-internal.h"

/* A stalled client must not stall the container's output for long. */
#define CLIENT_IO_TIMEOUT_MS 500

static uint8_t request_buf[SHIM_MAX_REQUEST];
static uint8_t reply_buf[MOOR_PROTO_HEADER_SIZE + SHIM_MAX_REPLY];

void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
uint64_t get_u64(const uint8_t *p) { return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32); }

static int stale_socket(const char *path)
{
    /* A socket file nobody accepts on is left over from a dead shim. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    close(fd);
    return ret == 0 ? 0 : 1;
}

int shim_control_listen(shim_t *sh, moor_err_t *err)
{
    const char *path = sh->opt.socket_path;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode) || stale_socket(path) == 0)
            return moor_fail(err, EADDRINUSE, "control socket `%s` is in use", path);
        unlink(path);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (moor_mkdir_p(dir, 0711, err) < 0)
            return -err->code;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return moor_fail_errno(err, "socket for `%s`", path);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        int ret = moor_fail_errno(err, "listen on `%s`", path);
        close(fd);
        return ret;
    }
    sh->listen_fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SHIM_TAG(TAG_LISTEN, 0)};
    if (epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return moor_fail_errno(err, "epoll_ctl add the control socket");
    return 0;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = CLIENT_IO_TIMEOUT_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void shim_control_accept(shim_t *sh)
{
    for (;;) {
        int fd = accept4(sh->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                shim_log("accept on the control socket: %s", strerror(errno));
            return;
        }
        int slot = -1;
        for (int i = 0; i < SHIM_MAX_CLIENTS && slot < 0; i++)
            if (sh->clients[i].fd < 0)
                slot = i;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SHIM_TAG(TAG_CLIENT, slot)};
        if (slot < 0 || epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            shim_log("refusing a client: %s", slot < 0 ? "too many clients" : strerror(errno));
            close(fd);
            continue;
        }
        set_timeouts(fd);
        sh->clients[slot].fd = fd;
    }
}

void shim_control_close_client(shim_t *sh, int client)
{
    shim_client_t *c = &sh->clients[client];
    if (c->fd < 0)
        return;
    epoll_ctl(sh->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    moor_close(&c->fd);
    for (int i = 0; i < SHIM_MAX_WAITERS; i++)
        if (sh->waiters[i].used && sh->waiters[i].client == client)
            sh->waiters[i].used = false;
    shim_control_forget_spool_waiters(sh, client);
}

/* Send header + payload; a client that cannot take it is dropped. */
int shim_send(shim_t *sh, int client, uint16_t type, uint32_t id, const uint8_t *payload,
              uint32_t len)
{
    uint8_t *hdr = reply_buf;
    put_u32(hdr, MOOR_PROTO_MAGIC);
    put_u16(hdr + 4, type);
    put_u16(hdr + 6, 0);
    put_u32(hdr + 8, id);
    put_u32(hdr + 12, len);
    int fd = sh->clients[client].fd;
    int ret = moor_write_all(fd, hdr, MOOR_PROTO_HEADER_SIZE);
    if (ret == 0 && len > 0)
        ret = moor_write_all(fd, payload, len);
    if (ret < 0) {
        shim_log("client %d: send failed: %s; dropping it", client, strerror(-ret));
        shim_control_close_client(sh, client);
    }
    return ret;
}

int shim_send_error(shim_t *sh, int client, uint32_t id, int code, const char *msg)
{
    uint8_t payload[4 + MOOR_ERR_MSG_MAX];
    size_t len = strnlen(msg, MOOR_ERR_MSG_MAX);
    put_u32(payload, (uint32_t)code);
    memcpy(payload + 4, msg, len);
    return shim_send(sh, client, MOOR_MSG_ERROR, id, payload, (uint32_t)(4 + len));
}

uint8_t *shim_reply_payload(void) { return reply_buf + MOOR_PROTO_HEADER_SIZE; }

/* Read exactly len bytes, within the socket's timeout. */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
    ssize_t n = moor_read_all(fd, buf, len);
    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -ECONNRESET;
}

/* Skip an oversized payload so the stream stays framed. */
static int discard(int fd, uint32_t len)
{
    while (len > 0) {
        uint32_t chunk = len < sizeof(request_buf) ? len : (uint32_t)sizeof(request_buf);
        int ret = read_exact(fd, request_buf, chunk);
        if (ret < 0)
            return ret;
        len -= chunk;
    }
    return 0;
}

void shim_control_on_readable(shim_t *sh, int client)
{
    int fd = sh->clients[client].fd;
    uint8_t hdr[MOOR_PROTO_HEADER_SIZE];
    if (read_exact(fd, hdr, sizeof(hdr)) < 0) {
        shim_control_close_client(sh, client);
        return;
    }
    uint32_t magic = get_u32(hdr), id = get_u32(hdr + 8), len = get_u32(hdr + 12);
    uint16_t type = get_u16(hdr + 4);
    if (magic != MOOR_PROTO_MAGIC || len > MOOR_PROTO_MAX_PAYLOAD) {
        /* The stream cannot be trusted any more: answer, then hang up. */
        shim_send_error(sh, client, id, magic != MOOR_PROTO_MAGIC ? EPROTO : EMSGSIZE,
                        magic != MOOR_PROTO_MAGIC ? "bad magic in message header"
                                                  : "message longer than 1 MiB");
        shim_control_close_client(sh, client);
        return;
    }
    if (len > sizeof(request_buf)) {
        if (discard(fd, len) < 0) {
            shim_control_close_client(sh, client);
            return;
        }
        shim_send_error(sh, client, id, EMSGSIZE, "request larger than the shim accepts (256 KiB)");
        return;
    }
    if (len > 0 && read_exact(fd, request_buf, len) < 0) {
        shim_control_close_client(sh, client);
        return;
    }
    shim_dispatch(sh, client, type, id, request_buf, len);
}

void shim_control_answer_waiters(shim_t *sh, shim_proc_t *p)
{
    for (int i = 0; i < SHIM_MAX_WAITERS; i++) {
        shim_waiter_t *w = &sh->waiters[i];
        if (!w->used || w->process != p->id)
            continue;
        w->used = false;
        uint8_t *out = shim_reply_payload();
        uint32_t len = shim_encode_state(sh, p, out);
        shim_send(sh, w->client, MOOR_MSG_WAIT | MOOR_MSG_REPLY_BIT, w->request, out, len);
    }
}
