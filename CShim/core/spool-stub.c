/*
 * The head stub (moor_spool.h). When the bound drops records no reader has
 * acknowledged, their loss is written where they were: the oldest segment
 * is replaced by one holding a single loss record whose seq is the last
 * dropped one's. A reader resuming at its cursor meets the marker at the
 * gap, before the first record kept, and the drops that follow merge into
 * the same stub: one downtime, one marker with the whole count.
 */
#include "moor_spool.h"
#include "moor_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

bool moor_spool_is_stub(const moor_spool_t *sp, int i)
{
    const moor_spool_segment_t *seg = &sp->segments[i];
    return i < sp->n_segments - 1 && seg->data_records == 0 && seg->loss_records > 0;
}

bool moor_spool_head_is_stub(const moor_spool_t *sp)
{
    return moor_spool_is_stub(sp, 0);
}

int moor_spool_held(const moor_spool_t *sp)
{
    int held = 0;
    while (held < sp->n_segments - 1) {
        const moor_spool_segment_t *seg = &sp->segments[held];
        uint64_t first_unacked = seg->first_seq > sp->acked_seq ? seg->first_seq : sp->acked_seq + 1;
        if (seg->first_seq == 0 || seg->last_seq <= sp->acked_seq || first_unacked > sp->served_seq)
            break;
        held++;
    }
    return held;
}

bool moor_spool_can_drop(const moor_spool_t *sp)
{
    return sp->n_segments - (moor_spool_head_is_stub(sp) ? 1 : 0) > 1;
}

void moor_spool_merge_loss(struct moor_loss_payload *sum, const struct moor_loss_payload *loss)
{
    sum->bytes += loss->bytes;
    sum->records += loss->records;
    if (loss->first_seq != 0 && (sum->first_seq == 0 || loss->first_seq < sum->first_seq))
        sum->first_seq = loss->first_seq;
    if (loss->last_seq > sum->last_seq)
        sum->last_seq = loss->last_seq;
}

/*
 * Segment file `index` becomes the stub, atomically (temp file + rename):
 * a crash leaves either the old file or the stub, never a torn record.
 */
int moor_spool_write_stub(moor_spool_t *sp, uint64_t index, uint64_t seq, uint64_t time_ns,
                          const struct moor_loss_payload *loss, moor_err_t *err)
{
    uint8_t rec[MOOR_SPOOL_LOSS_RECORD_SIZE];
    moor_spool_encode_loss_record(rec, seq, time_ns, loss);
    char name[32], temp[40];
    moor_spool_segment_name(name, sizeof(name), index);
    snprintf(temp, sizeof(temp), "%s.stub", name);
    int fd moor_cleanup_close = openat(sp->dir_fd, temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return moor_fail_errno(err, "spool `%s`: create %s", sp->dir, temp);
    int ret = moor_write_all(fd, rec, sizeof(rec));
    if (ret == 0 && renameat(sp->dir_fd, temp, sp->dir_fd, name) < 0)
        ret = -errno;
    if (ret < 0) {
        (void)unlinkat(sp->dir_fd, temp, 0);
        errno = -ret;
        return moor_fail_errno(err, "spool `%s`: write the loss record of dropped segments to %s",
                               sp->dir, name);
    }
    /* The reader's cached offset may point into the file just replaced. */
    sp->cache_seq = 0;
    return 0;
}
