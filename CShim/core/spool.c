/*
 * The writing side of the spool (moor_spool.h): open, append under the
 * bound with exact loss accounting, acknowledge and reclaim, close, remove.
 * The hot path is one writev per record on an O_APPEND fd, never fsync'd:
 * the spool has to keep up with a container writing flat out.
 */
#include "moor_spool.h"
#include "moor_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Errors that mean "no room for these bytes now": drop and count them. */
static bool no_room(int code)
{
    return code == ENOSPC || code == EDQUOT || code == EIO || code == EFBIG;
}

static moor_spool_segment_t *newest(moor_spool_t *sp)
{
    return &sp->segments[sp->n_segments - 1];
}

static bool loss_pending(const moor_spool_t *sp)
{
    return sp->pending_loss_bytes != 0 || sp->pending_loss_records != 0;
}

void moor_spool_note_loss(moor_spool_t *sp, const struct moor_loss_payload *loss, bool fresh)
{
    sp->pending_loss_bytes += loss->bytes;
    sp->pending_loss_records += loss->records;
    if (loss->first_seq != 0 &&
        (sp->pending_loss_first_seq == 0 || loss->first_seq < sp->pending_loss_first_seq))
        sp->pending_loss_first_seq = loss->first_seq;
    if (loss->last_seq > sp->pending_loss_last_seq)
        sp->pending_loss_last_seq = loss->last_seq;
    if (fresh)
        sp->lost_bytes_total += loss->bytes;
}

/* What deleting a segment loses. */
typedef struct dropped {
    struct moor_loss_payload data;     /* its unacknowledged stdout/stderr records */
    struct moor_loss_payload reported; /* what its unacknowledged loss records report */
    uint64_t first_time_ns;            /* when its first unacknowledged record was read */
} dropped_t;

/* The time in the header of the segment's first record; `fallback` if unreadable. */
static uint64_t first_record_time(int fd, uint64_t fallback)
{
    uint8_t raw[MOOR_RECORD_HEADER_SIZE];
    struct moor_record_header h;
    ssize_t n;
    while ((n = pread(fd, raw, sizeof(raw), 0)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof(raw) && moor_spool_decode_header(raw, &h) ? h.time_ns : fallback;
}

/*
 * What deleting `seg` loses: its records no reader has acknowledged, plus
 * what its unacknowledged loss records report (that report must not vanish
 * with them). Only a partly acknowledged segment or one holding loss
 * records is read whole; otherwise its first header gives the time.
 */
static void undelivered(moor_spool_t *sp, const moor_spool_segment_t *seg, dropped_t *out)
{
    memset(out, 0, sizeof(*out));
    if (seg->first_seq == 0 || seg->last_seq <= sp->acked_seq)
        return;
    const struct moor_loss_payload whole = {seg->data_bytes, seg->data_records, seg->first_seq,
                                            seg->last_seq};
    char name[32];
    moor_spool_segment_name(name, sizeof(name), seg->index);
    int fd moor_cleanup_close = openat(sp->dir_fd, name, O_RDONLY | O_CLOEXEC);
    out->first_time_ns = moor_now_realtime_ns();
    if (seg->first_seq > sp->acked_seq && seg->loss_records == 0) {
        out->data = whole;
        if (fd >= 0)
            out->first_time_ns = first_record_time(fd, out->first_time_ns);
        return;
    }
    moor_spool_scan_t s;
    if (fd >= 0 && moor_spool_scan_segment(fd, seg->size, 0, sp->acked_seq, &s, NULL) == 0 &&
        s.valid_size == seg->size) {
        out->data = s.undelivered;
        out->reported = s.undelivered_loss;
        out->first_time_ns = s.undelivered_time_ns;
        return;
    }
    /* Unreadable: rather count all of it than nothing. */
    out->data = whole;
}

/* Delete segments[i]'s file and take it out of the table. */
static int unlink_segment(moor_spool_t *sp, int i, moor_err_t *err)
{
    moor_spool_segment_t *seg = &sp->segments[i];
    char name[32];
    moor_spool_segment_name(name, sizeof(name), seg->index);
    if (unlinkat(sp->dir_fd, name, 0) < 0 && errno != ENOENT)
        return moor_fail_errno(err, "spool `%s`: delete segment %s", sp->dir, name);
    sp->total_bytes -= seg->size;
    sp->n_segments--;
    memmove(seg, seg + 1, (size_t)(sp->n_segments - i) * sizeof(*seg));
    return 0;
}

static bool loss_is_empty(const struct moor_loss_payload *loss)
{
    return loss->bytes == 0 && loss->records == 0;
}

/* Without a stub (it could not be written): the loss goes out with the next record. */
static int drop_reporting_later(moor_spool_t *sp, int victim, const dropped_t *lost, moor_err_t *err)
{
    int ret = unlink_segment(sp, victim, err);
    if (ret == 0) {
        moor_spool_note_loss(sp, &lost->data, true);
        moor_spool_note_loss(sp, &lost->reported, false);
    }
    return ret;
}

/*
 * Where the gap goes: the first segment behind the held ones, when that
 * leaves a segment to drop that is not the newest; otherwise the head, held
 * or not (the bound comes first).
 */
static int gap_index(const moor_spool_t *sp)
{
    int at = moor_spool_held(sp);
    int victim = at + (moor_spool_is_stub(sp, at) ? 1 : 0);
    return victim < sp->n_segments - 1 ? at : 0;
}

int moor_spool_drop_oldest(moor_spool_t *sp, moor_err_t *err)
{
    const moor_spool_segment_t *oldest = &sp->segments[0];
    if (oldest->first_seq == 0 || oldest->last_seq <= sp->acked_seq)
        return unlink_segment(sp, 0, err); /* empty, or all delivered (a stub included) */
    /* Behind a stub the next segment goes, its loss merged into the stub. */
    int at = gap_index(sp);
    bool stub = moor_spool_is_stub(sp, at) && sp->n_segments > at + 2;
    int victim = stub ? at + 1 : at;
    dropped_t lost, head;
    undelivered(sp, &sp->segments[victim], &lost);
    uint64_t seq = sp->segments[victim].last_seq;
    if (seq == 0 || (loss_is_empty(&lost.data) && loss_is_empty(&lost.reported)))
        return unlink_segment(sp, victim, err); /* empty, or every record delivered */
    struct moor_loss_payload total = {0};
    moor_spool_merge_loss(&total, &lost.data);
    moor_spool_merge_loss(&total, &lost.reported);
    uint64_t time_ns = lost.first_time_ns;
    if (stub) {
        /* The stub's record carries the time the gap began. */
        undelivered(sp, &sp->segments[at], &head);
        moor_spool_merge_loss(&total, &head.reported);
        time_ns = head.first_time_ns;
    }
    moor_err_t ignored;
    if (moor_spool_write_stub(sp, sp->segments[at].index, seq, time_ns, &total, &ignored) < 0)
        return stub ? unlink_segment(sp, victim, err) : drop_reporting_later(sp, at, &lost, err);
    sp->lost_bytes_total += lost.data.bytes;
    moor_spool_segment_t *gap = &sp->segments[at];
    sp->total_bytes = sp->total_bytes - gap->size + MOOR_SPOOL_LOSS_RECORD_SIZE;
    *gap = (moor_spool_segment_t){.index = gap->index, .first_seq = seq, .last_seq = seq,
                                  .size = MOOR_SPOOL_LOSS_RECORD_SIZE, .loss_records = 1};
    return stub ? unlink_segment(sp, victim, err) : 0;
}

/*
 * Start a new newest segment. Its number is the seq its first record will
 * get (bumping next_seq past a number already taken), and the file exists
 * before any older one is deleted: the directory always tells where seq
 * numbering stands.
 */
static int create_segment(moor_spool_t *sp, moor_err_t *err)
{
    int ret;
    if (sp->n_segments == MOOR_SPOOL_MAX_SEGMENTS && (ret = moor_spool_drop_oldest(sp, err)) < 0)
        return ret;
    uint64_t index = sp->next_seq;
    if (sp->n_segments > 0 && newest(sp)->index >= index)
        index = newest(sp)->index + 1;
    char name[32];
    moor_spool_segment_name(name, sizeof(name), index);
    int fd = openat(sp->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return moor_fail_errno(err, "spool `%s`: create segment %s", sp->dir, name);
    moor_close(&sp->write_fd);
    sp->write_fd = fd;
    sp->next_seq = index;
    sp->segments[sp->n_segments++] = (moor_spool_segment_t){.index = index};
    return 0;
}

/* Make `need` more bytes fit the segment size and the bound. */
static int make_room(moor_spool_t *sp, uint64_t need, moor_err_t *err)
{
    int ret = 0;
    const moor_spool_segment_t *seg = newest(sp);
    if (sp->write_fd < 0 || (seg->size > 0 && seg->size + need > sp->segment_max))
        ret = create_segment(sp, err);
    /*
     * The newest segment is never dropped; it alone always leaves room, since
     * segment_max + two records is far below MOOR_SPOOL_MIN_MAX.
     */
    while (ret == 0 && sp->total_bytes + need > sp->max_bytes && moor_spool_can_drop(sp))
        ret = moor_spool_drop_oldest(sp, err);
    return ret;
}

/* A failed write: cut the segment back to its last whole record. */
static int rollback(moor_spool_t *sp, size_t written, uint64_t records, int code, moor_err_t *err)
{
    moor_spool_segment_t *seg = newest(sp);
    char name[32];
    moor_spool_segment_name(name, sizeof(name), seg->index);
    int ret = 0;
    while (written > 0 && (ret = ftruncate(sp->write_fd, (off_t)seg->size)) < 0 && errno == EINTR)
        ;
    if (ret < 0) {
        /* The file stays torn past seg->size: go on in a new segment, never reuse those seqs. */
        moor_close(&sp->write_fd);
        sp->next_seq += records;
    }
    errno = code;
    return moor_fail_errno(err, "spool `%s`: write segment %s", sp->dir, name);
}

/* writev the whole of iov, or nothing (as far as the file's framing goes). */
static int write_iov(moor_spool_t *sp, struct iovec *iov, int cnt, uint64_t records,
                     moor_err_t *err)
{
    size_t written = 0;
    while (cnt > 0) {
        ssize_t n = writev(sp->write_fd, iov, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rollback(sp, written, records, n < 0 ? errno : EIO, err);
        written += (size_t)n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static void commit(moor_spool_t *sp, uint64_t last_seq, size_t bytes, bool with_loss, size_t len,
                   bool with_data)
{
    moor_spool_segment_t *seg = newest(sp);
    if (with_loss) {
        seg->loss_records++;
        sp->pending_loss_bytes = sp->pending_loss_records = 0;
        sp->pending_loss_first_seq = sp->pending_loss_last_seq = 0;
    }
    if (with_data) {
        seg->data_bytes += len;
        seg->data_records++;
    }
    if (seg->first_seq == 0)
        seg->first_seq = sp->next_seq;
    seg->last_seq = last_seq;
    seg->size += bytes;
    sp->total_bytes += bytes;
    sp->next_seq = last_seq + 1;
}

/* The pending loss record (if any) then the data record (if data), in one writev. */
static int write_records(moor_spool_t *sp, uint8_t stream, uint64_t time_ns, const void *data,
                         size_t len, moor_err_t *err)
{
    uint8_t loss_rec[MOOR_SPOOL_LOSS_RECORD_SIZE], hdr[MOOR_RECORD_HEADER_SIZE];
    struct iovec iov[3];
    int cnt = 0;
    size_t bytes = 0;
    uint64_t seq = sp->next_seq;
    bool with_loss = loss_pending(sp);
    if (with_loss) {
        const struct moor_loss_payload pending = {sp->pending_loss_bytes, sp->pending_loss_records,
                                                  sp->pending_loss_first_seq, sp->pending_loss_last_seq};
        moor_spool_encode_loss_record(loss_rec, seq, time_ns, &pending);
        iov[cnt++] = (struct iovec){loss_rec, sizeof(loss_rec)};
        bytes += sizeof(loss_rec);
        seq++;
    }
    if (data != NULL) {
        struct moor_record_header h = {.length = (uint32_t)len, .stream = stream,
                                       .magic = MOOR_RECORD_MAGIC, .seq = seq, .time_ns = time_ns};
        moor_spool_encode_header(hdr, &h);
        iov[cnt++] = (struct iovec){hdr, sizeof(hdr)};
        iov[cnt++] = (struct iovec){(void *)data, len};
        bytes += sizeof(hdr) + len;
        seq++;
    }
    int ret = write_iov(sp, iov, cnt, seq - sp->next_seq, err);
    if (ret == 0)
        commit(sp, seq - 1, bytes, with_loss, len, data != NULL);
    return ret;
}

int moor_spool_append(moor_spool_t *sp, uint8_t stream, uint64_t time_ns, const void *data,
                      size_t len, moor_err_t *err)
{
    if (stream != MOOR_STREAM_STDOUT && stream != MOOR_STREAM_STDERR)
        return moor_fail(err, EINVAL, "spool `%s`: append: stream %u is not stdout or stderr",
                         sp->dir, stream);
    if (len > MOOR_RECORD_MAX_PAYLOAD)
        return moor_fail(err, EINVAL, "spool `%s`: append: %zu bytes, a record holds at most %u",
                         sp->dir, len, MOOR_RECORD_MAX_PAYLOAD);
    if (len == 0)
        return 0;
    /* Room for the record and for the loss record that dropping segments may call for. */
    int ret = make_room(sp, MOOR_RECORD_HEADER_SIZE + len + MOOR_SPOOL_LOSS_RECORD_SIZE, err);
    if (ret == 0)
        ret = write_records(sp, stream, time_ns, data, len, err);
    if (ret < 0) {
        struct moor_loss_payload dropped = {.bytes = len};
        moor_spool_note_loss(sp, &dropped, true);
        return no_room(-ret) ? 0 : ret;
    }
    return 0;
}

int moor_spool_flush_loss(moor_spool_t *sp, moor_err_t *err)
{
    if (!loss_pending(sp))
        return 0;
    int ret = make_room(sp, MOOR_SPOOL_LOSS_RECORD_SIZE, err);
    if (ret == 0)
        ret = write_records(sp, 0, moor_now_realtime_ns(), NULL, 0, err);
    return ret;
}

int moor_spool_ack(moor_spool_t *sp, uint64_t seq, moor_err_t *err)
{
    if (seq >= sp->next_seq)
        return moor_fail(err, EINVAL,
                         "spool `%s`: ack of seq %" PRIu64 " past the last record (%" PRIu64 ")",
                         sp->dir, seq, sp->next_seq - 1);
    if (seq <= sp->acked_seq)
        return 0;
    sp->acked_seq = seq;
    int ret = 0;
    while (ret == 0 && sp->n_segments > 1 && sp->segments[0].last_seq <= seq)
        ret = moor_spool_drop_oldest(sp, err);
    return ret;
}

/* ---- open, close, remove ---- */

static void set_bounds(moor_spool_t *sp, uint64_t max_bytes)
{
    sp->max_bytes = max_bytes == 0 ? MOOR_SPOOL_DEFAULT_MAX
                    : max_bytes < MOOR_SPOOL_MIN_MAX ? MOOR_SPOOL_MIN_MAX : max_bytes;
    /*
     * About half the segment slots in normal use. No upper clamp: a bigger
     * segment_max is what lets a big bound be reached within the slots.
     */
    sp->segment_max = sp->max_bytes / (MOOR_SPOOL_MAX_SEGMENTS / 2);
    if (sp->segment_max < MOOR_SPOOL_MIN_SEGMENT)
        sp->segment_max = MOOR_SPOOL_MIN_SEGMENT;
}

static int open_newest(moor_spool_t *sp, moor_err_t *err)
{
    if (sp->n_segments == 0)
        return create_segment(sp, err);
    char name[32];
    moor_spool_segment_name(name, sizeof(name), newest(sp)->index);
    sp->write_fd = openat(sp->dir_fd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (sp->write_fd < 0)
        return moor_fail_errno(err, "spool `%s`: open segment %s", sp->dir, name);
    return 0;
}

/* A recovered spool may be over a bound that has since shrunk. */
static int fit_bound(moor_spool_t *sp, moor_err_t *err)
{
    int ret = 0;
    while (ret == 0 && sp->total_bytes + MOOR_SPOOL_LOSS_RECORD_SIZE > sp->max_bytes)
        ret = moor_spool_can_drop(sp) ? moor_spool_drop_oldest(sp, err) : create_segment(sp, err);
    return ret;
}

int moor_spool_open(moor_spool_t *sp, const char *dir, uint64_t max_bytes, moor_err_t *err)
{
    memset(sp, 0, sizeof(*sp));
    sp->dir_fd = sp->write_fd = -1;
    if (snprintf(sp->dir, sizeof(sp->dir), "%s", dir) >= (int)sizeof(sp->dir))
        return moor_fail(err, ENAMETOOLONG, "spool `%s`: path too long", dir);
    set_bounds(sp, max_bytes);
    sp->next_seq = 1;
    int ret = moor_mkdir_p(dir, 0700, err);
    if (ret < 0) {
        moor_err_wrap(err, "spool `%s`", dir);
        return ret;
    }
    sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dir_fd < 0)
        ret = moor_fail_errno(err, "spool `%s`: open directory", dir);
    if (ret == 0)
        ret = moor_spool_recover(sp, err);
    if (ret == 0)
        ret = open_newest(sp, err);
    if (ret == 0) {
        uint64_t first = moor_spool_first_seq(sp);
        sp->acked_seq = first != 0 ? first - 1 : sp->next_seq - 1;
        ret = fit_bound(sp, err);
    }
    if (ret < 0)
        moor_spool_close(sp);
    return ret;
}

void moor_spool_close(moor_spool_t *sp)
{
    moor_close(&sp->write_fd);
    moor_close(&sp->dir_fd);
}

/* Delete every *.seg in d; how many went, or -errno. */
static int delete_segments(moor_spool_t *sp, DIR *d, moor_err_t *err)
{
    int deleted = 0;
    struct dirent *de;
    uint64_t index;
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        if (!moor_spool_parse_segment_name(de->d_name, &index))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
            return moor_fail_errno(err, "spool `%s`: delete segment %s", sp->dir, de->d_name);
        deleted++;
    }
    return deleted;
}

int moor_spool_remove(moor_spool_t *sp, moor_err_t *err)
{
    moor_spool_close(sp);
    sp->n_segments = 0;
    sp->total_bytes = 0;
    if (sp->dir[0] == '\0')
        return 0;
    DIR *d = opendir(sp->dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : moor_fail_errno(err, "spool `%s`: open directory", sp->dir);
    int ret;
    /* Entries removed while reading may hide others: go again until none is left. */
    while ((ret = delete_segments(sp, d, err)) > 0)
        ;
    closedir(d);
    if (ret == 0 && rmdir(sp->dir) < 0 && errno != ENOENT)
        ret = moor_fail_errno(err, "spool `%s`: remove directory", sp->dir);
    return ret;
}
