import Glibc

/// Metadata writes that are never seen half-done: the bytes go to a
/// temporary file in `tmpDirectory` (on the target's filesystem), are
/// fsync'd, renamed over the target and the target's directory is fsync'd.
/// A crash leaves either the old file or the new one, plus at most a
/// temporary file `meta-*` that the directory's owner clears (the image
/// store's `sweepIncomplete()`; a container's directory goes with it).
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, tmpDirectory: String) throws {
        let temp = "\(tmpDirectory)/meta-\(FileIO.randomSuffix())"
        let fd = try sys("open", temp) { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        do {
            try bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, temp) }
            try sys("fsync", temp) { fsync(fd) }
            closeFD(fd)
            try sys("rename", "\(temp) -> \(path)") { rename(temp, path) }
        } catch {
            closeFD(fd)
            _ = unlink(temp)
            throw error
        }
        try FileIO.syncDirectory(directory(of: path))
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
