import Foundation
import MoorPluginKit

/// A chunk of a process's output as it came from the spool.
public struct OutputChunk: Sendable, Equatable {
    public var source: LogSource
    public var bytes: [UInt8]

    public init(source: LogSource, bytes: [UInt8]) {
        self.source = source
        self.bytes = bytes
    }
}

/// Live fan-out of one container's output: raw chunks for `attach`, log
/// entries (after the driver stored them) for `logs --follow`. Subscribers
/// that fall far behind lose the oldest items rather than slowing the
/// drainer, which must keep up with the spool.
actor ContainerOutput {
    private var chunkSubscribers: [UUID: AsyncStream<OutputChunk>.Continuation] = [:]
    private var entrySubscribers: [UUID: AsyncStream<LogEntry>.Continuation] = [:]
    /// When the log driver last stored entries (monotonic ns): an exit
    /// waits for the drain as long as it makes progress.
    private(set) var lastStoredNs: UInt64 = 0

    func publish(_ chunks: [OutputChunk]) {
        for c in chunkSubscribers.values { for chunk in chunks { c.yield(chunk) } }
    }

    func publish(_ entries: [LogEntry]) {
        lastStoredNs = DispatchTime.now().uptimeNanoseconds
        for c in entrySubscribers.values { for entry in entries { c.yield(entry) } }
    }

    func chunks() -> AsyncStream<OutputChunk> {
        let (stream, continuation) = AsyncStream<OutputChunk>.makeStream(bufferingPolicy: .bufferingNewest(65536))
        let id = UUID()
        chunkSubscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.dropChunks(id) } }
        return stream
    }

    func entries() -> AsyncStream<LogEntry> {
        let (stream, continuation) = AsyncStream<LogEntry>.makeStream(bufferingPolicy: .bufferingNewest(65536))
        let id = UUID()
        entrySubscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.dropEntries(id) } }
        return stream
    }

    /// A run ended and its output is delivered: end the streams of those
    /// who listened to it. Later subscribers wait for the next run (an
    /// attach before `docker start -a`).
    func close() {
        for c in chunkSubscribers.values { c.finish() }
        for c in entrySubscribers.values { c.finish() }
        chunkSubscribers.removeAll()
        entrySubscribers.removeAll()
    }

    private func dropChunks(_ id: UUID) { chunkSubscribers.removeValue(forKey: id) }
    private func dropEntries(_ id: UUID) { entrySubscribers.removeValue(forKey: id) }
}
