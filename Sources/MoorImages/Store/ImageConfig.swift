/// An image's configuration, as Docker's image config JSON (the document
/// whose SHA-256 is the image ID). Optional fields absent from the JSON
/// stay absent when written back.
public struct ImageConfig: Codable, Sendable, Equatable {
    public var architecture: String
    public var os: String
    public var variant: String?
    /// RFC 3339 with nanoseconds, UTC.
    public var created: String?
    public var author: String?
    public var comment: String?
    public var dockerVersion: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String, os: String, variant: String? = nil, created: String? = nil,
                author: String? = nil, comment: String? = nil, dockerVersion: String? = nil,
                config: ContainerConfig? = nil, rootfs: RootFS, history: [History]? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.created = created
        self.author = author
        self.comment = comment
        self.dockerVersion = dockerVersion
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant, created, author, comment
        case dockerVersion = "docker_version"
        case config, rootfs, history
    }

    /// The layers, bottom-most first.
    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        public var diffIDs: [String]

        public init(type: String = "layers", diffIDs: [String]) {
            self.type = type
            self.diffIDs = diffIDs
        }

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?

        public init(created: String? = nil, createdBy: String? = nil, author: String? = nil,
                    comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.author = author
            self.comment = comment
            self.emptyLayer = emptyLayer
        }

        enum CodingKeys: String, CodingKey {
            case created, author, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }
}

/// The runtime defaults an image gives its containers (the "config" object
/// of the image config, Docker's field names).
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var onBuild: [String]?
    public var shell: [String]?
    public var argsEscaped: Bool?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case onBuild = "OnBuild"
        case shell = "Shell"
        case argsEscaped = "ArgsEscaped"
    }
}

/// `{}`, the value type of Docker's ExposedPorts and Volumes sets.
public struct EmptyObject: Codable, Sendable, Equatable, Hashable {
    public init() {}
}
