/// A 512-byte tar header block decoded field by field (POSIX ustar, GNU and
/// old V7 layouts), before PAX or GNU long-name records are applied.
struct TarHeader {
    static let blockSize = 512

    var name: [UInt8]
    var mode: Int64
    var uid: Int64
    var gid: Int64
    var size: Int64
    var mtime: Int64
    var typeflag: UInt8
    var linkname: [UInt8]
    var deviceMajor: Int64
    var deviceMinor: Int64

    /// The name as text, for messages.
    var displayName: String { displayPath(name) }

    /// An all-zero block marks the end of the archive.
    static func isZeroBlock(_ block: UnsafeRawBufferPointer) -> Bool {
        block.allSatisfy { $0 == 0 }
    }

    /// Decodes a header block; a bad checksum or a non-numeric field is an
    /// error naming the entry as far as its name field can be read.
    static func parse(_ block: UnsafeRawBufferPointer) throws -> TarHeader {
        let name = entryName(block)
        let shown = displayPath(name)
        try verifyChecksum(block, name: shown)
        func number(_ range: Range<Int>, _ field: String) throws -> Int64 {
            guard let value = TarNumber.parse(UnsafeRawBufferPointer(rebasing: block[range])) else {
                throw ImagesError.badEntry(shown, "header field \(field) is not a number (corrupt archive?)")
            }
            return value
        }
        return TarHeader(
            name: name,
            mode: try number(100..<108, "mode"),
            uid: try number(108..<116, "uid"),
            gid: try number(116..<124, "gid"),
            size: try number(124..<136, "size"),
            mtime: try number(136..<148, "mtime"),
            typeflag: block[156],
            linkname: cString(block, 157..<257),
            deviceMajor: isDevice(block[156]) ? try number(329..<337, "devmajor") : 0,
            deviceMinor: isDevice(block[156]) ? try number(337..<345, "devminor") : 0
        )
    }

    private static func isDevice(_ typeflag: UInt8) -> Bool {
        typeflag == UInt8(ascii: "3") || typeflag == UInt8(ascii: "4")
    }

    /// POSIX ustar splits long names into prefix + "/" + name; GNU headers
    /// use the prefix area for other fields, so only "ustar\0" has one.
    private static func entryName(_ block: UnsafeRawBufferPointer) -> [UInt8] {
        let name = cString(block, 0..<100)
        let posixMagic: [UInt8] = Array("ustar".utf8) + [0]
        guard block[257..<263].elementsEqual(posixMagic) else { return name }
        let prefix = cString(block, 345..<500)
        return prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
    }

    /// A text field: its bytes up to the first NUL.
    private static func cString(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        Array(block[range].prefix { $0 != 0 })
    }

    /// The checksum is the sum of the header's bytes with the checksum field
    /// read as spaces; some old writers summed signed bytes, so both count.
    private static func verifyChecksum(_ block: UnsafeRawBufferPointer, name: String) throws {
        guard let stored = TarNumber.parse(UnsafeRawBufferPointer(rebasing: block[148..<156])) else {
            throw ImagesError.badEntry(name, "header checksum field is not a number (corrupt archive?)")
        }
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (index, byte) in block.enumerated() {
            let value = (148..<156).contains(index) ? 0x20 : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        guard stored == unsigned || stored == signed else {
            throw ImagesError.badEntry(name, "header checksum mismatch (corrupt archive?)")
        }
    }
}
