/// A regular file of a `docker load` archive, as received.
struct ArchiveMember {
    /// What the member turned out to be.
    enum Content {
        /// Small files, kept in memory: manifests, image configs, VERSION,
        /// and layers too small to tell from their first block.
        case bytes([UInt8])
        /// A layer, unpacked into the load's staging directory.
        case layer(UnpackedLayer)
        /// A blob named by the digest of a layer the store has: only hashed.
        case storedLayer(diffID: String)
        /// A large file that is neither JSON nor a tar stream; fine unless a
        /// manifest names it as a layer.
        case other(reason: String)
    }

    /// The normalised path in the archive ("blobs/sha256/abc", "abc/layer.tar").
    var name: String
    var size: Int64
    /// "sha256:<hex>" of the member's bytes.
    var digest: String
    var content: Content
}

/// A symbolic or hard link in the archive: Docker's `docker save` makes the
/// legacy `<id>/layer.tar` a symbolic link to the layer's blob.
struct ArchiveLink {
    var target: [UInt8]
    var symbolic: Bool
}

/// The archive's names: members, links, and how a manifest's path resolves.
struct ArchiveIndex {
    var members = [String: ArchiveMember]()
    var links = [String: ArchiveLink]()

    /// The member `path` names, following links (within the archive only).
    /// `role` says what named it, for messages ("the image config").
    func member(_ path: String, role: String) throws -> ArchiveMember {
        var current = path
        for _ in 0..<16 {
            let components = try EntryPath.components(Array(current.utf8), entry: current, role: role)
            let name = EntryPath.display(components)
            if let member = members[name] { return member }
            guard let link = links[name] else {
                throw ImagesError.invalid("the archive's manifest names \(role) \"\(path)\", which is not in the archive")
            }
            current = try Self.resolve(link, from: components, role: role, path: path)
        }
        throw ImagesError.invalid("\(role) \"\(path)\": too many levels of links in the archive")
    }

    /// A link's target as a path from the archive root. Symbolic links are
    /// relative to their directory; hard links name a path from the root.
    private static func resolve(_ link: ArchiveLink, from components: [[UInt8]], role: String, path: String) throws -> String {
        var base = link.symbolic ? Array(components.dropLast()) : []
        let escape = ImagesError.invalid("\(role) \"\(path)\": the archive's link \"\(EntryPath.display(components))\" "
            + "points outside the archive")
        if link.target.first == UInt8(ascii: "/") { throw escape }
        for part in link.target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !base.isEmpty else { throw escape }
                base.removeLast()
                continue
            }
            base.append(Array(part))
        }
        return EntryPath.display(base)
    }
}
