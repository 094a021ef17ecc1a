import Logging

/// The receiving end of a `docker load` archive (the outer tar): every
/// member is checked as an archive entry (no "..", no absolute path, no
/// device), links are noted, regular files go through a `MemberReceiver`.
/// Layers are unpacked into the load's staging directory while the archive
/// streams in; nothing is decided about images until the whole archive (and
/// with it the manifest, which `docker save` writes last) has been read.
final class ArchiveCollector: TarSink {
    /// Bound on the small files kept in memory (manifests, configs).
    static let maxMemory: Int64 = 256 << 20
    /// Progress is reported after each this many bytes of a layer.
    static let progressStep: Int64 = 1 << 20

    private let staging: String
    private let options: ImageStore.Options
    private let logger: Logger
    /// diffIDs of the layers the store had when the load began.
    private let storedLayers: Set<String>
    private(set) var index = ArchiveIndex()
    private var current: MemberReceiver?
    private var memory: Int64 = 0
    private var layerCount = 0
    /// Uncompressed bytes of all layers so far, bounded like one import.
    private var layerBytes: Int64 = 0
    private var events = [LoadProgress]()

    init(staging: String, options: ImageStore.Options, storedLayers: Set<String>, logger: Logger) {
        self.staging = staging
        self.options = options
        self.storedLayers = storedLayers
        self.logger = logger
    }

    /// Progress since the last call.
    func takeEvents() -> [LoadProgress] {
        defer { events.removeAll() }
        return events
    }

    func beginEntry(_ entry: TarEntry) throws {
        let components = try EntryPath.components(entry.path, entry: entry.name)
        guard !components.isEmpty else { return }
        let name = EntryPath.display(components)
        switch entry.kind {
        case .directory:
            return
        case .symlink, .hardlink:
            try claim(name, entry)
            index.links[name] = ArchiveLink(target: entry.linkTarget, symbolic: entry.kind == .symlink)
        case .file:
            try claim(name, entry)
            current = MemberReceiver(name: name, size: entry.size, mode: try mode(for: name, size: entry.size))
        case .fifo, .charDevice, .blockDevice:
            throw ImagesError.badEntry(entry.name, "an image archive may hold only files, directories and links")
        }
    }

    func entryData(_ bytes: UnsafeRawBufferPointer) throws {
        guard let member = current else { return }
        try member.feed(bytes, makeLayer: { try makeLayer(for: member) }, keep: reserve)
        if member.isLayer && member.received - member.reported >= Self.progressStep {
            member.reported = member.received
            events.append(LoadProgress(id: Self.progressID(member.name), current: member.received, total: member.size))
        }
    }

    func endEntry() throws {
        guard let member = current else { return }
        current = nil
        let finished = try member.finish()
        if case let .layer(layer) = finished.content {
            layerBytes += layer.metadata.tarSize
            events.append(LoadProgress(id: Self.progressID(member.name), current: member.size, total: member.size))
        }
        index.members[finished.name] = finished
    }

    /// Unpacks a small member that a manifest names as a layer (kept in
    /// memory until then, since one block could not tell).
    func unpackKept(_ member: ArchiveMember, bytes: [UInt8]) throws -> UnpackedLayer {
        let receiver = MemberReceiver(name: member.name, size: member.size, mode: .sniffing)
        let writer = try makeLayer(for: receiver)
        let layer = try receiver.inLayer {
            try bytes.withUnsafeBytes { try writer.feed($0) }
            return try writer.finish()
        }
        layerBytes += layer.metadata.tarSize
        index.members[member.name]?.content = .layer(layer)
        return layer
    }

    private func claim(_ name: String, _ entry: TarEntry) throws {
        guard index.members[name] == nil, index.links[name] == nil else {
            throw ImagesError.badEntry(entry.name, "the archive holds this path twice")
        }
    }

    private func mode(for name: String, size: Int64) throws -> MemberReceiver.Mode {
        // A blob named by the digest of a layer the store has: hashing it
        // proves it is that layer, which is then not unpacked again.
        if let digest = MemberReceiver.namedDigest(name), name.hasPrefix("blobs/"), storedLayers.contains(digest) {
            return .hashOnly(.storedLayer(diffID: digest))
        }
        if size <= MemberReceiver.smallSize {
            try reserve(size)
            return .memory
        }
        return .sniffing
    }

    private func reserve(_ size: Int64) throws {
        memory += size
        guard memory <= Self.maxMemory else {
            throw ImagesError.invalid("the archive's manifests and configs exceed \(Self.maxMemory >> 20) MiB")
        }
    }

    private func makeLayer(for member: MemberReceiver) throws -> LayerWriter {
        layerCount += 1
        return try LayerWriter(directory: staging + "/layer-\(layerCount)", options: options,
                               maxBytes: max(0, options.maxImportBytes - layerBytes),
                               whiteouts: .overlay, logger: logger)
    }

    /// dockerd names a layer's progress by a short ID; the blob's digest or
    /// the legacy layer directory serves.
    static func progressID(_ name: String) -> String {
        if name.hasPrefix("blobs/sha256/") { return String(name.dropFirst(13).prefix(12)) }
        if name.hasSuffix("/layer.tar") { return String(name.dropLast(10).prefix(12)) }
        return name
    }
}
