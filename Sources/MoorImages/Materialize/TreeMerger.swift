import CLinuxFS
import Glibc

/// Builds the merged tree of an image's layers in one plain directory, the
/// view overlayfs would give, for the vfs storage driver (hosts without
/// overlayfs): layers are applied bottom-most first; a 0/0 character device
/// (overlayfs' whiteout) deletes what the layers below put at its path; a
/// directory marked trusted.overlay.opaque="y" drops what the layers below
/// put in it. Modes, owners, extended attributes (but trusted.overlay.*),
/// times, symlinks, hardlinks (within a layer), FIFOs and devices are kept.
///
/// Everything is done with descriptors, O_NOFOLLOW at every step: the
/// image's own symbolic links (an "/etc -> /" planted by a hostile image)
/// never lead a copy out of the target.
final class TreeMerger {
    private let targetFD: Int32
    private let target: String
    private let changeOwner = geteuid() == 0
    /// Directory times to set at the end (deepest last written wins), by path.
    private var directoryTimes = [[UInt8]: [timespec]]()
    /// Files of the current layer with several links: (device, inode) → the
    /// path of the first copy, so the others are linked to it.
    private var hardlinks = [HardlinkKey: [UInt8]]()

    private struct HardlinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// `target` must be an empty directory open as `targetFD` (borrowed).
    init(targetFD: Int32, target: String) {
        self.targetFD = targetFD
        self.target = target
    }

    /// Applies one layer's diff directory.
    func apply(layer diff: String) throws {
        hardlinks.removeAll()
        let sourceFD = try sys("open", diff) { open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { closeFD(sourceFD) }
        var info = stat()
        try sys("fstat", diff) { fstat(sourceFD, &info) }
        try applyMetadata(sourceFD: sourceFD, targetFD: targetFD, info, path: [], subject: diff)
        try merge(sourceFD: sourceFD, targetFD: targetFD, path: [], layer: diff)
    }

    /// Sets the directories' times, once every layer is in.
    func finish() throws {
        for (path, times) in directoryTimes.sorted(by: { $0.key.count > $1.key.count }) {
            let components = path.split(separator: UInt8(ascii: "/")).map(Array.init)
            guard let leaf = components.last else {
                _ = sysErrno { futimens(targetFD, times) }
                continue
            }
            guard let parent = try? DirectoryWalker(rootFD: targetFD).open(components.dropLast()[...], create: false,
                                                                             entry: displayPath(path)) else { continue }
            _ = sysErrno { utimensat(parent, cPath(leaf), times, AT_SYMLINK_NOFOLLOW) }
            closeFD(parent)
        }
    }

    private func merge(sourceFD: Int32, targetFD: Int32, path: [UInt8], layer: String) throws {
        for name in try RemoveTree.names(in: sourceFD, subject: layer + "/" + displayPath(path)) {
            let childPath = path.isEmpty ? Array(name.dropLast().map { UInt8(bitPattern: $0) })
                : path + [UInt8(ascii: "/")] + name.dropLast().map { UInt8(bitPattern: $0) }
            let subject = layer + "/" + displayPath(childPath)
            var info = stat()
            try sys("fstatat", subject) { fstatat(sourceFD, name, &info, AT_SYMLINK_NOFOLLOW) }
            if Whiteout.isDevice(info) {
                try RemoveTree.remove(parentFD: targetFD, name: name, subject: target + "/" + displayPath(childPath))
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try mergeDirectory(name, info, sourceFD: sourceFD, targetFD: targetFD, path: childPath, layer: layer)
            } else {
                try RemoveTree.remove(parentFD: targetFD, name: name, subject: target + "/" + displayPath(childPath))
                try copyEntry(name, info, sourceFD: sourceFD, targetFD: targetFD, path: childPath, subject: subject)
            }
        }
    }

    private func mergeDirectory(_ name: [CChar], _ info: stat, sourceFD: Int32, targetFD: Int32,
                                path: [UInt8], layer: String) throws {
        let subject = layer + "/" + displayPath(path)
        let source = try sys("openat", subject) { openat(sourceFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { closeFD(source) }
        var existing = stat()
        let found = sysErrno { fstatat(targetFD, name, &existing, AT_SYMLINK_NOFOLLOW) } == 0
        if found && (existing.st_mode & S_IFMT) != S_IFDIR {
            try RemoveTree.remove(parentFD: targetFD, name: name, subject: target + "/" + displayPath(path))
        }
        if !found || (existing.st_mode & S_IFMT) != S_IFDIR {
            try sys("mkdirat", target + "/" + displayPath(path)) { mkdirat(targetFD, name, 0o700) }
        }
        let child = try sys("openat", target + "/" + displayPath(path)) {
            openat(targetFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        defer { closeFD(child) }
        if found && Self.isOpaque(source) {
            try RemoveTree.removeContents(of: child, subject: target + "/" + displayPath(path))
        }
        try applyMetadata(sourceFD: source, targetFD: child, info, path: path, subject: subject)
        try merge(sourceFD: source, targetFD: child, path: path, layer: layer)
    }

    private static func isOpaque(_ fd: Int32) -> Bool {
        var value = [UInt8](repeating: 0, count: 8)
        let count = value.withUnsafeMutableBytes { fgetxattr(fd, Whiteout.opaqueXattr, $0.baseAddress, $0.count) }
        return count == 1 && value[0] == UInt8(ascii: "y")
    }

    /// A directory's owner, mode and xattrs now; its times at the end.
    private func applyMetadata(sourceFD: Int32, targetFD: Int32, _ info: stat, path: [UInt8], subject: String) throws {
        if changeOwner { try sys("fchown", subject) { fchown(targetFD, info.st_uid, info.st_gid) } }
        try sys("fchmod", subject) { fchmod(targetFD, info.st_mode & 0o7777) }
        try XattrCopy.copy(from: .descriptor(sourceFD), to: .descriptor(targetFD), subject: subject)
        directoryTimes[path] = [info.st_atim, info.st_mtim]
    }

    private func copyEntry(_ name: [CChar], _ info: stat, sourceFD: Int32, targetFD: Int32,
                           path: [UInt8], subject: String) throws {
        let type = info.st_mode & S_IFMT
        let key = HardlinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if type != S_IFDIR && info.st_nlink > 1, let first = hardlinks[key] {
            // From the tree's root by its raw bytes: a name that is not
            // UTF-8 must reach the same file.
            try sys("linkat", subject) { linkat(self.targetFD, cPath(first), targetFD, name, 0) }
            return
        }
        switch type {
        case S_IFREG:
            try FileCopy.copy(name, sourceFD: sourceFD, targetFD: targetFD, subject: subject)
        case S_IFLNK:
            let link = try FileCopy.readLink(name, in: sourceFD, subject: subject)
            try sys("symlinkat", subject) { symlinkat(link, targetFD, name) }
        case S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK:
            try sys("mknodat", subject) { mknodat(targetFD, name, type | 0o600, info.st_rdev) }
        default:
            throw ImagesError.system("\(subject): unknown file type \(type)", errno: 0)
        }
        try FileCopy.applyMetadata(name, info, sourceFD: sourceFD, targetFD: targetFD,
                                   changeOwner: changeOwner, subject: subject)
        if info.st_nlink > 1 { hardlinks[key] = path }
    }
}
