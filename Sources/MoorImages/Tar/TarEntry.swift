/// One member of a tar archive, after long-name and PAX records have been
/// applied. Paths stay raw bytes: a layer's file names need not be UTF-8.
struct TarEntry {
    enum Kind: Equatable {
        case file, directory, symlink, hardlink, fifo
        case charDevice, blockDevice
    }

    /// A point in time with nanoseconds, as PAX records carry them.
    struct Time: Equatable {
        var seconds: Int64
        var nanoseconds: Int32
    }

    var path: [UInt8]
    var kind: Kind
    /// Permission bits with setuid, setgid and sticky (07777).
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    /// Bytes of content that follow the header (regular files only).
    var size: Int64
    var mtime: Time
    var atime: Time?
    var linkTarget: [UInt8]
    var deviceMajor: Int64
    var deviceMinor: Int64
    /// From PAX `SCHILY.xattr.<name>` records.
    var xattrs: [(name: String, value: [UInt8])]

    /// The path as text, for messages.
    var name: String { displayPath(path) }
}
