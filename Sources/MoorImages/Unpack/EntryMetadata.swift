import CLinuxFS
import Glibc
import Logging

/// Applies an entry's owner, mode, extended attributes and times to what
/// was just created. Owner before mode (chown clears setuid bits), xattrs
/// after both (chown drops security.capability), times last.
struct EntryMetadata {
    /// Without CAP_CHOWN (not root) owners are left as they are.
    let changeOwner: Bool
    let logger: Logger

    /// The [atime, mtime] pair for futimens/utimensat.
    static func times(_ entry: TarEntry) -> [timespec] {
        let mtime = timespec(tv_sec: Int(entry.mtime.seconds), tv_nsec: Int(entry.mtime.nanoseconds))
        let atime = entry.atime.map { timespec(tv_sec: Int($0.seconds), tv_nsec: Int($0.nanoseconds)) } ?? mtime
        return [atime, mtime]
    }

    /// For a file or directory open as `fd`. Directory times are applied
    /// later by the caller, after their content is written.
    func apply(fd: Int32, _ entry: TarEntry, times: Bool) throws -> Int {
        if changeOwner { try sysEntry("fchown", entry.name) { fchown(fd, entry.uid, entry.gid) } }
        try sysEntry("fchmod", entry.name) { fchmod(fd, entry.mode) }
        let skipped = try setXattrs(entry) { name, value, size in fsetxattr(fd, name, value, size, 0) }
        if times {
            let stamps = Self.times(entry)
            try sysEntry("futimens", entry.name) { futimens(fd, stamps) }
        }
        return skipped
    }

    /// For a symlink or FIFO named `leaf` in `parentFD`, never following it.
    func apply(parentFD: Int32, leaf: [CChar], _ entry: TarEntry) throws -> Int {
        if changeOwner {
            try sysEntry("fchownat", entry.name) { fchownat(parentFD, leaf, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
        }
        if entry.kind != .symlink {
            try sysEntry("fchmodat", entry.name) { fchmodat(parentFD, leaf, entry.mode, 0) }
        }
        // No *at form of lsetxattr: reach the entry through its parent's fd.
        let path = Array("/proc/self/fd/\(parentFD)/".utf8CString.dropLast()) + leaf
        let skipped = try setXattrs(entry) { name, value, size in lsetxattr(path, name, value, size, 0) }
        let stamps = Self.times(entry)
        try sysEntry("utimensat", entry.name) { utimensat(parentFD, leaf, stamps, AT_SYMLINK_NOFOLLOW) }
        return skipped
    }

    /// Best effort for what the store's filesystem or privileges may refuse
    /// (security.*, trusted.*, unsupported namespaces); other failures are
    /// errors. Returns how many were skipped.
    private func setXattrs(
        _ entry: TarEntry, _ set: (String, UnsafeRawPointer?, Int) -> Int32
    ) throws -> Int {
        var skipped = 0
        for (name, value) in entry.xattrs {
            // overlayfs reads these from its layers (opaque, redirect,
            // metacopy...): an archive must not decide what overlayfs shows.
            if name.hasPrefix("trusted.overlay.") {
                logger.debug("unpack: overlayfs attribute from the archive dropped", metadata: [
                    "entry": "\(entry.name)", "xattr": "\(name)",
                ])
                skipped += 1
                continue
            }
            let code = value.withUnsafeBytes { raw in sysErrno { set(name, raw.baseAddress, raw.count) } }
            if code == 0 { continue }
            let privileged = name.hasPrefix("security.") || name.hasPrefix("trusted.")
            guard privileged || code == EOPNOTSUPP || code == EPERM else {
                throw ImagesError.entryFailure("setxattr \(name)", entry.name, errno: code)
            }
            logger.debug("import: extended attribute not set", metadata: [
                "entry": "\(entry.name)", "xattr": "\(name)", "error": "\(ImagesError.errnoText(code))",
            ])
            skipped += 1
        }
        return skipped
    }
}
