import Logging
import MoorPluginKit
import MoorStore
import NIOConcurrencyHelpers
import NIOCore

/// An image as a container needs it: its id, defaults and layers.
public struct EngineImage: Sendable, Equatable {
    public var id: String
    public var reference: String
    public var defaults: ImageDefaults
    /// Top-most first, as overlayfs's lowerdir wants them.
    public var layerDirectories: [String]

    public init(id: String, reference: String, defaults: ImageDefaults, layerDirectories: [String]) {
        self.id = id
        self.reference = reference
        self.defaults = defaults
        self.layerDirectories = layerDirectories
    }
}

/// The parts of an image's config a container inherits.
public struct ImageDefaults: Sendable, Equatable {
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var env: [String]?
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var exposedPorts: [String: EmptyObject]?
    public var volumes: [String: EmptyObject]?

    public init(cmd: [String]? = nil, entrypoint: [String]? = nil, env: [String]? = nil, workingDir: String? = nil,
                user: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil,
                exposedPorts: [String: EmptyObject]? = nil, volumes: [String: EmptyObject]? = nil) {
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
        self.stopSignal = stopSignal
        self.exposedPorts = exposedPorts
        self.volumes = volumes
    }
}

/// Where the engine gets images from (the image store, in the daemon).
public protocol ImageSource: Sendable {
    /// The image `reference` names; throws `EngineError` 404 "No such image: REF".
    func resolve(_ reference: String) async throws -> EngineImage
    /// The image's merged tree, whiteouts applied, copied into `directory`
    /// (the vfs storage driver: hosts without overlayfs).
    func materialize(_ imageID: String, into directory: String) async throws
}

/// What every container shares: settings, plugins, images, the store,
/// events, and the event loops its shim connections run on.
final class EngineContext: Sendable {
    private let settings: NIOLockedValueBox<EngineConfiguration>
    let plugins: LoadedPlugins
    let images: any ImageSource
    let store: StateStore
    let events: EventBus
    let group: any EventLoopGroup
    let logger: Logger
    let specs: BaseSpecCache

    init(configuration: EngineConfiguration, plugins: LoadedPlugins, images: any ImageSource, store: StateStore,
         events: EventBus, group: any EventLoopGroup, logger: Logger) {
        settings = NIOLockedValueBox(configuration)
        self.plugins = plugins
        self.images = images
        self.store = store
        self.events = events
        self.group = group
        self.logger = logger
        specs = BaseSpecCache(shimBinary: configuration.shimBinary)
    }

    var configuration: EngineConfiguration { settings.withLockedValue { $0 } }

    func update(_ change: (inout EngineConfiguration) -> Void) {
        settings.withLockedValue { change(&$0) }
    }

    func publish(_ action: String, container record: ContainerRecord, extra: [String: String] = [:]) async {
        var attributes = record.config.labels ?? [:]
        attributes["name"] = record.name
        attributes["image"] = record.imageReference
        for (k, v) in extra { attributes[k] = v }
        await events.publish(EngineEvent(type: "container", action: action, actorID: record.id, attributes: attributes))
    }
}
