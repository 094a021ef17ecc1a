import Logging

/// moor's image and layer store (see `StoreLayout` for the files).
///
/// An actor: metadata changes are serialised, and each is written to disk
/// atomically before the in-memory state changes, so a restarted daemon finds
/// exactly what was acknowledged. The heavy work of an import (receiving and
/// unpacking the archive) runs outside the actor; only its commit is
/// isolated, so listing and inspecting images never wait for an upload.
///
/// Layers are keyed by diffID and shared: an image holds its layers, and a
/// layer goes when the last image holding it goes (unless a container still
/// uses it, which the caller says).
public actor ImageStore {
    /// Tunables; the defaults suit the daemon.
    public struct Options: Sendable {
        /// The most uncompressed bytes one import may unpack.
        public var maxImportBytes: Int64 = 64 << 30
        /// syncfs the store before a new layer becomes visible, so metadata
        /// never names a layer whose files are not on disk after a power cut.
        public var syncLayers = true

        public init() {}
    }

    nonisolated let layout: StoreLayout
    nonisolated let options: Options
    nonisolated let logger: Logger

    var stored: [String: StoredImage]
    var layers: [String: LayerMetadata]
    /// Familiar reference ("busybox:latest") → image ID.
    var tags: [String: String]
    /// Layers being read outside the actor (`docker save`, vfs copies), by
    /// diffID, with how many readers: never deleted while pinned.
    var pins = [String: Int]()

    /// Opens (creating if need be) the store under `root` and reads its
    /// metadata.
    public init(root: String, options: Options = Options(), logger: Logger = Logger(label: "moor.images")) throws {
        layout = StoreLayout(root: root)
        self.options = options
        self.logger = logger
        try layout.create()
        let contents = try StoreLoader(layout: layout, logger: logger).load()
        stored = contents.images
        layers = contents.layers
        tags = contents.tags
    }

    /// Removes what a killed daemon left unfinished: imports in progress,
    /// layers being deleted, metadata temporaries (all under tmp/). Call
    /// once at startup, before any import starts. Returns the names removed.
    @discardableResult
    public func sweepIncomplete() throws -> [String] {
        let names = try FileIO.list(layout.tmp).sorted()
        for name in names {
            try RemoveTree.remove(path: layout.tmp + "/" + name)
            logger.info("image store: removed an incomplete operation", metadata: ["path": "\(layout.tmp)/\(name)"])
        }
        return names
    }

    /// All images, newest first.
    public func images() -> [ImageRecord] {
        stored.keys.map(record).sorted {
            ($0.config.created ?? "", $0.id) > ($1.config.created ?? "", $1.id)
        }
    }

    /// The image `reference` names (name[:tag], full or short ID).
    public func image(_ reference: String) throws -> ImageRecord {
        record(try resolve(reference))
    }

    /// The image config exactly as stored (its SHA-256 is the image ID).
    public func rawConfig(_ reference: String) throws -> [UInt8] {
        try FileIO.read(layout.imageConfig(try resolve(reference)))
    }

    /// The unpacked layer directories of an image, top-most first, as
    /// overlayfs's lowerdir lists them.
    public func layerPaths(_ reference: String) throws -> [String] {
        let id = try resolve(reference)
        let diffIDs = stored[id]?.config.rootfs.diffIDs ?? []
        return try diffIDs.reversed().map { diffID in
            guard layers[diffID] != nil else {
                throw ImagesError.system("layer \(diffID) of image \(id) is missing from the store", errno: 0)
            }
            return layout.diffDirectory(diffID)
        }
    }

    func record(_ id: String) -> ImageRecord {
        let config = stored[id]?.config ?? ImageConfig(architecture: "", os: "", rootfs: .init(diffIDs: []))
        let references = tags.filter { $0.value == id }.keys
        let size = Set(config.rootfs.diffIDs).reduce(Int64(0)) { $0 + (layers[$1]?.size ?? 0) }
        return ImageRecord(
            id: id, config: config,
            repoTags: references.filter { !$0.contains("@") }.sorted(),
            repoDigests: references.filter { $0.contains("@") }.sorted(),
            size: size,
            layerSizes: config.rootfs.diffIDs.map { layers[$0]?.size ?? 0 })
    }

    /// Keeps layers from deletion while they are read outside the actor.
    func pin(_ diffIDs: [String]) {
        for diffID in diffIDs { pins[diffID, default: 0] += 1 }
    }

    func unpin(_ diffIDs: [String]) {
        for diffID in diffIDs {
            let count = (pins[diffID] ?? 1) - 1
            pins[diffID] = count > 0 ? count : nil
        }
    }

    /// Whether a layer may be deleted now: no image holds it and no reader
    /// has it pinned (containers are the caller's to check).
    func isUnused(_ diffID: String) -> Bool {
        !isHeld(diffID) && pins[diffID] == nil
    }

    /// Writes repositories.json for `newTags`; the caller adopts them after.
    func writeTags(_ newTags: [String: String]) throws {
        let bytes = try JSONCoding.encode(try RepositoriesFile(tags: newTags), subject: layout.repositories)
        try AtomicFile.write(bytes, to: layout.repositories, tmpDirectory: layout.tmp)
        tags = newTags
    }
}
