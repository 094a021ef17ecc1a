import Crypto
import Glibc

extension ImageStore {
    /// `docker import`: makes a one-layer image from a rootfs tarball
    /// (plain or gzip) streamed in `body`, and returns its ID.
    ///
    /// `reference` ("repo[:tag]") tags it; `changes` are Dockerfile
    /// instructions (`--change`); `message` becomes the comment (default
    /// "Imported from -"); `platform` is "os/arch[/variant]" (default: the
    /// host). They are all checked before the body is read. The layer is
    /// unpacked once: importing the same content again reuses it.
    public nonisolated func importTarball<Body: AsyncSequence>(
        _ body: Body, reference: String? = nil, changes: [String] = [],
        message: String? = nil, platform: String? = nil
    ) async throws -> String where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let target = try reference.map(Self.tagTarget)
        var config = ContainerConfig()
        try ChangeParser.apply(changes, to: &config)
        let platform = try Platform.parse(platform)
        let layer = try await LayerImport(layout: layout, options: options, logger: logger).unpack(body)
        let comment = (message?.isEmpty ?? true) ? "Imported from -" : message ?? ""
        return try await commitImport(layer, config: config, platform: platform, comment: comment, target: target)
    }

    private func commitImport(
        _ layer: UnpackedLayer, config: ContainerConfig, platform: Platform, comment: String,
        target: ImageReference?
    ) throws -> String {
        let diffID = layer.metadata.diffID
        try installLayer(layer)
        let created = Timestamp.now()
        let image = ImageConfig(
            architecture: platform.architecture, os: platform.os, variant: platform.variant,
            created: created, comment: comment, config: config,
            rootfs: .init(diffIDs: [diffID]),
            history: [.init(created: created, comment: comment)])
        let bytes = try JSONCoding.encode(image, subject: "image config")
        let id = "sha256:" + Hex.string(SHA256.hash(data: bytes))
        if stored[id] == nil {
            try AtomicFile.write(bytes, to: layout.imageConfig(id), tmpDirectory: layout.tmp)
            stored[id] = StoredImage(config: image)
        }
        if let target {
            var newTags = tags
            newTags[target.description] = id
            try writeTags(newTags)
        }
        logger.info("image store: imported", metadata: ["image": "\(id)", "layer": "\(diffID)"])
        return id
    }

    /// Moves an unpacked layer into place, or drops it when the store
    /// already has that layer.
    func installLayer(_ layer: UnpackedLayer) throws {
        let diffID = layer.metadata.diffID
        if layers[diffID] != nil {
            try RemoveTree.remove(path: layer.directory)
            return
        }
        let target = layout.layerDirectory(diffID)
        if FileIO.exists(target) {
            // A layer directory the store did not load (no readable
            // layer.json): replace it with the complete one.
            try discardLayerDirectory(target, name: StoreLayout.hex(diffID))
        }
        try sys("rename", "\(layer.directory) -> \(target)") { rename(layer.directory, target) }
        try FileIO.syncDirectory(layout.layers)
        layers[diffID] = layer.metadata
    }
}
