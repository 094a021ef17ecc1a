import Foundation
import Glibc
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

    /// The last loss record whose batch the driver holds, given the
    /// driver's last position; nil when none (or the file is unreadable,
    /// which costs at most a marker counted twice, never a line).
    func reported(deliveredThrough delivered: LogPosition?) -> LossRecord? {
        guard let delivered, let entries = try? load() else { return nil }
        return entries.last { $0.through <= delivered }?.loss
    }

    /// Records `loss` as reported once the driver holds `position`; durable
    /// before it returns (file synced, renamed over, directory synced).
    func record(_ loss: LossRecord, through position: LogPosition) throws {
        var entries = (try? load()) ?? []
        entries.append(Entry(loss, through: position))
        let kept = Array(entries.suffix(2))
        try writeDurably(try JSONEncoder().encode(kept))
    }

    func load() throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try JSONDecoder().decode([Entry].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func writeDurably(_ data: Data) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let code = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            throw failure("write \(temporary)", code: code)
        }
        guard rename(temporary, path) == 0 else { throw failure("rename \(temporary) to \(path)") }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    private func failure(_ what: String, code: Int32 = errno) -> EngineError {
        EngineError.system("log loss ledger: \(what): \(String(cString: strerror(code)))")
    }
}
