import Crypto

/// The path of a layer stream's bytes: compression sniffed from the first
/// bytes and decoded (`DecodingStream`) → counted against the size bound →
/// hashed (the diffID is the SHA-256 of the uncompressed tar, trailing
/// padding included, as Docker computes it) → parsed and unpacked. Nothing
/// is buffered beyond the current chunk.
final class ImportPipeline {
    private let decoding = DecodingStream()
    private var hasher = SHA256()
    private let parser: TarParser<LayerUnpacker>
    private let maxBytes: Int64
    private(set) var tarBytes: Int64 = 0

    init(unpacker: LayerUnpacker, maxBytes: Int64, recorder: TarSplitRecorder? = nil) {
        parser = TarParser(sink: unpacker, maxEntrySize: maxBytes)
        parser.recorder = recorder
        self.maxBytes = maxBytes
    }

    /// Takes the next chunk of the (maybe compressed) stream.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        try decoding.feed(bytes) { try consumeTar($0) }
    }

    /// Ends the stream: checks it was complete and returns the diffID
    /// ("sha256:<hex>").
    func finish() throws -> String {
        try decoding.finish(openEntry: { parser.openEntry }) { try consumeTar($0) }
        try parser.finish()
        return "sha256:" + Hex.string(hasher.finalize())
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
