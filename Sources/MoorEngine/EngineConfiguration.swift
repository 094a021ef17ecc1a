/// The daemon settings the engine runs with. `liveRestore`, `logDriver` and
/// `logOptions` can change at runtime (SIGHUP); the rest is fixed for the
/// life of the process.
public struct EngineConfiguration: Sendable, Equatable {
    public var dataRoot: String
    public var execRoot: String
    /// The static moor-shim binary.
    public var shimBinary: String
    public var liveRestore: Bool
    public var logDriver: String
    public var logOptions: [String: String]
    public var storageDriver: String
    /// The spool bound when neither the container nor `log-opts` sets
    /// `spool-max-size`.
    public var defaultSpoolMaxBytes: UInt64
    public var daemonVersion: String
    /// How long restoring one container may take before it is reported.
    public var restoreTimeoutSeconds: Double
    /// The seccomp profile of containers that do not choose one: nil for
    /// Docker's default, "unconfined", or a profile's JSON. Recorded with
    /// each container at create (it keeps it across daemon restarts).
    public var seccompProfile: String?
    /// How `docker info` names it (`seccomp-profile` as given); nil with
    /// Docker's default.
    public var seccompProfileName: String?

    public init(dataRoot: String, execRoot: String, shimBinary: String, liveRestore: Bool = false,
                logDriver: String = "json-file", logOptions: [String: String] = [:], storageDriver: String = "overlay2",
                defaultSpoolMaxBytes: UInt64 = 1 << 30, daemonVersion: String, restoreTimeoutSeconds: Double = 10,
                seccompProfile: String? = nil, seccompProfileName: String? = nil) {
        self.dataRoot = dataRoot
        self.execRoot = execRoot
        self.shimBinary = shimBinary
        self.liveRestore = liveRestore
        self.logDriver = logDriver
        self.logOptions = logOptions
        self.storageDriver = storageDriver
        self.defaultSpoolMaxBytes = defaultSpoolMaxBytes
        self.daemonVersion = daemonVersion
        self.restoreTimeoutSeconds = restoreTimeoutSeconds
        self.seccompProfile = seccompProfile
        self.seccompProfileName = seccompProfileName
    }

    /// Throws, naming the problem, when `text` ("unconfined", "builtin" or
    /// a profile's JSON) cannot be used as a seccomp profile.
    public static func checkSeccompProfile(_ text: String) throws {
        _ = try SecurityOptions(["seccomp=" + text])
    }

    var containersDirectory: String { dataRoot + "/containers" }
    var socketsDirectory: String { execRoot + "/s" }

    func containerDirectory(_ id: String) -> String { containersDirectory + "/" + id }

    /// Unix socket paths are limited to 107 bytes: the shim's socket lives
    /// under a short key of the id (128 bits of it, still unique).
    func shimSocket(_ id: String) -> String { socketsDirectory + "/" + id.prefix(32) + "/shim.sock" }
}
