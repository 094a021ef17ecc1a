import CLinuxFS
import Glibc

/// Copies of single entries for `TreeMerger`, always relative to open
/// directories and never through a symbolic link.
enum FileCopy {
    private static let bufferSize = 1 << 20

    /// A regular file's content, into a new file of the same name.
    static func copy(_ name: [CChar], sourceFD: Int32, targetFD: Int32, subject: String) throws {
        let source = try sys("openat", subject) { openat(sourceFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        defer { closeFD(source) }
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let copy = try sys("openat", subject) { openat(targetFD, name, flags, 0o600) }
        defer { closeFD(copy) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try sys("read", subject) { read(source, buffer.baseAddress, buffer.count) }
            if count == 0 { return }
            try FileIO.writeAll(copy, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), subject)
        }
    }

    static func readLink(_ name: [CChar], in fd: Int32, subject: String) throws -> [CChar] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try sys("readlinkat", subject) { readlinkat(fd, name, &buffer, buffer.count - 1) }
        return Array(buffer[0..<count]) + [0]
    }

    /// Owner, mode (not for symlinks), xattrs and times of the copy of
    /// `name`, from the source's `info`. Owner first (chown clears setuid),
    /// xattrs after it (chown drops security.capability), times last.
    static func applyMetadata(_ name: [CChar], _ info: stat, sourceFD: Int32, targetFD: Int32,
                              changeOwner: Bool, subject: String) throws {
        if changeOwner {
            try sys("fchownat", subject) { fchownat(targetFD, name, info.st_uid, info.st_gid, AT_SYMLINK_NOFOLLOW) }
        }
        let isLink = (info.st_mode & S_IFMT) == S_IFLNK
        if !isLink {
            try sys("fchmodat", subject) { fchmodat(targetFD, name, info.st_mode & 0o7777, 0) }
        }
        try XattrCopy.copy(from: .entry(sourceFD, name), to: .entry(targetFD, name), subject: subject)
        let times = [info.st_atim, info.st_mtim]
        try sys("utimensat", subject) { utimensat(targetFD, name, times, AT_SYMLINK_NOFOLLOW) }
    }
}

/// Extended attributes from one file to another, but trusted.overlay.*
/// (overlayfs' own, which in a plain directory would mean nothing).
/// What the target's filesystem or privileges refuse in the security.* and
/// trusted.* namespaces is skipped, as when unpacking.
enum XattrCopy {
    enum Place {
        /// An open file or directory.
        case descriptor(Int32)
        /// An entry of a directory, not followed if it is a symbolic link.
        case entry(Int32, [CChar])

        /// The entry's path through /proc (no *at form of the l*xattr calls).
        var path: [CChar] {
            guard case let .entry(fd, name) = self else { return [] }
            return Array("/proc/self/fd/\(fd)/".utf8CString.dropLast()) + name
        }
    }

    static func copy(from source: Place, to target: Place, subject: String) throws {
        for name in try names(source, subject: subject) where !name.hasPrefix("trusted.overlay.") {
            guard let value = try value(source, name, subject: subject) else { continue }
            let code = value.withUnsafeBytes { raw in
                sysErrno {
                    switch target {
                    case let .descriptor(fd): fsetxattr(fd, name, raw.baseAddress, raw.count, 0)
                    case .entry: lsetxattr(target.path, name, raw.baseAddress, raw.count, 0)
                    }
                }
            }
            if code == 0 || code == EOPNOTSUPP || code == EPERM || name.hasPrefix("security.") || name.hasPrefix("trusted.") {
                continue
            }
            throw ImagesError.failure("setxattr \(name)", subject, errno: code)
        }
    }

    private static func names(_ place: Place, subject: String) throws -> [String] {
        // Most entries have none: ask for the size before filling a buffer.
        let needed: Int
        switch place {
        case let .descriptor(fd): needed = flistxattr(fd, nil, 0)
        case .entry: needed = llistxattr(place.path, nil, 0)
        }
        if needed == 0 || (needed < 0 && errno == EOPNOTSUPP) { return [] }
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        let count: Int
        switch place {
        case let .descriptor(fd): count = flistxattr(fd, &buffer, buffer.count)
        case .entry: count = llistxattr(place.path, &buffer, buffer.count)
        }
        if count < 0 {
            if errno == EOPNOTSUPP { return [] }
            throw ImagesError.failure("listxattr", subject)
        }
        return buffer[0..<count].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    private static func value(_ place: Place, _ name: String, subject: String) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count: Int = buffer.withUnsafeMutableBytes { raw in
            switch place {
            case let .descriptor(fd): fgetxattr(fd, name, raw.baseAddress, raw.count)
            case .entry: lgetxattr(place.path, name, raw.baseAddress, raw.count)
            }
        }
        if count < 0 {
            // Gone or unreadable in between: nothing to copy.
            if errno == ENODATA || errno == EOPNOTSUPP { return nil }
            throw ImagesError.failure("getxattr \(name)", subject)
        }
        return Array(buffer[0..<count])
    }
}
