import MoorLogFiles
import MoorPluginKit

/// Walking the records of one `local` log file: forwards for readers and
/// for recovery after a crash, and from the end to find the last record.
enum LocalFileScan {
    static let chunkSize = 1 << 16

    enum Header {
        case empty
        /// A header cut short by a crash while the file was created.
        case torn
        case valid
        case foreign
    }

    static func header(_ file: any LogFileInput) throws -> Header {
        let bytes = try file.read(at: 0, count: LocalRecord.header.count)
        if bytes.isEmpty { return .empty }
        if bytes == LocalRecord.header { return .valid }
        return LocalRecord.header.starts(with: bytes) ? .torn : .foreign
    }

    /// Calls `body` with each valid record after the header, in order, and
    /// returns the offset where the valid records end: the file's size,
    /// unless the last record is being written or was torn by a crash.
    @discardableResult
    static func forEachRecord(_ file: any LogFileInput, _ body: (LogEntry) throws -> Void) throws -> Int64 {
        var offset = Int64(LocalRecord.header.count)
        var buffer: [UInt8] = []
        var start = 0
        while true {
            while let size = LocalRecord.recordSize(buffer[...], at: start), start + size <= buffer.count {
                guard let entry = LocalRecord.decode(buffer[start..<(start + size)]) else {
                    return offset - Int64(buffer.count - start)
                }
                try body(entry)
                start += size
            }
            if buffer.count - start >= 4, LocalRecord.recordSize(buffer[...], at: start) == nil {
                return offset - Int64(buffer.count - start)
            }
            buffer.removeFirst(start)
            start = 0
            let wanted = max(chunkSize, LocalRecord.recordSize(buffer[...], at: 0) ?? 0)
            let chunk = try file.read(at: offset, count: wanted)
            if chunk.isEmpty { return offset - Int64(buffer.count) }
            buffer += chunk
            offset += Int64(chunk.count)
        }
    }

    /// The last record of a file of `size` bytes, found through its
    /// trailing length; nil when the file has no records or its end is
    /// not a complete record.
    static func lastRecord(_ file: PosixFile, size: Int64) throws -> LogEntry? {
        try record(endingAt: size, in: file)?.entry
    }

    /// Each stream's last position among the records before `size` from
    /// spool record `floor` on, walking back through the trailing lengths
    /// until both are known or the records are older.
    static func streamPositions(_ file: PosixFile, size: Int64, since floor: UInt64) throws -> StreamPositions {
        var found = StreamPositions(floor: floor)
        var end = size
        while let (entry, start) = try record(endingAt: end, in: file) {
            guard found.visit(entry.source, entry.position) else { break }
            end = start
        }
        return found
    }

    /// The record ending at `end` and where it starts; nil at the header
    /// or where the bytes before `end` are not a complete record.
    private static func record(endingAt end: Int64, in file: PosixFile) throws -> (entry: LogEntry, start: Int64)? {
        let first = Int64(LocalRecord.header.count)
        guard end >= first + Int64(LocalRecord.fixedBody + 8) else { return nil }
        let trailer = try file.read(at: end - 4, count: 4)
        guard trailer.count == 4 else { return nil }
        let length = Int64(LocalRecord.readInteger(UInt32.self, trailer[...], at: 0))
        let start = end - length - 8
        guard length >= LocalRecord.fixedBody, length <= LocalRecord.maximumBody, start >= first else { return nil }
        guard let entry = LocalRecord.decode(try file.read(at: start, count: Int(length) + 8)[...]) else { return nil }
        return (entry, start)
    }
}
