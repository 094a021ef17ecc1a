import Glibc

/// Recursive removal that never follows a symbolic link: every directory is
/// opened with O_NOFOLLOW relative to its parent's descriptor, so a layer's
/// hostile symlinks cannot redirect the removal outside it.
enum RemoveTree {
    /// Removes `name` under the directory `parentFD` (anything: file, link,
    /// directory tree). A missing entry is not an error.
    static func remove(parentFD: Int32, name: [CChar], subject: String) throws {
        var info = stat()
        let code = sysErrno { fstatat(parentFD, name, &info, AT_SYMLINK_NOFOLLOW) }
        if code == ENOENT { return }
        if code != 0 { throw ImagesError.failure("fstatat", subject, errno: code) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try removeContents(parentFD: parentFD, name: name, subject: subject)
            try sys("unlinkat", subject) { unlinkat(parentFD, name, AT_REMOVEDIR) }
        } else {
            try sys("unlinkat", subject) { unlinkat(parentFD, name, 0) }
        }
    }

    /// Removes a whole tree given by absolute path.
    static func remove(path: String) throws {
        let parent = AtomicFile.directory(of: path)
        let base = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
        let fd = try sys("open", parent) { open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { closeFD(fd) }
        try remove(parentFD: fd, name: Array(base.utf8CString), subject: path)
    }

    /// Empties a directory. Names are read first and the directory stream
    /// closed before descending, so only one descriptor per level is open.
    private static func removeContents(parentFD: Int32, name: [CChar], subject: String) throws {
        let fd = try sys("openat", subject) {
            openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        defer { closeFD(fd) }
        try removeContents(of: fd, subject: subject)
    }

    /// Empties the directory open as `fd` (an opaque directory's lower
    /// content in a merged copy).
    static func removeContents(of fd: Int32, subject: String) throws {
        for child in try names(in: fd, subject: subject) {
            try remove(parentFD: fd, name: child, subject: subject)
        }
    }

    /// The names in the directory open as `fd`, without "." and "..", each
    /// NUL-terminated for the *at calls.
    static func names(in fd: Int32, subject: String) throws -> [[CChar]] {
        // fdopendir takes ownership of its descriptor; give it a duplicate.
        let streamFD = try sys("dup", subject) { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        guard let dir = fdopendir(streamFD) else {
            closeFD(streamFD)
            throw ImagesError.failure("fdopendir", subject)
        }
        defer { closedir(dir) }
        var result = [[CChar]]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
            }
            if name == [46, 0] || name == [46, 46, 0] { continue }
            result.append(name)
        }
        return result
    }
}
