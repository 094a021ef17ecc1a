import MoorPluginKit
import MoorShimClient

/// Turns spool records (raw chunks of stdout/stderr, as the shim read them)
/// into log lines, as Docker's log drivers receive them: one entry per line,
/// a line longer than 16 KiB cut into partial entries, a line's time being
/// when its first bytes were read.
///
/// Every entry carries the spool position where it ends. Entries come out in
/// increasing position, so a drainer that restarts from the first
/// unacknowledged record and drops entries at or before the driver's last
/// position delivers every line exactly once. `ackableSeq` tells how far the
/// spool may be acknowledged: never past a record whose bytes still wait in
/// an unfinished line.
struct LineAssembler {
    static let maxLine = 16 * 1024

    fileprivate struct Pending {
        var bytes: [UInt8] = []
        var firstSeq: UInt64 = 0
        var timeNs: Int64 = 0
        /// Where the open line's last byte so far is.
        var lastSeq: UInt64 = 0
        var lastOffset: UInt32 = 0
    }

    private var pending: [LogSource: Pending] = [:]
    /// Entries ending at or before this were delivered before a restart.
    private let deliveredThrough: LogPosition?
    /// Where each stream's last delivered entry ends, as far as the driver
    /// can tell: a stream's line resumes there, exactly where a 16 KiB cut
    /// left it, even when the other stream's entries came after the cut.
    private let streamsDeliveredThrough: [LogSource: LogPosition]
    private(set) var lastSeq: UInt64 = 0

    init(deliveredThrough: LogPosition?, streamsDeliveredThrough: [LogSource: LogPosition] = [:]) {
        self.deliveredThrough = deliveredThrough
        self.streamsDeliveredThrough = streamsDeliveredThrough
    }

    /// The highest seq whose every byte is in an emitted entry.
    var ackableSeq: UInt64 {
        let waiting = pending.values.filter { !$0.bytes.isEmpty }.map(\.firstSeq)
        guard let oldest = waiting.min() else { return lastSeq }
        return oldest - 1
    }

    mutating func consume(_ record: SpoolRecord) -> [LogEntry] {
        lastSeq = max(lastSeq, record.seq)
        switch record.stream {
        case .stdout: return lines(record, .stdout)
        case .stderr: return lines(record, .stderr)
        case .loss:
            // Bytes around the gap do not belong together: end open lines first.
            var out = flush()
            if let loss = record.loss {
                let marker = "[moor] \(loss.bytes) bytes of container output were dropped: the spool reached its size limit (or the disk was full) before they could be delivered\n"
                out += admit([LogEntry(source: .stderr, timeNs: Int64(record.timeNs), line: Array(marker.utf8),
                                       position: LogPosition(seq: record.seq, offset: UInt32(record.payload.count)))])
            }
            return out
        }
    }

    /// A record with nothing to deliver (a loss that turned out to be none).
    mutating func skip(_ record: SpoolRecord) {
        lastSeq = max(lastSeq, record.seq)
    }

    /// Ends every open line as a partial entry (the process exited, or a
    /// gap in the output).
    mutating func flush() -> [LogEntry] {
        var out: [LogEntry] = []
        for source in [LogSource.stdout, .stderr] {
            guard let p = pending[source], !p.bytes.isEmpty, let end = p.endPosition else { continue }
            out.append(LogEntry(source: source, timeNs: p.timeNs, line: p.bytes, partial: true, position: end))
            pending[source] = Pending()
        }
        return admit(out.sorted { $0.position < $1.position })
    }

    private mutating func lines(_ record: SpoolRecord, _ source: LogSource) -> [LogEntry] {
        var p = pending[source] ?? Pending()
        var out: [LogEntry] = []
        let payload = record.payload
        var start = 0
        if let delivered = streamsDeliveredThrough[source] ?? deliveredThrough, record.seq == delivered.seq {
            // This stream's last stored entry ends inside this record (a
            // record holds one stream): its bytes up to there are stored,
            // and its next line starts there. (Re-read from the record's
            // start, a line cut at 16 KiB before the restart would be cut
            // elsewhere: partly delivered twice, or partly skipped.)
            p = Pending()
            start = min(Int(delivered.offset), payload.count)
        }
        var index = start
        while index < payload.count {
            if p.bytes.isEmpty && index == start {
                p.firstSeq = record.seq
                p.timeNs = Int64(record.timeNs)
            }
            let newline = payload[index] == 0x0a
            let full = p.bytes.count + (index - start + 1) >= Self.maxLine
            if newline || full {
                p.bytes.append(contentsOf: payload[start...index])
                out.append(LogEntry(source: source, timeNs: p.timeNs, line: p.bytes, partial: !newline,
                                    position: LogPosition(seq: record.seq, offset: UInt32(index + 1))))
                p.bytes = []
                start = index + 1
            }
            index += 1
        }
        if start < payload.count {
            p.bytes.append(contentsOf: payload[start...])
            p.lastSeq = record.seq
            p.lastOffset = UInt32(payload.count)
        }
        pending[source] = p
        return admit(out)
    }

    private func admit(_ entries: [LogEntry]) -> [LogEntry] {
        guard let delivered = deliveredThrough else { return entries }
        return entries.filter { $0.position > delivered }
    }
}

private extension LineAssembler.Pending {
    var endPosition: LogPosition? {
        lastSeq == 0 ? nil : LogPosition(seq: lastSeq, offset: lastOffset)
    }
}
