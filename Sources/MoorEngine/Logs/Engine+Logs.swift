import Foundation
import MoorPluginKit

public struct LogsRequest: Sendable, Equatable {
    public var follow: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var sinceNs: Int64?
    public var untilNs: Int64?
    public var tail: Int?

    public init(follow: Bool = false, stdout: Bool = true, stderr: Bool = true, sinceNs: Int64? = nil,
                untilNs: Int64? = nil, tail: Int? = nil) {
        self.follow = follow
        self.stdout = stdout
        self.stderr = stderr
        self.sinceNs = sinceNs
        self.untilNs = untilNs
        self.tail = tail
    }
}

public struct LogsStream: Sendable {
    public let tty: Bool
    public let entries: AsyncThrowingStream<LogEntry, any Error>
}

extension Engine {
    /// `docker logs`: what the container's log driver stored, then (with
    /// `follow`) every new line until the container stops.
    public func logs(_ reference: String, request: LogsRequest) async throws -> LogsStream {
        let target = try container(reference)
        let record = await target.snapshot()
        let driver = try context.plugins.single(.logging, id: record.logDriver)
        guard let reader = try await driver.openReader(for: await target.logContainer, options: record.logOptions) else {
            throw EngineError(.notImplemented, "configured logging driver does not support reading")
        }
        let options = LogReadOptions(sinceNs: request.sinceNs, untilNs: request.untilNs, tail: request.tail,
                                     stdout: request.stdout, stderr: request.stderr)
        let following = request.follow && (record.state.isRunning || record.state.status == .restarting)
        // Subscribe before reading, so no line falls between the two.
        let live = following ? await target.output.entries() : nil
        let history = try await reader.read(options)
        let (stream, continuation) = AsyncThrowingStream<LogEntry, any Error>.makeStream()
        let task = Task {
            var last = history.last?.position
            for entry in history { continuation.yield(entry) }
            if let live {
                for await entry in live {
                    if let until = request.untilNs, entry.timeNs > until { break }
                    if let seen = last, entry.position <= seen { continue }
                    last = entry.position
                    var filter = options
                    filter.tail = nil
                    if filter.admits(entry) { continuation.yield(entry) }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return LogsStream(tty: record.tty, entries: stream)
    }
}
