/// Builds tar archives in memory for the tests, including the malformed
/// and hostile ones no tar tool writes: raw names, any type flag, broken
/// checksums, PAX and GNU long-name records, base-256 numbers.
struct TarWriter {
    private(set) var bytes: [UInt8] = []

    struct Header {
        var name: [UInt8]
        var mode: Int64 = 0o644
        var uid: Int64 = 0
        var gid: Int64 = 0
        var size: Int64 = 0
        var mtime: Int64 = 1_700_000_000
        var typeflag: UInt8 = UInt8(ascii: "0")
        var linkname: [UInt8] = []
        var deviceMajor: Int64 = 0
        var deviceMinor: Int64 = 0
        /// POSIX ustar prefix (joined with "/" to the name).
        var prefix: [UInt8] = []
        /// GNU's "ustar  " magic instead of POSIX "ustar\000".
        var gnuMagic = false
        /// Size written in GNU base-256.
        var base256Size = false
        var corruptChecksum = false

        init(_ name: String, typeflag: Character = "0") {
            self.name = Array(name.utf8)
            self.typeflag = UInt8(ascii: typeflag.unicodeScalars.first ?? "0")
        }
    }

    mutating func header(_ header: Header) {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ value: [UInt8], at offset: Int, width: Int) {
            for (index, byte) in value.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8),
                at: offset, width: width - 1)
        }
        put(header.name, at: 0, width: 100)
        octal(header.mode, at: 100, width: 8)
        octal(header.uid, at: 108, width: 8)
        octal(header.gid, at: 116, width: 8)
        if header.base256Size {
            block[124] = 0x80
            for index in 0..<8 { block[135 - index] = UInt8(truncatingIfNeeded: header.size >> (8 * Int64(index))) }
        } else {
            octal(header.size, at: 124, width: 12)
        }
        octal(header.mtime, at: 136, width: 12)
        block[156] = header.typeflag
        put(header.linkname, at: 157, width: 100)
        put(header.gnuMagic ? Array("ustar  ".utf8) + [0] : Array("ustar".utf8) + [0, 0x30, 0x30], at: 257, width: 8)
        put(Array("root".utf8), at: 265, width: 32)
        put(Array("root".utf8), at: 297, width: 32)
        octal(header.deviceMajor, at: 329, width: 8)
        octal(header.deviceMinor, at: 337, width: 8)
        put(header.prefix, at: 345, width: 155)
        for index in 148..<156 { block[index] = 0x20 }
        var sum = block.reduce(0) { $0 + Int64($1) }
        if header.corruptChecksum { sum += 1 }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits).utf8) + [0, 0x20], at: 148, width: 8)
        bytes += block
    }

    /// Content and its padding to a whole block.
    mutating func data(_ content: [UInt8]) {
        bytes += content
        let remainder = content.count % 512
        if remainder != 0 { bytes += [UInt8](repeating: 0, count: 512 - remainder) }
    }

    mutating func file(_ name: String, _ content: String = "", mode: Int64 = 0o644,
                       uid: Int64 = 0, gid: Int64 = 0, mtime: Int64 = 1_700_000_000) {
        file(name, Array(content.utf8), mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    mutating func file(_ name: String, _ content: [UInt8], mode: Int64 = 0o644,
                       uid: Int64 = 0, gid: Int64 = 0, mtime: Int64 = 1_700_000_000) {
        var entry = Header(name)
        entry.size = Int64(content.count)
        entry.mode = mode
        entry.uid = uid
        entry.gid = gid
        entry.mtime = mtime
        header(entry)
        data(content)
    }

    mutating func directory(_ name: String, mode: Int64 = 0o755, mtime: Int64 = 1_700_000_000) {
        var entry = Header(name, typeflag: "5")
        entry.mode = mode
        entry.mtime = mtime
        header(entry)
    }

    mutating func symlink(_ name: String, to target: String) {
        var entry = Header(name, typeflag: "2")
        entry.mode = 0o777
        entry.linkname = Array(target.utf8)
        header(entry)
    }

    mutating func hardlink(_ name: String, to target: String) {
        var entry = Header(name, typeflag: "1")
        entry.linkname = Array(target.utf8)
        header(entry)
    }

    mutating func device(_ name: String, block: Bool = false, major: Int64, minor: Int64) {
        var entry = Header(name, typeflag: block ? "4" : "3")
        entry.deviceMajor = major
        entry.deviceMinor = minor
        header(entry)
    }

    mutating func fifo(_ name: String, mode: Int64 = 0o600) {
        var entry = Header(name, typeflag: "6")
        entry.mode = mode
        header(entry)
    }

    /// A PAX header ('x', or 'g' when global) with these records.
    mutating func pax(_ records: [(String, String)], global: Bool = false) {
        var body = [UInt8]()
        for (key, value) in records {
            let text = " \(key)=\(value)\n"
            var length = text.utf8.count + 1
            while String(length).count + text.utf8.count != length { length += 1 }
            body += Array("\(length)\(text)".utf8)
        }
        var entry = Header(global ? "pax_global_header" : "PaxHeaders/entry", typeflag: global ? "g" : "x")
        entry.size = Int64(body.count)
        header(entry)
        data(body)
    }

    /// A GNU long name ('L') or long link ('K') record.
    mutating func gnuLong(_ value: String, link: Bool = false) {
        let body = Array(value.utf8) + [0]
        var entry = Header("././@LongLink", typeflag: link ? "K" : "L")
        entry.size = Int64(body.count)
        entry.gnuMagic = true
        header(entry)
        data(body)
    }

    /// The end-of-archive marker: two zero blocks.
    mutating func end() {
        bytes += [UInt8](repeating: 0, count: 1024)
    }

    mutating func append(raw: [UInt8]) {
        bytes += raw
    }
}
