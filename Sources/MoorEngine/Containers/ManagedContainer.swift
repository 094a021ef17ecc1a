import Foundation
import Logging
import MoorPluginKit
import MoorShimClient

/// One container under the daemon's management: its record (persisted on
/// every change, before the API answers), its live connection to its shim,
/// the drainer moving its output into its log driver, and the watcher that
/// learns its exit.
///
/// User operations (start, stop, restart, remove, ...) are serialised by
/// `lock`; exit handling is not, so a stop waiting for the exit cannot
/// deadlock with it.
actor ManagedContainer {
    let context: EngineContext
    private(set) var record: ContainerRecord
    let output = ContainerOutput()
    let lock = AsyncLock()

    var session: ShimSession?
    var logWriter: (any LogWriter)?
    var drainTask: Task<Void, Never>?
    var watchTask: Task<Void, Never>?
    var restartTask: Task<Void, Never>?
    /// Bumped at every start, so a late exit of an earlier run is ignored.
    var generation = 0
    var exitWaiters: [UUID: AsyncStream<Int32>.Continuation] = [:]
    var removalWaiters: [AsyncStream<Void>.Continuation] = []
    private(set) var removed = false
    /// Set when the daemon stops: tasks end without treating it as an exit.
    var detaching = false
    /// Restore found a shim whose protocol this daemon does not speak, or
    /// one that did not answer (then `reattachTask` keeps trying).
    var unmanagedReason: String?
    var reattachTask: Task<Void, Never>?
    /// A HELLO to the shim is under way (restore or a retry of it).
    var adopting = false
    /// The previous daemon's running execs, held while `reattachTask`
    /// tries to take the shim back: followed again once it is (or once the
    /// container is known to have ended).
    var execsAwaitingTakeBack: [ManagedExec] = []
    /// Tells the engine a container removed itself (`--rm`).
    var onRemoved: (@Sendable (String) async -> Void)?

    func setOnRemoved(_ callback: @escaping @Sendable (String) async -> Void) { onRemoved = callback }

    /// Never change: readable without a hop onto the actor.
    nonisolated let createdNs: Int64
    nonisolated let id: String

    init(context: EngineContext, record: ContainerRecord) {
        self.context = context
        self.record = record
        createdNs = record.createdNs
        id = record.id
    }

    var logger: Logger { context.logger }

    func snapshot() -> ContainerRecord { record }

    /// Changes the record and makes the change durable.
    func update(_ change: (inout ContainerRecord) -> Void) throws {
        var copy = record
        change(&copy)
        try persist(copy)
        record = copy
    }

    func persist(_ value: ContainerRecord) throws {
        try StoredRecord.save(value, subject: "container \(value.id)") {
            try context.store.saveContainer(id: value.id, name: value.name, document: $0)
        }
    }

    func markRemoved() {
        removed = true
        for waiter in removalWaiters { waiter.finish() }
        removalWaiters.removeAll()
    }

    var isRemoved: Bool { removed }

    /// The log driver's view of this container.
    var logContainer: LogContainer {
        LogContainer(id: record.id, name: record.name, directory: record.directory, imageName: record.imageReference,
                     imageID: record.imageID, labels: record.config.labels ?? [:], env: record.config.env ?? [],
                     createdNs: record.createdNs)
    }

    var networkContainer: NetworkContainer {
        NetworkContainer(id: record.id, name: record.name, hostname: SpecBuilder.hostname(of: record),
                         runtimeDirectory: context.configuration.execRoot + "/containers/" + record.id)
    }

    func requireSession() throws -> ShimSession {
        guard let session, record.state.isRunning else {
            throw EngineError.conflict("Container \(record.id) is not running")
        }
        return session
    }

    // MARK: waiting

    /// A stream that yields the exit code of the current (or next) run once,
    /// then ends. Registered at once: a `wait` issued before `start` (as
    /// `docker run` does) cannot miss the exit.
    func exitStream() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let id = UUID()
        exitWaiters[id] = continuation
        continuation.onTermination = { _ in Task { await self.dropExitWaiter(id) } }
        return stream
    }

    private func dropExitWaiter(_ id: UUID) { exitWaiters.removeValue(forKey: id) }

    /// The exit code of the current run, or nil when `timeout` seconds pass
    /// first or the waiting task is cancelled.
    func nextExit(timeout: Double? = nil) async -> Int32? {
        let stream = exitStream()
        guard let timeout else {
            for await code in stream { return code }
            return nil
        }
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await code in stream { return code }
                return nil
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Waits up to `seconds` (nil: forever) for the current run to end.
    func waitForExit(seconds: Double?) async -> Bool {
        guard record.state.isRunning || record.state.status == .restarting else { return true }
        return await nextExit(timeout: seconds) != nil
    }

    /// A stream that ends when the container is removed.
    func removalStream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        if removed {
            continuation.finish()
        } else {
            removalWaiters.append(continuation)
        }
        return stream
    }

    func resumeExitWaiters(_ code: Int32) {
        let waiters = exitWaiters
        exitWaiters.removeAll()
        for waiter in waiters.values {
            waiter.yield(code)
            waiter.finish()
        }
    }
}

extension SpecBuilder {
    /// The name asked for; else, as Docker does, the host's own name for a
    /// container on the host's network, and the short id otherwise.
    static func hostname(of record: ContainerRecord) -> String {
        if let name = record.config.hostname, !name.isEmpty { return name }
        if record.network?.namespace == .host || record.hostConfig.networkMode == "host" {
            let host = Uname.nodename
            if !host.isEmpty { return host }
        }
        return record.shortID
    }
}
