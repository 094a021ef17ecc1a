import Crypto

/// The path of an imported stream's bytes: compression sniffed from the
/// first bytes → gzip inflated if need be → counted against the size bound
/// → hashed (the diffID is the SHA-256 of the uncompressed tar, trailing
/// padding included, as Docker computes it) → parsed and unpacked. Nothing
/// is buffered beyond the current chunk.
final class ImportPipeline {
    private enum Stage {
        case sniffing([UInt8])
        case plain
        case gzip(GzipInflater)
    }

    private var stage = Stage.sniffing([])
    private var hasher = SHA256()
    private let parser: TarParser<LayerUnpacker>
    private let maxBytes: Int64
    private(set) var tarBytes: Int64 = 0

    init(unpacker: LayerUnpacker, maxBytes: Int64) {
        parser = TarParser(sink: unpacker, maxEntrySize: maxBytes)
        self.maxBytes = maxBytes
    }

    /// Takes the next chunk of the request body.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        switch stage {
        case var .sniffing(prefix):
            prefix.append(contentsOf: bytes)
            if prefix.count < Compression.sniffLength {
                stage = .sniffing(prefix)
                return
            }
            try begin(prefix)
        case .plain:
            try consumeTar(bytes)
        case let .gzip(inflater):
            try inflater.inflate(bytes) { try consumeTar($0) }
        }
    }

    /// Ends the stream: checks it was complete and returns the diffID
    /// ("sha256:<hex>").
    func finish() throws -> String {
        if case let .sniffing(prefix) = stage { try begin(prefix) }
        if case let .gzip(inflater) = stage { try inflater.finish() }
        try parser.finish()
        return "sha256:" + Hex.string(hasher.finalize())
    }

    private func begin(_ prefix: [UInt8]) throws {
        let compression = Compression.detect(prefix)
        switch compression {
        case .none:
            stage = .plain
        case .gzip:
            stage = .gzip(try GzipInflater())
        case .bzip2, .xz, .zstd:
            throw ImagesError.invalid("the archive is compressed with \(compression.name): not supported yet "
                + "(send it uncompressed or gzip-compressed)")
        }
        try prefix.withUnsafeBytes { try feed($0) }
    }

    private func consumeTar(_ bytes: UnsafeRawBufferPointer) throws {
        tarBytes += Int64(bytes.count)
        guard tarBytes <= maxBytes else {
            throw ImagesError.invalid("the uncompressed archive is larger than the import limit of \(maxBytes) bytes")
        }
        hasher.update(bufferPointer: bytes)
        try parser.feed(bytes)
    }
}
