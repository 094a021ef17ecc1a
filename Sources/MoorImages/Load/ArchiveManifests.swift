/// The documents of the two archive layouts `docker load` reads and
/// `docker save` writes.
///
/// `docker save` (manifest.json): one entry per image, paths in the archive.
struct DockerArchiveEntry: Codable, Equatable {
    var config: String
    var repoTags: [String]?
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}

/// An OCI content descriptor: what a blob is, its digest and size.
struct OCIDescriptor: Codable, Equatable {
    var mediaType: String?
    var digest: String
    var size: Int64
    var annotations: [String: String]?
    var platform: OCIPlatform?
}

struct OCIPlatform: Codable, Equatable {
    var architecture: String
    var os: String
    var variant: String?
}

/// index.json, and image indexes (multi-platform lists) inside the layout.
struct OCIIndex: Codable, Equatable {
    var schemaVersion: Int
    var mediaType: String?
    var manifests: [OCIDescriptor]
}

/// One platform's image: its config and layers, bottom-most first.
struct OCIManifest: Codable, Equatable {
    var schemaVersion: Int
    var mediaType: String?
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
}

/// oci-layout.
struct OCILayoutFile: Codable {
    var imageLayoutVersion: String
}

/// The media types and annotations moor reads and writes.
enum MediaTypes {
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let ociConfig = "application/vnd.oci.image.config.v1+json"
    static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    static let indexTypes: Set<String> = [ociIndex, dockerList]
    static let manifestTypes: Set<String> = [ociManifest, dockerManifest]

    /// The full reference containerd (and Docker 25+) records for an image.
    static let imageNameAnnotation = "io.containerd.image.name"
    /// The OCI tag annotation: often only "latest", sometimes a full name.
    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// BuildKit marks its provenance/SBOM manifests with this.
    static let referenceTypeAnnotation = "vnd.docker.reference.type"
}
