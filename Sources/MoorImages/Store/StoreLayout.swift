import Glibc

/// Where the image store keeps things under its root (the daemon's
/// data-root):
///
///     layers/sha256/<diffID hex>/diff/         the unpacked files
///     layers/sha256/<diffID hex>/layer.json    LayerMetadata
///     image/sha256/<image ID hex>.json         the image config, verbatim
///     repositories.json                        tags → image IDs
///     tmp/                                     imports and deletions in
///                                              progress, atomic-write temps
struct StoreLayout: Sendable {
    let root: String

    var tmp: String { root + "/tmp" }
    var layers: String { root + "/layers/sha256" }
    var images: String { root + "/image/sha256" }
    var repositories: String { root + "/repositories.json" }

    func layerDirectory(_ diffID: String) -> String { layers + "/" + Self.hex(diffID) }
    func diffDirectory(_ diffID: String) -> String { layerDirectory(diffID) + "/diff" }
    func imageConfig(_ imageID: String) -> String { images + "/" + Self.hex(imageID) + ".json" }

    /// "sha256:abc" → "abc".
    static func hex(_ digest: String) -> String {
        digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
    }

    /// Creates the directories. Only root may read the store: unpacked
    /// layers hold other images' setuid binaries and secrets.
    func create() throws {
        try makeParents(root)
        try FileIO.makeDirectory(root, mode: 0o711)
        for directory in [root + "/layers", layers, root + "/image", images, tmp] {
            try FileIO.makeDirectory(directory, mode: 0o700)
        }
    }

    private func makeParents(_ path: String) throws {
        var prefix = ""
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            try FileIO.makeDirectory(prefix, mode: 0o755)
        }
    }
}
