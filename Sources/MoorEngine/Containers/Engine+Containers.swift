import Foundation
import MoorPluginKit

/// A container as the API shows it: its record and what the engine knows
/// beside it.
public struct ContainerView: Sendable {
    public var record: ContainerRecord
    /// Filled by inspect only (a list does not show them).
    public var execIDs: [String]
    /// Set when restore found a shim this daemon cannot speak to.
    public var unmanagedReason: String?
    /// Daemon settings that differ from those the container was created
    /// under ("storage-driver: vfs (daemon now: overlay2)").
    public var settingsDrift: [String]
}

public enum WaitCondition: String, Sendable {
    case notRunning = "not-running"
    case nextExit = "next-exit"
    case removed
}

extension Engine {
    public func startContainer(_ reference: String) async throws {
        try await container(reference).start()
    }

    public func stopContainer(_ reference: String, timeout: Int?, signal: String?) async throws {
        try await container(reference).stop(timeout: timeout, signal: signal)
    }

    public func killContainer(_ reference: String, signal: String?) async throws {
        try await container(reference).kill(signal: signal)
    }

    public func restartContainer(_ reference: String, timeout: Int?, signal: String?) async throws {
        try await container(reference).restart(timeout: timeout, signal: signal)
    }

    public func pauseContainer(_ reference: String) async throws {
        try await container(reference).pause()
    }

    public func unpauseContainer(_ reference: String) async throws {
        try await container(reference).unpause()
    }

    public func resizeContainer(_ reference: String, height: Int, width: Int) async throws {
        try await container(reference).resize(height: height, width: width)
    }

    public func removeContainer(_ reference: String, force: Bool) async throws {
        let target = try container(reference)
        try await target.remove(force: force)
        forget(target.id)
    }

    public func renameContainer(_ reference: String, to newName: String) async throws {
        let target = try container(reference)
        let name = try ContainerNames.validate(newName)
        let old = await target.snapshot()
        if old.name == name { throw EngineError.invalid("Renaming a container with the same name as its current name") }
        if let owner = names[name] {
            throw EngineError.conflict("Conflict. The container name \"/\(name)\" is already in use by container \"\(owner)\". You have to remove (or rename) that container to be able to reuse that name.")
        }
        try await target.update { $0.name = name }
        names.removeValue(forKey: old.name)
        names[name] = old.id
        await context.publish("rename", container: await target.snapshot(), extra: ["oldName": "/" + old.name])
    }

    /// Returns at once with the wait registered; the handle's `result`
    /// gives the exit code when the condition is met.
    public func waitContainer(_ reference: String, condition: WaitCondition) async throws -> WaitHandle {
        let target = try container(reference)
        let record = await target.snapshot()
        switch condition {
        case .notRunning where !record.state.isRunning && record.state.status != .restarting:
            return WaitHandle { (record.state.exitCode, nil) }
        case .notRunning, .nextExit:
            let stream = await target.exitStream()
            return WaitHandle {
                for await code in stream { return (code, nil) }
                return (await target.snapshot().state.exitCode, nil)
            }
        case .removed:
            let removal = await target.removalStream()
            return WaitHandle {
                for await _ in removal {}
                // The last run's code, as the record had it when it went.
                return (await target.snapshot().state.exitCode, nil)
            }
        }
    }

    public func inspectContainer(_ reference: String) async throws -> ContainerView {
        let target = try container(reference)
        var view = try await view(target)
        // As dockerd: the execs created or running, not those that ended.
        for exec in execs.values where exec.containerID == target.id {
            if await !exec.exited { view.execIDs.append(exec.id) }
        }
        view.execIDs.sort()
        return view
    }

    /// Containers matching `filters` (Docker's: id, name, label, status,
    /// ancestor, exited, before, since), newest first.
    public func listContainers(all: Bool, limit: Int?, filters: [String: [String]]) async throws -> [ContainerView] {
        let filter = try ContainerFilter(await resolvingAncestors(filters), engine: self)
        var views: [ContainerView] = []
        for container in containers.values {
            let view = try await view(container)
            let running = view.record.state.isRunning || view.record.state.status == .restarting
            if !all && !running && filters["status"] == nil && filters["exited"] == nil { continue }
            if filter.admits(view.record) { views.append(view) }
        }
        views.sort { $0.record.createdNs > $1.record.createdNs }
        if let limit, limit > 0 { views = Array(views.prefix(limit)) }
        return views
    }

    /// `ancestor=NAME` means the image NAME names now (dockerd matches by
    /// image id), so a container matches through any tag of its image.
    func resolvingAncestors(_ filters: [String: [String]]) async -> [String: [String]] {
        guard let ancestors = filters["ancestor"] else { return filters }
        var out = filters
        var values: [String] = []
        for ancestor in ancestors {
            values.append(ancestor)
            if let image = try? await context.images.resolve(ancestor) { values.append(image.id) }
        }
        out["ancestor"] = values
        return out
    }

    func view(_ container: ManagedContainer) async throws -> ContainerView {
        let record = await container.snapshot()
        let current = context.configuration
        var drift: [String] = []
        if record.settings.storageDriver != current.storageDriver {
            drift.append("storage-driver: \(record.settings.storageDriver) (daemon now: \(current.storageDriver))")
        }
        if record.settings.seccompProfile != current.seccompProfile {
            drift.append("seccomp-profile: the one the daemon had when the container was created (daemon now: \(current.seccompProfileName ?? "builtin"))")
        }
        if record.settings.dataRoot != current.dataRoot {
            drift.append("data-root: \(record.settings.dataRoot) (daemon now: \(current.dataRoot))")
        }
        return ContainerView(record: record, execIDs: [],
                             unmanagedReason: await container.unmanagedReason, settingsDrift: drift)
    }

    /// Resolves a reference for the API (full id).
    public func containerID(_ reference: String) async throws -> String {
        try container(reference).id
    }

    /// `docker container prune`: every stopped container.
    public func pruneContainers(filters: [String: [String]]) async throws -> (deleted: [String], reclaimed: Int64) {
        let filter = try ContainerFilter(await resolvingAncestors(filters), engine: self)
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        for container in containers.values {
            let record = await container.snapshot()
            guard record.state.status == .exited || record.state.status == .created, filter.admits(record) else { continue }
            reclaimed += directorySize(record.rootfs.ownDirectory)
            do {
                try await container.remove(force: false)
                forget(record.id)
                deleted.append(record.id)
            } catch {
                context.logger.warning("prune: could not remove container", metadata: ["container": "\(record.id)", "error": "\(error)"])
            }
        }
        return (deleted, reclaimed)
    }

    /// `docker top`: `ps` on the host, rows limited to the container's processes.
    public func top(_ reference: String, psArgs: String?) async throws -> (titles: [String], processes: [[String]]) {
        let target = try container(reference)
        let record = await target.snapshot()
        guard record.state.isRunning else { throw EngineError.conflict("Container \(record.id) is not running") }
        let pids = Set(CgroupProcesses.pids(cgroupsPath: SpecBuilder.cgroupsPath(of: record)).map(String.init))
        let args = (psArgs?.isEmpty ?? true) ? ["-ef"] : psArgs!.split(separator: " ").map(String.init)
        let result = try await offload { try runProgram("/bin/ps", args) }
        guard result.status == 0 else {
            throw EngineError.invalid("ps: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return try PsOutput.parse(String(decoding: result.stdout, as: UTF8.self), keeping: pids)
    }
}

/// What `wait` hands to the API once the wait is registered.
public struct WaitHandle: Sendable {
    public let result: @Sendable () async -> (exitCode: Int32, error: String?)
}

func directorySize(_ path: String) -> Int64 {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total: Int64 = 0
    while let item = enumerator.nextObject() as? String {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + item))?[.size] as? NSNumber {
            total += size.int64Value
        }
    }
    return total
}
