/*
 * `moor-shim start`: validate everything, then detach the shim (double fork
 * + setsid, so neither the starter's process group nor its session can take
 * it down) and wait on the start pipe for "ready" or a precise error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/syscall.h>

#include "moor_util.h"
#include "shim-internal.h"

enum {
    OPT_ID = 1, OPT_BUNDLE, OPT_STATE_DIR, OPT_SOCKET, OPT_SPOOL_DIR, OPT_SPOOL_MAX,
    OPT_LOWER, OPT_UPPER, OPT_WORK, OPT_STDIN, OPT_SHIM_CGROUP, OPT_SECCOMP_CACHE,
};

static const struct option start_options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"spool-dir", required_argument, NULL, OPT_SPOOL_DIR},
    {"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
    {"lower", required_argument, NULL, OPT_LOWER},
    {"upper", required_argument, NULL, OPT_UPPER},
    {"work", required_argument, NULL, OPT_WORK},
    {"stdin", no_argument, NULL, OPT_STDIN},
    {"shim-cgroup", required_argument, NULL, OPT_SHIM_CGROUP},
    {"seccomp-cache", required_argument, NULL, OPT_SECCOMP_CACHE},
    {NULL, 0, NULL, 0},
};

static int copy_path(char *dst, const char *src, const char *what, moor_err_t *err)
{
    if (snprintf(dst, PATH_MAX, "%s", src) >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "%s `%s`: path too long", what, src);
    return 0;
}

static int parse_size(const char *text, uint64_t *out, moor_err_t *err)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return moor_fail(err, EINVAL, "--spool-max: \"%s\" is not a byte count", text);
    *out = v;
    return 0;
}

/* An id names files and cgroups: keep it to [A-Za-z0-9_.-], 1..128 chars. */
static int check_id(const char *id, moor_err_t *err)
{
    size_t len = strlen(id);
    if (len == 0 || len > 128 || id[0] == '.')
        return moor_fail(err, EINVAL, "--id \"%s\": must be 1 to 128 characters, not starting with '.'", id);
    for (const char *p = id; *p; p++) {
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '_' && *p != '-' && *p != '.')
            return moor_fail(err, EINVAL, "--id \"%s\": invalid character '%c'", id, *p);
    }
    return 0;
}

static int parse_one(shim_options_t *o, int opt, const char *arg, moor_err_t *err)
{
    switch (opt) {
    case OPT_ID: o->id = arg; return 0;
    case OPT_BUNDLE: o->bundle = arg; return 0;
    case OPT_STATE_DIR: o->state_dir = arg; return 0;
    case OPT_SOCKET: return copy_path(o->socket_path, arg, "--socket", err);
    case OPT_SPOOL_DIR: return copy_path(o->spool_dir, arg, "--spool-dir", err);
    case OPT_SPOOL_MAX: return parse_size(arg, &o->spool_max, err);
    case OPT_LOWER:
        if (o->n_lower >= SHIM_MAX_LOWER)
            return moor_fail(err, E2BIG, "--lower: more than %d layers", SHIM_MAX_LOWER);
        o->lower[o->n_lower++] = arg;
        return 0;
    case OPT_UPPER: o->upper = arg; return 0;
    case OPT_WORK: o->work = arg; return 0;
    case OPT_STDIN: o->stdin_open = true; return 0;
    case OPT_SHIM_CGROUP: return copy_path(o->shim_cgroup, arg, "--shim-cgroup", err);
    case OPT_SECCOMP_CACHE: o->seccomp_cache = arg; return 0;
    default: return moor_fail(err, EINVAL, "unknown option (see moor-shim --help)");
    }
}

static int fill_defaults(shim_options_t *o, moor_err_t *err)
{
    if (o->id == NULL || o->bundle == NULL || o->state_dir == NULL)
        return moor_fail(err, EINVAL, "start needs --id, --bundle and --state-dir");
    int ret = check_id(o->id, err);
    if (ret < 0)
        return ret;
    if ((o->upper == NULL) != (o->work == NULL) || (o->upper != NULL && o->n_lower == 0))
        return moor_fail(err, EINVAL, "--upper and --work go together, with at least one --lower");
    if (o->state_dir[0] != '/' || o->bundle[0] != '/')
        return moor_fail(err, EINVAL, "--state-dir and --bundle must be absolute paths");
    if (o->socket_path[0] == '\0' &&
        snprintf(o->socket_path, PATH_MAX, "%s/shim.sock", o->state_dir) >= PATH_MAX)
        return moor_fail(err, ENAMETOOLONG, "--state-dir `%s`: path too long", o->state_dir);
    if (o->spool_dir[0] == '\0')
        snprintf(o->spool_dir, PATH_MAX, "%s/spool", o->state_dir);
    snprintf(o->exit_path, PATH_MAX, "%s/exit", o->state_dir);
    if (o->shim_cgroup[0] == '\0')
        snprintf(o->shim_cgroup, PATH_MAX, "/moor-shims/%s", o->id);
    struct sockaddr_un sun;
    if (strlen(o->socket_path) >= sizeof(sun.sun_path))
        return moor_fail(err, ENAMETOOLONG, "socket path `%s` is longer than %zu bytes",
                         o->socket_path, sizeof(sun.sun_path) - 1);
    if (o->spool_max != 0 && o->spool_max < MOOR_SPOOL_MIN_MAX)
        return moor_fail(err, EINVAL, "--spool-max %" PRIu64 ": at least %llu bytes", o->spool_max,
                         (unsigned long long)MOOR_SPOOL_MIN_MAX);
    return 0;
}

static int parse_options(shim_options_t *o, int argc, char **argv, moor_err_t *err)
{
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", start_options, NULL)) != -1) {
        if (opt == '?')
            return moor_fail(err, EINVAL, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        int ret = parse_one(o, opt, optarg, err);
        if (ret < 0)
            return ret;
    }
    if (optind < argc)
        return moor_fail(err, EINVAL, "unexpected argument \"%s\"", argv[optind]);
    return fill_defaults(o, err);
}

static int fail_start(const moor_err_t *err, int status)
{
    fprintf(stderr, "moor-shim: %s\n", err->msg);
    return status;
}

/* Starter side: wait for the report, print it, exit with its status. */
static int await_report(int fd, pid_t middle, const shim_options_t *o)
{
    int status;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
        ;
    shim_start_report_t rep;
    memset(&rep, 0, sizeof(rep));
    ssize_t n = moor_read_all(fd, &rep, sizeof(rep));
    close(fd);
    if (n != (ssize_t)sizeof(rep)) {
        moor_err_t err;
        moor_fail(&err, EIO, "container %s: the shim died while starting (see %s/shim.log)", o->id,
                  o->state_dir);
        return fail_start(&err, 1);
    }
    if (rep.code != 0) {
        moor_err_t err = {.code = rep.code};
        memcpy(err.msg, rep.msg, sizeof(err.msg));
        err.msg[sizeof(err.msg) - 1] = '\0';
        return fail_start(&err, rep.exit_status != 0 ? rep.exit_status : 1);
    }
    printf("{\"shim_pid\":%d,\"pid\":%d,\"socket\":\"%s\"}\n", rep.shim_pid, rep.init_pid,
           o->socket_path);
    fflush(stdout);
    return 0;
}

/* Remove the state dir only if it is empty: it may hold what a failed start logged. */
static void remove_empty_dir(const char *dir) { rmdir(dir); }

/*
 * Whatever the starter left open (a daemon's listening socket, the pipe or
 * socket its process library watches for our exit) must not live on in a
 * shim that outlives it: the starter would never see EOF, and a daemon's
 * socket would stay bound. Only stdio is kept.
 */
static void close_inherited_fds(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
        return;
#endif
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
        return;
    }
    int keep = dirfd(dir);
    int fds[1024], n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && n < 1024) {
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != keep)
            fds[n++] = fd;
    }
    closedir(dir);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

int shim_cmd_start(int argc, char **argv)
{
    static shim_t sh; /* static: big, and the detached shim keeps using it */
    moor_err_t err = {0};
    close_inherited_fds();
    if (parse_options(&sh.opt, argc, argv, &err) < 0)
        return fail_start(&err, 2);
    if (moor_config_load(sh.opt.bundle, &sh.cfg, &err) < 0)
        return fail_start(&err, 1);
    struct stat st;
    bool created_state = stat(sh.opt.state_dir, &st) < 0;
    if (moor_mkdir_p(sh.opt.state_dir, 0711, &err) < 0)
        return fail_start(&err, 1);
    int start_pipe[2];
    if (pipe2(start_pipe, O_CLOEXEC) < 0) {
        moor_fail_errno(&err, "pipe for the start report");
        return fail_start(&err, 1);
    }
    fflush(NULL);
    pid_t middle = fork();
    if (middle < 0) {
        moor_fail_errno(&err, "fork the shim");
        return fail_start(&err, 1);
    }
    if (middle == 0) {
        close(start_pipe[0]);
        /* New session: out of the starter's process group and terminal. */
        if (setsid() < 0)
            _exit(1);
        pid_t shim = fork();
        if (shim < 0)
            _exit(1);
        if (shim == 0)
            shim_run(&sh, start_pipe[1]);
        _exit(0);
    }
    close(start_pipe[1]);
    int ret = await_report(start_pipe[0], middle, &sh.opt);
    if (ret != 0 && created_state)
        remove_empty_dir(sh.opt.state_dir);
    return ret;
}
