import Crypto

/// An image of a `docker load` archive, verified and ready to commit.
struct LoadSpec: Sendable {
    var id: String
    var configBytes: [UInt8]
    var config: ImageConfig
    var tags: [ImageReference] = []
    var digests: [ImageReference] = []
    /// Bottom-most first, as the config's diff_ids.
    var layers: [LoadLayer]
}

/// A layer of a loaded image: unpacked by this load, or already stored.
enum LoadLayer: Sendable {
    case staged(UnpackedLayer)
    case stored(diffID: String)

    var diffID: String {
        switch self {
        case let .staged(layer): layer.metadata.diffID
        case let .stored(diffID): diffID
        }
    }
}

/// Turns a received archive into images: reads manifest.json (docker save)
/// or index.json (OCI image layout), and checks every link of the chain:
/// each blob's digest and size against its descriptor, each layer's diffID
/// against the image config, the config's ID against its name. Anything
/// missing or mismatched is refused, naming the path in the archive.
struct LoadPlanner {
    let collector: ArchiveCollector

    func plan() throws -> [LoadSpec] {
        let specs: [LoadSpec]
        if exists("manifest.json") {
            specs = try dockerArchive()
        } else if exists("index.json") {
            specs = try ociLayout()
        } else if exists("repositories") {
            throw ImagesError.invalid("the archive is in the pre-1.10 docker save format (no manifest.json), "
                + "which moor does not read")
        } else {
            throw ImagesError.invalid("the archive has neither manifest.json (docker save) nor index.json "
                + "(OCI image layout): it is not an image archive")
        }
        guard !specs.isEmpty else { throw ImagesError.invalid("the archive's manifest lists no image") }
        return specs
    }

    private func exists(_ path: String) -> Bool {
        (try? collector.index.member(path, role: path)) != nil
    }

    // MARK: docker save

    private func dockerArchive() throws -> [LoadSpec] {
        let entries = try decode([DockerArchiveEntry].self, path: "manifest.json")
        var specs = [LoadSpec]()
        for entry in entries {
            let configBytes = try bytes(entry.config, role: "image config")
            var spec = try makeSpec(configBytes, configPath: entry.config,
                                    layers: entry.layers.map { ($0, nil) })
            for text in entry.repoTags ?? [] {
                let reference = try ImageReference.parse(text)
                guard reference.digest == nil else {
                    throw ImagesError.invalid("manifest.json: \"\(text)\" is not a tag")
                }
                spec.tags.append(reference.withDefaultTag)
            }
            merge(spec, into: &specs)
        }
        return specs
    }

    // MARK: OCI image layout

    private func ociLayout() throws -> [LoadSpec] {
        let index = try decode(OCIIndex.self, path: "index.json")
        var specs = [LoadSpec]()
        for descriptor in index.manifests {
            guard let manifest = try manifest(for: descriptor, depth: 0) else { continue }
            let configPath = try blobPath(manifest.config)
            let configBytes = try blob(manifest.config, role: "image config")
            let layers = try manifest.layers.map { (try blobPath($0), Optional($0)) }
            var spec = try makeSpec(configBytes, configPath: configPath, layers: layers)
            for name in try names(descriptor) {
                if name.tag != nil { spec.tags.append(name) }
                var digest = name
                digest.tag = nil
                digest.digest = descriptor.digest
                spec.digests.append(digest)
            }
            merge(spec, into: &specs)
        }
        return specs
    }

    /// The image manifest a descriptor leads to; for an index, this host's
    /// platform. nil for what is not an image (attestations, artifacts).
    private func manifest(for descriptor: OCIDescriptor, depth: Int) throws -> OCIManifest? {
        guard depth < 4 else { throw ImagesError.invalid("index.json: image indexes nested too deep") }
        let type = descriptor.mediaType ?? ""
        if MediaTypes.manifestTypes.contains(type) {
            return try decode(OCIManifest.self, bytes: try blob(descriptor, role: "image manifest"), path: descriptor.digest)
        }
        if MediaTypes.indexTypes.contains(type) {
            let index = try decode(OCIIndex.self, bytes: try blob(descriptor, role: "image index"), path: descriptor.digest)
            return try manifest(for: try platformChoice(index, digest: descriptor.digest), depth: depth + 1)
        }
        return nil
    }

    private func platformChoice(_ index: OCIIndex, digest: String) throws -> OCIDescriptor {
        let host = Platform.host
        let images = index.manifests.filter { descriptor in
            MediaTypes.manifestTypes.contains(descriptor.mediaType ?? "")
                && descriptor.annotations?[MediaTypes.referenceTypeAnnotation] == nil
                && descriptor.platform?.os != "unknown"
        }
        if let match = images.first(where: { $0.platform?.os == host.os && $0.platform?.architecture == host.architecture }) {
            return match
        }
        if images.count == 1, let only = images.first, only.platform == nil { return only }
        let offered = images.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }.joined(separator: ", ")
        throw ImagesError.invalid("image index \(digest) has no image for \(host.os)/\(host.architecture)"
            + (offered.isEmpty ? "" : " (it has \(offered))"))
    }

    /// The names an index entry gives its image: containerd's full name,
    /// else the OCI ref.name when it is a full reference (not just a tag).
    private func names(_ descriptor: OCIDescriptor) throws -> [ImageReference] {
        let annotations = descriptor.annotations ?? [:]
        var text = annotations[MediaTypes.imageNameAnnotation]
        if text == nil, let refName = annotations[MediaTypes.refNameAnnotation],
           refName.contains(":") || refName.contains("/") {
            text = refName
        }
        guard let text else { return [] }
        do {
            let reference = try ImageReference.parse(text)
            return [reference.digest == nil ? reference.withDefaultTag : reference]
        } catch let error as ImagesError {
            throw error.prefixed("index.json: ")
        }
    }

    private func blobPath(_ descriptor: OCIDescriptor) throws -> String {
        guard descriptor.digest.hasPrefix("sha256:"), ReferenceSyntax.isDigest(descriptor.digest) else {
            throw ImagesError.invalid("descriptor digest \"\(descriptor.digest)\" is not a sha256 digest")
        }
        return "blobs/sha256/" + descriptor.digest.dropFirst(7)
    }

    /// A blob kept in memory, checked against its descriptor.
    private func blob(_ descriptor: OCIDescriptor, role: String) throws -> [UInt8] {
        let path = try blobPath(descriptor)
        let member = try collector.index.member(path, role: role)
        try check(member, against: descriptor, path: path)
        return try bytes(path, role: role)
    }

    private func check(_ member: ArchiveMember, against descriptor: OCIDescriptor, path: String) throws {
        guard member.digest == descriptor.digest else {
            throw ImagesError.badEntry(path, "digest mismatch: the content has digest \(member.digest), "
                + "the manifest says \(descriptor.digest)")
        }
        guard member.size == descriptor.size else {
            throw ImagesError.badEntry(path, "size mismatch: \(member.size) bytes, the manifest says \(descriptor.size)")
        }
    }

    // MARK: images

    private func makeSpec(_ configBytes: [UInt8], configPath: String,
                          layers: [(path: String, descriptor: OCIDescriptor?)]) throws -> LoadSpec {
        let id = "sha256:" + Hex.string(SHA256.hash(data: configBytes))
        let config = try decode(ImageConfig.self, bytes: configBytes, path: configPath)
        guard config.os == "linux" else {
            throw ImagesError.invalid("image config \"\(configPath)\": operating system \"\(config.os)\" "
                + "cannot be used on this platform")
        }
        let diffIDs = config.rootfs.diffIDs
        guard config.rootfs.type == "layers", diffIDs.count == layers.count else {
            throw ImagesError.invalid("image config \"\(configPath)\" names \(diffIDs.count) layers, "
                + "the manifest \(layers.count)")
        }
        var loaded = [LoadLayer]()
        for (position, layer) in layers.enumerated() {
            loaded.append(try self.layer(layer.path, descriptor: layer.descriptor, expected: diffIDs[position]))
        }
        return LoadSpec(id: id, configBytes: configBytes, config: config, layers: loaded)
    }

    private func layer(_ path: String, descriptor: OCIDescriptor?, expected: String) throws -> LoadLayer {
        guard ReferenceSyntax.isDigest(expected), expected.hasPrefix("sha256:") else {
            throw ImagesError.invalid("the image config names layer \"\(expected)\", which is not a sha256 digest")
        }
        let member = try collector.index.member(path, role: "layer")
        if let descriptor { try check(member, against: descriptor, path: path) }
        let layer: LoadLayer
        switch member.content {
        case let .layer(unpacked): layer = .staged(unpacked)
        case let .storedLayer(diffID): layer = .stored(diffID: diffID)
        case let .bytes(kept): layer = .staged(try collector.unpackKept(member, bytes: kept))
        case let .other(reason): throw ImagesError.badEntry(path, "is not a layer: \(reason)")
        }
        guard layer.diffID == expected else {
            throw ImagesError.badEntry(path, "digest mismatch: the layer's content has diffID \(layer.diffID), "
                + "the image config says \(expected)")
        }
        return layer
    }

    /// The same image listed twice (two tags) is one image with both.
    private func merge(_ spec: LoadSpec, into specs: inout [LoadSpec]) {
        guard let at = specs.firstIndex(where: { $0.id == spec.id }) else {
            specs.append(spec)
            return
        }
        specs[at].tags += spec.tags.filter { !specs[at].tags.contains($0) }
        specs[at].digests += spec.digests.filter { !specs[at].digests.contains($0) }
    }

    // MARK: reading members

    private func bytes(_ path: String, role: String) throws -> [UInt8] {
        let member = try collector.index.member(path, role: role)
        guard case let .bytes(bytes) = member.content else {
            throw ImagesError.badEntry(path, "the \(role) is not a JSON document")
        }
        return bytes
    }

    private func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        try decode(type, bytes: try bytes(path, role: path), path: path)
    }

    private func decode<T: Decodable>(_ type: T.Type, bytes: [UInt8], path: String) throws -> T {
        do {
            return try JSONCoding.decode(type, from: bytes, subject: path)
        } catch let error as ImagesError {
            // The archive is at fault, not the store: 400 (the message names the path).
            throw ImagesError.invalid(error.message)
        }
    }
}
