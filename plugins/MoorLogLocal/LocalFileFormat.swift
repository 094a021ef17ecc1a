import MoorLogFiles
import MoorPluginKit

/// The `local` format (see `LocalRecord`) for the rotating writer and reader.
struct LocalFileFormat: LogFileFormat {
    let driver = LocalLogDriver.id
    let header = LocalRecord.header

    func append(_ entry: LogEntry, to out: inout [UInt8]) {
        LocalRecord.append(entry, to: &out)
    }

    /// The whole file when its last record is sound (found from the end,
    /// without reading the rest); otherwise the end of the last sound
    /// record, found by walking the file once. A header torn while the file
    /// was created counts as nothing written.
    func validLength(of file: PosixFile, size: Int64) throws -> Int64 {
        switch try LocalFileScan.header(file) {
        case .empty, .torn:
            return 0
        case .foreign:
            throw LogDriverError.storage("\(file.path): not a moor local log file (bad header)")
        case .valid:
            if size == Int64(header.count) { return size }
            if try LocalFileScan.lastRecord(file, size: size) != nil { return size }
            return try LocalFileScan.forEachRecord(file) { _ in }
        }
    }

    func lastPosition(in file: PosixFile, length: Int64) throws -> LogPosition? {
        try LocalFileScan.lastRecord(file, size: length)?.position
    }

    func streamPositions(in file: PosixFile, length: Int64, since floor: UInt64) throws -> StreamPositions {
        try LocalFileScan.streamPositions(file, size: length, since: floor)
    }

    /// Every record carries a position, so the last one read is the answer.
    func lastPosition(scanning file: any LogFileInput) throws -> LogPosition? {
        var last: LogPosition?
        try forEachEntry(in: file) { last = $0.position }
        return last
    }

    func forEachEntry(in file: any LogFileInput, _ body: (LogEntry) throws -> Void) throws {
        guard try LocalFileScan.header(file) == .valid else { return }
        try LocalFileScan.forEachRecord(file, body)
    }
}
