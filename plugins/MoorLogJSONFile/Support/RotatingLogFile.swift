// Shared log-file support: this file is kept identical in MoorLogJSONFile
// and MoorLogLocal until a shared target exists (each plugin module may
// depend on MoorPluginKit only).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorPluginKit

/// What the rotating writer and reader need to know of a file format.
protocol LogFileFormat: Sendable {
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
    /// Every complete entry of the file, in order.
    func forEachEntry(in file: PosixFile, _ body: (LogEntry) throws -> Void) throws
}

/// Appends one container's entries to a rotated set of files.
///
/// Durability: each `write` issues one write(2) per file it touches and
/// one fdatasync(2) before returning, because the daemon acknowledges the
/// shim's spool (which then frees the data) as soon as `write` returns.
/// Creating a file (at first, or by rotation) syncs the directory, so the
/// renames and the new file survive a power loss. A failed write cuts the
/// file back to its last complete entry, so no later entry follows half of
/// one.
///
/// Recovery: opening cuts a torn last entry (a crash in the middle of a
/// write) and finds the position of the last entry in the newest file that
/// has one; `lastPosition` answers from that and from later writes.
///
/// Idempotence: entries at or before the last stored position are skipped.
/// A write that fails after storing part of its batch (a rotation that
/// could not rename) can then simply be retried with the whole batch, and
/// each entry is still stored once.
actor RotatingLogWriter<Format: LogFileFormat>: LogWriter {
    private let executor: QueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let files: LogFileSet
    private let format: Format
    private let limit: Int64?
    private var file: PosixFile?
    /// Bytes of the current file holding complete entries (and the header).
    private var size: Int64 = 0
    private var needsHeader = false
    private var last: LogPosition?
    private var closed = false

    private init(files: LogFileSet, format: Format, limit: Int64?) {
        executor = QueueExecutor(label: "moor.log.\(format.driver).\(files.name)")
        self.files = files
        self.format = format
        self.limit = limit
    }

    /// Opens the log, recovering from a crash; `limit` is `max-size` (nil
    /// for no rotation).
    static func open(files: LogFileSet, format: Format, limit: Int64?) async throws -> RotatingLogWriter {
        let writer = RotatingLogWriter(files: files, format: format, limit: limit)
        try await writer.recover()
        return writer
    }

    private func recover() throws {
        try reopen()
        if let current = file { last = try format.lastPosition(in: current, length: size) }
        if last != nil { try files.removeSurplus() }
        for index in try files.rotatedIndices() where last == nil {
            guard let rotated = try PosixFile.openIfPresent(files.path(index)) else { continue }
            last = try format.lastPosition(in: rotated, length: format.validLength(of: rotated, size: rotated.size()))
        }
    }

    func lastPosition() -> LogPosition? { last }

    func write(_ entries: [LogEntry]) throws {
        guard !closed else { throw LogDriverError.storage("write \(files.current): the log is closed") }
        if file == nil { try reopen() }
        var pending = needsHeader ? format.header : []
        var pendingLast: LogPosition?
        var encoded: [UInt8] = []
        var rotated = false
        for entry in entries where last.map({ entry.position > $0 }) ?? true {
            encoded.removeAll(keepingCapacity: true)
            format.append(entry, to: &encoded)
            let used = size + Int64(pending.count)
            if let limit, used > Int64(format.header.count), used + Int64(encoded.count) > limit {
                try flush(&pending, pendingLast)
                try rotate()
                pending = format.header
                rotated = true
            }
            pending += encoded
            pendingLast = entry.position
        }
        if pendingLast != nil { try flush(&pending, pendingLast) }
        if rotated { try files.removeSurplus() }
    }

    func close() {
        file?.close()
        file = nil
        closed = true
    }

    /// Opens the current file (creating it) and cuts a torn last entry.
    /// Also used after a failed rotation left no current file open.
    private func reopen() throws {
        let current = try openCurrent()
        let length = try current.size()
        size = try format.validLength(of: current, size: length)
        if size < length {
            try current.truncate(to: size)
            try current.sync()
        }
        needsHeader = size == 0 && !format.header.isEmpty
        file = current
    }

    /// Writes and syncs `pending`; on failure cuts the file back to the
    /// last complete entry so the next write starts clean.
    private func flush(_ pending: inout [UInt8], _ pendingLast: LogPosition?) throws {
        guard !pending.isEmpty else { return }
        guard let target = file else { throw LogDriverError.storage("write \(files.current): no file open") }
        do {
            try target.write(pending)
            try target.sync()
        } catch {
            try? target.truncate(to: size)
            throw error
        }
        size += Int64(pending.count)
        needsHeader = false
        last = pendingLast ?? last
        pending.removeAll(keepingCapacity: true)
    }

    private func rotate() throws {
        try files.rotate()
        file?.close()
        file = nil
        file = try openCurrent()
        size = 0
        needsHeader = !format.header.isEmpty
    }

    private func openCurrent() throws -> PosixFile {
        try PosixFile.makeDirectories(files.directory)
        let created = !PosixFile.exists(files.current)
        let current = try PosixFile.open(files.current, O_RDWR | O_CREAT | O_APPEND)
        if created { try PosixFile.syncDirectory(files.directory) }
        return current
    }
}

/// Reads a rotated log back for `docker logs`: rotated files oldest first,
/// then the current one, keeping the last `tail` entries that pass the
/// filters. Every file is opened before any is read, so a rotation during
/// the read cannot make one file be read twice under two names.
struct RotatingLogReader<Format: LogFileFormat>: LogReader {
    let files: LogFileSet
    let format: Format

    func read(_ options: LogReadOptions) async throws -> [LogEntry] {
        let files = files
        let format = format
        return try await runBlocking {
            // Rotated files compressed (`.N.gz`) do not match the set's
            // names; reading them comes with compression.
            let opened = try files.pathsOldestFirst().compactMap(PosixFile.openIfPresent)
            var tail = TailBuffer<LogEntry>(limit: options.tail)
            for file in opened {
                try format.forEachEntry(in: file) { entry in
                    if options.admits(entry) { tail.append(entry) }
                }
            }
            return tail.elements
        }
    }
}
