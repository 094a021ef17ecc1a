import Glibc

/// Opens directories inside a layer one component at a time with
/// O_NOFOLLOW, so no path the archive names can lead through a symbolic
/// link (to "/", to "../..") out of the layer. A component that is a
/// symlink or not a directory is refused, naming the entry.
struct DirectoryWalker {
    /// The layer's root directory; borrowed, never closed here.
    let rootFD: Int32

    /// Opens the directory `components` below the root; the caller owns the
    /// descriptor. With `create`, missing directories are made (0755, as
    /// Docker makes implicit parents); otherwise a missing one is an error.
    func open(_ components: ArraySlice<[UInt8]>, create: Bool, entry: String, role: String = "path") throws -> Int32 {
        var fd = try sysEntry("fcntl(F_DUPFD)", entry) { fcntl(rootFD, F_DUPFD_CLOEXEC, 0) }
        do {
            for index in components.indices {
                let next = try step(fd, cPath(components[index]), create: create, entry: entry) {
                    "the \(role)'s parent \"\(EntryPath.display(components[...index]))\""
                }
                closeFD(fd)
                fd = next
            }
            return fd
        } catch {
            closeFD(fd)
            throw error
        }
    }

    private func step(_ fd: Int32, _ name: [CChar], create: Bool, entry: String,
                      _ what: () -> String) throws -> Int32 {
        var created = false
        while true {
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next >= 0 {
                // umask must not narrow a directory moor made on its own.
                if created { try sysEntry("fchmod", entry) { fchmod(next, 0o755) } }
                return next
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case ENOENT where create && !created:
                let made = sysErrno { mkdirat(fd, name, 0o755) }
                if made != 0 && made != EEXIST { throw ImagesError.entryFailure("mkdirat", entry, errno: made) }
                created = true
            case ENOENT:
                throw ImagesError.badEntry(entry, "\(what()) does not exist in the layer")
            case ELOOP, ENOTDIR:
                throw refusal(fd, name, entry: entry, what)
            default:
                throw ImagesError.entryFailure("openat", entry, errno: code)
            }
        }
    }

    private func refusal(_ fd: Int32, _ name: [CChar], entry: String, _ what: () -> String) -> ImagesError {
        var info = stat()
        if fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
            return .badEntry(entry, "\(what()) is a symbolic link: refusing to write through it")
        }
        return .badEntry(entry, "\(what()) is not a directory")
    }
}
