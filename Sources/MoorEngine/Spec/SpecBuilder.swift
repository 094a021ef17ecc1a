import Foundation
import MoorPluginKit

/// Builds a container's OCI config.json: the shim's base spec (Docker's
/// defaults for the container's capabilities) plus what the container's
/// Config and HostConfig ask for.
struct SpecBuilder {
    let record: ContainerRecord
    let security: SecurityOptions
    let user: ResolvedUser
    /// Files the daemon bind-mounts over the container's own.
    let hostnamePath: String
    let hostsPath: String
    let resolvConfPath: String

    func build(base: Data) throws -> Data {
        guard var spec = try JSONSerialization.jsonObject(with: base) as? [String: Any] else {
            throw EngineError.system("moor-shim spec printed something that is not a JSON object")
        }
        spec["process"] = process(spec["process"] as? [String: Any] ?? [:])
        spec["root"] = ["path": record.rootfs.mountPoint, "readonly": record.hostConfig.readonlyRootfs ?? false]
        spec["hostname"] = hostname
        spec["mounts"] = try mounts(spec["mounts"] as? [[String: Any]] ?? [])
        var linux = spec["linux"] as? [String: Any] ?? [:]
        linux["namespaces"] = namespaces(linux["namespaces"] as? [[String: Any]] ?? [])
        linux["resources"] = resources()
        linux["cgroupsPath"] = cgroupsPath
        if let sysctls = record.hostConfig.sysctls, !sysctls.isEmpty { linux["sysctl"] = sysctls }
        if case let .custom(profile) = security.seccomp, record.hostConfig.privileged != true {
            // Filtered by the capabilities the container ends up with, as
            // dockerd does (a privileged container gets no filter at all).
            let process = spec["process"] as? [String: Any]
            let bounding = (process?["capabilities"] as? [String: Any])?["bounding"] as? [String] ?? []
            linux["seccomp"] = profile.runtimeSpec(capabilities: bounding)
        }
        spec["linux"] = linux
        return try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
    }

    var hostname: String { Self.hostname(of: record) }

    var cgroupsPath: String { Self.cgroupsPath(of: record) }

    static func cgroupsPath(of record: ContainerRecord) -> String {
        let parent = record.hostConfig.cgroupParent.flatMap { $0.isEmpty ? nil : $0 } ?? "/moor"
        return (parent.hasPrefix("/") ? parent : "/" + parent) + "/" + record.id
    }

    // MARK: process

    private func process(_ base: [String: Any]) -> [String: Any] {
        var p = base
        p["args"] = [record.path] + record.args
        p["env"] = environment
        p["cwd"] = record.config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        var userObject: [String: Any] = ["uid": user.uid, "gid": user.gid]
        if !user.additionalGids.isEmpty { userObject["additionalGids"] = user.additionalGids }
        p["user"] = userObject
        p["terminal"] = record.tty
        if let size = record.hostConfig.consoleSize, size.count == 2, size[0] > 0, size[1] > 0 {
            p["consoleSize"] = ["height": size[0], "width": size[1]]
        }
        if noNewPrivileges { p["noNewPrivileges"] = true }
        if let adj = record.hostConfig.oomScoreAdj, adj != 0 { p["oomScoreAdj"] = adj }
        if let ulimits = record.hostConfig.ulimits, !ulimits.isEmpty {
            p["rlimits"] = ulimits.map { ["type": "RLIMIT_" + $0.name.uppercased(), "soft": $0.soft, "hard": $0.hard] }
        } else {
            p.removeValue(forKey: "rlimits")
        }
        return p
    }

    /// Image env, then the container's (by name, the container wins), then
    /// what Docker always sets.
    var environment: [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func add(_ entry: String) {
            let name = String(entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            if values[name] == nil { order.append(name) }
            values[name] = entry
        }
        add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        add("HOSTNAME=" + hostname)
        if record.tty { add("TERM=xterm") }
        for entry in record.config.env ?? [] { add(entry) }
        return order.compactMap { values[$0] }
    }

    private var noNewPrivileges: Bool { security.noNewPrivileges }

    // MARK: mounts

    private func mounts(_ base: [[String: Any]]) throws -> [[String: Any]] {
        var out = base
        let shmSize = record.hostConfig.shmSize.flatMap { $0 > 0 ? $0 : nil } ?? 67_108_864
        for index in out.indices where out[index]["destination"] as? String == "/dev/shm" {
            out[index]["options"] = ["nosuid", "noexec", "nodev", "mode=1777", "size=\(shmSize)"]
        }
        out.append(bind(hostnamePath, "/etc/hostname", readOnly: false))
        out.append(bind(hostsPath, "/etc/hosts", readOnly: false))
        out.append(bind(resolvConfPath, "/etc/resolv.conf", readOnly: false))
        for (destination, options) in (record.hostConfig.tmpfs ?? [:]).sorted(by: { $0.key < $1.key }) {
            let extra = options.split(separator: ",").map(String.init).filter { !$0.isEmpty }
            out.removeAll { $0["destination"] as? String == destination }
            out.append(["destination": destination, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "noexec"] + extra])
        }
        for spec in record.hostConfig.binds ?? [] {
            let bind = try BindSpec(spec)
            out.removeAll { $0["destination"] as? String == bind.destination }
            out.append(self.bind(bind.source, bind.destination, readOnly: bind.readOnly, propagation: bind.propagation))
        }
        return out
    }

    private func bind(_ source: String, _ destination: String, readOnly: Bool, propagation: String = "rprivate") -> [String: Any] {
        var options = ["rbind", propagation]
        if readOnly { options.append("ro") }
        return ["destination": destination, "type": "bind", "source": source, "options": options]
    }

    // MARK: linux

    private func namespaces(_ base: [[String: Any]]) -> [[String: Any]] {
        var out = base
        func drop(_ type: String) { out.removeAll { $0["type"] as? String == type } }
        switch record.network?.namespace ?? .new {
        case .host: drop("network")
        case .new: break
        case let .path(path):
            drop("network")
            out.append(["type": "network", "path": path])
        }
        if record.hostConfig.pidMode == "host" { drop("pid") }
        if record.hostConfig.ipcMode == "host" { drop("ipc") }
        if record.hostConfig.utsMode == "host" { drop("uts") }
        return out
    }

    private func resources() -> [String: Any] {
        let h = record.hostConfig
        var out: [String: Any] = [:]
        var memory: [String: Any] = [:]
        if let limit = h.memory, limit > 0 {
            memory["limit"] = limit
            // Docker: MemorySwap is memory + swap; 0 means twice the memory.
            let swap = h.memorySwap ?? 0
            memory["swap"] = swap == 0 ? limit * 2 : swap
        }
        if let reservation = h.memoryReservation, reservation > 0 { memory["reservation"] = reservation }
        if !memory.isEmpty { out["memory"] = memory }
        if let pids = h.pidsLimit, pids > 0 { out["pids"] = ["limit": pids] }
        var cpu: [String: Any] = [:]
        if let shares = h.cpuShares, shares > 0 { cpu["shares"] = shares }
        if let nano = h.nanoCpus, nano > 0 {
            cpu["period"] = 100_000
            cpu["quota"] = nano * 100_000 / 1_000_000_000
        } else {
            if let period = h.cpuPeriod, period > 0 { cpu["period"] = period }
            if let quota = h.cpuQuota, quota > 0 { cpu["quota"] = quota }
        }
        if let cpus = h.cpusetCpus, !cpus.isEmpty { cpu["cpus"] = cpus }
        if let mems = h.cpusetMems, !mems.isEmpty { cpu["mems"] = mems }
        if !cpu.isEmpty { out["cpu"] = cpu }
        return out
    }
}

/// `-v /src:/dst[:ro|rw|z|Z|shared|slave|private|...]`
struct BindSpec: Equatable {
    var source: String
    var destination: String
    var readOnly = false
    var propagation = "rprivate"

    init(_ text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw EngineError.invalid("invalid volume specification: '\(text)'")
        }
        guard parts[0].hasPrefix("/") else {
            throw EngineError.invalid("invalid volume specification: '\(text)': named volumes are not supported by moor yet; bind an absolute host path")
        }
        guard parts[1].hasPrefix("/") else {
            throw EngineError.invalid("invalid volume specification: '\(text)': mount path must be absolute")
        }
        source = parts[0]
        destination = parts[1]
        if parts.count == 3 {
            for option in parts[2].split(separator: ",").map(String.init) {
                switch option {
                case "ro": readOnly = true
                case "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated": break
                case "shared", "rshared", "slave", "rslave", "private", "rprivate": propagation = option
                default: throw EngineError.invalid("invalid volume specification: '\(text)': unknown option \"\(option)\"")
                }
            }
        }
    }
}
