import MoorPluginKit

/// A container's lifecycle state, as Docker names it.
public enum ContainerStatus: String, Codable, Sendable, CaseIterable {
    case created, running, paused, restarting, removing, exited, dead
}

/// What `State` in inspect shows, plus what restart policies need.
public struct ContainerState: Codable, Sendable, Equatable {
    public var status: ContainerStatus = .created
    public var pid: Int32 = 0
    public var exitCode: Int32 = 0
    public var oomKilled = false
    public var error = ""
    /// ns since the epoch; 0 = never.
    public var startedAtNs: Int64 = 0
    public var finishedAtNs: Int64 = 0
    public var restartCount = 0
    /// Stopped or killed by a user: restart policies leave it alone.
    public var stoppedByUser = false
    /// The last restart-policy delay, for Docker's backoff.
    public var restartDelayNs: Int64 = 0
    /// A start was begun but not yet confirmed: a daemon that dies here
    /// settles it at the next start from what the shim says (or its absence).
    public var starting = false

    public init() {}

    public var isRunning: Bool { status == .running || status == .paused }
}

/// Everything a restarted daemon needs to reconnect to a container's shim,
/// written before the shim is started.
public struct ShimInfo: Codable, Sendable, Equatable {
    /// `DATA_ROOT/containers/ID/shim`: spool, exit record, exec state.
    public var stateDirectory: String
    /// `EXEC_ROOT/s/KEY/shim.sock`
    public var socketPath: String
    public var shimPid: Int32 = 0
    public var protocolMajor: UInt16 = 0
    public var protocolMinor: UInt16 = 0
    public var build: String = ""
}

/// The daemon-level settings a container was created under. Live restore
/// compares them with the running daemon's: a container created under
/// others stays managed under its own, and inspect/info flag the drift.
public struct CreationSettings: Codable, Sendable, Equatable {
    public var storageDriver: String
    public var dataRoot: String
    public var bridge: String?
    public var bip: String?
    public var daemonVersion: String
    /// The daemon's `seccomp-profile` (see EngineConfiguration).
    public var seccompProfile: String?

    public init(storageDriver: String, dataRoot: String, bridge: String? = nil, bip: String? = nil, daemonVersion: String,
                seccompProfile: String? = nil) {
        self.storageDriver = storageDriver
        self.dataRoot = dataRoot
        self.bridge = bridge
        self.bip = bip
        self.daemonVersion = daemonVersion
        self.seccompProfile = seccompProfile
    }
}

/// The container's root filesystem: image layers plus its own upper layer.
public struct RootfsInfo: Codable, Sendable, Equatable {
    public var driver: String
    /// Top-most first, as overlayfs wants them.
    public var lowerDirs: [String]
    public var upperDir: String
    public var workDir: String
    /// Where the shim mounts the root (bundle/rootfs); vfs: the copy itself.
    public var mountPoint: String

    /// The directories to read the container's files from before it is
    /// mounted, top-most first (its own layer, then the image's).
    public var readableLayers: [String] { lowerDirs.isEmpty ? [mountPoint] : [upperDir] + lowerDirs }

    /// What only this container writes (its upper layer, or its vfs copy).
    public var ownDirectory: String { lowerDirs.isEmpty ? mountPoint : upperDir }
}

/// One container as the store keeps it (a JSON document). Versioned so a
/// later daemon can read what an earlier one wrote.
public struct ContainerRecord: Codable, Sendable, Equatable {
    public static let currentSchema = 1

    public var schema = ContainerRecord.currentSchema
    public var id: String
    public var name: String
    public var createdNs: Int64
    /// The image as the user named it ("busybox").
    public var imageReference: String
    /// "sha256:…"
    public var imageID: String
    /// The create request's Config, completed with the image's defaults.
    public var config: ContainerConfig
    public var hostConfig: HostConfig
    /// What runs: entrypoint and command resolved.
    public var path: String
    public var args: [String]
    public var state = ContainerState()
    public var shim: ShimInfo?
    public var settings: CreationSettings
    public var logDriver: String
    public var logOptions: [String: String]
    public var spoolMaxBytes: UInt64
    public var network: NetworkAttachment?
    public var rootfs: RootfsInfo
    /// `DATA_ROOT/containers/ID`
    public var directory: String

    public var tty: Bool { config.tty ?? false }
    public var restartPolicy: RestartPolicy { hostConfig.restartPolicy ?? RestartPolicy() }
    public var shortID: String { String(id.prefix(12)) }
}
