import Foundation
import Glibc
import MoorPluginKit
import MoorShimClient

extension ManagedContainer {
    /// The container's init ended (the shim's WAIT answered). Waits for its
    /// output to be delivered (so `docker logs` after `docker wait` is
    /// complete, as with Docker), records the exit durably, lets the shim
    /// go, then applies the restart policy.
    func handleExit(_ state: ShimProcessState, generation run: Int, moment: RestoreSituation.Moment) async {
        guard run == generation, !detaching else { return }
        if let drainTask {
            // A log driver that keeps failing must not hold the exit
            // forever; one that stores slowly (a large backlog after a
            // downtime) gets all the time it needs.
            let output = self.output
            let containerID = id
            let log = logger
            let timer = Task {
                let noticed = DispatchTime.now().uptimeNanoseconds
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                    let progress = max(noticed, await output.lastStoredNs)
                    if !Task.isCancelled && DispatchTime.now().uptimeNanoseconds - progress > 30_000_000_000 {
                        log.error("the log driver stored nothing for 30 s after the container exited; the rest of its output stays in the spool",
                                  metadata: ["container": "\(containerID)"])
                        drainTask.cancel()
                        return
                    }
                }
            }
            await drainTask.value
            timer.cancel()
        }
        await finishRun(exitCode: state.exitCode, oomKilled: state.oomKilled,
                        finishedNs: state.finishedNs > 0 ? Int64(state.finishedNs) : nowNs(), moment: moment)
    }

    /// The connection to the shim broke without an answer to WAIT: the shim
    /// died (killed by someone) or the host is going down. Its exit record,
    /// if written, says how the container ended; otherwise Docker's 255.
    func handleLostShim(_ error: any Error, generation run: Int, moment: RestoreSituation.Moment) async {
        guard run == generation, !detaching, !Task.isCancelled else { return }
        if let socket = record.shim?.socketPath, let session = try? await connect(to: socket) {
            // A transient failure: the shim is still there.
            logger.warning("reconnected to the shim", metadata: ["container": "\(id)", "error": "\(error)"])
            drainTask?.cancel()
            try? await attachRuntime(session, moment: moment)
            return
        }
        logger.error("lost the container's shim", metadata: ["container": "\(id)", "error": "\(error)"])
        drainTask?.cancel()
        await finishFromExitRecord(moment: moment)
    }

    /// The shim is gone: the exit record it wrote says how the container
    /// ended; without one (killed before it could write), Docker's 255.
    func finishFromExitRecord(moment: RestoreSituation.Moment) async {
        let exit = record.shim?.exitRecord(process: ShimProtocol.initProcess)
        await finishRun(exitCode: exit?.exitCode ?? 255, oomKilled: exit?.oomKilled ?? false,
                        finishedNs: exit.map { Int64($0.finishedNs) } ?? nowNs(), moment: moment)
    }

    func finishRun(exitCode: Int32, oomKilled: Bool, finishedNs: Int64, moment: RestoreSituation.Moment) async {
        let attachment = record.network
        do {
            try update {
                $0.state.status = .exited
                $0.state.pid = 0
                $0.state.exitCode = exitCode
                $0.state.oomKilled = oomKilled
                $0.state.finishedAtNs = finishedNs
                $0.state.starting = false
            }
        } catch {
            logger.error("recording an exit", metadata: ["container": "\(id)", "error": "\(error)"])
        }
        if let session {
            try? await session.shutdown(kill: false)
            session.channel.close()
            // The shim removes its cgroups as it exits: a restart must not
            // create the same cgroups before the old shim is gone.
            await waitForShimExit()
        }
        session = nil
        watchTask = nil
        drainTask = nil
        await output.close()
        await detachNetwork(attachment)
        if oomKilled { await context.publish("oom", container: record) }
        await context.publish("die", container: record, extra: ["exitCode": "\(exitCode)"])
        resumeExitWaiters(exitCode)
        applyRestartPolicy(moment: moment)
    }

    /// Asks the container's restore policy what to do now that it stopped.
    func applyRestartPolicy(moment: RestoreSituation.Moment) {
        let policy = record.restartPolicy
        let decision: RestoreDecision
        do {
            let plugin = try context.plugins.single(.restore, id: policy.name)
            let runNs = record.state.finishedAtNs > record.state.startedAtNs ? record.state.finishedAtNs - record.state.startedAtNs : 0
            decision = plugin.decide(RestoreSituation(
                moment: moment, exitCode: record.state.exitCode, stoppedByUser: record.state.stoppedByUser,
                restartCount: record.state.restartCount, maximumRetryCount: policy.maximumRetryCount,
                runDurationNs: runNs, previousDelayNs: record.state.restartDelayNs))
        } catch {
            logger.error("restart policy unavailable", metadata: ["container": "\(id)", "policy": "\(policy.name)", "error": "\(error)"])
            decision = .leaveStopped
        }
        switch decision {
        case .leaveStopped:
            if record.hostConfig.autoRemove ?? false {
                Task { try? await self.removeAfterExit() }
            }
        case let .restart(delayNs):
            do {
                try update {
                    $0.state.status = .restarting
                    // dockerd starts over (count and backoff) at daemon start.
                    $0.state.restartCount = moment == .daemonStart ? 0 : $0.state.restartCount + 1
                    $0.state.restartDelayNs = delayNs
                }
            } catch {
                logger.error("recording a restart", metadata: ["container": "\(id)", "error": "\(error)"])
                return
            }
            restartTask = Task {
                try? await Task.sleep(nanoseconds: UInt64(max(0, delayNs)))
                if Task.isCancelled { return }
                await self.restartByPolicy()
            }
        }
    }

    private func restartByPolicy() async {
        do {
            try await lock.run {
                guard await self.record.state.status == .restarting, !(await self.isRemoved) else { return }
                try await self.launch()
                await self.context.publish("restart", container: await self.record)
            }
        } catch {
            logger.error("restart failed", metadata: ["container": "\(id)", "error": "\(error)"])
            try? update { $0.state.status = .exited }
            applyRestartPolicy(moment: .exited)
        }
    }

    func cancelRestart() {
        restartTask?.cancel()
        restartTask = nil
        if record.state.status == .restarting {
            try? update { $0.state.status = .exited }
        }
    }
}

extension ManagedContainer {
    /// Polls (10 ms) until the shim's process is gone, for at most `seconds`.
    func waitForShimExit(seconds: Double = 10) async {
        guard let pid = record.shim?.shimPid, pid > 0 else { return }
        let deadline = nowNs() + Int64(seconds * 1e9)
        while ProcessLiveness.isRunning(pid) {
            if nowNs() > deadline {
                logger.warning("the shim did not exit after SHUTDOWN", metadata: ["container": "\(id)", "pid": "\(pid)"])
                return
            }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}
