import Foundation
import MoorPluginKit

extension Engine {
    /// `POST /containers/create`. Validates everything first (name, image,
    /// command, host config, log driver and options, restart policy), then
    /// writes the record durably before answering.
    public func createContainer(name requestedName: String?, request: ContainerCreateRequest) async throws -> (id: String, warnings: [String]) {
        let name: String
        if let requestedName, !requestedName.isEmpty {
            name = try ContainerNames.validate(requestedName)
            if let owner = names[name] {
                throw EngineError.conflict("Conflict. The container name \"/\(name)\" is already in use by container \"\(owner)\". You have to remove (or rename) that container to be able to reuse that name.")
            }
        } else {
            name = ContainerNames.random { self.names[$0] != nil }
        }
        guard let reference = request.config.image, !reference.isEmpty else {
            throw EngineError.invalid("Config.Image: an image is required")
        }
        let image = try await context.images.resolve(reference)
        let config = Self.merge(request.config, with: image.defaults)
        let command = (config.entrypoint?.values ?? []) + (config.cmd?.values ?? [])
        guard let path = command.first, !path.isEmpty else {
            throw EngineError.invalid("No command specified")
        }
        var host = request.hostConfig
        let warnings = try validate(&host)
        let log = try resolveLogConfig(host.logConfig)
        host.logConfig = LogConfig(type: log.driver, config: log.options)

        let settings = context.configuration
        let id = ContainerNames.newID()
        let directory = settings.containerDirectory(id)
        let rootfs = try await prepareRootfs(image: image, directory: directory, driver: settings.storageDriver)
        var record = ContainerRecord(
            id: id, name: name, createdNs: nowNs(), imageReference: reference, imageID: image.id, config: config,
            hostConfig: host, path: path, args: Array(command.dropFirst()),
            settings: CreationSettings(storageDriver: settings.storageDriver, dataRoot: settings.dataRoot,
                                       daemonVersion: settings.daemonVersion, seccompProfile: settings.seccompProfile),
            logDriver: log.driver, logOptions: log.driverOptions, spoolMaxBytes: log.spoolMax,
            rootfs: rootfs, directory: directory)
        record.state.status = .created
        let container = ManagedContainer(context: context, record: record)
        do {
            try await container.persist(record)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await register(container, record: record)
        await context.publish("create", container: record)
        return (id, warnings)
    }

    /// The container's root under the storage driver in use: overlay2
    /// stacks the image's shared layers under its own upper directory; vfs
    /// (no overlayfs) gives it a plain copy of the image's merged tree.
    /// Recorded with the container, which keeps its driver for good.
    func prepareRootfs(image: EngineImage, directory: String, driver: String) async throws -> RootfsInfo {
        switch driver {
        case "vfs":
            let root = directory + "/rootfs"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o711])
                try await context.images.materialize(image.id, into: root)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error as? EngineError ?? EngineError.system("vfs: copy image \(image.id) into \(root): \(error)")
            }
            return RootfsInfo(driver: "vfs", lowerDirs: [], upperDir: "", workDir: "", mountPoint: root)
        default:
            return RootfsInfo(driver: driver, lowerDirs: image.layerDirectories, upperDir: directory + "/upper",
                              workDir: directory + "/work", mountPoint: directory + "/bundle/rootfs")
        }
    }

    /// The image's defaults under the request's settings, as Docker merges them.
    static func merge(_ request: ContainerConfig, with image: ImageDefaults) -> ContainerConfig {
        var config = request
        var env: [String] = []
        var index: [String: Int] = [:]
        for entry in (image.env ?? []) + (request.env ?? []) {
            let key = String(entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            if let at = index[key] { env[at] = entry } else {
                index[key] = env.count
                env.append(entry)
            }
        }
        config.env = env
        // An entrypoint given on create (even an empty one, which resets it)
        // drops the image's command with it.
        if let entrypoint = request.entrypoint {
            let values = entrypoint.values.filter { !$0.isEmpty }
            config.entrypoint = values.isEmpty ? nil : StringList(values)
            config.cmd = request.cmd
        } else {
            config.entrypoint = image.entrypoint.map(StringList.init)
            config.cmd = request.cmd?.values.isEmpty == false ? request.cmd : image.cmd.map(StringList.init)
        }
        if config.workingDir?.isEmpty ?? true { config.workingDir = image.workingDir }
        if config.user?.isEmpty ?? true { config.user = image.user }
        if config.stopSignal?.isEmpty ?? true { config.stopSignal = image.stopSignal }
        var labels = image.labels ?? [:]
        for (k, v) in request.labels ?? [:] { labels[k] = v }
        config.labels = labels
        if config.exposedPorts == nil { config.exposedPorts = image.exposedPorts }
        var volumes = image.volumes ?? [:]
        for (k, v) in request.volumes ?? [:] { volumes[k] = v }
        config.volumes = volumes.isEmpty ? nil : volumes
        config.image = request.image
        return config
    }

    /// Checks the host config and fills in moor's defaults; returns warnings.
    private func validate(_ host: inout HostConfig) throws -> [String] {
        var warnings: [String] = []
        let mode = host.networkMode ?? ""
        switch mode {
        case "", "default", "none": host.networkMode = "none"
        case "host": break
        case "bridge":
            throw EngineError.invalid("network mode \"bridge\" is not available yet: moor has the \"none\" and \"host\" network drivers (a container without --network gets \"none\")")
        default:
            throw EngineError.invalid("network mode \"\(mode)\" is not supported: use \"none\" or \"host\"")
        }
        if let bindings = host.portBindings, bindings.values.contains(where: { !($0 ?? []).isEmpty }) {
            if host.networkMode == "host" {
                warnings.append("Published ports are discarded when using host network mode")
                host.portBindings = [:]
            } else {
                throw EngineError.invalid("conflicting options: port publishing needs the bridge network driver, which moor does not have yet")
            }
        }
        let policy = host.restartPolicy ?? RestartPolicy()
        let plugin: any RestorePolicy
        do {
            plugin = try context.plugins.single(.restore, id: policy.name)
        } catch {
            throw EngineError.invalid("invalid restart policy '\(policy.name)'")
        }
        do {
            try plugin.validate(maximumRetryCount: policy.maximumRetryCount)
        } catch {
            throw EngineError.invalid("\(error)")
        }
        host.restartPolicy = policy
        if host.autoRemove == true && policy.name != "no" {
            throw EngineError.invalid("can't create 'AutoRemove' container with restart policy")
        }
        for bind in host.binds ?? [] { _ = try BindSpec(bind) }
        for (field, names) in [("CapAdd", host.capAdd ?? []), ("CapDrop", host.capDrop ?? [])] {
            for name in names where !Capabilities.isKnown(name) {
                throw EngineError.invalid("invalid \(field): unknown capability: \"\(name)\"")
            }
        }
        for (destination, _) in host.tmpfs ?? [:] where !destination.hasPrefix("/") {
            throw EngineError.invalid("invalid tmpfs mount: \"\(destination)\" is not an absolute path")
        }
        if let memory = host.memory, memory != 0 {
            guard memory >= 6 * 1024 * 1024 else { throw EngineError.invalid("Minimum memory limit allowed is 6MB") }
            if let swap = host.memorySwap, swap > 0, swap < memory {
                throw EngineError.invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
            }
        } else if let swap = host.memorySwap, swap > 0 {
            throw EngineError.invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if (host.nanoCpus ?? 0) > 0 && ((host.cpuQuota ?? 0) > 0 || (host.cpuPeriod ?? 0) > 0) {
            throw EngineError.invalid("Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set")
        }
        _ = try SecurityOptions(host.securityOpt ?? [])
        if let cpus = host.cpusetCpus, !cpus.isEmpty,
           !cpus.allSatisfy({ $0.isNumber || $0 == "," || $0 == "-" }) {
            throw EngineError.invalid("Invalid value \(cpus) for cpuset cpus")
        }
        return warnings
    }

    struct ResolvedLogConfig {
        var driver: String
        /// What inspect shows (with moor's spool option).
        var options: [String: String]
        /// What the driver gets.
        var driverOptions: [String: String]
        var spoolMax: UInt64
    }

    /// The container's log driver and options, Docker's way: the daemon's
    /// `log-opts` apply when the container uses the daemon's driver.
    /// `spool-max-size` is moor's own option, for every driver.
    func resolveLogConfig(_ requested: LogConfig?) throws -> ResolvedLogConfig {
        let settings = context.configuration
        let driverName = (requested?.type).flatMap { $0.isEmpty ? nil : $0 } ?? settings.logDriver
        var options = requested?.config ?? [:]
        if driverName == settings.logDriver {
            for (k, v) in settings.logOptions where options[k] == nil { options[k] = v }
        }
        let driver: any LogDriver
        do {
            driver = try context.plugins.single(.logging, id: driverName)
        } catch {
            throw EngineError.invalid("logger: no log driver named '\(driverName)' is registered")
        }
        var driverOptions = options
        var spoolMax = settings.defaultSpoolMaxBytes
        if let text = driverOptions.removeValue(forKey: "spool-max-size") {
            guard let bytes = ByteSize.parse(text), bytes >= 256 * 1024 else {
                throw EngineError.invalid("log-opt spool-max-size: \"\(text)\" is not a size of at least 256k (e.g. 64m, 1g)")
            }
            spoolMax = bytes
        }
        do {
            try driver.validate(options: driverOptions)
        } catch {
            throw EngineError.invalid("\(error)")
        }
        return ResolvedLogConfig(driver: driverName, options: options, driverOptions: driverOptions, spoolMax: spoolMax)
    }
}

/// Docker's size strings: "1024", "10k", "64m", "1g" (binary units).
public enum ByteSize {
    public static func parse(_ text: String) -> UInt64? {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        let units: [(String, UInt64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40),
                                         ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let value = Double(lower.dropLast(suffix.count)), value >= 0 else { return nil }
            return UInt64(value * Double(factor))
        }
        return UInt64(lower)
    }
}

extension Engine {
    /// Checks a default log driver and options (a reload's new daemon.json).
    public func validateLogConfig(driver: String, options: [String: String]) throws -> Bool {
        let plugin: any LogDriver
        do {
            plugin = try context.plugins.single(.logging, id: driver)
        } catch {
            throw EngineError.invalid("log-driver: no log driver named '\(driver)' is registered")
        }
        var driverOptions = options
        if let text = driverOptions.removeValue(forKey: "spool-max-size"), ByteSize.parse(text) == nil {
            throw EngineError.invalid("log-opts: spool-max-size \"\(text)\" is not a size")
        }
        do {
            try plugin.validate(options: driverOptions)
        } catch {
            throw EngineError.invalid("\(error)")
        }
        return true
    }
}

/// Linux capability names, as `--cap-add`/`--cap-drop` take them.
enum Capabilities {
    static let names: Set<String> = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ]

    /// "net_admin", "CAP_NET_ADMIN" and "ALL" are all fine.
    static func isKnown(_ name: String) -> Bool {
        var upper = name.uppercased()
        if upper == "ALL" { return true }
        if upper.hasPrefix("CAP_") { upper.removeFirst(4) }
        return names.contains(upper)
    }
}
