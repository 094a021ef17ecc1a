extension ImageStore {
    /// `docker save`: writes one archive holding the images `names` name,
    /// in both layouts `docker load` reads (see `ExportDocuments`), in
    /// chunks of about 1 MiB through the function `begin` returns.
    ///
    /// Names are resolved first, as dockerd does: "busybox:1" saves that
    /// tag; a name without tag ("busybox") saves every tag of the
    /// repository; an ID (or unique prefix) saves the image without tags.
    /// A name that resolves to nothing throws before anything is written,
    /// and `begin` (given the image IDs) runs only once all resolved, so an
    /// HTTP handler can still answer 404 and starts its response in `begin`.
    /// The layers are pinned while they are read: a concurrent `docker rmi`
    /// leaves them until the save ends.
    public nonisolated func save(
        _ names: [String],
        begin: @Sendable ([String]) async throws -> @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        let plan = try await prepareExport(names)
        do {
            let emit = try await begin(plan.images.map(\.id))
            try await writeExport(plan, to: ArchiveOutput(emit: emit))
            await unpin(plan.layerIDs)
        } catch {
            await unpin(plan.layerIDs)
            throw error
        }
    }

    /// Resolves the names, reads the configs and pins the layers.
    func prepareExport(_ names: [String]) throws -> ExportPlan {
        guard !names.isEmpty else { throw ImagesError.invalid("no image names given to save") }
        var images = [ExportPlan.Image]()
        for name in names {
            for (id, tag) in try exportTargets(name) {
                if let at = images.firstIndex(where: { $0.id == id }) {
                    if let tag, !images[at].tags.contains(tag) { images[at].tags.append(tag) }
                    continue
                }
                let diffIDs = stored[id]?.config.rootfs.diffIDs ?? []
                images.append(ExportPlan.Image(id: id, configBytes: try FileIO.read(layout.imageConfig(id)),
                                               tags: tag.map { [$0] } ?? [], diffIDs: diffIDs))
            }
        }
        var planned = [ExportPlan.Layer]()
        for diffID in images.flatMap(\.diffIDs) where !planned.contains(where: { $0.diffID == diffID }) {
            guard let metadata = layers[diffID] else {
                throw ImagesError.system("layer \(diffID) is missing from the store", errno: 0)
            }
            let directory = layout.layerDirectory(diffID)
            guard LayerTarSource.isAvailable(in: directory) else {
                throw ImagesError.conflict("layer \(diffID) was stored without the record needed to give its archive "
                    + "back (stored by an older moor): load or import the image again to save it")
            }
            planned.append(ExportPlan.Layer(diffID: diffID, directory: directory, tarSize: metadata.tarSize))
        }
        let plan = ExportPlan(images: images, layers: planned)
        pin(plan.layerIDs)
        return plan
    }

    /// The (image ID, tag) pairs one name stands for.
    private func exportTargets(_ name: String) throws -> [(String, ImageReference?)] {
        if let reference = try? ImageReference.parse(name), reference.digest == nil {
            if reference.tag == nil {
                let repository = reference.familiarName
                let tagged = tags.filter { key, id in
                    guard stored[id] != nil, let parsed = try? ImageReference.parse(key), parsed.digest == nil else { return false }
                    return parsed.familiarName == repository
                }
                if !tagged.isEmpty {
                    return tagged.keys.sorted().compactMap { key in
                        tagged[key].map { ($0, try? ImageReference.parse(key)) }
                    }
                }
            } else if let id = tags[reference.description], stored[id] != nil {
                return [(id, reference)]
            }
        }
        return [(try resolve(name), nil)]
    }

    private nonisolated func writeExport(_ plan: ExportPlan, to output: ArchiveOutput) async throws {
        let documents = try ExportDocuments(plan)
        try await output.write(try TarBuilder.header(name: "blobs/", kind: .directory))
        try await output.write(try TarBuilder.header(name: "blobs/sha256/", kind: .directory))
        var written = Set<String>()
        for image in plan.images where written.insert(image.id).inserted {
            try await writeFile(ExportDocuments.blobPath(image.id), image.configBytes, to: output)
        }
        for layer in plan.layers where written.insert(layer.diffID).inserted {
            try await output.write(try TarBuilder.header(name: ExportDocuments.blobPath(layer.diffID), kind: .file,
                                                         size: layer.tarSize))
            try await LayerTarSource(directory: layer.directory, diffID: layer.diffID, size: layer.tarSize)
                .write(to: output)
            try await output.write(TarBuilder.padding(layer.tarSize))
        }
        for manifest in documents.manifests where written.insert(manifest.digest).inserted {
            try await writeFile(ExportDocuments.blobPath(manifest.digest), manifest.bytes, to: output)
        }
        try await writeFile("index.json", documents.index, to: output)
        try await writeFile("manifest.json", documents.dockerManifest, to: output)
        try await writeFile("oci-layout", documents.layout, to: output)
        try await output.write(TarBuilder.end)
        try await output.flush()
    }

    private nonisolated func writeFile(_ name: String, _ bytes: [UInt8], to output: ArchiveOutput) async throws {
        try await output.write(try TarBuilder.header(name: name, kind: .file, size: Int64(bytes.count)))
        try await output.write(bytes)
        try await output.write(TarBuilder.padding(Int64(bytes.count)))
    }
}
