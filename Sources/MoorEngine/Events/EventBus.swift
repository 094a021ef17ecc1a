import Foundation

/// One event, as `GET /events` reports it.
public struct EngineEvent: Sendable, Equatable {
    /// "container", "image", "daemon"
    public var type: String
    /// "create", "start", "die", "untag", ...
    public var action: String
    public var actorID: String
    public var attributes: [String: String]
    public var timeNs: Int64

    public init(type: String, action: String, actorID: String, attributes: [String: String] = [:], timeNs: Int64 = nowNs()) {
        self.type = type
        self.action = action
        self.actorID = actorID
        self.attributes = attributes
        self.timeNs = timeNs
    }
}

/// Nanoseconds since the epoch.
public func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Recent events in memory (as dockerd, which keeps its last 256) and live
/// subscriptions. A subscriber gets the kept events it asks for, then every
/// new one, until it stops listening or `until` passes.
public actor EventBus {
    public static let kept = 256

    private var history: [EngineEvent] = []
    private var subscribers: [UUID: AsyncStream<EngineEvent>.Continuation] = [:]

    public init() {}

    public func publish(_ event: EngineEvent) {
        history.append(event)
        if history.count > Self.kept { history.removeFirst(history.count - Self.kept) }
        for continuation in subscribers.values { continuation.yield(event) }
    }

    /// Kept events with `sinceNs <= time` (all when nil), then live ones.
    /// The stream ends when the consumer stops or `untilNs` is passed.
    public func subscribe(sinceNs: Int64?, untilNs: Int64?) -> AsyncStream<EngineEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<EngineEvent>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        if let since = sinceNs {
            for event in history where event.timeNs >= since {
                if let until = untilNs, event.timeNs > until { break }
                continuation.yield(event)
            }
        }
        if let until = untilNs, until <= nowNs() {
            continuation.finish()
            return stream
        }
        subscribers[id] = continuation
        continuation.onTermination = { _ in
            Task { await self.unsubscribe(id) }
        }
        if let until = untilNs {
            let delay = max(0, until - nowNs())
            Task {
                try? await Task.sleep(nanoseconds: UInt64(delay))
                self.finish(id) // the task runs on this actor
            }
        }
        return stream
    }

    private func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)
    }

    private func finish(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    /// Ends every subscription (daemon shutdown).
    public func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }
}
