/// Turns a header plus the records read before it (GNU long name and link,
/// PAX) into a `TarEntry`, checking each field is sane.
enum TarEntryBuilder {
    static func build(
        _ header: TarHeader, pending: (longName: [UInt8]?, longLink: [UInt8]?),
        pax: PaxRecords, maxSize: Int64
    ) throws -> TarEntry {
        let path = pax.values["path"] ?? pending.longName ?? header.name
        let name = displayPath(path)
        guard !path.isEmpty else { throw ImagesError.badEntry(header.displayName, "the entry has an empty name") }
        let link = pax.values["linkpath"] ?? pending.longLink ?? header.linkname
        guard !path.contains(0), !link.contains(0) else {
            throw ImagesError.badEntry(name, "the name or link target contains a NUL byte")
        }
        if pax.values.keys.contains(where: { $0.hasPrefix("GNU.sparse.") }) {
            throw ImagesError.badEntry(name, "sparse files are not supported")
        }
        let kind = try kind(header.typeflag, path: path, name: name)
        return TarEntry(
            path: path, kind: kind,
            mode: try mode(header.mode, name: name),
            uid: try id(pax.integer("uid", entry: name) ?? header.uid, "uid", name: name),
            gid: try id(pax.integer("gid", entry: name) ?? header.gid, "gid", name: name),
            size: kind == .file ? try size(pax.integer("size", entry: name) ?? header.size, max: maxSize, name: name) : 0,
            mtime: try pax.time("mtime", entry: name) ?? TarEntry.Time(seconds: header.mtime, nanoseconds: 0),
            atime: try pax.time("atime", entry: name),
            linkTarget: link,
            deviceMajor: header.deviceMajor, deviceMinor: header.deviceMinor,
            xattrs: pax.xattrs
        )
    }

    /// The entry type. Only hardlinks, symlinks, directories, FIFOs and
    /// devices are header-only; like Go's reader, their size field is ignored.
    private static func kind(_ typeflag: UInt8, path: [UInt8], name: String) throws -> TarEntry.Kind {
        switch typeflag {
        case 0, UInt8(ascii: "0"):
            // Pre-POSIX archives mark directories only by a trailing slash.
            return path.last == UInt8(ascii: "/") ? .directory : .file
        case UInt8(ascii: "7"): return .file
        case UInt8(ascii: "1"): return .hardlink
        case UInt8(ascii: "2"): return .symlink
        case UInt8(ascii: "3"): return .charDevice
        case UInt8(ascii: "4"): return .blockDevice
        case UInt8(ascii: "5"): return .directory
        case UInt8(ascii: "6"): return .fifo
        case UInt8(ascii: "S"): throw ImagesError.badEntry(name, "GNU sparse files are not supported")
        case UInt8(ascii: "D"): throw ImagesError.badEntry(name, "GNU incremental-backup directories are not supported")
        case UInt8(ascii: "M"), UInt8(ascii: "V"):
            throw ImagesError.badEntry(name, "multi-volume archives are not supported")
        default:
            let shown = typeflag >= 0x20 && typeflag < 0x7f ? "'\(Character(Unicode.Scalar(typeflag)))'" : "\(typeflag)"
            throw ImagesError.badEntry(name, "unsupported entry type \(shown)")
        }
    }

    private static func mode(_ value: Int64, name: String) throws -> UInt32 {
        guard value >= 0 else { throw ImagesError.badEntry(name, "negative mode \(value)") }
        return UInt32(truncatingIfNeeded: value) & 0o7777
    }

    /// uid_t is 32 bits and (uid_t)-1 means "leave unchanged" to chown.
    private static func id(_ value: Int64, _ field: String, name: String) throws -> UInt32 {
        guard value >= 0, value < Int64(UInt32.max) else {
            throw ImagesError.badEntry(name, "\(field) \(value) is out of range")
        }
        return UInt32(value)
    }

    private static func size(_ value: Int64, max: Int64, name: String) throws -> Int64 {
        guard value >= 0 else { throw ImagesError.badEntry(name, "negative size \(value)") }
        guard value <= max else {
            throw ImagesError.badEntry(name, "declares \(value) bytes, more than the import limit of \(max) bytes")
        }
        return value
    }
}
