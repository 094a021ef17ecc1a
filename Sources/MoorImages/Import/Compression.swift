/// The compression of an imported stream, recognised by its first bytes as
/// Docker does. Only gzip is decompressed for now; the others get a clear
/// refusal instead of a confusing "bad header checksum".
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

    var name: String {
        switch self {
        case .none: "uncompressed"
        case .gzip: "gzip"
        case .bzip2: "bzip2"
        case .xz: "xz"
        case .zstd: "zstd"
        }
    }
}
