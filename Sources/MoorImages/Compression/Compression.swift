/// The compression of an archive or layer stream, recognised by its first
/// bytes as Docker does (the name or media type is never trusted).
/// gzip, xz and zstd are decompressed; bzip2 is refused by name instead of
/// failing later with a confusing "bad header checksum".
enum Compression: Equatable {
    case none, gzip, bzip2, xz, zstd

    /// The longest magic number below.
    static let sniffLength = 6

    static func detect(_ prefix: some Collection<UInt8>) -> Compression {
        func starts(_ magic: [UInt8]) -> Bool { prefix.starts(with: magic) }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts([0x42, 0x5a, 0x68]) { return .bzip2 }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }

    /// A decoder for this compression; nil for an uncompressed stream.
    func makeDecompressor() throws -> (any StreamDecompressor)? {
        switch self {
        case .none: nil
        case .gzip: try GzipInflater()
        case .xz: try XzDecoder()
        case .zstd: try ZstdDecoder()
        case .bzip2:
            throw ImagesError.invalid("the archive is compressed with bzip2, which moor does not read "
                + "(send it uncompressed, or compressed with gzip, xz or zstd)")
        }
    }
}

/// A streaming decoder: compressed bytes in, any number of pieces of
/// output handed to `consume` per call; nothing is buffered beyond one
/// output block.
protocol StreamDecompressor: AnyObject {
    func decompress(_ input: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Checks the compressed stream ended where it may end (not truncated).
    func finish(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws
}
