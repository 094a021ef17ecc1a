/// Builds the body of `POST /containers/create` from `run`'s flags, with
/// Docker's field names and encodings (Config at the top level, HostConfig,
/// NetworkingConfig), so moord sees what the docker CLI would send.
struct CreateBody {
    /// What the body depends on besides the flags: the local environment
    /// (for `-e KEY`), files (for a seccomp profile) and the terminal size.
    struct Context {
        var lookupEnv: (String) -> String? = { _ in nil }
        var readFile: (String) -> [UInt8]? = { _ in nil }
        /// The local terminal's size, sent as ConsoleSize with `-t`.
        var consoleSize: Terminal.Size?
    }

    static func make(_ flags: ContainerFlags, image: String, command: [String], context: Context = Context()) throws(CLIError) -> JSON {
        if flags.autoRemove, let restart = flags.restart, try FlagParsers.restartPolicy(restart).name != "no" {
            throw CLIError.usage("conflicting options: cannot specify both --restart and --rm")
        }
        var volumes: [String] = []
        var binds: [String] = []
        for spec in flags.volume {
            switch try FlagParsers.volume(spec) {
            case let .bind(bind): binds.append(bind)
            case let .anonymous(path): volumes.append(path)
            }
        }
        let config = try containerConfig(flags, image: image, command: command, volumes: volumes, context: context)
        let host = try hostConfig(flags, binds: binds, context: context)
        return .object(config + [
            ("HostConfig", .object(host)),
            ("NetworkingConfig", .object([("EndpointsConfig", .object([JSON.Member]()))])),
        ])
    }

    private static func containerConfig(
        _ flags: ContainerFlags, image: String, command: [String], volumes: [String], context: Context
    ) throws(CLIError) -> [(String, JSON)] {
        let attached = !flags.detach
        let attachStdin = attached && flags.interactive
        var entrypoint = JSON.null
        if let value = flags.entrypoint { entrypoint = .strings([value]) }
        var fields: [(String, JSON)] = [
            ("Hostname", .string(flags.hostname ?? "")), ("Domainname", ""), ("User", .string(flags.user ?? "")),
            ("AttachStdin", .bool(attachStdin)), ("AttachStdout", .bool(attached)), ("AttachStderr", .bool(attached)),
            ("Tty", .bool(flags.tty)), ("OpenStdin", .bool(flags.interactive)), ("StdinOnce", .bool(attachStdin)),
            ("Env", .strings(try FlagParsers.environment(flags.env, lookup: context.lookupEnv))),
            ("Cmd", command.isEmpty ? .null : .strings(command)), ("Image", .string(image)),
            ("Volumes", volumes.isEmpty ? .null : .object(volumes.map { JSON.Member(key: $0, value: .object([JSON.Member]())) })),
            ("WorkingDir", .string(flags.workdir ?? "")), ("Entrypoint", entrypoint), ("OnBuild", .null),
            ("Labels", .map(try FlagParsers.keyValues(flags.label, flag: "-l, --label", valueRequired: false))),
        ]
        if let signal = flags.stopSignal { fields.append(("StopSignal", .string(signal))) }
        if let timeout = flags.stopTimeout { fields.append(("StopTimeout", .int(timeout))) }
        return fields
    }

    private static func hostConfig(_ flags: ContainerFlags, binds: [String], context: Context) throws(CLIError) -> [(String, JSON)] {
        let restart = try FlagParsers.restartPolicy(flags.restart ?? "no")
        let logOptions = try FlagParsers.keyValues(flags.logOpt, flag: "--log-opt", valueRequired: true)
        var tmpfs: [String: String] = [:]
        for spec in flags.tmpfs {
            let (path, options) = try FlagParsers.tmpfs(spec)
            tmpfs[path] = options
        }
        let console: JSON = flags.tty ? .array([
            .int(context.consoleSize?.rows ?? 0), .int(context.consoleSize?.columns ?? 0),
        ]) : .array([.int(0), .int(0)])
        return [
            ("Binds", binds.isEmpty ? .null : .strings(binds)),
            ("LogConfig", .object([("Type", .string(flags.logDriver ?? "")), ("Config", .map(logOptions))])),
            ("NetworkMode", .string(flags.network ?? "default")),
            ("PortBindings", .object([JSON.Member]())),
            ("RestartPolicy", .object([("Name", .string(restart.name)), ("MaximumRetryCount", .int(restart.maximumRetryCount))])),
            ("AutoRemove", .bool(flags.autoRemove)),
            ("ConsoleSize", console),
            ("CapAdd", optionalList(flags.capAdd)), ("CapDrop", optionalList(flags.capDrop)),
            ("Privileged", .bool(flags.privileged)), ("ReadonlyRootfs", .bool(flags.readOnly)),
            ("SecurityOpt", optionalList(try FlagParsers.securityOptions(flags.securityOpt, readFile: context.readFile))),
            ("Tmpfs", tmpfs.isEmpty ? .null : .map(tmpfs)),
        ] + (try resources(flags))
    }

    /// The cgroup limits; 0 (or null for PidsLimit) means "not set".
    private static func resources(_ flags: ContainerFlags) throws(CLIError) -> [(String, JSON)] {
        let memory = try flags.memory.map { v throws(CLIError) in try FlagParsers.memory(v, flag: "-m, --memory") }
        let swap = try flags.memorySwap.map { v throws(CLIError) in try FlagParsers.memorySwap(v) }
        let nanoCPUs = try flags.cpus.map { v throws(CLIError) in try FlagParsers.nanoCPUs(v) }
        return [
            ("CpuShares", .int(flags.cpuShares ?? 0)), ("Memory", .int(memory ?? 0)), ("NanoCpus", .int(nanoCPUs ?? 0)),
            ("CpusetCpus", .string(flags.cpusetCpus ?? "")), ("MemorySwap", .int(swap ?? 0)),
            ("PidsLimit", flags.pidsLimit.map { .int($0) } ?? .null),
        ]
    }

    private static func optionalList(_ values: [String]) -> JSON {
        values.isEmpty ? .null : .strings(values)
    }
}
