import MoorShimClient

/// Turns the shim's loss records into what the log driver really lacks.
///
/// Two things make a loss record count more than is missing when the
/// daemon drains while the bound drops (a slow daemon, a fast writer). A
/// current shim avoids both while it can (it drops behind what a read
/// handed out, and never grows a stub a read handed out), but when nothing
/// else is left to drop, and with shims from before that rule:
/// - records the drainer read but had not yet acknowledged are
///   "undelivered" to the shim and may be dropped, yet the driver holds
///   them (or the drainer does, in a line being assembled);
/// - later drops merge into the same head stub, which the shim rewrites
///   with the whole count under a new seq: a stub read once comes back
///   with what was already reported (across a daemon restart, the
///   `LossLedger` tells what was).
///
/// Consumed records are kept from the acknowledgement before the last one
/// on: a drop leaves its loss record at the last dropped seq, past what the
/// drainer had read, so the drainer reads it in its next batch, and at most
/// one acknowledgement can have been sent in between.
struct LossAccounting {
    private var consumed: [(seq: UInt64, bytes: UInt64)] = []
    private var start = 0
    private var lastAck: UInt64 = 0
    /// The last loss record read, as the shim wrote it.
    private(set) var lastLoss: LossRecord?

    /// `reported`: the last loss record a previous daemon had reported
    /// (from the `LossLedger`), so the stub it grew into counts only the
    /// growth.
    init(resumingAfter reported: LossRecord? = nil) {
        lastLoss = reported
    }

    mutating func consumed(_ record: SpoolRecord) {
        consumed.append((record.seq, UInt64(record.payload.count)))
    }

    /// The shim was told everything up to `seq` is delivered.
    mutating func acknowledged(_ seq: UInt64) {
        let keepAfter = lastAck
        lastAck = seq
        while start < consumed.count && consumed[start].seq <= keepAfter { start += 1 }
        if start == consumed.count || start > 4096 {
            consumed.removeFirst(start)
            start = 0
        }
    }

    /// What of `loss` the driver lacks and was not reported yet; nil when
    /// nothing.
    mutating func missing(_ loss: LossRecord) -> LossRecord? {
        defer { lastLoss = loss }
        var fresh = loss
        if let previous = lastLoss, previous.firstSeq != 0, loss.firstSeq == previous.firstSeq,
           loss.lastSeq >= previous.lastSeq, loss.bytes >= previous.bytes, loss.records >= previous.records {
            // The same stub, grown: only the drops since count.
            fresh = LossRecord(bytes: loss.bytes - previous.bytes, records: loss.records - previous.records,
                               firstSeq: previous.lastSeq + 1, lastSeq: loss.lastSeq)
            if fresh.bytes == 0 && fresh.records == 0 { return nil }
        }
        guard fresh.records > 0, fresh.firstSeq > 0 else { return fresh }
        var bytes: UInt64 = 0
        var count: UInt64 = 0
        for record in consumed[start...] where record.seq >= fresh.firstSeq && record.seq <= fresh.lastSeq {
            bytes += record.bytes
            count += 1
        }
        fresh.bytes -= min(bytes, fresh.bytes)
        fresh.records -= min(count, fresh.records)
        return fresh.bytes == 0 && fresh.records == 0 ? nil : fresh
    }
}
