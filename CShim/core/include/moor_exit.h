/*
 * The exit record: how a process ended, written durably (temp file, fsync,
 * rename, fsync of the directory) the moment the shim reaps it, so a daemon
 * that was not running learns it later. The file is one JSON object:
 * {"pid":N,"exit_code":N,"signal":N,"oom_killed":bool,
 *  "started_ns":N,"finished_ns":N}
 */
#ifndef MOOR_EXIT_H
#define MOOR_EXIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "moor_error.h"

typedef struct moor_exit {
    pid_t pid;
    int exit_code;     /* the code, or 128 + signal when killed */
    int signal;        /* 0 unless killed by a signal */
    bool oom_killed;
    uint64_t started_ns;
    uint64_t finished_ns;
} moor_exit_t;

/* Fill exit_code/signal from a waitpid() status. */
void moor_exit_from_status(moor_exit_t *ex, int status);
int moor_exit_write(const char *path, const moor_exit_t *ex, moor_err_t *err);
int moor_exit_read(const char *path, moor_exit_t *ex, moor_err_t *err);

#endif
