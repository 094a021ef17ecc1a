import Crypto

/// What one `docker save` writes, decided on the actor: the images with the
/// tags they are saved under, their configs, and the (pinned) layers.
struct ExportPlan: Sendable {
    struct Image: Sendable {
        var id: String
        var configBytes: [UInt8]
        /// Tag references the archive names the image by.
        var tags: [ImageReference]
        var diffIDs: [String]
    }

    struct Layer: Sendable {
        var diffID: String
        var directory: String
        var tarSize: Int64
    }

    var images: [Image]
    /// Each layer once, in the order first needed.
    var layers: [Layer]

    var layerIDs: [String] { layers.map(\.diffID) }
}

/// The documents of the archive: for each image an OCI manifest blob; then
/// index.json (OCI image layout, names in containerd's annotation),
/// manifest.json (what `docker load` of every dockerd version reads) and
/// oci-layout. Layers are the uncompressed tar streams, whose digests are
/// the diffIDs, so one blob serves both layouts.
struct ExportDocuments {
    var manifests: [(digest: String, bytes: [UInt8])] = []
    var index: [UInt8] = []
    var dockerManifest: [UInt8] = []
    var layout: [UInt8] = []

    init(_ plan: ExportPlan) throws {
        let sizes = Dictionary(plan.layers.map { ($0.diffID, $0.tarSize) }, uniquingKeysWith: { first, _ in first })
        var descriptors = [OCIDescriptor]()
        var entries = [DockerArchiveEntry]()
        for image in plan.images {
            let manifest = OCIManifest(
                schemaVersion: 2, mediaType: MediaTypes.ociManifest,
                config: OCIDescriptor(mediaType: MediaTypes.ociConfig, digest: image.id, size: Int64(image.configBytes.count)),
                layers: image.diffIDs.map { OCIDescriptor(mediaType: MediaTypes.ociLayer, digest: $0, size: sizes[$0] ?? 0) })
            let bytes = try JSONCoding.encode(manifest, subject: "image manifest")
            let digest = "sha256:" + Hex.string(SHA256.hash(data: bytes))
            manifests.append((digest, bytes))
            let descriptor = OCIDescriptor(mediaType: MediaTypes.ociManifest, digest: digest, size: Int64(bytes.count))
            if image.tags.isEmpty { descriptors.append(descriptor) }
            for tag in image.tags {
                var named = descriptor
                named.annotations = [
                    MediaTypes.imageNameAnnotation: "\(tag.domain)/\(tag.path):\(tag.tag ?? ImageReference.defaultTag)",
                    MediaTypes.refNameAnnotation: tag.tag ?? ImageReference.defaultTag,
                ]
                descriptors.append(named)
            }
            entries.append(DockerArchiveEntry(
                config: Self.blobPath(image.id),
                repoTags: image.tags.isEmpty ? nil : image.tags.map(\.description),
                layers: image.diffIDs.map(Self.blobPath)))
        }
        index = try JSONCoding.encode(OCIIndex(schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: descriptors),
                                      subject: "index.json")
        dockerManifest = try JSONCoding.encode(entries, subject: "manifest.json")
        layout = try JSONCoding.encode(OCILayoutFile(imageLayoutVersion: "1.0.0"), subject: "oci-layout")
    }

    static func blobPath(_ digest: String) -> String {
        "blobs/sha256/" + StoreLayout.hex(digest)
    }
}
