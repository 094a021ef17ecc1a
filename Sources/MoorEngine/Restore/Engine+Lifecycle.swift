import Foundation
import Logging
import MoorShimClient

extension Engine {
    /// Loads every container record from the store (fast: no shim is
    /// contacted), so the API can list containers from the first moment.
    public func load() async throws {
        let rows: [Data]
        do {
            rows = try context.store.containers().map(\.document)
        } catch {
            throw EngineError.system("load containers: \(error)")
        }
        let decoder = JSONDecoder()
        for row in rows {
            do {
                let record = try decoder.decode(ContainerRecord.self, from: row)
                await register(ManagedContainer(context: context, record: record), record: record)
            } catch {
                context.logger.error("a container record cannot be read; it is kept in the store untouched",
                                     metadata: ["error": "\(error)"])
            }
        }
        try loadExecs()
    }

    /// The execs the previous daemon stored, for the containers it had.
    private func loadExecs() throws {
        let rows: [Data]
        do {
            rows = try context.store.execs().map(\.document)
        } catch {
            throw EngineError.system("load execs: \(error)")
        }
        for row in rows {
            guard let record = try? JSONDecoder().decode(ExecRecord.self, from: row) else {
                context.logger.error("an exec record cannot be read; it is kept in the store untouched")
                continue
            }
            guard let container = containers[record.containerID] else { continue }
            execs[record.id] = ManagedExec(restoring: record, container: container)
        }
    }

    /// Takes every container back in parallel, each within the restore
    /// timeout, so one broken shim never delays the others; then removes
    /// what belongs to no container.
    public func restoreAll() async -> [RestoreOutcome] {
        let timeout = context.configuration.restoreTimeoutSeconds
        let all = Array(containers.values)
        let outcomes = await withTaskGroup(of: RestoreOutcome.self) { group in
            for container in all {
                group.addTask {
                    let id = container.id
                    let result = await withTimeoutOrNil(seconds: timeout) { await container.restore() }
                    return result ?? RestoreOutcome(containerID: id, result: .failed("no answer from its shim within \(timeout) s"))
                }
            }
            var out: [RestoreOutcome] = []
            for await outcome in group { out.append(outcome) }
            return out
        }
        for outcome in outcomes {
            switch outcome.result {
            case let .failed(reason):
                context.logger.error("container not restored", metadata: ["container": "\(outcome.containerID)", "reason": "\(reason)"])
                await containers[outcome.containerID]?.retryRestoreLater(reason)
            case let .unmanaged(reason):
                context.logger.error("container not restored", metadata: ["container": "\(outcome.containerID)", "reason": "\(reason)"])
            default:
                context.logger.info("container restored", metadata: ["container": "\(outcome.containerID)", "result": "\(outcome.result)"])
            }
        }
        restoreReports = outcomes
        // Execs still running in their shims are followed again; those of
        // a container whose shim is being retried, once it is taken back.
        await withTaskGroup(of: Void.self) { group in
            for exec in execs.values {
                group.addTask { if await !exec.container.holdUntilTakenBack(exec) { await exec.resume() } }
            }
        }
        await Sweeper(context: context, known: Set(containers.keys)).sweep()
        // An exit found at restore is recorded once the output before it is
        // delivered: the restore is over when every such state says
        // "exited" (outside the per-shim timeout, so a large backlog takes
        // the time it needs; the API and the other containers never wait).
        await withTaskGroup(of: Void.self) { group in
            for outcome in outcomes where outcome.result == .exitedWhileDown {
                guard let container = containers[outcome.containerID] else { continue }
                group.addTask { await container.exitSettled() }
            }
        }
        return outcomes
    }

    /// The daemon is stopping. With live restore the containers are left
    /// running and only the connections go; without it every container is
    /// stopped (its stop signal, SIGKILL after its timeout), in parallel,
    /// and its exit recorded.
    public func shutdown() async {
        let live = context.configuration.liveRestore
        let all = Array(containers.values)
        await withTaskGroup(of: Void.self) { group in
            for container in all {
                group.addTask {
                    if !live, await container.snapshot().state.isRunning {
                        do {
                            try await container.stop(timeout: nil, signal: nil, byUser: false)
                        } catch {
                            self.context.logger.error("stopping a container at shutdown", metadata: ["container": "\(container.id)", "error": "\(error)"])
                        }
                    }
                    await container.detach()
                }
            }
        }
        await context.events.finishAll()
    }
}
