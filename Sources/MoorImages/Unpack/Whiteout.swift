import CLinuxFS
import Glibc

/// How a layer's whiteout entries are stored.
///
/// Docker and OCI layers mark deletions with files: `.wh.NAME` hides NAME of
/// the layers below, `.wh..wh..opq` in a directory hides everything the
/// layers below have in it. Each unpacked layer is an overlayfs lowerdir, so
/// `docker load` converts them at unpack time to overlayfs' own format, as
/// dockerd's overlay2 driver does: a 0/0 character device named NAME, and the
/// xattr trusted.overlay.opaque="y" on the directory. `docker import` makes a
/// single bottom layer, where there is nothing to hide: its files stay as
/// they are.
enum WhiteoutFormat: Sendable {
    case keep
    case overlay
}

/// What a layer entry means under `WhiteoutFormat.overlay`.
enum Whiteout: Equatable {
    /// `.wh..wh..opq`: the entry's directory is opaque.
    case opaque
    /// `.wh.NAME`: NAME is deleted.
    case hide([UInt8])
    /// AUFS metadata at the layer root (`.wh..wh.plnk/...`), which only
    /// aufs used; dockerd drops it too.
    case skip

    static let prefix = Array(".wh.".utf8)
    static let metaPrefix = Array(".wh..wh.".utf8)
    static let opaqueMarker = Array(".wh..wh..opq".utf8)
    static let opaqueXattr = "trusted.overlay.opaque"

    /// nil for an ordinary entry.
    static func classify(_ components: [[UInt8]], entry: String) throws -> Whiteout? {
        guard let leaf = components.last else { return nil }
        if let first = components.first, first.starts(with: metaPrefix), first != opaqueMarker || components.count > 1 {
            return .skip
        }
        guard leaf.starts(with: prefix) else { return nil }
        if leaf == opaqueMarker { return .opaque }
        let name = Array(leaf.dropFirst(prefix.count))
        guard !name.isEmpty, name != [UInt8(ascii: ".")], name != [UInt8(ascii: "."), UInt8(ascii: ".")] else {
            throw ImagesError.badEntry(entry, "a whiteout must name a file (\".wh.\" followed by a name)")
        }
        return .hide(name)
    }

    /// Marks the directory open as `fd` opaque for overlayfs.
    static func markOpaque(_ fd: Int32, entry: String) throws {
        let value: [UInt8] = [UInt8(ascii: "y")]
        let code = value.withUnsafeBytes { raw in
            sysErrno { fsetxattr(fd, opaqueXattr, raw.baseAddress, raw.count, 0) }
        }
        guard code == 0 else {
            throw ImagesError.failure("setxattr \(opaqueXattr) (an opaque directory needs a store on a "
                + "filesystem with trusted.* xattrs, and root)", "archive entry \"\(entry)\"", errno: code)
        }
    }

    /// Creates overlayfs' whiteout for `name` in `parent`: a character
    /// device 0/0, owned and dated as the archive's whiteout file was (so
    /// the same layer unpacks to the same tree every time).
    static func createDevice(_ parent: Int32, _ name: [CChar], for entry: TarEntry, changeOwner: Bool) throws {
        let code = sysErrno { mknodat(parent, name, S_IFCHR, 0) }
        guard code == 0 else {
            throw ImagesError.failure("mknod (an overlayfs whiteout needs root)", "archive entry \"\(entry.name)\"",
                                      errno: code)
        }
        if changeOwner {
            try sysEntry("fchownat", entry.name) { fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
        }
        let times = EntryMetadata.times(entry)
        try sysEntry("utimensat", entry.name) { utimensat(parent, name, times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Whether `info` describes an overlayfs whiteout.
    static func isDevice(_ info: stat) -> Bool {
        (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0
    }
}
