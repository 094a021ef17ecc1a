/// Bytes as they arrive → the uncompressed stream: the compression is
/// sniffed from the first bytes, then every chunk goes through its decoder
/// (or straight through when the stream is plain). Used for `docker import`
/// bodies, `docker load` archives and each layer inside them.
final class DecodingStream {
    private enum Stage {
        case sniffing([UInt8])
        case plain
        case decoding(any StreamDecompressor)
    }

    private var stage = Stage.sniffing([])
    /// Known once the first bytes have been seen.
    private(set) var compression: Compression?

    /// Takes the next chunk; uncompressed bytes go to `consume`.
    func feed(_ bytes: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch stage {
        case var .sniffing(prefix):
            prefix.append(contentsOf: bytes)
            if prefix.count < Compression.sniffLength {
                stage = .sniffing(prefix)
                return
            }
            try begin(prefix, consume)
        case .plain:
            try consume(bytes)
        case let .decoding(decoder):
            try decoder.decompress(bytes, consume)
        }
    }

    /// Ends the stream: a stream shorter than any magic number is taken as
    /// plain; a compressed one must be complete. `openEntry` is the tar
    /// entry the data stopped in, which an error then names.
    func finish(openEntry: () -> String?, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        if case let .sniffing(prefix) = stage { try begin(prefix, consume) }
        guard case let .decoding(decoder) = stage else { return }
        do {
            try decoder.finish(consume)
        } catch let error as ImagesError {
            guard let entry = openEntry() else { throw error }
            throw error.prefixed("archive entry \"\(entry)\": ")
        }
    }

    private func begin(_ prefix: [UInt8], _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let detected = Compression.detect(prefix)
        compression = detected
        if let decoder = try detected.makeDecompressor() {
            stage = .decoding(decoder)
        } else {
            stage = .plain
        }
        try prefix.withUnsafeBytes { try feed($0, consume) }
    }
}
