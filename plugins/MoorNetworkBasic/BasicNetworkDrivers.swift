import MoorPluginKit

/// The two network drivers that need no host setup: `none` (a new network
/// namespace with only loopback) and `host` (the host's namespace).
public enum BasicNetworkDrivers {
    public static var registrations: [PluginRegistration] {
        [
            PluginRegistration(.network, id: NoneNetworkDriver.id) { _ in NoneNetworkDriver() },
            PluginRegistration(.network, id: HostNetworkDriver.id) { _ in HostNetworkDriver() },
        ]
    }
}

/// `--network none`: the shim creates a new network namespace and brings
/// up loopback; nothing on the host changes, so there is nothing to
/// restore or undo.
public struct NoneNetworkDriver: NetworkDriver {
    public static let id = "none"

    public init() {}

    public func attach(_ container: NetworkContainer) async throws -> NetworkAttachment {
        NetworkAttachment(driver: Self.id, namespace: .new)
    }

    /// Nothing lives outside the container's namespace: restoring is a no-op, however often it runs.
    public func restore(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}

    /// The namespace goes with the container's last process: nothing to undo.
    public func detach(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}
}

/// `--network host`: the container shares the host's network namespace,
/// addresses and ports; moor creates nothing for it.
public struct HostNetworkDriver: NetworkDriver {
    public static let id = "host"

    public init() {}

    public func attach(_ container: NetworkContainer) async throws -> NetworkAttachment {
        NetworkAttachment(driver: Self.id, namespace: .host)
    }

    /// Nothing was created: restoring is a no-op, however often it runs.
    public func restore(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}

    /// Nothing was created: nothing to undo.
    public func detach(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}
}
