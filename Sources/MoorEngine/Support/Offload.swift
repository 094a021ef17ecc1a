import Dispatch
import NIOConcurrencyHelpers

/// Runs blocking work (a subprocess, a large file copy) on a GCD thread, so
/// it never holds one of the few cooperative threads Swift concurrency has.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs `body`, or throws `timeoutError` if it takes longer than `seconds`.
func withTimeout<T: Sendable>(seconds: Double, _ timeoutError: @escaping @Sendable () -> any Error,
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            throw timeoutError()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw timeoutError() }
        return first
    }
}

/// `body`'s result, or nil if it takes longer than `seconds`. The body is
/// not waited for past the deadline: it goes on in the background (a slow
/// shim is reported, and picked up whenever it answers).
func withTimeoutOrNil<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
    let claimed = NIOLockedValueBox(false)
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        @Sendable func finish(_ value: T?) {
            let first = claimed.withLockedValue { done -> Bool in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(returning: value) }
        }
        Task { finish(await body()) }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            finish(nil)
        }
    }
}
