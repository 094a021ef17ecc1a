/*
 * Internal to config*.c: typed access to json-c values that remembers where
 * in the document it is, so that every error names the JSON path, e.g.
 * "config.json: linux.resources.memory.limit: expected an integer".
 *
 * Keyed getters return 1 when the key is there, 0 when it is missing or
 * null (Go's encoding/json, and so every OCI producer, treats both alike),
 * and a negative errno when the value has the wrong type.
 */
#ifndef MOOR_CONFIG_JSON_H
#define MOOR_CONFIG_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moor_config.h"
#include "moor_error.h"

typedef struct cj_ctx {
    moor_err_t *err;
    const char *source; /* message prefix ("config.json", a file path) or NULL */
    char path[512];     /* where we are: "process.rlimits[2].type", "" at the top */
    size_t len;
} cj_ctx_t;

/* Name -> value tables for string enums ("SCMP_ACT_ERRNO", "RLIMIT_NOFILE"). */
typedef struct cj_enum {
    const char *name;
    int value;
} cj_enum_t;

/* Path stack: push returns a mark that cj_pop restores. */
size_t cj_push_key(cj_ctx_t *c, const char *key);
size_t cj_push_index(cj_ctx_t *c, size_t index);
void cj_pop(cj_ctx_t *c, size_t mark);

/* "<source>: <path>: <message>"; returns -code. */
int cj_fail(cj_ctx_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cj_oom(cj_ctx_t *c);
/* Fail for obj.key missing: "<path>.<key>: required". */
int cj_missing(cj_ctx_t *c, const char *key);

/* Parse a whole document whose top level must be an object. */
int cj_parse_document(cj_ctx_t *c, const char *text, size_t len, json_object **out);

/* Type checks of the value at the current path. */
int cj_as_string(cj_ctx_t *c, json_object *v, const char **out);
int cj_as_object(cj_ctx_t *c, json_object *v);
int cj_as_uint32(cj_ctx_t *c, json_object *v, uint32_t *out);

/* obj[key], or NULL when missing or null. */
json_object *cj_field(json_object *obj, const char *key);

int cj_get_object(cj_ctx_t *c, json_object *obj, const char *key, json_object **out);
int cj_get_array(cj_ctx_t *c, json_object *obj, const char *key, json_object **out);
/* Borrowed from the document: valid while it lives. */
int cj_get_cstr(cj_ctx_t *c, json_object *obj, const char *key, const char **out);
/* malloc'd copy. */
int cj_get_string(cj_ctx_t *c, json_object *obj, const char *key, char **out);
/* malloc'd copy that must be an absolute path. */
int cj_get_abs_path(cj_ctx_t *c, json_object *obj, const char *key, char **out);
int cj_get_bool(cj_ctx_t *c, json_object *obj, const char *key, bool *out);
int cj_get_int64(cj_ctx_t *c, json_object *obj, const char *key, int64_t *out);
int cj_get_uint64(cj_ctx_t *c, json_object *obj, const char *key, uint64_t *out);
int cj_get_uint32(cj_ctx_t *c, json_object *obj, const char *key, uint32_t *out);
/* A string from `table`; an unknown one fails with `unknown <what> "<s>"`. */
int cj_get_enum(cj_ctx_t *c, json_object *obj, const char *key, const cj_enum_t *table,
                size_t n, const char *what, int *out);
/* A NULL-terminated malloc'd array of malloc'd strings (NULL, 0 when empty). */
int cj_get_strings(cj_ctx_t *c, json_object *obj, const char *key, char ***out, size_t *n);
void cj_free_strings(char **v, size_t n);

/* Call fn on obj[key] (an object) with the path pointing at it. */
typedef int (*cj_obj_fn)(cj_ctx_t *c, json_object *o, void *ud);
int cj_with_object(cj_ctx_t *c, json_object *obj, const char *key, cj_obj_fn fn, void *ud);

/*
 * obj[key] is an array: allocate a zeroed vector of `size`-byte items into
 * *vec / *n first (so whatever a failure leaves is freed with the config),
 * then call fn on each element with its slot and its path ("key[i]").
 */
typedef int (*cj_item_fn)(cj_ctx_t *c, json_object *item, void *slot, void *ud);
int cj_with_array(cj_ctx_t *c, json_object *obj, const char *key, size_t size, void **vec,
                  size_t *n, cj_item_fn fn, void *ud);
/* Like cj_with_array without storage: fn gets each element and its index. */
typedef int (*cj_each_fn)(cj_ctx_t *c, json_object *item, size_t index, void *ud);
int cj_for_each(cj_ctx_t *c, json_object *obj, const char *key, cj_each_fn fn, void *ud);

/* Building documents (spec.c, seccomp-default.c): each takes ownership of
 * `val`, even on failure, and returns -ENOMEM when out of memory. */
int cj_put(json_object *obj, const char *key, json_object *val);
int cj_push(json_object *arr, json_object *val);

/* Shared between config.c and config-linux.c. */
int cfg_parse_process(cj_ctx_t *c, json_object *o, void *proc);
int cfg_parse_linux(cj_ctx_t *c, json_object *o, void *cfg);
void cfg_free_linux(moor_config_t *cfg);

#endif
