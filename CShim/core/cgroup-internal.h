/*
 * Helpers shared by cgroup.c, cgroup-v1.c and cgroup-v2.c. Every path is a
 * directory plus a file name, and every error names the full path (and the
 * value, for writes), so a failure reads like
 * "write `33554432` to `/sys/fs/cgroup/memory/moor/x/memory.limit_in_bytes`: ...".
 */
#ifndef MOOR_CGROUP_INTERNAL_H
#define MOOR_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "moor_cgroup.h"
#include "moor_error.h"

/* Longest value a cgroup file gets from us ("max 1000000", "0-127", ...). */
#define MOOR_CG_VALUE_MAX 256

/* out = dir + "/" + file (file may be NULL or "": out = dir). */
int moor_cg_join(char *out, const char *dir, const char *file, moor_err_t *err);
/* out = base + the first `n` components of `path` (n = 0: base itself). */
int moor_cg_level(char *out, const char *base, const char *path, int n, moor_err_t *err);
/* out = base + path: the cgroup's own directory in one hierarchy. */
int moor_cg_leaf(char *out, const char *base, const char *path, moor_err_t *err);
/* Number of components of a validated path ("/a/b" -> 2). */
int moor_cg_depth(const char *path);

/* Write `value` to dir/file; the file must exist (cgroupfs never creates). */
int moor_cg_write(const char *dir, const char *file, const char *value, moor_err_t *err);
/*
 * Write `value` to dir/file of `controller`; a missing file is reported as
 * that controller being unavailable, naming the controller and the path.
 */
int moor_cg_set(const char *dir, const char *controller, const char *file, const char *value,
                moor_err_t *err);
/* Same, but O_APPEND: each write adds to a plain file, cgroupfs ignores it. */
int moor_cg_append(const char *dir, const char *file, const char *value, moor_err_t *err);
/* Read dir/file (< cap bytes) into buf, NUL terminated. */
int moor_cg_read(const char *dir, const char *file, char *buf, size_t cap, moor_err_t *err);
/* Like moor_cg_read, but a missing file reads as "" (returns 0). */
int moor_cg_read_opt(const char *dir, const char *file, char *buf, size_t cap, moor_err_t *err);
/* Whether dir/file exists (errors other than ENOENT count as present). */
bool moor_cg_exists(const char *dir, const char *file);

/* Drop trailing newlines and blanks (cgroup files end with "\n"). */
void moor_cg_trim(char *text);
/* Whether `word` is one of the whitespace separated words of `list`. */
bool moor_cg_has_word(const char *list, const char *word);
/* Value of the "key N" line of a flat keyed file; -ENOENT if absent. */
int moor_cg_flat_key(const char *text, const char *key, uint64_t *value);

/* mkdir one cgroup: 1 = made here, 0 = already there, <0 = error. */
int moor_cg_make_dir(const char *dir, moor_err_t *err);
/*
 * mkdir base + each level of path. *first gets the first level this call
 * created (1..depth), or 0 when all existed. On failure the levels created
 * here are removed again.
 */
int moor_cg_make_levels(const char *base, const char *path, int *first, moor_err_t *err);
/* Undo moor_cg_make_levels: rmdir levels depth..first (first = 0: none). */
void moor_cg_unmake_levels(const char *base, const char *path, int first);
/* rmdir base + path (the leaf only); EBUSY is retried ~1s, ENOENT is fine. */
int moor_cg_remove_leaf(const char *base, const char *path, moor_err_t *err);

/*
 * rmdir base + path and every cgroup below it, deepest first (a container
 * with its own cgroup namespace may have made some); EBUSY is retried ~1s
 * for each, ENOENT is fine. Never touches anything above the leaf.
 */
int moor_cg_remove_tree(const char *base, const char *path, moor_err_t *err);

int moor_cg_write_pid(const char *dir, pid_t pid, moor_err_t *err);
/* Pids listed in dir/cgroup.procs, up to cap; returns the count. */
int moor_cg_read_pids(const char *dir, pid_t *out, int cap, moor_err_t *err);

/* Sleep `ms` milliseconds (EINTR resumes the rest). */
void moor_cg_sleep_ms(unsigned ms);

#endif
