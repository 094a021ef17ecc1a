/*
 * The typed, path-aware layer over json-c that config.c and config-linux.c
 * parse with (see config-json.h).
 */
#include "config-json.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- path stack ---- */

static size_t append(cj_ctx_t *c, const char *piece)
{
    size_t mark = c->len;
    /* A path too long to hold is cut short; messages stay readable. */
    int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s", piece);
    if (n > 0)
        c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n : sizeof(c->path) - 1;
    return mark;
}

size_t cj_push_key(cj_ctx_t *c, const char *key)
{
    char piece[256];
    snprintf(piece, sizeof(piece), c->len == 0 ? "%s" : ".%s", key);
    return append(c, piece);
}

size_t cj_push_index(cj_ctx_t *c, size_t index)
{
    char piece[32];
    snprintf(piece, sizeof(piece), "[%zu]", index);
    return append(c, piece);
}

void cj_pop(cj_ctx_t *c, size_t mark)
{
    c->len = mark;
    c->path[mark] = '\0';
}

/* ---- errors ---- */

int cj_fail(cj_ctx_t *c, int code, const char *fmt, ...)
{
    char what[MOOR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    const char *src = c->source != NULL ? c->source : "";
    const char *sep1 = c->source != NULL ? ": " : "";
    const char *sep2 = c->len > 0 ? ": " : "";
    return moor_fail(c->err, code, "%s%s%s%s%s", src, sep1, c->path, sep2, what);
}

int cj_oom(cj_ctx_t *c)
{
    return cj_fail(c, ENOMEM, "out of memory");
}

int cj_missing(cj_ctx_t *c, const char *key)
{
    size_t mark = cj_push_key(c, key);
    int ret = cj_fail(c, EINVAL, "required");
    cj_pop(c, mark);
    return ret;
}

/* ---- documents ---- */

static void line_and_column(const char *text, size_t end, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < end; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int syntax_error(cj_ctx_t *c, const char *text, size_t end, const char *what)
{
    size_t line, col;
    line_and_column(text, end, &line, &col);
    return cj_fail(c, EINVAL, "invalid JSON at line %zu, column %zu (offset %zu): %s", line, col,
                   end, what);
}

static size_t skip_space(const char *text, size_t i, size_t len)
{
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i;
}

int cj_parse_document(cj_ctx_t *c, const char *text, size_t len, json_object **out)
{
    if (len > INT_MAX)
        return cj_fail(c, EINVAL, "document too large (%zu bytes)", len);
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return cj_oom(c);
    /* Strict: what Go's encoding/json accepts, no trailing commas or comments. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue)
        return syntax_error(c, text, len, "unexpected end of input");
    if (jerr != json_tokener_success)
        return syntax_error(c, text, end, json_tokener_error_desc(jerr));
    if ((end = skip_space(text, end, len)) < len) {
        json_object_put(doc);
        return syntax_error(c, text, end, "unexpected data after the top-level value");
    }
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return cj_fail(c, EINVAL, "expected a JSON object");
    }
    *out = doc;
    return 0;
}

/* ---- values at the current path ---- */

int cj_as_string(cj_ctx_t *c, json_object *v, const char **out)
{
    if (!json_object_is_type(v, json_type_string))
        return cj_fail(c, EINVAL, "expected a string");
    const char *s = json_object_get_string(v);
    /* "\u0000" would silently cut a C string short. */
    if (strlen(s) != (size_t)json_object_get_string_len(v))
        return cj_fail(c, EINVAL, "string contains a NUL character");
    *out = s;
    return 0;
}

int cj_as_object(cj_ctx_t *c, json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return cj_fail(c, EINVAL, "expected an object");
    return 0;
}

static int as_array(cj_ctx_t *c, json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return cj_fail(c, EINVAL, "expected an array");
    return 0;
}

static int as_int64(cj_ctx_t *c, json_object *v, int64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return cj_fail(c, EINVAL, "expected an integer");
    int64_t x = json_object_get_int64(v);
    /* json-c keeps values above INT64_MAX as uint64 and clamps int64 reads. */
    if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
        return cj_fail(c, EINVAL, "integer out of range");
    *out = x;
    return 0;
}

static int as_uint64(cj_ctx_t *c, json_object *v, uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return cj_fail(c, EINVAL, "expected an integer");
    if (json_object_get_int64(v) < 0)
        return cj_fail(c, EINVAL, "expected a non-negative integer, got %lld",
                       (long long)json_object_get_int64(v));
    *out = json_object_get_uint64(v);
    return 0;
}

/* ---- keyed getters ---- */

json_object *cj_field(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

/* Look obj[key] up and run `check` on it with the path pointing at it. */
typedef int (*check_fn)(cj_ctx_t *c, json_object *v, void *out);

static int keyed(cj_ctx_t *c, json_object *obj, const char *key, check_fn check, void *out)
{
    json_object *v = cj_field(obj, key);
    if (v == NULL)
        return 0;
    size_t mark = cj_push_key(c, key);
    int ret = check(c, v, out);
    cj_pop(c, mark);
    return ret < 0 ? ret : 1;
}

static int check_object(cj_ctx_t *c, json_object *v, void *out)
{
    *(json_object **)out = v;
    return cj_as_object(c, v);
}

static int check_array(cj_ctx_t *c, json_object *v, void *out)
{
    *(json_object **)out = v;
    return as_array(c, v);
}

static int check_cstr(cj_ctx_t *c, json_object *v, void *out)
{
    return cj_as_string(c, v, out);
}

static int check_bool(cj_ctx_t *c, json_object *v, void *out)
{
    if (!json_object_is_type(v, json_type_boolean))
        return cj_fail(c, EINVAL, "expected a boolean");
    *(bool *)out = json_object_get_boolean(v);
    return 0;
}

static int check_int64(cj_ctx_t *c, json_object *v, void *out)
{
    return as_int64(c, v, out);
}

static int check_uint64(cj_ctx_t *c, json_object *v, void *out)
{
    return as_uint64(c, v, out);
}

int cj_as_uint32(cj_ctx_t *c, json_object *v, uint32_t *out)
{
    uint64_t x;
    int ret = as_uint64(c, v, &x);
    if (ret < 0)
        return ret;
    if (x > UINT32_MAX)
        return cj_fail(c, EINVAL, "integer out of range (at most %u)", UINT32_MAX);
    *out = (uint32_t)x;
    return 0;
}

static int check_uint32(cj_ctx_t *c, json_object *v, void *out)
{
    return cj_as_uint32(c, v, out);
}

int cj_get_object(cj_ctx_t *c, json_object *obj, const char *key, json_object **out)
{
    return keyed(c, obj, key, check_object, out);
}

int cj_get_array(cj_ctx_t *c, json_object *obj, const char *key, json_object **out)
{
    return keyed(c, obj, key, check_array, out);
}

int cj_get_cstr(cj_ctx_t *c, json_object *obj, const char *key, const char **out)
{
    return keyed(c, obj, key, check_cstr, out);
}

int cj_get_bool(cj_ctx_t *c, json_object *obj, const char *key, bool *out)
{
    return keyed(c, obj, key, check_bool, out);
}

int cj_get_int64(cj_ctx_t *c, json_object *obj, const char *key, int64_t *out)
{
    return keyed(c, obj, key, check_int64, out);
}

int cj_get_uint64(cj_ctx_t *c, json_object *obj, const char *key, uint64_t *out)
{
    return keyed(c, obj, key, check_uint64, out);
}

int cj_get_uint32(cj_ctx_t *c, json_object *obj, const char *key, uint32_t *out)
{
    return keyed(c, obj, key, check_uint32, out);
}

int cj_get_string(cj_ctx_t *c, json_object *obj, const char *key, char **out)
{
    const char *s;
    int ret = cj_get_cstr(c, obj, key, &s);
    if (ret <= 0)
        return ret;
    if ((*out = strdup(s)) == NULL)
        return cj_oom(c);
    return 1;
}

int cj_get_abs_path(cj_ctx_t *c, json_object *obj, const char *key, char **out)
{
    const char *s;
    int ret = cj_get_cstr(c, obj, key, &s);
    if (ret <= 0)
        return ret;
    if (s[0] != '/') {
        size_t mark = cj_push_key(c, key);
        ret = cj_fail(c, EINVAL, "expected an absolute path, got \"%s\"", s);
        cj_pop(c, mark);
        return ret;
    }
    if ((*out = strdup(s)) == NULL)
        return cj_oom(c);
    return 1;
}

int cj_get_enum(cj_ctx_t *c, json_object *obj, const char *key, const cj_enum_t *table,
                size_t n, const char *what, int *out)
{
    const char *s;
    int ret = cj_get_cstr(c, obj, key, &s);
    if (ret <= 0)
        return ret;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, s) == 0) {
            *out = table[i].value;
            return 1;
        }
    }
    size_t mark = cj_push_key(c, key);
    ret = cj_fail(c, EINVAL, "unknown %s \"%s\"", what, s);
    cj_pop(c, mark);
    return ret;
}

/* ---- arrays ---- */

typedef struct strings_slot {
    char **v;
} strings_slot_t;

static int copy_string(cj_ctx_t *c, json_object *item, size_t i, void *ud)
{
    strings_slot_t *slot = ud;
    const char *s;
    int ret = cj_as_string(c, item, &s);
    if (ret < 0)
        return ret;
    if ((slot->v[i] = strdup(s)) == NULL)
        return cj_oom(c);
    return 0;
}

int cj_get_strings(cj_ctx_t *c, json_object *obj, const char *key, char ***out, size_t *n)
{
    json_object *arr;
    int ret = cj_get_array(c, obj, key, &arr);
    if (ret <= 0)
        return ret;
    size_t count = json_object_array_length(arr);
    if (count == 0)
        return 1;
    strings_slot_t slot = {.v = calloc(count + 1, sizeof(char *))};
    if (slot.v == NULL)
        return cj_oom(c);
    /* Owned by the caller's struct from here on, even if an element fails. */
    *out = slot.v;
    *n = count;
    ret = cj_for_each(c, obj, key, copy_string, &slot);
    return ret < 0 ? ret : 1;
}

void cj_free_strings(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int cj_with_object(cj_ctx_t *c, json_object *obj, const char *key, cj_obj_fn fn, void *ud)
{
    json_object *o;
    int ret = cj_get_object(c, obj, key, &o);
    if (ret <= 0)
        return ret;
    size_t mark = cj_push_key(c, key);
    ret = fn(c, o, ud);
    cj_pop(c, mark);
    return ret < 0 ? ret : 1;
}

int cj_for_each(cj_ctx_t *c, json_object *obj, const char *key, cj_each_fn fn, void *ud)
{
    json_object *arr;
    int ret = cj_get_array(c, obj, key, &arr);
    if (ret <= 0)
        return ret;
    size_t count = json_object_array_length(arr);
    size_t mark = cj_push_key(c, key);
    for (size_t i = 0; i < count && ret >= 0; i++) {
        size_t item_mark = cj_push_index(c, i);
        ret = fn(c, json_object_array_get_idx(arr, i), i, ud);
        cj_pop(c, item_mark);
    }
    cj_pop(c, mark);
    return ret < 0 ? ret : 1;
}

typedef struct vector {
    char *items;
    size_t size;
    cj_item_fn fn;
    void *ud;
} vector_t;

static int fill_slot(cj_ctx_t *c, json_object *item, size_t i, void *ud)
{
    vector_t *vec = ud;
    return vec->fn(c, item, vec->items + i * vec->size, vec->ud);
}

int cj_with_array(cj_ctx_t *c, json_object *obj, const char *key, size_t size, void **vec,
                  size_t *n, cj_item_fn fn, void *ud)
{
    json_object *arr;
    int ret = cj_get_array(c, obj, key, &arr);
    if (ret <= 0)
        return ret;
    size_t count = json_object_array_length(arr);
    if (count == 0)
        return 1;
    vector_t v = {.items = calloc(count, size), .size = size, .fn = fn, .ud = ud};
    if (v.items == NULL)
        return cj_oom(c);
    *vec = v.items;
    *n = count;
    return cj_for_each(c, obj, key, fill_slot, &v);
}

int cj_put(json_object *obj, const char *key, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    if (json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

int cj_push(json_object *arr, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    if (json_object_array_add(arr, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}
