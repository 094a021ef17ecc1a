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
 * has no shim to talk to can still read the spool from disk. A segment's
 * number is the seq its first record gets (or a later one), so even a
 * segment that holds no record yet tells a restarted shim where seq
 * numbering stands: a seq is never reused.
 *
 * Loss accounting: every appended payload byte is, at any time, either in a
 * kept stdout/stderr record, or acknowledged (delivered) and reclaimed, or
 * counted in a loss record (or in the pending loss that the next record or
 * moor_spool_flush_loss writes). A loss record's `records` and seq range
 * describe only dropped records that had a seq (dropped past the bound, or a
 * torn record found on recovery); bytes dropped because the disk was full
 * never became records, so they add to `bytes` alone. A dropped loss record
 * that was never acknowledged is not lost information: its counts are
 * carried into the next loss record.
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
/* A smaller bound is raised to this (it must hold a few 64 KiB records). */
#define MOOR_SPOOL_MIN_MAX (256ull * 1024ull)
#define MOOR_SPOOL_MAX_SEGMENTS 64
/* segment_max = max_bytes / (MOOR_SPOOL_MAX_SEGMENTS / 2), at least this. */
#define MOOR_SPOOL_MIN_SEGMENT (64ull * 1024ull)
/* Bytes of one loss record on disk (header + moor_loss_payload). */
#define MOOR_SPOOL_LOSS_RECORD_SIZE (MOOR_RECORD_HEADER_SIZE + MOOR_LOSS_PAYLOAD_SIZE)
/* The largest record; moor_spool_read's buffer must hold at least this. */
#define MOOR_SPOOL_READ_MIN (MOOR_RECORD_HEADER_SIZE + MOOR_RECORD_MAX_PAYLOAD)

typedef struct moor_spool_segment {
    uint64_t index;        /* file name number; <= first_seq */
    uint64_t first_seq;    /* seq of its first record (0 if empty) */
    uint64_t last_seq;     /* seq of its last record (0 if empty) */
    uint64_t size;         /* bytes of whole records in the file */
    uint64_t data_bytes;   /* payload bytes of its stdout/stderr records */
    uint64_t data_records; /* its stdout/stderr records */
    uint64_t loss_records; /* its loss records */
} moor_spool_segment_t;

typedef struct moor_spool {
    int dir_fd;
    int write_fd;                 /* the newest segment, O_APPEND; -1 forces a new one */
    char dir[PATH_MAX];
    uint64_t max_bytes;           /* bound on the sum of segment sizes */
    uint64_t segment_max;         /* a segment is closed past this size */
    moor_spool_segment_t segments[MOOR_SPOOL_MAX_SEGMENTS]; /* oldest first */
    int n_segments;               /* >= 1 while open: the newest is never deleted */
    uint64_t total_bytes;         /* sum of segment sizes, always <= max_bytes */
    uint64_t next_seq;            /* seq the next record gets */
    uint64_t acked_seq;           /* highest seq acknowledged by a reader */
    uint64_t served_seq;          /* highest seq a read has handed out */
    /* Dropped but not yet reported in a loss record. */
    uint64_t pending_loss_bytes;
    uint64_t pending_loss_records;
    uint64_t pending_loss_first_seq;
    uint64_t pending_loss_last_seq;
    /* Every byte ever dropped (after a recovery: what the kept loss records report). */
    uint64_t lost_bytes_total;
    /* Read cursor cache: where `cache_seq` starts, to avoid rescans. */
    uint64_t cache_seq;
    uint64_t cache_segment_index;
    uint64_t cache_offset;
} moor_spool_t;

/*
 * Open (creating DIR if needed) with the given bound (0 = default, below
 * MOOR_SPOOL_MIN_MAX = raised to it). An existing spool in DIR is recovered:
 * segments are scanned, each is cut at its first record that is torn, not
 * framed (bad magic, bad length, seq not increasing) or foreign, and seq
 * numbering continues after the highest seq and segment number found. A torn
 * record whose header is intact counts as lost (1 record, its seq). After a
 * recovery acked_seq is first_seq - 1: nothing kept is known to be delivered.
 */
int moor_spool_open(moor_spool_t *sp, const char *dir, uint64_t max_bytes, moor_err_t *err);
/*
 * Append one record (stream MOOR_STREAM_STDOUT or MOOR_STREAM_STDERR; len
 * 1..MOOR_RECORD_MAX_PAYLOAD, 0 is a no-op). A pending loss record is written
 * first, in the same writev. Never blocks and never fails for lack of room:
 * past the bound the oldest segments go; on ENOSPC, EDQUOT, EIO or EFBIG the
 * bytes are counted as lost (a partial write is cut away) and 0 is returned.
 * Other errors return a negative errno (the bytes are counted lost as well).
 */
int moor_spool_append(moor_spool_t *sp, uint8_t stream, uint64_t time_ns, const void *data,
                      size_t len, moor_err_t *err);
/*
 * Copy whole records with seq >= from_seq into buf (header + payload each).
 * `cap` bounds the bytes copied, except that the first record is always
 * copied whatever its size, so buf must hold max(cap, MOOR_SPOOL_READ_MIN)
 * bytes. *next_seq is the seq to ask for next. A from_seq older than the
 * oldest kept record starts at the oldest; at or past the end gives 0 bytes
 * and *next_seq = from_seq (or next_seq, when the seqs in between were
 * skipped and never became records). Sequential reads resume from a cached
 * position instead of rescanning the segment.
 */
int moor_spool_read(moor_spool_t *sp, uint64_t from_seq, void *buf, size_t cap,
                    size_t *out_len, uint64_t *next_seq, moor_err_t *err);
/*
 * Acknowledge every record up to and including `seq`; deletes the oldest
 * segments whose records are all acknowledged (never the newest one). A seq
 * at or below acked_seq changes nothing; one past the last record given
 * (next_seq - 1) is refused with EINVAL and changes nothing.
 */
int moor_spool_ack(moor_spool_t *sp, uint64_t seq, moor_err_t *err);
/*
 * Write any pending loss record now (e.g. before the exit is reported).
 * Fails (the loss stays pending) only if it cannot be written, e.g. ENOSPC.
 */
int moor_spool_flush_loss(moor_spool_t *sp, moor_err_t *err);
/* Oldest seq still kept (0 if empty). */
uint64_t moor_spool_first_seq(const moor_spool_t *sp);
/* Close the files; idempotent. */
void moor_spool_close(moor_spool_t *sp);
/* Remove every segment file and the directory (also after moor_spool_close). */
int moor_spool_remove(moor_spool_t *sp, moor_err_t *err);

/* ---- What one segment file holds (also used by tests and tools). ---- */

typedef struct moor_spool_scan {
    uint64_t file_size;
    uint64_t valid_size;   /* bytes of whole, framed records from the start */
    uint64_t first_seq;    /* of the valid records, 0 if none */
    uint64_t last_seq;
    uint64_t data_bytes;   /* stdout/stderr payload bytes */
    uint64_t data_records;
    uint64_t loss_records;
    uint64_t loss_bytes;   /* sum of the `bytes` its loss records report */
    /* stdout/stderr records with seq > after_seq: lost if the segment goes. */
    struct moor_loss_payload undelivered;
    /* What its loss records with seq > after_seq report, summed. */
    struct moor_loss_payload undelivered_loss;
    /* The time of its first record with seq > after_seq (0 if none). */
    uint64_t undelivered_time_ns;
    /* The record at valid_size when its header is intact but it is cut short. */
    uint64_t torn_seq;     /* 0 if none */
    uint64_t torn_length;  /* its payload length */
} moor_spool_scan_t;

/*
 * Scan the records of an open segment file up to `limit` bytes (UINT64_MAX:
 * the whole file). Records must have seq >= min_seq and increasing; the scan
 * stops at the first one that is not a whole, framed record.
 */
int moor_spool_scan_segment(int fd, uint64_t limit, uint64_t min_seq, uint64_t after_seq,
                            moor_spool_scan_t *out, moor_err_t *err);

/* Decode a 24-byte little-endian header; false if it is not a valid record header. */
bool moor_spool_decode_header(const uint8_t *raw, struct moor_record_header *h);
void moor_spool_encode_header(uint8_t *raw, const struct moor_record_header *h);
void moor_spool_encode_loss(uint8_t *raw, const struct moor_loss_payload *loss);
/* A whole loss record (header + payload): MOOR_SPOOL_LOSS_RECORD_SIZE bytes. */
void moor_spool_encode_loss_record(uint8_t *raw, uint64_t seq, uint64_t time_ns,
                                   const struct moor_loss_payload *loss);
void moor_spool_decode_loss(const uint8_t *raw, struct moor_loss_payload *loss);

/* ---- Internal to spool.c and spool-scan.c. ---- */

/* "%016llx.seg"; buf holds at least 32 bytes. */
void moor_spool_segment_name(char *buf, size_t size, uint64_t index);
/* The number of a segment file name; false for any other name. */
bool moor_spool_parse_segment_name(const char *name, uint64_t *index);
/* Scan DIR and rebuild segments, next_seq and the pending loss. */
int moor_spool_recover(moor_spool_t *sp, moor_err_t *err);
/*
 * Drop the oldest segment that may go (see moor_spool_held). Its
 * undelivered records (and the loss its own loss records report) become
 * the stub: one loss record, at the seq of the last record dropped, where
 * the output is missing (spool-stub.c); the drops after it merge into it.
 */
int moor_spool_drop_oldest(moor_spool_t *sp, moor_err_t *err);
/*
 * How many segments at the head are held: a read handed out some of their
 * unacknowledged records (a loss record included). The reader may have
 * stored those already and died before acknowledging them: dropping them
 * would report delivered output as lost. While a segment behind them can
 * go, the bound drops that one instead; the newest never goes.
 */
int moor_spool_held(const moor_spool_t *sp);
/* Segment `i` is a stub: loss records only, and not the newest. */
bool moor_spool_is_stub(const moor_spool_t *sp, int i);
/* The oldest segment is a stub. */
bool moor_spool_head_is_stub(const moor_spool_t *sp);
/* Whether the bound can drop a segment: never the newest, nor a stub. */
bool moor_spool_can_drop(const moor_spool_t *sp);
/*
 * Replace segment file `index` with one loss record (`seq`, `loss`), timed
 * `time_ns`: when the first dropped record was read, where the gap begins.
 */
int moor_spool_write_stub(moor_spool_t *sp, uint64_t index, uint64_t seq, uint64_t time_ns,
                          const struct moor_loss_payload *loss, moor_err_t *err);
/* Add `loss` to `sum`: counts added, seq range widened. */
void moor_spool_merge_loss(struct moor_loss_payload *sum, const struct moor_loss_payload *loss);
/* Add to the pending loss; `fresh` when these bytes were not yet counted anywhere. */
void moor_spool_note_loss(moor_spool_t *sp, const struct moor_loss_payload *loss, bool fresh);

#endif
