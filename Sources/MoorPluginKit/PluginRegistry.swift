import Logging

/// Collects plugin registrations, then initialises them in the order their
/// requirements give. Built-in plugins are registered from one explicit
/// list through `register`, exactly as a third-party plugin package is.
///
/// Registration refuses an empty id and a duplicate (type, id). `load`
/// refuses requirement cycles, initialises each plugin once everything of
/// the types it requires is done, and reports every plugin as ready,
/// skipped (not configured) or failed — one failed plugin never stops the
/// others, except those that required its type and found nothing ready.
public struct PluginRegistry: Sendable {
    private var registrations: [PluginRegistration] = []

    public init() {}

    public var ids: [PluginID] { registrations.map(\.id) }

    public mutating func register(_ registration: PluginRegistration) throws {
        guard !registration.id.id.isEmpty else { throw PluginError.emptyID(registration.id.type) }
        guard !registrations.contains(where: { $0.id == registration.id }) else {
            throw PluginError.duplicate(registration.id)
        }
        registrations.append(registration)
    }

    public mutating func register(_ list: [PluginRegistration]) throws {
        for registration in list { try register(registration) }
    }

    /// The registrations in an order where every plugin comes after all
    /// plugins of the types it requires; throws `cycle` naming the loop.
    public func initialisationOrder() throws -> [PluginID] {
        try ordered().map(\.id)
    }

    /// Initialises every plugin; the returned set serves typed lookups.
    public func load(configuration: PluginLoadConfiguration) async throws -> LoadedPlugins {
        var instances = PluginInstances()
        var reports: [PluginReport] = []
        for registration in try ordered() {
            let status = await initialise(registration, configuration, &instances, reports)
            if case let .failed(reason) = status {
                configuration.logger.error("plugin failed", metadata: ["plugin": "\(registration.id)", "reason": "\(reason)"])
            } else {
                configuration.logger.debug("plugin \(status)", metadata: ["plugin": "\(registration.id)"])
            }
            reports.append(PluginReport(id: registration.id, status: status))
        }
        return LoadedPlugins(instances: instances, reports: reports)
    }

    private func initialise(_ registration: PluginRegistration, _ configuration: PluginLoadConfiguration,
                            _ instances: inout PluginInstances, _ reports: [PluginReport]) async -> PluginStatus {
        for type in registration.requires {
            let ready = reports.contains { $0.id.type == type && $0.status == .ready }
            if !ready {
                return .failed(reason: PluginError.missingRequirement(registration.id, requires: type).description)
            }
        }
        let context = PluginContext(
            id: registration.id,
            configuration: configuration.pluginConfiguration[registration.id],
            daemonConfiguration: configuration.daemonConfiguration,
            stateDirectory: "\(configuration.stateRoot)/\(registration.id.type.name)/\(registration.id.id)",
            runtimeDirectory: "\(configuration.runtimeRoot)/\(registration.id.type.name)/\(registration.id.id)",
            logger: configuration.logger,
            instances: instances)
        do {
            guard let plugin = try await registration.initialise(context) else {
                return .skipped(reason: "not configured")
            }
            instances.insert(plugin, for: registration.id)
            return .ready
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    /// Depth-first topological sort over "requires a type" edges, in
    /// registration order where requirements allow.
    private func ordered() throws -> [PluginRegistration] {
        enum Mark { case visiting, done }
        var marks: [PluginID: Mark] = [:]
        var out: [PluginRegistration] = []
        func visit(_ r: PluginRegistration, _ path: [PluginID]) throws {
            switch marks[r.id] {
            case .done: return
            case .visiting:
                let start = path.firstIndex(of: r.id) ?? 0
                throw PluginError.cycle(Array(path[start...]) + [r.id])
            case nil: break
            }
            marks[r.id] = .visiting
            for type in r.requires {
                for dependency in registrations where dependency.id.type == type && dependency.id != r.id {
                    try visit(dependency, path + [r.id])
                }
                if registrations.contains(where: { $0.id.type == type && $0.id == r.id }) {
                    throw PluginError.cycle([r.id, r.id])
                }
            }
            marks[r.id] = .done
            out.append(r)
        }
        for r in registrations { try visit(r, []) }
        return out
    }
}

/// What `load` hands to each initialiser.
public struct PluginLoadConfiguration: Sendable {
    /// Per-plugin configuration; a plugin absent here gets `nil`.
    public var pluginConfiguration: [PluginID: ConfigValue]
    public var daemonConfiguration: [String: ConfigValue]
    /// `DATA_ROOT/plugins`
    public var stateRoot: String
    /// `EXEC_ROOT/plugins`
    public var runtimeRoot: String
    public var logger: Logger

    public init(pluginConfiguration: [PluginID: ConfigValue] = [:], daemonConfiguration: [String: ConfigValue] = [:],
                stateRoot: String, runtimeRoot: String, logger: Logger) {
        self.pluginConfiguration = pluginConfiguration
        self.daemonConfiguration = daemonConfiguration
        self.stateRoot = stateRoot
        self.runtimeRoot = runtimeRoot
        self.logger = logger
    }
}

/// The initialised plugins, immutable: lookups need no locking.
public struct LoadedPlugins: Sendable {
    private let instances: PluginInstances
    /// One line per registered plugin, in initialisation order.
    public let reports: [PluginReport]

    init(instances: PluginInstances, reports: [PluginReport]) {
        self.instances = instances
        self.reports = reports
    }

    public func all<Plugin>(_ kind: PluginKind<Plugin>) -> [String: Plugin] {
        instances.all(kind)
    }

    /// The ready plugin `id` of `kind`, or `notFound` (which names both).
    public func single<Plugin>(_ kind: PluginKind<Plugin>, id: String) throws -> Plugin {
        guard let plugin = instances.all(kind)[id] else { throw PluginError.notFound(kind.type, id: id) }
        return plugin
    }

    public func status(of id: PluginID) -> PluginStatus? {
        reports.first { $0.id == id }?.status
    }
}
