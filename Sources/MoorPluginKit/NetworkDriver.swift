/// `moor.network.v1`: the network namespace and addresses of a container.
///
/// `attach` runs before the container starts and returns what the shim
/// needs (a new namespace, the host's, or a namespace to join by path) and
/// what the daemon records with the container; `restore` re-applies a
/// recorded attachment after a daemon restart and must be idempotent (no
/// duplicated rules); `detach` undoes it when the container stops for good.
public protocol NetworkDriver: Sendable {
    func attach(_ container: NetworkContainer) async throws -> NetworkAttachment
    func restore(_ container: NetworkContainer, attachment: NetworkAttachment) async throws
    func detach(_ container: NetworkContainer, attachment: NetworkAttachment) async throws
}

public struct NetworkContainer: Sendable, Equatable {
    public let id: String
    public let name: String
    public let hostname: String
    /// `EXEC_ROOT/containers/ID`: for namespace handles and similar runtime state.
    public let runtimeDirectory: String

    public init(id: String, name: String, hostname: String, runtimeDirectory: String) {
        self.id = id
        self.name = name
        self.hostname = hostname
        self.runtimeDirectory = runtimeDirectory
    }
}

public enum NetworkNamespace: Sendable, Codable, Equatable {
    /// Share the host's network namespace (`--network host`).
    case host
    /// A new, empty namespace with only loopback, brought up by the shim.
    case new
    /// Join the namespace at this nsfs path, prepared by the driver.
    case path(String)
}

/// What a network driver recorded for a container; stored with it so a
/// restarted daemon can restore or detach it under the same settings.
public struct NetworkAttachment: Sendable, Codable, Equatable {
    public var driver: String
    public var namespace: NetworkNamespace
    public var ipAddress: String?
    public var prefixLength: Int?
    public var gateway: String?
    public var macAddress: String?
    /// Driver-private state (veth names, lease ids, ...).
    public var state: [String: String]

    public init(driver: String, namespace: NetworkNamespace, ipAddress: String? = nil, prefixLength: Int? = nil,
                gateway: String? = nil, macAddress: String? = nil, state: [String: String] = [:]) {
        self.driver = driver
        self.namespace = namespace
        self.ipAddress = ipAddress
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.macAddress = macAddress
        self.state = state
    }
}
