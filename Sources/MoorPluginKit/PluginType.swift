/// A versioned plugin interface, named as containerd names its plugin types:
/// `moor.<kind>.v<major>`. A plugin built against `moor.logging.v1` keeps
/// working for as long as the daemon still serves that type.
public struct PluginType: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }

    public static func < (lhs: PluginType, rhs: PluginType) -> Bool { lhs.name < rhs.name }

    /// Log drivers: where a container's output goes and how `docker logs` reads it back.
    public static let logging = PluginType("moor.logging.v1")
    /// Network drivers: the network namespace and addresses of a container.
    public static let network = PluginType("moor.network.v1")
    /// Restore policies: what happens to a container that exited, or that a
    /// starting daemon finds (Docker's restart policies).
    public static let restore = PluginType("moor.restore.v1")
}

/// A plugin type together with the Swift protocol its plugins conform to.
/// Registration and lookup go through a kind, so a plugin is always found by
/// its protocol and never by casting an untyped value at the call site.
public struct PluginKind<Plugin: Sendable>: Sendable {
    public let type: PluginType

    public init(_ type: PluginType) { self.type = type }
}

extension PluginKind where Plugin == any LogDriver {
    public static var logging: PluginKind { PluginKind(.logging) }
}

extension PluginKind where Plugin == any NetworkDriver {
    public static var network: PluginKind { PluginKind(.network) }
}

extension PluginKind where Plugin == any RestorePolicy {
    public static var restore: PluginKind { PluginKind(.restore) }
}

/// One plugin's identity: its type and its id within that type ("json-file").
public struct PluginID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let type: PluginType
    public let id: String

    public init(type: PluginType, id: String) {
        self.type = type
        self.id = id
    }

    public var description: String { "\(type.name)/\(id)" }

    public static func < (lhs: PluginID, rhs: PluginID) -> Bool {
        (lhs.type, lhs.id) < (rhs.type, rhs.id)
    }
}
