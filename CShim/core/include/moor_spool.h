/*
 * The on-disk output spool: records {seq, stream, time, bytes} appended to
 * segment files in a directory. Appending never blocks the container: past
 * `max_bytes` the oldest segments are dropped (undelivered records in them
 * are counted) and a loss record (MOOR_STREAM_LOSS) reports the exact count;
 * when the disk is full the new bytes are dropped and counted the same way.
 * Readers read whole records from a seq cursor and acknowledge a seq, which
 * lets the spool delete fully acknowledged segments.
 *
 * Files: DIR/NNNNNNNNNNNNNNNN.seg (16 hex digits, increasing). Each segment
 * is a plain concatenation of records (moor_protocol.h), so a reader that
 * has no shim to talk to can still read the spool from disk.
 */
#ifndef MOOR_SPOOL_H
#define MOOR_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moor_error.h"
#include "moor_protocol.h"

#define MOOR_SPOOL_DEFAULT_MAX (1024ull * 1024ull * 1024ull)
#define MOOR_SPOOL_MIN_MAX (256ull * 1024ull)
#define MOOR_SPOOL_MAX_SEGMENTS 64

typedef struct moor_spool_segment {
    uint64_t index;      /* file name number */
    uint64_t first_seq;  /* seq of its first record (0 if empty) */
    uint64_t last_seq;   /* seq of its last record (0 if empty) */
    uint64_t size;       /* bytes in the file */
} moor_spool_segment_t;

typedef struct moor_spool {
    int dir_fd;
    int write_fd;                 /* the newest segment, O_APPEND */
    char dir[PATH_MAX];
    uint64_t max_bytes;           /* bound on the sum of segment sizes */
    uint64_t segment_max;         /* a segment is closed past this size */
    moor_spool_segment_t segments[MOOR_SPOOL_MAX_SEGMENTS]; /* oldest first */
    int n_segments;
    uint64_t total_bytes;         /* sum of segment sizes */
    uint64_t next_seq;            /* seq the next record gets */
    uint64_t acked_seq;           /* highest seq acknowledged by a reader */
    /* Dropped but not yet reported in a loss record. */
    uint64_t pending_loss_bytes;
    uint64_t pending_loss_records;
    uint64_t pending_loss_first_seq;
    uint64_t pending_loss_last_seq;
    uint64_t lost_bytes_total;    /* every byte ever dropped */
    /* Read cursor cache: where `cache_seq` starts, to avoid rescans. */
    uint64_t cache_seq;
    uint64_t cache_segment_index;
    uint64_t cache_offset;
} moor_spool_t;

/*
 * Open (creating DIR if needed) with the given bound (0 = default). An
 * existing spool in DIR is recovered: segments are scanned, a torn last
 * record is truncated away, and seq numbering continues.
 */
int moor_spool_open(moor_spool_t *sp, const char *dir, uint64_t max_bytes, moor_err_t *err);
/*
 * Append one record. Never blocks and never fails for lack of room: data
 * that cannot be kept is counted into the next loss record. Returns 0, or a
 * negative errno only for a broken spool (the bytes are then counted lost).
 * len must be <= MOOR_RECORD_MAX_PAYLOAD.
 */
int moor_spool_append(moor_spool_t *sp, uint8_t stream, uint64_t time_ns, const void *data,
                      size_t len, moor_err_t *err);
/*
 * Copy whole records with seq >= from_seq into buf (header + payload each),
 * at most `cap` bytes (at least one record if it fits MOOR_RECORD_HEADER_SIZE
 * + MOOR_RECORD_MAX_PAYLOAD). *next_seq is the seq to ask for next. A
 * from_seq older than the oldest kept record starts at the oldest.
 */
int moor_spool_read(moor_spool_t *sp, uint64_t from_seq, void *buf, size_t cap,
                    size_t *out_len, uint64_t *next_seq, moor_err_t *err);
/* Acknowledge every record up to and including `seq`; reclaims segments. */
int moor_spool_ack(moor_spool_t *sp, uint64_t seq, moor_err_t *err);
/* Write any pending loss record now (e.g. before the exit is reported). */
int moor_spool_flush_loss(moor_spool_t *sp, moor_err_t *err);
/* Oldest seq still kept (0 if empty). */
uint64_t moor_spool_first_seq(const moor_spool_t *sp);
void moor_spool_close(moor_spool_t *sp);
/* Remove every segment file and the directory. */
int moor_spool_remove(moor_spool_t *sp, moor_err_t *err);

#endif
