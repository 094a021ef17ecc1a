import MoorPluginKit

/// What the rotating writer and reader need to know of a file format: a
/// driver implements this for its own encoding and gets rotation,
/// compression, crash recovery and `docker logs` reading from
/// `RotatingLogWriter` and `RotatingLogReader`.
///
/// Two kinds of file reach a format. The writer's current file is always
/// plain (a `PosixFile`), read backwards from its end to recover quickly
/// after a crash. Rotated files may be compressed (any `LogFileInput`),
/// and those are only ever read forwards from the start.
public protocol LogFileFormat: Sendable {
    /// The driver's name, for messages.
    var driver: String { get }
    /// Bytes every file starts with; empty for a format of lines.
    var header: [UInt8] { get }
    func append(_ entry: LogEntry, to out: inout [UInt8])
    /// The length of the valid start of a file of `size` bytes: `size`,
    /// unless a crash tore the last entry. Throws when the file is not in
    /// this format.
    func validLength(of file: PosixFile, size: Int64) throws -> Int64
    /// The position of the last entry in the first `length` bytes.
    func lastPosition(in file: PosixFile, length: Int64) throws -> LogPosition?
    /// The position of the last entry in `file`, reading it once from the
    /// start: how the writer's recovery reads a compressed rotated file.
    /// It must agree with `lastPosition(in:length:)` on the same content,
    /// ignoring a torn end as that one does.
    func lastPosition(scanning file: any LogFileInput) throws -> LogPosition?
    /// Every complete entry of the file, in order.
    func forEachEntry(in file: any LogFileInput, _ body: (LogEntry) throws -> Void) throws
    /// Each stream's last position in the first `length` bytes, among
    /// entries from spool record `floor` on. A format that can walk its
    /// entries backwards stops at `floor`; the default reads forwards.
    func streamPositions(in file: PosixFile, length: Int64, since floor: UInt64) throws -> StreamPositions
}

extension LogFileFormat {
    public func streamPositions(in file: PosixFile, length: Int64, since floor: UInt64) throws -> StreamPositions {
        try streamPositions(scanning: file, since: floor)
    }

    /// Each stream's last position, reading `file` once from the start (a
    /// compressed rotated file). A torn end is skipped, as `forEachEntry`
    /// skips it.
    public func streamPositions(scanning file: any LogFileInput, since floor: UInt64) throws -> StreamPositions {
        var newest: [LogSource: LogPosition] = [:]
        var before = false
        try forEachEntry(in: file) { entry in
            if entry.position.seq < floor { before = true } else { newest[entry.source] = entry.position }
        }
        var found = StreamPositions(floor: floor)
        for (source, position) in newest { found.visit(source, position) }
        if before { found.noteEntryBeforeFloor() }
        return found
    }
}
