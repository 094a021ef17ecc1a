/// Errors of the plugin kit: registration, ordering and initialisation.
/// Each names the plugin (type and id) and what is wrong.
public enum PluginError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyID(PluginType)
    case duplicate(PluginID)
    case cycle([PluginID])
    case missingRequirement(PluginID, requires: PluginType)
    case failed(PluginID, reason: String)
    case notFound(PluginType, id: String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .emptyID(type):
            "plugin of type \(type) has an empty id"
        case let .duplicate(id):
            "plugin \(id) is registered twice"
        case let .cycle(ids):
            "plugins require each other in a cycle: " + ids.map(\.description).joined(separator: " -> ")
        case let .missingRequirement(id, type):
            "plugin \(id) requires a \(type) plugin, but none is ready"
        case let .failed(id, reason):
            "plugin \(id) failed: \(reason)"
        case let .notFound(type, id):
            "no \(type) plugin named \"\(id)\""
        case let .invalidConfiguration(message):
            "invalid plugin configuration: \(message)"
        }
    }
}
