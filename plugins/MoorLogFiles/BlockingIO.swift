import Dispatch

/// An actor executor on a private serial dispatch queue.
///
/// Log writers block in write(2) and fdatasync(2). Swift's cooperative pool
/// has one thread per core (two on a small host), so a writer running there
/// would stall every other task of the daemon while the disk flushes; on
/// its own queue it occupies a dispatch worker instead, and the actor still
/// guarantees one call at a time. A writer actor adopts it with
/// `nonisolated var unownedExecutor { executor.asUnownedSerialExecutor() }`.
public final class QueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    /// `label` names the queue in debuggers and crash reports: use the
    /// driver and the log (`moor.log.json-file.ID-json.log`).
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `job` on the queue: one job at a time, in order.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    /// What an actor's `unownedExecutor` returns to run on this queue.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// Runs blocking file reads (a `docker logs` over rotated files) on a
/// dispatch worker rather than on the cooperative pool.
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
