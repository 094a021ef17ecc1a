/// What a plugin declares to be registered: its type and id, the plugin
/// types it needs to be initialised first, and an async initialiser.
///
/// The initialiser returns `nil` when the plugin is not configured on this
/// daemon: the registry then reports it as skipped, which is not a failure.
/// A thrown error is a failure, reported with the plugin's type, id and the
/// error's text.
public struct PluginRegistration: Sendable {
    public let id: PluginID
    public let requires: [PluginType]
    let initialise: @Sendable (PluginContext) async throws -> (any Sendable)?

    public init<Plugin>(
        _ kind: PluginKind<Plugin>, id: String, requires: [PluginType] = [],
        initialise: @escaping @Sendable (PluginContext) async throws -> Plugin?
    ) {
        self.id = PluginID(type: kind.type, id: id)
        self.requires = requires
        self.initialise = { context in try await initialise(context) }
    }
}

/// The outcome of initialising one plugin.
public enum PluginStatus: Sendable, Equatable, CustomStringConvertible {
    case ready
    /// The initialiser returned nil: this daemon does not configure it.
    case skipped(reason: String)
    case failed(reason: String)

    public var description: String {
        switch self {
        case .ready: "ready"
        case let .skipped(reason): "skipped: \(reason)"
        case let .failed(reason): "failed: \(reason)"
        }
    }
}

public struct PluginReport: Sendable, Equatable, CustomStringConvertible {
    public let id: PluginID
    public let status: PluginStatus

    public var description: String { "\(id): \(status)" }
}
