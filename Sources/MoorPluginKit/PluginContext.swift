import Logging

/// What a plugin's initialiser receives: its own configuration (the
/// daemon.json section for it, if any), a directory it owns under the
/// daemon's data-root, a logger, and the plugins it required, already up.
public struct PluginContext: Sendable {
    public let id: PluginID
    /// The plugin's configuration, `nil` when the daemon has none for it.
    public let configuration: ConfigValue?
    /// The whole daemon configuration, for plugins that read shared keys
    /// (a log driver reads `log-opts`, a bridge driver `bip`).
    public let daemonConfiguration: [String: ConfigValue]
    /// `DATA_ROOT/plugins/TYPE/ID`: the plugin's own persistent state.
    public let stateDirectory: String
    /// `EXEC_ROOT/plugins/TYPE/ID`: runtime state, gone after a reboot.
    public let runtimeDirectory: String
    public let logger: Logger
    let instances: PluginInstances

    init(id: PluginID, configuration: ConfigValue?, daemonConfiguration: [String: ConfigValue],
         stateDirectory: String, runtimeDirectory: String, logger: Logger, instances: PluginInstances) {
        self.id = id
        self.configuration = configuration
        self.daemonConfiguration = daemonConfiguration
        self.stateDirectory = stateDirectory
        self.runtimeDirectory = runtimeDirectory
        self.logger = logger
        self.instances = instances
    }

    /// Every ready plugin of a kind this plugin required, by id.
    public func all<Plugin>(_ kind: PluginKind<Plugin>) -> [String: Plugin] {
        instances.all(kind)
    }

    /// One ready plugin of a required kind.
    public func plugin<Plugin>(_ kind: PluginKind<Plugin>, id: String) -> Plugin? {
        instances.all(kind)[id]
    }
}

/// The ready plugins, by type and id. Values are stored under the kind that
/// registered them, so the typed lookups always find the declared protocol.
struct PluginInstances: Sendable {
    private var byType: [PluginType: [String: any Sendable]] = [:]

    mutating func insert(_ value: any Sendable, for id: PluginID) {
        byType[id.type, default: [:]][id.id] = value
    }

    func all<Plugin>(_ kind: PluginKind<Plugin>) -> [String: Plugin] {
        var out: [String: Plugin] = [:]
        for (id, value) in byType[kind.type] ?? [:] {
            if let plugin = value as? Plugin { out[id] = plugin }
        }
        return out
    }
}
