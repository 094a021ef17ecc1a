import Crypto

/// Receives one regular file of a `docker load` archive: hashes it and
/// decides from its first block what it is, without holding large members
/// in memory. Small files are kept; a large JSON document is kept; a tar
/// stream (plain or compressed) is unpacked as a layer as it arrives; other
/// large files are only hashed.
final class MemberReceiver {
    /// Members up to this size are kept whole, whatever they are.
    static let smallSize: Int64 = 64 * 1024
    /// The largest JSON document (manifest, config) accepted.
    static let maxJSONSize: Int64 = 16 << 20

    enum Mode {
        case sniffing
        case memory
        case layer(LayerWriter)
        case hashOnly(ArchiveMember.Content)
    }

    let name: String
    let size: Int64
    private(set) var received: Int64 = 0
    private var hasher = SHA256()
    private var buffer = [UInt8]()
    private(set) var mode: Mode
    /// Bytes received when progress was last reported.
    var reported: Int64 = 0

    init(name: String, size: Int64, mode: Mode) {
        self.name = name
        self.size = size
        self.mode = mode
    }

    /// Whether the member is being unpacked as a layer.
    var isLayer: Bool {
        if case .layer = mode { return true }
        return false
    }

    /// `makeLayer` is called once, when the first block shows a tar stream;
    /// `keep` when it shows JSON (to account for the memory).
    func feed(_ bytes: UnsafeRawBufferPointer, makeLayer: () throws -> LayerWriter, keep: (Int64) throws -> Void) throws {
        received += Int64(bytes.count)
        switch mode {
        case .memory:
            hasher.update(bufferPointer: bytes)
            buffer.append(contentsOf: bytes)
        case .sniffing:
            buffer.append(contentsOf: bytes)
            if buffer.count >= TarHeader.blockSize { try decide(makeLayer: makeLayer, keep: keep) }
        case let .layer(writer):
            if !layerHashesMember { hasher.update(bufferPointer: bytes) }
            try inLayer { try writer.feed(bytes) }
        case .hashOnly:
            hasher.update(bufferPointer: bytes)
        }
    }

    /// An uncompressed layer's diffID is the digest of the member's very
    /// bytes: the layer computes it, and the bytes are hashed once.
    private var layerHashesMember = false

    /// The member, complete; a name that is a digest must match the content.
    func finish() throws -> ArchiveMember {
        let content: ArchiveMember.Content
        var digest: String?
        switch mode {
        case .memory, .sniffing:
            content = .bytes(buffer)
            if case .sniffing = mode { hasher.update(data: buffer) }
        case let .layer(writer):
            let layer = try inLayer { try writer.finish() }
            content = .layer(layer)
            if layerHashesMember { digest = layer.metadata.diffID }
        case let .hashOnly(kept):
            content = kept
        }
        let computed = digest ?? "sha256:" + Hex.string(hasher.finalize())
        if let named = Self.namedDigest(name), named != computed {
            throw ImagesError.badEntry(name, "digest mismatch: the content has digest \(computed), "
                + "not the \(named) its name says")
        }
        buffer = []
        return ArchiveMember(name: name, size: size, digest: computed, content: content)
    }

    /// The first block tells: JSON text, a tar stream, or something else.
    private func decide(makeLayer: () throws -> LayerWriter, keep: (Int64) throws -> Void) throws {
        let head = buffer.prefix(TarHeader.blockSize)
        if Self.looksLikeJSON(head) && size <= Self.maxJSONSize {
            try keep(size)
            hasher.update(data: buffer)
            mode = .memory
        } else if Self.looksLikeTar(head) {
            let writer = try makeLayer()
            mode = .layer(writer)
            layerHashesMember = Compression.detect(head) == .none
            if !layerHashesMember { hasher.update(data: buffer) }
            try inLayer { try buffer.withUnsafeBytes { try writer.feed($0) } }
            buffer = []
        } else {
            hasher.update(data: buffer)
            mode = .hashOnly(.other(reason: "neither JSON nor a tar stream"))
            buffer = []
        }
    }

    /// Errors from inside a layer name the layer, then the entry in it.
    func inLayer<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ImagesError {
            throw error.prefixed("layer \"\(name)\": ")
        }
    }

    /// "sha256:<hex>" for a blob path ("blobs/sha256/<hex>") or a legacy
    /// image config ("<hex>.json" at the root), whose names are digests.
    static func namedDigest(_ name: String) -> String? {
        let blobPrefix = "blobs/sha256/"
        var hex = Substring(name)
        if name.hasPrefix(blobPrefix) {
            hex = hex.dropFirst(blobPrefix.count)
        } else if name.hasSuffix(".json") && !name.contains("/") {
            hex = hex.dropLast(5)
        } else {
            return nil
        }
        guard hex.utf8.count == 64, Hex.isLowercaseHex(hex) else { return nil }
        return "sha256:" + hex
    }

    static func looksLikeJSON(_ head: ArraySlice<UInt8>) -> Bool {
        guard let first = head.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) else { return false }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// A compressed stream, a valid tar header block, or the zero block of
    /// an empty archive.
    static func looksLikeTar(_ head: ArraySlice<UInt8>) -> Bool {
        if Compression.detect(head) != .none { return true }
        guard head.count == TarHeader.blockSize else { return false }
        return Array(head).withUnsafeBytes { block in
            TarHeader.isZeroBlock(block) || (try? TarHeader.parse(block)) != nil
        }
    }
}
