import Foundation
import Logging
import MoorPluginKit
import MoorStore
import NIOCore

/// The container engine: every container and exec the daemon manages, found
/// by id, name or unique id prefix, and the operations the Engine API maps
/// onto. Containers do their own work (ManagedContainer); the engine keeps
/// the indexes and the rules that span containers (names, creation, events).
public actor Engine {
    let context: EngineContext
    var containers: [String: ManagedContainer] = [:]
    /// name → id
    var names: [String: String] = [:]
    var execs: [String: ManagedExec] = [:]
    /// Containers whose restore found a problem, by id.
    public internal(set) var restoreReports: [RestoreOutcome] = []

    public init(configuration: EngineConfiguration, plugins: LoadedPlugins, images: any ImageSource, store: StateStore,
                events: EventBus, group: any EventLoopGroup, logger: Logger) {
        context = EngineContext(configuration: configuration, plugins: plugins, images: images, store: store,
                                events: events, group: group, logger: logger)
    }

    public var events: EventBus { context.events }
    public var configuration: EngineConfiguration { context.configuration }
    public var plugins: LoadedPlugins { context.plugins }

    /// Applies reloadable settings (SIGHUP): live restore and the default
    /// log driver and options. Returns what changed, for the daemon's log.
    public func reload(liveRestore: Bool, logDriver: String, logOptions: [String: String]) -> [String] {
        var changes: [String] = []
        context.update { config in
            if config.liveRestore != liveRestore {
                changes.append("live-restore: \(config.liveRestore) -> \(liveRestore)")
                config.liveRestore = liveRestore
            }
            if config.logDriver != logDriver {
                changes.append("log-driver: \(config.logDriver) -> \(logDriver)")
                config.logDriver = logDriver
            }
            if config.logOptions != logOptions {
                changes.append("log-opts: \(config.logOptions) -> \(logOptions)")
                config.logOptions = logOptions
            }
        }
        return changes
    }

    // MARK: lookup

    /// A container by full id, name ("/name" too), or unique id prefix.
    func container(_ reference: String) throws -> ManagedContainer {
        if let found = containers[reference] { return found }
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        if let id = names[name], let found = containers[id] { return found }
        guard !reference.isEmpty, reference.allSatisfy(\.isHexDigit) else { throw EngineError.noSuchContainer(reference) }
        let matches = containers.keys.filter { $0.hasPrefix(reference.lowercased()) }
        if matches.count > 1 {
            throw EngineError.notFound("multiple containers found with provided prefix: \(reference)")
        }
        guard let id = matches.first, let found = containers[id] else { throw EngineError.noSuchContainer(reference) }
        return found
    }

    func register(_ container: ManagedContainer, record: ContainerRecord) async {
        containers[record.id] = container
        names[record.name] = record.id
        await container.setOnRemoved { [weak self] id in
            await self?.forget(id)
        }
    }

    func forget(_ id: String) {
        containers.removeValue(forKey: id)
        names = names.filter { $0.value != id }
        execs = execs.filter { $0.value.containerID != id }
    }

    /// Whether any container (in any state) uses the image.
    public func imageInUse(_ imageID: String) async -> Bool {
        for container in containers.values where await container.snapshot().imageID == imageID {
            return true
        }
        return false
    }

    /// Image ids used by containers, for `image prune` and layer reference counting.
    public func imagesInUse() async -> Set<String> {
        var out: Set<String> = []
        for container in containers.values { out.insert(await container.snapshot().imageID) }
        return out
    }
}
