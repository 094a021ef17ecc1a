#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorPluginKit

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
/// Compression (Docker's `compress`): a write that rotated gzips the rotated
/// files before returning, after its entries are stored, so a slow or failed
/// compression never delays or loses them; a failure is thrown (the daemon
/// logs it and retries, and the retry stores nothing twice) and the file
/// stays plain until the next rotation compresses it. The current file is
/// never compressed.
///
/// Recovery: opening clears what an interrupted compression left (see
/// `LogFileSet`), cuts a torn last entry (a crash in the middle of a
/// write) and finds the position of the last entry in the newest file that
/// has one, inflating a compressed one; `lastPosition` answers from that
/// and from later writes.
///
/// Idempotence: entries at or before the last stored position are skipped.
/// A write that fails after storing part of its batch (a rotation that
/// could not rename) can then simply be retried with the whole batch, and
/// each entry is still stored once.
public actor RotatingLogWriter<Format: LogFileFormat>: LogWriter {
    private let executor: QueueExecutor
    /// The writer's own queue (see `QueueExecutor`).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let files: LogFileSet
    private let format: Format
    private let limit: Int64?
    private let compress: Bool
    private var file: PosixFile?
    /// Bytes of the current file holding complete entries (and the header).
    private var size: Int64 = 0
    private var needsHeader = false
    private var last: LogPosition?
    private var closed = false

    private init(files: LogFileSet, format: Format, limit: Int64?, compress: Bool) {
        executor = QueueExecutor(label: "moor.log.\(format.driver).\(files.name)")
        self.files = files
        self.format = format
        self.limit = limit
        self.compress = compress
    }

    /// Opens the log, recovering from a crash; `limit` is `max-size` (nil
    /// for no rotation) and `compress` gzips rotated files.
    public static func open(files: LogFileSet, format: Format, limit: Int64?,
                            compress: Bool) async throws -> RotatingLogWriter {
        let writer = RotatingLogWriter(files: files, format: format, limit: limit, compress: compress)
        try await writer.recover()
        return writer
    }

    private func recover() throws {
        try files.tidy()
        try reopen()
        if let current = file { last = try format.lastPosition(in: current, length: size) }
        if last != nil { try files.removeSurplus() }
        for index in try files.rotatedIndices() where last == nil {
            last = try lastPosition(inRotated: index)
        }
    }

    private func lastPosition(inRotated index: Int) throws -> LogPosition? {
        try readRotated(index, backwards: format.lastPosition(in:length:), forwards: format.lastPosition(scanning:))
            ?? nil
    }

    /// A plain rotated file is read backwards from its valid end, a
    /// compressed one forwards (it cannot be read backwards cheaply); nil
    /// when generation `index` is gone.
    private func readRotated<T>(_ index: Int, backwards: (PosixFile, Int64) throws -> T,
                                forwards: (any LogFileInput) throws -> T) throws -> T? {
        switch try files.openRotated(index) {
        case let .plain(rotated)?:
            return try backwards(rotated, format.validLength(of: rotated, size: rotated.size()))
        case let .compressed(rotated)?:
            return try forwards(rotated)
        case nil:
            return nil
        }
    }

    /// The last entry stored, as recovered at opening and kept up by writes.
    public func lastPosition() -> LogPosition? { last }

    /// Read from the files, newest first: the current file backwards, then
    /// each rotated one until both streams are known or the entries are
    /// older than `floor` (so normally only the current file's end).
    public func lastPositions(since floor: UInt64) throws -> [LogSource: LogPosition] {
        var found = StreamPositions(floor: floor)
        if let current = file { found = try format.streamPositions(in: current, length: size, since: floor) }
        for index in try files.rotatedIndices() where !found.complete {
            let older = try readRotated(index, backwards: { try format.streamPositions(in: $0, length: $1, since: floor) },
                                        forwards: { try format.streamPositions(scanning: $0, since: floor) })
            if let older { found.merge(older: older) }
        }
        return found.positions
    }

    /// Stores the entries after the last stored position, rotating (and
    /// compressing) as `max-size` requires; returns once they are synced.
    public func write(_ entries: [LogEntry]) throws {
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
        if rotated {
            try files.removeSurplus()
            if compress { try files.compressRotated() }
        }
    }

    /// Closes the current file; later writes throw.
    public func close() {
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
