/// Progress of one layer of a `docker load`, as dockerd reports it
/// ("Loading layer" with bytes read so far of the layer's size).
public struct LoadProgress: Sendable, Equatable {
    /// A short name for the layer (12 hex digits of its blob or directory).
    public var id: String
    public var current: Int64
    public var total: Int64

    public init(id: String, current: Int64, total: Int64) {
        self.id = id
        self.current = current
        self.total = total
    }
}

/// One image a `docker load` stored.
public struct LoadedImage: Sendable, Equatable {
    /// "sha256:<hex>".
    public var id: String
    /// Familiar references it now has ("busybox:latest"), in archive order.
    public var tags: [String]
    /// Repository digests recorded from an OCI index ("busybox@sha256:...").
    public var digests: [String]
    /// Tags that pointed at another image before: (tag, that image's ID),
    /// which dockerd reports as "renaming the old one ... to empty string".
    public var replaced: [Replaced]

    public struct Replaced: Sendable, Equatable {
        public var tag: String
        public var previousID: String
    }

    /// The lines dockerd streams for this image.
    public var messages: [String] {
        var lines = replaced.map {
            "The image \($0.tag) already exists, renaming the old one with ID \($0.previousID) to empty string"
        }
        lines += tags.isEmpty ? ["Loaded image ID: \(id)"] : tags.map { "Loaded image: \($0)" }
        return lines
    }
}
