import Foundation
import Logging
import MoorEngine
import MoorImages

/// Images for the API and the engine: the image store, plus what only the
/// daemon knows (which containers use an image, events).
public actor ImageService: ImageSource {
    let store: ImageStore
    let events: EventBus
    let logger: Logger
    private var engine: Engine?

    public init(store: ImageStore, events: EventBus, logger: Logger) {
        self.store = store
        self.events = events
        self.logger = logger
    }

    /// The engine, once it exists (it needs this service to resolve images).
    public func attach(_ engine: Engine) { self.engine = engine }

    // MARK: ImageSource

    public func resolve(_ reference: String) async throws -> EngineImage {
        let record: ImageRecord
        do {
            record = try await store.image(reference)
        } catch let error as ImagesError where error.status == 404 {
            throw EngineError.notFound("No such image: \(reference)")
        }
        let c = record.config.config
        let defaults = ImageDefaults(
            cmd: c?.cmd, entrypoint: c?.entrypoint, env: c?.env, workingDir: c?.workingDir, user: c?.user,
            labels: c?.labels, stopSignal: c?.stopSignal,
            exposedPorts: c?.exposedPorts.map { Dictionary(uniqueKeysWithValues: $0.keys.map { ($0, MoorEngine.EmptyObject()) }) },
            volumes: c?.volumes.map { Dictionary(uniqueKeysWithValues: $0.keys.map { ($0, MoorEngine.EmptyObject()) }) })
        let layers = try await store.layerPaths(record.id)
        return EngineImage(id: record.id, reference: reference, defaults: defaults, layerDirectories: layers)
    }

    // MARK: API

    public func count() async throws -> Int { await store.images().count }

    public func list() async -> [ImageRecord] { await store.images() }

    public func inspect(_ reference: String) async throws -> ImageRecord {
        try await store.image(reference)
    }

    /// `docker import`: the tarball streamed from the request body.
    public func importTarball<Body: AsyncSequence & Sendable>(_ body: Body, reference: String?, changes: [String],
                                                             message: String?, platform: String?) async throws -> String
        where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let id = try await store.importTarball(body, reference: reference, changes: changes, message: message, platform: platform)
        await events.publish(EngineEvent(type: "image", action: "import", actorID: id, attributes: ["name": reference ?? id]))
        if let reference {
            await events.publish(EngineEvent(type: "image", action: "tag", actorID: id, attributes: ["name": reference]))
        }
        return id
    }

    public func tag(_ source: String, as target: String) async throws {
        try await store.tag(source, as: target)
        let id = try await store.resolve(target)
        await events.publish(EngineEvent(type: "image", action: "tag", actorID: id, attributes: ["name": target]))
    }

    /// `docker rmi`: Docker's rules, with the engine saying which
    /// containers use the image and which layers containers hold.
    public func remove(_ reference: String, force: Bool) async throws -> [ImageDeleteItem] {
        let engine = self.engine
        let items = try await store.remove(reference, force: force, users: { id in
            guard let engine else { return [] }
            return await engine.imageUsers(id).map { ImageUser(containerID: $0.id, running: $0.running) }
        }, layerInUse: { diffID in
            guard let engine else { return false }
            return await engine.layerInUse(diffID)
        })
        await publish(items)
        return items
    }

    public func rawConfig(_ reference: String) async throws -> [UInt8] {
        try await store.rawConfig(reference)
    }

    /// `docker load`: the archive streamed from the request body; a "load"
    /// event per image stored, as dockerd sends.
    public nonisolated func load<Body: AsyncSequence & Sendable>(
        _ body: Body, progress: (@Sendable (LoadProgress) async -> Void)?
    ) async throws -> [LoadedImage] where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let loaded = try await store.load(body, progress: progress)
        for image in loaded {
            await events.publish(EngineEvent(type: "image", action: "load", actorID: image.id,
                                             attributes: ["name": image.tags.first ?? image.id]))
        }
        return loaded
    }

    /// `docker save`: see `ImageStore.save`; a "save" event per image.
    public nonisolated func save(
        _ names: [String],
        begin: @escaping @Sendable ([String]) async throws -> @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        let events = self.events
        try await store.save(names) { ids in
            let emit = try await begin(ids)
            for id in ids {
                await events.publish(EngineEvent(type: "image", action: "save", actorID: id, attributes: ["name": id]))
            }
            return emit
        }
        // Layers pinned during the save whose images went meanwhile.
        await removeUnusedLayers()
    }

    /// `docker image prune`: images no container uses, per the filters.
    public func prune(_ filters: ImagePruneFilters) async throws -> (items: [ImageDeleteItem], reclaimed: Int64) {
        let engine = self.engine
        let result = try await store.prune(filters, users: { id in
            guard let engine else { return [] }
            return await engine.imageUsers(id).map { ImageUser(containerID: $0.id, running: $0.running) }
        }, layerInUse: { diffID in
            guard let engine else { return false }
            return await engine.layerInUse(diffID)
        })
        await publish(result.items)
        // Layers kept for containers since removed, or pinned by a save.
        await removeUnusedLayers()
        return result
    }

    /// The vfs storage driver's copy of an image: its layers merged into
    /// `directory` (see `ImageStore.materialize`).
    public nonisolated func materialize(_ imageID: String, into directory: String) async throws {
        do {
            try await store.materialize(imageID, into: directory)
        } catch let error as ImagesError where error.status == 404 {
            throw EngineError.notFound("No such image: \(imageID)")
        }
        await removeUnusedLayers()
    }

    /// Removes layers no image holds and no container uses: those a save or
    /// a vfs copy kept pinned while their image was removed, a container's
    /// once it is gone after its image was force-removed, or a load's whose
    /// daemon was killed between moving them in and writing the image.
    /// Called at daemon start (once the containers are loaded) and after
    /// each removal, prune, save and vfs copy.
    public func removeUnusedLayers() async {
        let engine = self.engine
        do {
            let removed = try await store.pruneLayers(layerInUse: { diffID in
                guard let engine else { return true }
                return await engine.layerInUse(diffID)
            })
            for diffID in removed {
                logger.info("image store: removed a layer no image or container uses", metadata: ["layer": "\(diffID)"])
            }
        } catch {
            logger.warning("image store: cannot remove unused layers", metadata: ["error": "\(error)"])
        }
    }

    private func publish(_ items: [ImageDeleteItem]) async {
        for item in items {
            switch item {
            case let .untagged(name):
                await events.publish(EngineEvent(type: "image", action: "untag", actorID: name, attributes: ["name": name]))
            case let .deleted(id):
                await events.publish(EngineEvent(type: "image", action: "delete", actorID: id, attributes: ["name": id]))
            }
        }
    }
}
