import Foundation
import MoorImages
import MoorPluginKit
import MoorShimClient

/// What the drainer had reported of the spool's loss records, kept beside
/// the container so the next daemon does not report it again.
///
/// While the bound drops records faster than the daemon drains, the shim
/// keeps merging the drops into one head stub (same first seq, growing
/// count) and the drainer reports only the growth (`LossAccounting`). A
/// daemon that starts anew sees the grown stub with the whole count: without
/// this ledger it would report everything the previous daemon already had
/// in markers once more.
///
/// Each batch that reads a loss record writes, before the batch goes to the
/// driver, the last loss record read and the batch's last position. The
/// two newest are kept: the driver holds the newer one's batch when its
/// last position reaches it; if not, it holds the older one's, since that
/// batch was stored before the newer entry was written.
struct LossLedger: Sendable {
    struct Entry: Codable, Equatable, Sendable {
        var bytes: UInt64
        var records: UInt64
        var firstSeq: UInt64
        var lastSeq: UInt64
        /// Where the batch ends in the spool.
        var throughSeq: UInt64
        var throughOffset: UInt32

        init(_ loss: LossRecord, through position: LogPosition) {
            bytes = loss.bytes
            records = loss.records
            firstSeq = loss.firstSeq
            lastSeq = loss.lastSeq
            throughSeq = position.seq
            throughOffset = position.offset
        }

        var loss: LossRecord { LossRecord(bytes: bytes, records: records, firstSeq: firstSeq, lastSeq: lastSeq) }
        var through: LogPosition { LogPosition(seq: throughSeq, offset: throughOffset) }
    }

    let path: String
    /// The two newest entries, as last written (read once, at opening).
    private(set) var entries: [Entry]

    /// The ledger at `path`; a missing or unreadable one is empty (which
    /// costs at most a marker counted twice, never a line).
    init(path: String) {
        self.path = path
        let data = FileManager.default.contents(atPath: path)
        entries = data.flatMap { try? JSONDecoder().decode([Entry].self, from: $0) } ?? []
    }

    /// The last loss record whose batch the driver holds, given the
    /// driver's last position; nil when none.
    func reported(deliveredThrough delivered: LogPosition?) -> LossRecord? {
        guard let delivered else { return nil }
        return entries.last { $0.through <= delivered }?.loss
    }

    /// This ledger with `loss` reported once the driver holds `position`
    /// (the two newest kept); `write()` makes it durable.
    func adding(_ loss: LossRecord, through position: LogPosition) -> LossLedger {
        var next = self
        next.entries = Array((entries + [Entry(loss, through: position)]).suffix(2))
        return next
    }

    /// Durable before it returns (synced, renamed over, directory synced).
    func write() throws {
        do {
            try AtomicFile.write(Array(try JSONEncoder().encode(entries)), to: path,
                                 tmpDirectory: (path as NSString).deletingLastPathComponent)
        } catch {
            throw EngineError.system("log loss ledger \(path): \(error)")
        }
    }

    /// `adding` and `write` at once.
    mutating func record(_ loss: LossRecord, through position: LogPosition) throws {
        self = adding(loss, through: position)
        try write()
    }
}
