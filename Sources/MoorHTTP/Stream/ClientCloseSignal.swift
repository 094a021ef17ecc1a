import NIOConcurrencyHelpers

/// Fires once, when the peer of a connection is gone (closed, reset, or for
/// a plain HTTP request: its read side reached end-of-file, which is how Go's
/// server and the docker CLI see a client that went away).
///
/// Long-lived responses (`events`, `logs -f`, `wait`, hijacked sessions)
/// watch it to stop producing for nobody.
final class ClientCloseSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var actions: [Int: @Sendable () -> Void] = [:]
        var cancelledWaiters: Set<Int> = []
    }

    private let state = NIOLockedValueBox(State())

    var isFired: Bool { state.withLockedValue(\.fired) }

    /// Runs every registered action once; later calls do nothing.
    func fire() {
        let actions = state.withLockedValue { state -> [@Sendable () -> Void] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    /// Runs `action` when the signal fires, or at once if it already has.
    func onFire(_ action: @escaping @Sendable () -> Void) {
        let id = newID()
        if !register(id, action) { action() }
    }

    /// Returns when the signal fires or the calling task is cancelled.
    func wait() async {
        let id = newID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if !register(id, { continuation.resume() }) { continuation.resume() }
            }
        } onCancel: {
            let action = state.withLockedValue { state -> (@Sendable () -> Void)? in
                if let action = state.actions.removeValue(forKey: id) { return action }
                state.cancelledWaiters.insert(id)
                return nil
            }
            action?()
        }
    }

    private func newID() -> Int {
        state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Stores `action` unless the signal fired or its waiter was cancelled
    /// first; false means the caller must run it itself.
    private func register(_ id: Int, _ action: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { state in
            if state.fired || state.cancelledWaiters.remove(id) != nil { return false }
            state.actions[id] = action
            return true
        }
    }
}
