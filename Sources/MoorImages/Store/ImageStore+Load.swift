import Glibc

extension ImageStore {
    /// `docker load`: reads a `docker save` archive (manifest.json) or an
    /// OCI image layout (index.json), plain or compressed with gzip, xz or
    /// zstd, streamed in `body`; returns the images it stored.
    ///
    /// Layers are unpacked as they arrive into a staging directory under
    /// tmp/ (whiteouts converted for overlayfs), verified against the
    /// manifest and the image configs once the whole archive is read, and
    /// only then moved into the store with the configs and tags, in one step
    /// on the actor. A layer the store has is not stored twice. On any
    /// failure — a hostile entry, a digest mismatch, a truncated stream, the
    /// client going away — the staging directory is removed and the store is
    /// unchanged; a daemon killed mid-load leaves only tmp/, which
    /// `sweepIncomplete()` clears at the next start.
    ///
    /// `progress` hears each layer's bytes as dockerd reports them.
    public nonisolated func load<Body: AsyncSequence>(
        _ body: Body, progress: (@Sendable (LoadProgress) async -> Void)? = nil
    ) async throws -> [LoadedImage] where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let staging = layout.tmp + "/load-" + FileIO.randomSuffix()
        try sys("mkdir", staging) { mkdir(staging, 0o700) }
        do {
            let collector = ArchiveCollector(staging: staging, options: options,
                                             storedLayers: await storedLayerIDs(), logger: logger)
            try await receive(body, into: collector, progress: progress)
            let specs = try LoadPlanner(collector: collector).plan()
            let loaded = try await commitLoad(specs)
            LayerImport.discard(staging, logger: logger)
            return loaded
        } catch {
            LayerImport.discard(staging, logger: logger)
            throw error
        }
    }

    /// The archive through its decoder and the outer tar parser, chunk by chunk.
    private nonisolated func receive<Body: AsyncSequence>(
        _ body: Body, into collector: ArchiveCollector, progress: (@Sendable (LoadProgress) async -> Void)?
    ) async throws where Body.Element: Sequence, Body.Element.Element == UInt8 {
        let archive = ArchiveStream(collector: collector, maxBytes: options.maxImportBytes)
        for try await chunk in body {
            try Task.checkCancellation()
            let fed: Void? = try chunk.withContiguousStorageIfAvailable { try archive.feed(UnsafeRawBufferPointer($0)) }
            if fed == nil { try Array(chunk).withUnsafeBytes { try archive.feed($0) } }
            if let progress {
                for event in collector.takeEvents() { await progress(event) }
            }
        }
        try archive.finish()
        if let progress {
            for event in collector.takeEvents() { await progress(event) }
        }
    }

    func storedLayerIDs() -> Set<String> { Set(layers.keys) }

    /// Stores the verified images: new layers moved in, configs written,
    /// tags moved (the archive's tags win, as in dockerd).
    private func commitLoad(_ specs: [LoadSpec]) throws -> [LoadedImage] {
        for spec in specs {
            for case let .stored(diffID) in spec.layers where layers[diffID] == nil {
                throw ImagesError.conflict("layer \(diffID) was removed while the archive was being loaded; "
                    + "load it again")
            }
        }
        for spec in specs {
            // A layer the store already has (or just took from an earlier
            // image) stays; the staged copy goes with the staging directory.
            for case let .staged(layer) in spec.layers where layers[layer.metadata.diffID] == nil {
                try installLayer(layer)
            }
        }
        var newTags = tags
        var loaded = [LoadedImage]()
        for spec in specs {
            if stored[spec.id] == nil {
                try AtomicFile.write(spec.configBytes, to: layout.imageConfig(spec.id), tmpDirectory: layout.tmp)
                stored[spec.id] = StoredImage(config: spec.config)
            }
            var image = LoadedImage(id: spec.id, tags: [], digests: [], replaced: [])
            for reference in spec.tags {
                let key = reference.description
                if let previous = newTags[key], previous != spec.id {
                    image.replaced.append(.init(tag: key, previousID: previous))
                }
                newTags[key] = spec.id
                image.tags.append(key)
            }
            for reference in spec.digests {
                newTags[reference.description] = spec.id
                image.digests.append(reference.description)
            }
            loaded.append(image)
            logger.info("image store: loaded", metadata: ["image": "\(spec.id)", "tags": "\(image.tags)"])
        }
        try writeTags(newTags)
        return loaded
    }
}

/// The outer archive: decoded, counted against the size bound, parsed.
final class ArchiveStream {
    private let decoding = DecodingStream()
    private let parser: TarParser<ArchiveCollector>
    private let maxBytes: Int64
    private var bytes: Int64 = 0

    init(collector: ArchiveCollector, maxBytes: Int64) {
        parser = TarParser(sink: collector, maxEntrySize: maxBytes)
        self.maxBytes = maxBytes
    }

    func feed(_ input: UnsafeRawBufferPointer) throws {
        try decoding.feed(input) { try consume($0) }
    }

    func finish() throws {
        try decoding.finish(openEntry: { parser.openEntry }) { try consume($0) }
        try parser.finish()
    }

    private func consume(_ input: UnsafeRawBufferPointer) throws {
        bytes += Int64(input.count)
        guard bytes <= maxBytes else {
            throw ImagesError.invalid("the uncompressed archive is larger than the load limit of \(maxBytes) bytes")
        }
        try parser.feed(input)
    }
}
