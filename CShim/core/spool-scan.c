/*
 * The reading side of the spool (moor_spool.h): the record codec, scanning
 * a segment file, recovering a spool left on disk, and moor_spool_read.
 */
#include "moor_spool.h"
#include "moor_util.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- codec: the format is little-endian whatever the host ---- */

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

bool moor_spool_decode_header(const uint8_t *raw, struct moor_record_header *h)
{
    uint32_t len;
    uint16_t magic;
    memcpy(&len, raw, 4);
    memcpy(&magic, raw + 6, 2);
    h->length = le32toh(len);
    h->stream = raw[4];
    h->flags = raw[5];
    h->magic = le16toh(magic);
    h->seq = get64(raw + 8);
    h->time_ns = get64(raw + 16);
    if (h->magic != MOOR_RECORD_MAGIC || h->flags != 0 || h->seq == 0 ||
        h->length > MOOR_RECORD_MAX_PAYLOAD)
        return false;
    if (h->stream == MOOR_STREAM_LOSS)
        return h->length >= MOOR_LOSS_PAYLOAD_SIZE;
    return h->stream == MOOR_STREAM_STDOUT || h->stream == MOOR_STREAM_STDERR;
}

void moor_spool_encode_header(uint8_t *raw, const struct moor_record_header *h)
{
    uint32_t len = htole32(h->length);
    uint16_t magic = htole16(h->magic);
    memcpy(raw, &len, 4);
    raw[4] = h->stream;
    raw[5] = h->flags;
    memcpy(raw + 6, &magic, 2);
    put64(raw + 8, h->seq);
    put64(raw + 16, h->time_ns);
}

void moor_spool_encode_loss(uint8_t *raw, const struct moor_loss_payload *loss)
{
    put64(raw, loss->bytes);
    put64(raw + 8, loss->records);
    put64(raw + 16, loss->first_seq);
    put64(raw + 24, loss->last_seq);
}

void moor_spool_encode_loss_record(uint8_t *raw, uint64_t seq, uint64_t time_ns,
                                   const struct moor_loss_payload *loss)
{
    struct moor_record_header h = {
        .length = MOOR_LOSS_PAYLOAD_SIZE, .stream = MOOR_STREAM_LOSS,
        .magic = MOOR_RECORD_MAGIC, .seq = seq, .time_ns = time_ns,
    };
    moor_spool_encode_header(raw, &h);
    moor_spool_encode_loss(raw + MOOR_RECORD_HEADER_SIZE, loss);
}

void moor_spool_decode_loss(const uint8_t *raw, struct moor_loss_payload *loss)
{
    loss->bytes = get64(raw);
    loss->records = get64(raw + 8);
    loss->first_seq = get64(raw + 16);
    loss->last_seq = get64(raw + 24);
}

void moor_spool_segment_name(char *buf, size_t size, uint64_t index)
{
    snprintf(buf, size, "%016" PRIx64 ".seg", index);
}

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* ---- record iterator: walks headers through a small window ---- */

enum { REC_OK = 1, REC_END = 0, REC_BAD = 2, REC_TORN = 3 };

typedef struct rec_iter {
    int fd;
    uint64_t off;      /* where the next record starts */
    uint64_t end;      /* how far to read */
    uint64_t min_seq;  /* the next record's seq must be at least this */
    uint64_t buf_off;  /* file offset of buf[0] */
    size_t buf_len;
    uint8_t buf[16384];
} rec_iter_t;

static void iter_init(rec_iter_t *it, int fd, uint64_t end, uint64_t min_seq)
{
    it->fd = fd;
    it->off = 0;
    it->end = end;
    it->min_seq = min_seq;
    it->buf_off = 0;
    it->buf_len = 0;
}

/* Point *out at [off, off + len): 1, or 0 when that is past the end, or -errno. */
static int iter_window(rec_iter_t *it, uint64_t off, size_t len, const uint8_t **out)
{
    if (off + len > it->end)
        return 0;
    if (off < it->buf_off || off + len > it->buf_off + it->buf_len) {
        uint64_t left = it->end - off;
        size_t want = left < sizeof(it->buf) ? (size_t)left : sizeof(it->buf);
        ssize_t n = pread_full(it->fd, it->buf, want, off);
        if (n < 0)
            return (int)n;
        it->buf_off = off;
        it->buf_len = (size_t)n;
        if ((size_t)n < len)
            return 0; /* the file is shorter than it said */
    }
    *out = it->buf + (off - it->buf_off);
    return 1;
}

/* Decode the record at it->off (and a loss payload) without moving on. */
static int iter_peek(rec_iter_t *it, struct moor_record_header *h, struct moor_loss_payload *loss)
{
    const uint8_t *p;
    if (it->off == it->end)
        return REC_END;
    int ret = iter_window(it, it->off, MOOR_RECORD_HEADER_SIZE, &p);
    if (ret <= 0)
        return ret < 0 ? ret : REC_BAD;
    if (!moor_spool_decode_header(p, h) || h->seq < it->min_seq)
        return REC_BAD;
    if (it->off + MOOR_RECORD_HEADER_SIZE + h->length > it->end)
        return REC_TORN;
    if (h->stream == MOOR_STREAM_LOSS) {
        ret = iter_window(it, it->off + MOOR_RECORD_HEADER_SIZE, MOOR_LOSS_PAYLOAD_SIZE, &p);
        if (ret <= 0)
            return ret < 0 ? ret : REC_TORN;
        moor_spool_decode_loss(p, loss);
    }
    return REC_OK;
}

static void iter_advance(rec_iter_t *it, const struct moor_record_header *h)
{
    it->off += MOOR_RECORD_HEADER_SIZE + h->length;
    it->min_seq = h->seq + 1;
}

/* ---- scanning a segment ---- */

static void scan_count(moor_spool_scan_t *s, const struct moor_record_header *h,
                       const struct moor_loss_payload *loss, uint64_t after_seq)
{
    if (s->first_seq == 0)
        s->first_seq = h->seq;
    s->last_seq = h->seq;
    if (h->seq > after_seq && s->undelivered_time_ns == 0)
        s->undelivered_time_ns = h->time_ns;
    if (h->stream == MOOR_STREAM_LOSS) {
        s->loss_records++;
        s->loss_bytes += loss->bytes;
        if (h->seq > after_seq)
            moor_spool_merge_loss(&s->undelivered_loss, loss);
        return;
    }
    s->data_bytes += h->length;
    s->data_records++;
    const struct moor_loss_payload record = {h->length, 1, h->seq, h->seq};
    if (h->seq > after_seq)
        moor_spool_merge_loss(&s->undelivered, &record);
}

int moor_spool_scan_segment(int fd, uint64_t limit, uint64_t min_seq, uint64_t after_seq,
                            moor_spool_scan_t *out, moor_err_t *err)
{
    struct stat st;
    memset(out, 0, sizeof(*out));
    if (fstat(fd, &st) < 0)
        return moor_fail_errno(err, "stat spool segment");
    out->file_size = (uint64_t)st.st_size;
    rec_iter_t it;
    iter_init(&it, fd, out->file_size < limit ? out->file_size : limit, min_seq);
    struct moor_record_header h;
    struct moor_loss_payload loss;
    int ret;
    while ((ret = iter_peek(&it, &h, &loss)) == REC_OK) {
        scan_count(out, &h, &loss, after_seq);
        iter_advance(&it, &h);
    }
    if (ret < 0) {
        errno = -ret;
        return moor_fail_errno(err, "read spool segment at offset %" PRIu64, it.off);
    }
    out->valid_size = it.off;
    if (ret == REC_TORN) {
        out->torn_seq = h.seq;
        out->torn_length = h.length;
    }
    return 0;
}

/* ---- recovery ---- */

/* "0123456789abcdef.seg" -> 0x0123456789abcdef; false for any other name. */
bool moor_spool_parse_segment_name(const char *name, uint64_t *index)
{
    if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *index = v;
    return v != 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The segment numbers in DIR, sorted, in a malloc'd array. */
static int list_segments(moor_spool_t *sp, uint64_t **out, size_t *n, moor_err_t *err)
{
    int fd = dup(sp->dir_fd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        int saved = errno;
        moor_close(&fd);
        errno = saved;
        return moor_fail_errno(err, "spool `%s`: list segments", sp->dir);
    }
    rewinddir(d);
    size_t cap = 0;
    struct dirent *de;
    uint64_t index;
    while ((de = readdir(d)) != NULL) {
        if (!moor_spool_parse_segment_name(de->d_name, &index))
            continue;
        if (*n == cap) {
            cap = cap == 0 ? MOOR_SPOOL_MAX_SEGMENTS : cap * 2;
            uint64_t *bigger = realloc(*out, cap * sizeof(**out));
            if (bigger == NULL) {
                closedir(d);
                return moor_fail(err, ENOMEM, "spool `%s`: list segments: out of memory", sp->dir);
            }
            *out = bigger;
        }
        (*out)[(*n)++] = index;
    }
    closedir(d);
    qsort(*out, *n, sizeof(**out), cmp_u64);
    return 0;
}

static void add_recovered(moor_spool_t *sp, uint64_t index, const moor_spool_scan_t *s)
{
    moor_spool_segment_t *seg = &sp->segments[sp->n_segments++];
    *seg = (moor_spool_segment_t){
        .index = index, .first_seq = s->first_seq, .last_seq = s->last_seq,
        .size = s->valid_size, .data_bytes = s->data_bytes,
        .data_records = s->data_records, .loss_records = s->loss_records,
    };
    sp->total_bytes += s->valid_size;
    sp->lost_bytes_total += s->loss_bytes;
    if (s->last_seq >= sp->next_seq)
        sp->next_seq = s->last_seq + 1;
    if (s->torn_seq != 0) {
        /* Read from the container but never made it whole to disk. */
        struct moor_loss_payload torn = {s->torn_length, 1, s->torn_seq, s->torn_seq};
        moor_spool_note_loss(sp, &torn, true);
        if (s->torn_seq >= sp->next_seq)
            sp->next_seq = s->torn_seq + 1;
    }
}

/* Scan one segment, cut whatever follows its last good record, add it. */
static int recover_segment(moor_spool_t *sp, uint64_t index, moor_err_t *err)
{
    char name[32];
    moor_spool_segment_name(name, sizeof(name), index);
    int fd moor_cleanup_close = openat(sp->dir_fd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "spool `%s`: open segment %s", sp->dir, name);
    /* A segment's records all have seq >= its number and above every earlier one. */
    uint64_t min_seq = index > sp->next_seq ? index : sp->next_seq;
    moor_spool_scan_t s;
    int ret = moor_spool_scan_segment(fd, UINT64_MAX, min_seq, UINT64_MAX, &s, err);
    if (ret < 0) {
        moor_err_wrap(err, "spool `%s`: segment %s", sp->dir, name);
        return ret;
    }
    if (s.valid_size < s.file_size) {
        while ((ret = ftruncate(fd, (off_t)s.valid_size)) < 0 && errno == EINTR)
            ;
        if (ret < 0)
            return moor_fail_errno(err, "spool `%s`: cut segment %s to %" PRIu64 " bytes",
                                   sp->dir, name, s.valid_size);
    }
    if (sp->n_segments == MOOR_SPOOL_MAX_SEGMENTS && (ret = moor_spool_drop_oldest(sp, err)) < 0)
        return ret;
    add_recovered(sp, index, &s);
    if (index > sp->next_seq)
        sp->next_seq = index;
    return 0;
}

int moor_spool_recover(moor_spool_t *sp, moor_err_t *err)
{
    uint64_t *indexes moor_cleanup_free = NULL;
    size_t n = 0;
    int ret = list_segments(sp, &indexes, &n, err);
    for (size_t i = 0; ret == 0 && i < n; i++)
        ret = recover_segment(sp, indexes[i], err);
    return ret;
}

/* ---- reading ---- */

uint64_t moor_spool_first_seq(const moor_spool_t *sp)
{
    for (int i = 0; i < sp->n_segments; i++)
        if (sp->segments[i].first_seq != 0)
            return sp->segments[i].first_seq;
    return 0;
}

typedef struct read_ctx {
    uint8_t *buf;
    size_t cap;
    size_t used;
    uint64_t next_seq;
} read_ctx_t;

/* Offset in `seg` of the first record with seq >= from_seq. */
static int locate(moor_spool_t *sp, const moor_spool_segment_t *seg, int fd, uint64_t from_seq,
                  uint64_t *off, moor_err_t *err)
{
    *off = 0;
    if (from_seq <= seg->first_seq)
        return 0;
    if (sp->cache_seq == from_seq && sp->cache_segment_index == seg->index &&
        sp->cache_offset <= seg->size) {
        *off = sp->cache_offset;
        return 0;
    }
    rec_iter_t it;
    iter_init(&it, fd, seg->size, 0);
    struct moor_record_header h;
    struct moor_loss_payload loss;
    int ret;
    while ((ret = iter_peek(&it, &h, &loss)) == REC_OK && h.seq < from_seq)
        iter_advance(&it, &h);
    if (ret < 0) {
        errno = -ret;
        return moor_fail_errno(err, "spool `%s`: read segment %016" PRIx64, sp->dir, seg->index);
    }
    *off = it.off;
    return 0;
}

/*
 * Whole records at the start of buf[0, n) that fit; *last_seq is the last
 * one's. Stops at a record that is cut off or would pass the cap (except a
 * first record), or at one that is not framed (*bad).
 */
static size_t take_records(const read_ctx_t *c, const uint8_t *p, size_t n, uint64_t *last_seq,
                           bool *bad)
{
    size_t done = 0;
    struct moor_record_header h;
    while (done + MOOR_RECORD_HEADER_SIZE <= n) {
        if (!moor_spool_decode_header(p + done, &h) || h.seq < c->next_seq) {
            *bad = true;
            break;
        }
        size_t rec = MOOR_RECORD_HEADER_SIZE + h.length;
        bool first = c->used + done == 0;
        if (done + rec > n || (!first && c->used + done + rec > c->cap))
            break;
        done += rec;
        *last_seq = h.seq;
    }
    return done;
}

/* Copy from `seg` at `off` on: 1 when the segment was read to its end, 0 when buf is full. */
static int copy_segment(moor_spool_t *sp, const moor_spool_segment_t *seg, int fd, uint64_t off,
                        read_ctx_t *c, moor_err_t *err)
{
    while (off < seg->size) {
        uint64_t left = seg->size - off;
        size_t want = c->cap > c->used ? c->cap - c->used : 0;
        if (c->used == 0 && want < MOOR_SPOOL_READ_MIN)
            want = MOOR_SPOOL_READ_MIN; /* the first record goes out whatever the cap */
        if (want > left)
            want = (size_t)left;
        ssize_t n = pread_full(fd, c->buf + c->used, want, off);
        if (n < 0) {
            errno = (int)-n;
            return moor_fail_errno(err, "spool `%s`: read segment %016" PRIx64, sp->dir, seg->index);
        }
        uint64_t last = 0;
        bool bad = false;
        size_t took = take_records(c, c->buf + c->used, (size_t)n, &last, &bad);
        if (took > 0) {
            c->used += took;
            c->next_seq = last + 1;
            off += took;
            sp->cache_seq = c->next_seq;
            sp->cache_segment_index = seg->index;
            sp->cache_offset = off;
        }
        /* Not framed, cut short, or a record running past the segment: skip the rest. */
        if (bad || (size_t)n < want || (took == 0 && (size_t)n == left))
            return 1;
        if (took == 0)
            return 0;
    }
    return 1;
}

int moor_spool_read(moor_spool_t *sp, uint64_t from_seq, void *buf, size_t cap,
                    size_t *out_len, uint64_t *next_seq, moor_err_t *err)
{
    uint64_t first = moor_spool_first_seq(sp);
    if (from_seq < first)
        from_seq = first;
    if (from_seq == 0)
        from_seq = 1;
    *out_len = 0;
    *next_seq = from_seq;
    read_ctx_t c = {.buf = buf, .cap = cap, .next_seq = from_seq};
    for (int i = 0; i < sp->n_segments && from_seq < sp->next_seq; i++) {
        const moor_spool_segment_t *seg = &sp->segments[i];
        if (seg->first_seq == 0 || seg->last_seq < c.next_seq)
            continue;
        char name[32];
        moor_spool_segment_name(name, sizeof(name), seg->index);
        int fd moor_cleanup_close = openat(sp->dir_fd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return moor_fail_errno(err, "spool `%s`: open segment %s", sp->dir, name);
        uint64_t off;
        int ret = locate(sp, seg, fd, c.next_seq, &off, err);
        if (ret == 0)
            ret = copy_segment(sp, seg, fd, off, &c, err);
        if (ret <= 0) {
            if (ret < 0)
                return ret;
            break;
        }
    }
    *out_len = c.used;
    if (c.used > 0 && c.next_seq - 1 > sp->served_seq)
        sp->served_seq = c.next_seq - 1;
    /* Nothing readable at or after from_seq: the seqs up to next_seq never were records. */
    *next_seq = c.used == 0 && from_seq < sp->next_seq ? sp->next_seq : c.next_seq;
    return 0;
}
