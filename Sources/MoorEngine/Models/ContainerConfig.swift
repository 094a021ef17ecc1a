/// Docker's container `Config` (the create request's top level, and
/// `Config` in inspect). Unknown keys are ignored when decoding, as dockerd
/// does; every field moor acts on is here, and the rest that clients read
/// back from inspect.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var hostname: String?
    public var domainname: String?
    public var user: String?
    public var attachStdin: Bool?
    public var attachStdout: Bool?
    public var attachStderr: Bool?
    public var exposedPorts: [String: EmptyObject]?
    public var tty: Bool?
    public var openStdin: Bool?
    public var stdinOnce: Bool?
    public var env: [String]?
    public var cmd: StringList?
    public var image: String?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var entrypoint: StringList?
    public var networkDisabled: Bool?
    public var onBuild: [String]?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var stopTimeout: Int?
    public var argsEscaped: Bool?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case hostname = "Hostname", domainname = "Domainname", user = "User"
        case attachStdin = "AttachStdin", attachStdout = "AttachStdout", attachStderr = "AttachStderr"
        case exposedPorts = "ExposedPorts", tty = "Tty", openStdin = "OpenStdin", stdinOnce = "StdinOnce"
        case env = "Env", cmd = "Cmd", image = "Image", volumes = "Volumes", workingDir = "WorkingDir"
        case entrypoint = "Entrypoint", networkDisabled = "NetworkDisabled", onBuild = "OnBuild"
        case labels = "Labels", stopSignal = "StopSignal", stopTimeout = "StopTimeout", argsEscaped = "ArgsEscaped"
    }
}

public struct RestartPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var maximumRetryCount: Int

    public init(name: String = "no", maximumRetryCount: Int = 0) {
        self.name = name
        self.maximumRetryCount = maximumRetryCount
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        name = raw.isEmpty ? "no" : raw
        maximumRetryCount = try c.decodeIfPresent(Int.self, forKey: .maximumRetryCount) ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", maximumRetryCount = "MaximumRetryCount"
    }
}

public struct LogConfig: Codable, Sendable, Equatable {
    public var type: String
    public var config: [String: String]

    public init(type: String = "", config: [String: String] = [:]) {
        self.type = type
        self.config = config
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", config = "Config"
    }
}

public struct PortBinding: Codable, Sendable, Equatable {
    public var hostIP: String?
    public var hostPort: String?

    enum CodingKeys: String, CodingKey {
        case hostIP = "HostIp", hostPort = "HostPort"
    }
}

public struct Ulimit: Codable, Sendable, Equatable {
    public var name: String
    public var soft: Int64
    public var hard: Int64

    enum CodingKeys: String, CodingKey {
        case name = "Name", soft = "Soft", hard = "Hard"
    }
}

/// Docker's `HostConfig`: how the container runs on this host.
public struct HostConfig: Codable, Sendable, Equatable {
    public var binds: [String]?
    public var logConfig: LogConfig?
    public var networkMode: String?
    public var portBindings: [String: [PortBinding]?]?
    public var restartPolicy: RestartPolicy?
    public var autoRemove: Bool?
    public var capAdd: [String]?
    public var capDrop: [String]?
    public var dns: [String]?
    public var dnsOptions: [String]?
    public var dnsSearch: [String]?
    public var extraHosts: [String]?
    public var groupAdd: [String]?
    public var ipcMode: String?
    public var pidMode: String?
    public var utsMode: String?
    public var oomScoreAdj: Int?
    public var privileged: Bool?
    public var publishAllPorts: Bool?
    public var readonlyRootfs: Bool?
    public var securityOpt: [String]?
    public var tmpfs: [String: String]?
    public var shmSize: Int64?
    public var sysctls: [String: String]?
    public var cpuShares: Int64?
    public var memory: Int64?
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    public var nanoCpus: Int64?
    public var cpuPeriod: Int64?
    public var cpuQuota: Int64?
    public var cpusetCpus: String?
    public var cpusetMems: String?
    public var pidsLimit: Int64?
    public var ulimits: [Ulimit]?
    public var oomKillDisable: Bool?
    public var `init`: Bool?
    public var consoleSize: [Int]?
    public var cgroupParent: String?
    public var volumesFrom: [String]?
    public var links: [String]?
    public var devices: [EmptyObject]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case binds = "Binds", logConfig = "LogConfig", networkMode = "NetworkMode", portBindings = "PortBindings"
        case restartPolicy = "RestartPolicy", autoRemove = "AutoRemove", capAdd = "CapAdd", capDrop = "CapDrop"
        case dns = "Dns", dnsOptions = "DnsOptions", dnsSearch = "DnsSearch", extraHosts = "ExtraHosts"
        case groupAdd = "GroupAdd", ipcMode = "IpcMode", pidMode = "PidMode", utsMode = "UTSMode"
        case oomScoreAdj = "OomScoreAdj", privileged = "Privileged", publishAllPorts = "PublishAllPorts"
        case readonlyRootfs = "ReadonlyRootfs", securityOpt = "SecurityOpt", tmpfs = "Tmpfs", shmSize = "ShmSize"
        case sysctls = "Sysctls", cpuShares = "CpuShares", memory = "Memory", memorySwap = "MemorySwap"
        case memoryReservation = "MemoryReservation", nanoCpus = "NanoCpus", cpuPeriod = "CpuPeriod"
        case cpuQuota = "CpuQuota", cpusetCpus = "CpusetCpus", cpusetMems = "CpusetMems", pidsLimit = "PidsLimit"
        case ulimits = "Ulimits", oomKillDisable = "OomKillDisable", `init` = "Init", consoleSize = "ConsoleSize"
        case cgroupParent = "CgroupParent", volumesFrom = "VolumesFrom", links = "Links", devices = "Devices"
    }
}

/// The body of `POST /containers/create`: Config fields at the top level,
/// plus HostConfig (and NetworkingConfig, which moor reads nothing from yet).
public struct ContainerCreateRequest: Decodable, Sendable {
    public var config: ContainerConfig
    public var hostConfig: HostConfig

    public init(config: ContainerConfig, hostConfig: HostConfig) {
        self.config = config
        self.hostConfig = hostConfig
    }

    public init(from decoder: any Decoder) throws {
        config = try ContainerConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hostConfig = try c.decodeIfPresent(HostConfig.self, forKey: .hostConfig) ?? HostConfig()
    }

    enum CodingKeys: String, CodingKey {
        case hostConfig = "HostConfig"
    }
}
