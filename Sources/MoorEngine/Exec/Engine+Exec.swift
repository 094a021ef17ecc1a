import Foundation

extension Engine {
    public func createExec(_ reference: String, config: ExecConfig) async throws -> String {
        let target = try container(reference)
        let record = await target.snapshot()
        guard record.state.isRunning else { throw EngineError.conflict("Container \(record.id) is not running") }
        if record.state.status == .paused { throw EngineError.conflict("Container \(record.id) is paused, unpause the container before exec") }
        guard !config.cmd.isEmpty else { throw EngineError.invalid("No exec command specified") }
        let id = ContainerNames.newID()
        execs[id] = try ManagedExec(id: id, container: target, containerID: record.id, config: config,
                                    run: record.state.startedAtNs)
        await context.publish("exec_create: " + config.cmd.joined(separator: " "), container: record, extra: ["execID": id])
        return id
    }

    func exec(_ id: String) throws -> ManagedExec {
        guard let found = execs[id] else { throw EngineError.noSuchExec(id) }
        return found
    }

    public func startExec(_ id: String, detach: Bool) async throws -> ExecSession {
        try await exec(id).start(detach: detach)
    }

    /// Refuses, before the API upgrades the connection, an exec that cannot
    /// start: already run, or its container not running (or not managed:
    /// its shim was not taken back), as dockerd answers 409 before hijacking.
    public func checkExecCanStart(_ id: String) async throws {
        let target = try exec(id)
        if await target.started { throw EngineError.conflict("Error: Exec command \(id) has already run") }
        let record = await target.container.snapshot()
        if record.state.status == .paused {
            throw EngineError.conflict("Container \(record.id) is paused, unpause the container before exec")
        }
        _ = try await target.container.requireSession()
    }

    public func inspectExec(_ id: String) async throws -> ExecView {
        try await exec(id).view()
    }

    public func resizeExec(_ id: String, height: Int, width: Int) async throws {
        try await exec(id).resize(height: height, width: width)
    }
}

extension ManagedContainer {
    /// The exec's OCI process: the container's own (capabilities,
    /// no_new_privs, environment) with the exec's command, user, cwd, env.
    func execProcessJSON(_ config: ExecConfig) throws -> String {
        let specPath = record.directory + "/bundle/config.json"
        guard let data = FileManager.default.contents(atPath: specPath),
              let spec = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var process = spec["process"] as? [String: Any] else {
            throw EngineError.system("container \(id): cannot read its spec \(specPath)")
        }
        process["args"] = config.cmd
        var env = process["env"] as? [String] ?? []
        for entry in config.env ?? [] {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append(entry)
        }
        process["env"] = env
        if let dir = config.workingDir, !dir.isEmpty { process["cwd"] = dir }
        if let user = config.user, !user.isEmpty {
            let resolved = try UserResolver(layers: record.rootfs.readableLayers).resolve(user)
            var object: [String: Any] = ["uid": resolved.uid, "gid": resolved.gid]
            if !resolved.additionalGids.isEmpty { object["additionalGids"] = resolved.additionalGids }
            process["user"] = object
        }
        process["terminal"] = config.tty ?? false
        if let size = config.consoleSize, size.count == 2, size[0] > 0, size[1] > 0 {
            process["consoleSize"] = ["height": size[0], "width": size[1]]
        } else {
            process.removeValue(forKey: "consoleSize")
        }
        // A privileged exec keeps the container's own capabilities: moor
        // never gives an exec more than its container has.
        let out = try JSONSerialization.data(withJSONObject: process, options: [.sortedKeys])
        return String(decoding: out, as: UTF8.self)
    }
}
