/*
 * The shim's own state: one container init and its execs, the control
 * socket's clients, and the event loop that ties them together. Internal to
 * moor-shim (not part of MoorShimCore's public headers).
 */
#ifndef MOOR_SHIM_INTERNAL_H
#define MOOR_SHIM_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "moor_cgroup.h"
#include "moor_config.h"
#include "moor_error.h"
#include "moor_exit.h"
#include "moor_protocol.h"
#include "moor_rootfs.h"
#include "moor_seccomp.h"
#include "moor_spool.h"

#define SHIM_MAX_PROCS 64
#define SHIM_MAX_CLIENTS 32
#define SHIM_MAX_WAITERS 64
#define SHIM_MAX_LOWER 128
/* Largest request the shim reads; bigger ones are refused (EMSGSIZE). */
#define SHIM_MAX_REQUEST (256u * 1024u)
/* Largest reply; SPOOL_READ max_bytes is clamped to fit. */
#define SHIM_MAX_REPLY (128u * 1024u)
/* How long a process's output may stay open after it exited. */
#define SHIM_OUTPUT_GRACE_NS (2ull * 1000000000ull)

/* What `moor-shim start` was told. */
typedef struct shim_options {
    const char *id;
    const char *bundle;
    const char *state_dir;
    char socket_path[PATH_MAX];
    char spool_dir[PATH_MAX];
    char exit_path[PATH_MAX];
    uint64_t spool_max;
    const char *lower[SHIM_MAX_LOWER];
    size_t n_lower;
    const char *upper;
    const char *work;
    bool stdin_open;
    char shim_cgroup[PATH_MAX];
    const char *seccomp_cache; /* compiled filters, or NULL */
} shim_options_t;

typedef struct shim_proc {
    bool used;
    uint32_t id;
    pid_t pid;
    int status;            /* enum moor_process_status */
    bool reaped;           /* waitpid saw it end */
    bool finished;         /* reaped and output drained: WAIT may answer */
    uint64_t reaped_at_ns; /* monotonic, for the output grace period */
    int out_fd;            /* stdout pipe or pty master, -1 at EOF */
    int err_fd;            /* stderr pipe, -1 at EOF or with a tty */
    int stdin_fd;          /* write end / pty master dup, -1 if none */
    bool terminal;
    moor_spool_t spool;
    bool spool_open;
    moor_exit_t exit;
    char exit_path[PATH_MAX];
} shim_proc_t;

typedef struct shim_client {
    int fd; /* -1 when the slot is free */
} shim_client_t;

typedef struct shim_waiter {
    bool used;
    int client;       /* index into clients */
    uint32_t request; /* request id to answer */
    uint32_t process;
} shim_waiter_t;

/* A SPOOL_READ parked until output arrives, the process finishes, or its
 * deadline passes: readers long-poll instead of polling idle containers. */
typedef struct shim_spool_waiter {
    bool used;
    int client;
    uint32_t request;
    uint32_t process;
    uint32_t max_bytes;
    uint64_t from_seq;
    uint64_t deadline_ns; /* monotonic */
} shim_spool_waiter_t;

typedef struct shim {
    shim_options_t opt;
    moor_config_t cfg;
    moor_cgroup_t cgroup;        /* the container's */
    bool cgroup_created;
    moor_cgroup_t shim_cgroup;   /* the shim's own */
    bool shim_cgroup_created;
    int epoll_fd;
    int signal_fd;
    int listen_fd;
    shim_proc_t procs[SHIM_MAX_PROCS]; /* procs[0] is init */
    uint32_t next_exec_id;
    shim_client_t clients[SHIM_MAX_CLIENTS];
    shim_waiter_t waiters[SHIM_MAX_WAITERS];
    shim_spool_waiter_t spool_waiters[SHIM_MAX_WAITERS];
    uint64_t oom_baseline;
    /* The profile compiled once, in the shim, for init and every exec. */
    moor_bpf_t seccomp;
    bool has_seccomp;
    bool shutting_down;
} shim_t;

/* epoll tags: kind in the high 32 bits, index in the low. */
enum shim_tag_kind {
    TAG_SIGNAL = 1,
    TAG_LISTEN,
    TAG_CLIENT,
    TAG_OUT,
    TAG_ERR,
};
#define SHIM_TAG(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

/* start.c: the starter side of `moor-shim start`. */
int shim_cmd_start(int argc, char **argv);

/* Start-pipe report from the detached shim to the starter. */
typedef struct shim_start_report {
    int32_t code;       /* 0 ok, else errno */
    int32_t exit_status;/* what the starter exits with on failure */
    int32_t shim_pid;
    int32_t init_pid;
    char msg[MOOR_ERR_MSG_MAX];
} shim_start_report_t;

/* shim.c: the long-running shim, after the detach. Never returns. */
void shim_run(shim_t *sh, int start_fd) __attribute__((noreturn));

/* spawn.c: stdio for a process, and the child-side process setup. */
typedef struct shim_stdio {
    int child_in, child_out, child_err; /* ends the child dup2s onto 0,1,2 */
    int parent_out, parent_err, parent_in;
    int pty_master;      /* the shim's end, once received from the child */
    int console_parent;  /* socketpair: the child sends the pty master here */
    int console_child;
    unsigned rows, cols; /* initial terminal size, 0 if none */
} shim_stdio_t;
int shim_stdio_open(shim_stdio_t *io, bool terminal, bool want_stdin, unsigned rows,
                    unsigned cols, moor_err_t *err);
void shim_stdio_close_child(shim_stdio_t *io);
void shim_stdio_close_all(shim_stdio_t *io);
/*
 * In the child, inside the container's root: make io's child ends fds
 * 0,1,2. With a terminal, first open a pty on the container's own devpts,
 * send its master to the shim and make the slave the controlling terminal
 * (bound on /dev/console too when `console` is set).
 */
int shim_stdio_install(shim_stdio_t *io, bool console, moor_err_t *err);
/* In the shim: receive the pty master the child sent (terminal only). */
int shim_stdio_receive_console(shim_stdio_t *io, moor_err_t *err);
/*
 * In the child, inside the container's namespaces and root: rlimits, cwd,
 * capabilities, user, no_new_privs, seccomp, then execve. Returns only on
 * error; err->code is ENOENT/EACCES/... from execve when the program could
 * not be run.
 */
int shim_exec_process(const moor_process_t *proc, const moor_bpf_t *seccomp,
                      moor_err_t *err);
/* 127 for "not found", 126 for "cannot execute", 1 otherwise (as Docker). */
int shim_exec_exit_status(int code);
/* Child error channel: {code, message} then _exit. */
void shim_child_fail(int fd, const moor_err_t *err) __attribute__((noreturn));
/* Read a child's error report; 0 = EOF (exec happened), >0 = got one. */
int shim_read_child_error(int fd, moor_err_t *out);

/* container.c: clone the container's init into its namespaces. */
int shim_container_start(shim_t *sh, shim_stdio_t *io, moor_err_t *err);

/* exec.c: a further process inside the running container. */
int shim_exec_start(shim_t *sh, const char *json, size_t len, bool want_stdin, uint32_t *out_id,
                    pid_t *out_pid, moor_err_t *err);

/* proc.c: bookkeeping shared by init and execs. */
shim_proc_t *shim_proc_get(shim_t *sh, uint32_t id);
int shim_proc_watch(shim_t *sh, shim_proc_t *p, int slot, moor_err_t *err);
void shim_proc_on_output(shim_t *sh, shim_proc_t *p, int stream);
void shim_proc_on_reaped(shim_t *sh, shim_proc_t *p, int status);
void shim_proc_check_finished(shim_t *sh, shim_proc_t *p, bool force);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* control.c: the control socket. */
int shim_control_listen(shim_t *sh, moor_err_t *err);
void shim_control_accept(shim_t *sh);
void shim_control_on_readable(shim_t *sh, int client);
void shim_control_answer_waiters(shim_t *sh, shim_proc_t *p);
/* Answer parked SPOOL_READs of `p` that now have records (or all of them
 * when `p` finished); `now_ns` also expires those past their deadline. */
void shim_control_answer_spool_waiters(shim_t *sh, shim_proc_t *p, uint64_t now_ns);
/* Milliseconds until the nearest parked SPOOL_READ deadline, -1 if none. */
int shim_control_spool_timeout_ms(shim_t *sh, uint64_t now_ns);
void shim_control_close_client(shim_t *sh, int client);

/* shim.c */
void shim_shutdown_and_exit(shim_t *sh) __attribute__((noreturn));

#endif
