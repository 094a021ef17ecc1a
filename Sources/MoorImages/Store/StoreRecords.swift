/// What layer.json holds for each layer.
struct LayerMetadata: Codable, Sendable, Equatable {
    /// "sha256:<hex>" of the uncompressed tar.
    var diffID: String
    /// Bytes of file content in the layer (what `docker images` adds up).
    var size: Int64
    /// Bytes of the uncompressed tar stream.
    var tarSize: Int64
    var created: String
}

/// An image the store knows: its config as decoded from the JSON file.
struct StoredImage: Sendable {
    var config: ImageConfig
}

/// repositories.json, in Docker's shape:
/// `{"Repositories": {"busybox": {"busybox:latest": "sha256:..."}}}`.
struct RepositoriesFile: Codable {
    var repositories: [String: [String: String]]

    enum CodingKeys: String, CodingKey {
        case repositories = "Repositories"
    }

    /// From the flat map reference → image ID.
    init(tags: [String: String]) throws {
        var grouped = [String: [String: String]]()
        for (reference, id) in tags {
            let name = try ImageReference.parse(reference).familiarName
            grouped[name, default: [:]][reference] = id
        }
        repositories = grouped
    }

    /// The flat map reference → image ID.
    var tags: [String: String] {
        var result = [String: String]()
        for references in repositories.values {
            for (reference, id) in references { result[reference] = id }
        }
        return result
    }
}

/// An image as listed and inspected.
public struct ImageRecord: Sendable, Equatable {
    /// "sha256:<hex>": the SHA-256 of the config JSON.
    public var id: String
    public var config: ImageConfig
    /// "busybox:latest", sorted.
    public var repoTags: [String]
    /// "busybox@sha256:...", sorted.
    public var repoDigests: [String]
    /// Bytes of file content in the image's layers.
    public var size: Int64
    /// Bytes of file content of each layer, as `config.rootfs.diffIDs`
    /// (`docker history` shows them per step).
    public var layerSizes: [Int64] = []
}

/// One item of Docker's image delete response.
public enum ImageDeleteItem: Sendable, Equatable, Encodable {
    case untagged(String)
    case deleted(String)

    enum CodingKeys: String, CodingKey {
        case untagged = "Untagged"
        case deleted = "Deleted"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .untagged(reference): try container.encode(reference, forKey: .untagged)
        case let .deleted(id): try container.encode(id, forKey: .deleted)
        }
    }
}

/// A container using an image, as the engine reports it for `docker rmi`.
public struct ImageUser: Sendable, Equatable {
    public var containerID: String
    public var running: Bool

    public init(containerID: String, running: Bool) {
        self.containerID = containerID
        self.running = running
    }
}
