/// Header blocks for the archives moor writes (`docker save`): POSIX ustar,
/// with GNU base-256 for a size too large for the 11 octal digits (8 GiB),
/// which Go's archive/tar (dockerd's reader) reads.
enum TarBuilder {
    enum Kind {
        case file, directory

        var typeflag: UInt8 { self == .file ? UInt8(ascii: "0") : UInt8(ascii: "5") }
    }

    /// A header for `name` (at most 100 bytes: moor's archive paths are
    /// "blobs/sha256/<hex>" and a few fixed names).
    static func header(name: String, kind: Kind, size: Int64 = 0, mtime: Int64 = 0) throws -> [UInt8] {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 100 else {
            throw ImagesError.system("tar: name \"\(name)\" is longer than 100 bytes", errno: 0)
        }
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        put(nameBytes, into: &block, at: 0)
        octal(kind == .file ? 0o644 : 0o755, into: &block, at: 100, width: 8)
        octal(0, into: &block, at: 108, width: 8)
        octal(0, into: &block, at: 116, width: 8)
        if size < 0o77777777777 {
            octal(size, into: &block, at: 124, width: 12)
        } else {
            base256(size, into: &block, at: 124, width: 12)
        }
        octal(mtime, into: &block, at: 136, width: 12)
        block[156] = kind.typeflag
        put(Array("ustar".utf8) + [0] + Array("00".utf8), into: &block, at: 257)
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int64($1) }
        octal(sum, into: &block, at: 148, width: 7)
        block[155] = 0x20
        return block
    }

    /// Zero bytes completing `size` bytes of content to whole blocks.
    static func padding(_ size: Int64) -> [UInt8] {
        let remainder = Int(size % Int64(TarHeader.blockSize))
        return remainder == 0 ? [] : [UInt8](repeating: 0, count: TarHeader.blockSize - remainder)
    }

    /// The end-of-archive marker: two zero blocks.
    static let end = [UInt8](repeating: 0, count: 2 * TarHeader.blockSize)

    private static func put(_ bytes: [UInt8], into block: inout [UInt8], at offset: Int) {
        for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
    }

    /// Zero-padded octal digits filling `width - 1` bytes, then a NUL.
    private static func octal(_ value: Int64, into block: inout [UInt8], at offset: Int, width: Int) {
        let digits = Array(String(value, radix: 8).utf8)
        let padded = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits
        put(Array(padded.suffix(width - 1)), into: &block, at: offset)
    }

    /// Big-endian in the bytes after the first, whose high bit flags the form.
    private static func base256(_ value: Int64, into block: inout [UInt8], at offset: Int, width: Int) {
        var remaining = UInt64(value)
        for index in stride(from: width - 1, to: 0, by: -1) {
            block[offset + index] = UInt8(truncatingIfNeeded: remaining)
            remaining >>= 8
        }
        block[offset] = 0x80
    }
}
