#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorLogFiles
import MoorPluginKit

/// Drops entries, keeping only the position of the last one, in a file
/// holding `<seq>:<offset>\n` replaced atomically (written to a temporary
/// file, synced, renamed over) so a crash leaves the old or the new value,
/// never a torn one.
///
/// The directory is not synced after the rename: if a power loss undoes
/// the rename, the daemon re-delivers a few entries that are dropped
/// again, which changes nothing a user can see.
actor NoneLogWriter: LogWriter {
    private let executor = QueueExecutor(label: "moor.log.none")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let path: String
    private var last: LogPosition?

    private init(path: String) {
        self.path = path
    }

    static func open(path: String) async throws -> NoneLogWriter {
        let writer = NoneLogWriter(path: path)
        try await writer.load()
        return writer
    }

    private func load() throws {
        try PosixFile.makeDirectories(PosixFile.parentDirectory(of: path))
        guard let file = try PosixFile.openIfPresent(path) else { return }
        last = NoneLogWriter.parse(try file.read(at: 0, count: 64))
    }

    func lastPosition() -> LogPosition? { last }

    func write(_ entries: [LogEntry]) throws {
        guard let newest = entries.last?.position, newest != last else { return }
        let temporary = "\(path).tmp"
        let file = try PosixFile.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        try file.write(Array("\(newest)\n".utf8))
        try file.sync()
        file.close()
        try PosixFile.rename(temporary, to: path)
        last = newest
    }

    func close() {}

    /// `<seq>:<offset>\n`; nil for anything else (then delivery restarts
    /// from the oldest data the spool still holds, which is dropped anyway).
    static func parse(_ bytes: [UInt8]) -> LogPosition? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n") else { return nil }
        let parts = text.dropLast().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = UInt64(parts[0]), let offset = UInt32(parts[1]) else { return nil }
        return LogPosition(seq: seq, offset: offset)
    }
}
