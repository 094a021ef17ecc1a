import Foundation
import MoorShimClient

/// What restoring one container found, for the daemon's report.
public struct RestoreOutcome: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        case adopted           // running (or paused) and managed again
        case exitedWhileDown   // its exit is recorded now
        case shimGone          // no shim: exited with its record, or 255
        case unchanged         // was not running
        case unmanaged(String) // a shim this daemon cannot speak to
        case failed(String)
    }

    public var containerID: String
    public var result: Result
}

extension ManagedContainer {
    /// Takes a container back after a daemon start: reconnects to its shim
    /// if one runs, learns an exit that happened during the downtime, or
    /// settles a start or a removal the previous daemon did not finish.
    func restore() async -> RestoreOutcome {
        if record.state.status == .removing {
            await tearDown()
            return RestoreOutcome(containerID: id, result: .unchanged)
        }
        let wasActive = record.state.isRunning || record.state.starting || record.state.status == .restarting
        guard wasActive else {
            // Stopped before the daemon went down: dockerd asks the restart
            // policy again at start-up (`always` comes back, even after a
            // user's stop; `unless-stopped` only if the user did not stop it).
            if record.state.status == .exited && record.state.startedAtNs > 0 {
                applyRestartPolicy(moment: .daemonStart)
            }
            return RestoreOutcome(containerID: id, result: .unchanged)
        }
        if let socket = record.shim?.socketPath {
            do {
                return await adopt(try await connect(to: socket))
            } catch where shimStillRuns {
                // Not gone, only not answering: retried in the background.
                return RestoreOutcome(containerID: id, result: .failed("cannot connect to its shim at \(socket): \(error)"))
            } catch {}
        }
        if record.state.starting && !record.state.isRunning && record.state.status != .restarting {
            // The previous daemon died before the shim came up: roll back.
            try? update { $0.state.starting = false }
            return RestoreOutcome(containerID: id, result: .unchanged)
        }
        if record.state.status == .restarting {
            applyRestartPolicy(moment: .daemonStart)
            return RestoreOutcome(containerID: id, result: .shimGone)
        }
        generation += 1
        await finishFromExitRecord(moment: .daemonStart)
        return RestoreOutcome(containerID: id, result: .shimGone)
    }

    private func adopt(_ session: ShimSession) async -> RestoreOutcome {
        adopting = true
        defer { adopting = false }
        do {
            let hello = try await session.hello()
            guard hello.isSpoken else {
                let reason = "its shim speaks protocol \(hello.version); this daemon speaks \(ShimProtocol.major).\(ShimProtocol.minor). The container keeps running; `docker stop \(record.shortID)` or `docker rm -f \(record.shortID)` ends it, or start a daemon that speaks its protocol"
                unmanagedReason = reason
                session.channel.close()
                return RestoreOutcome(containerID: id, result: .unmanaged(reason))
            }
            let state = try await session.state(process: ShimProtocol.initProcess)
            generation += 1
            try update {
                $0.shim?.protocolMajor = hello.major
                $0.shim?.protocolMinor = hello.minor
                $0.shim?.build = hello.build
                $0.shim?.shimPid = Int32(hello.shimPid)
                $0.state.starting = false
                switch state.status {
                case .running:
                    $0.state.status = .running
                    $0.state.pid = state.pid
                case .paused:
                    $0.state.status = .paused
                    $0.state.pid = state.pid
                case .exited:
                    $0.state.status = .running // until the watcher records the exit
                }
                if $0.state.startedAtNs == 0 { $0.state.startedAtNs = Int64(state.startedNs) }
            }
            try await attachRuntime(session, moment: .daemonStart)
            return RestoreOutcome(containerID: id, result: state.status == .exited ? .exitedWhileDown : .adopted)
        } catch {
            session.channel.close()
            return RestoreOutcome(containerID: id, result: .failed("\(error)"))
        }
    }

    /// Returns once the exit the shim reported at restore is recorded.
    func exitSettled() async {
        await watchTask?.value
    }

    /// Restore found the shim but it did not answer in time (stopped,
    /// overloaded, a slow disk): the container stays listed as running,
    /// unmanaged (only SIGKILL, `stop`, `rm -f` end it), while the daemon
    /// keeps trying to take it back, with a growing delay.
    func retryRestoreLater(_ reason: String) {
        guard reattachTask == nil, !removed, session == nil, unmanagedReason == nil else { return }
        unmanagedReason = "its shim did not answer when the daemon started (\(reason)); the daemon keeps trying to take it back"
        reattachTask = Task { [weak self] in
            var delay: UInt64 = 500_000_000
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: delay)
                guard let self, !Task.isCancelled else { return }
                if await self.retryRestore() { return }
                delay = min(delay * 2, 10_000_000_000)
            }
        }
    }

    /// One more try; true when there is nothing left to retry (then the
    /// execs held meanwhile are followed again).
    private func retryRestore() async -> Bool {
        let done = await lock.run {
            await self.retryRestoreLocked()
        }
        if done { resumeHeldExecs() }
        return done
    }

    /// An exec of the previous daemon, found running in a container whose
    /// shim is still being retried: kept until the retry ends. False when
    /// no retry runs (follow it now).
    func holdUntilTakenBack(_ exec: ManagedExec) -> Bool {
        guard reattachTask != nil else { return false }
        execsAwaitingTakeBack.append(exec)
        return true
    }

    /// The retry ended (taken back, or the container ended): each held
    /// exec is followed again, or gets its exit code.
    func resumeHeldExecs() {
        let held = execsAwaitingTakeBack
        execsAwaitingTakeBack = []
        guard !held.isEmpty else { return }
        Task { await withTaskGroup(of: Void.self) { group in
            for exec in held { group.addTask { await exec.resume() } }
        } }
    }

    private func retryRestoreLocked() async -> Bool {
        guard isUnmanaged, reattachTask != nil, session == nil, !removed, record.state.isRunning else {
            reattachTask = nil
            return true
        }
        if adopting { return false }
        let connected: ShimSession?
        if let socket = record.shim?.socketPath { connected = try? await connect(to: socket) } else { connected = nil }
        if connected == nil && shimStillRuns { return false }
        guard let session = connected else {
            reattachTask = nil
            unmanagedReason = nil
            generation += 1
            await finishFromExitRecord(moment: .daemonStart)
            return true
        }
        let previous = unmanagedReason
        unmanagedReason = nil
        let outcome = await adopt(session)
        switch outcome.result {
        case .failed:
            unmanagedReason = previous
            return false
        default:
            reattachTask = nil
            logger.info("container restored after a retry", metadata: ["container": "\(id)", "result": "\(outcome.result)"])
            return true
        }
    }

    /// The container's shim process is still there (whatever its socket does).
    var shimStillRuns: Bool {
        guard let pid = record.shim?.shimPid else { return false }
        return ProcessLiveness.isShim(pid, of: id)
    }

    /// The daemon is stopping with live restore: let go of the shim without
    /// touching the container.
    func detach() async {
        detaching = true
        restartTask?.cancel()
        reattachTask?.cancel()
        reattachTask = nil
        watchTask?.cancel()
        drainTask?.cancel()
        session?.channel.close()
        session = nil
        await logWriter?.close()
        logWriter = nil
    }
}
