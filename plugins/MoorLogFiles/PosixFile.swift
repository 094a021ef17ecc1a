#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MoorPluginKit

/// One open file descriptor, owned by a single writer or reader and never
/// shared across tasks. Every call retries EINTR and throws
/// `LogDriverError.storage` naming the call and the path, so a failed log
/// write tells the operator which file and why.
public final class PosixFile {
    /// The path the file was opened by, for messages.
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit {
        if fd >= 0 { _ = posixClose(fd) }
    }

    /// Opens `path`; O_CLOEXEC is always added so the shims and other
    /// children the daemon spawns never inherit log files.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws -> PosixFile {
        let fd = try retrying("open", path) { posixOpen(path, flags | O_CLOEXEC, mode) }
        return PosixFile(path: path, fd: fd)
    }

    /// Opens `path` for reading, or returns nil when it does not exist
    /// (a rotated file removed by the writer while a reader lists them).
    public static func openIfPresent(_ path: String) throws -> PosixFile? {
        while true {
            let fd = posixOpen(path, O_RDONLY | O_CLOEXEC, 0)
            if fd >= 0 { return PosixFile(path: path, fd: fd) }
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw storageError("open", path)
        }
    }

    /// Closes the descriptor now rather than when the object goes: before
    /// a rename over the file, or when the owner is done with it.
    public func close() {
        if fd >= 0 { _ = posixClose(fd) }
        fd = -1
    }

    func size() throws -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PosixFile.storageError("fstat", path) }
        return Int64(info.st_size)
    }

    /// Writes all of `bytes` at the file's write position (the end, for
    /// files opened with O_APPEND).
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes all of `buffer`, as `write(_:)` does an array: for output
    /// produced in a reused buffer (the gzip compressor's).
    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            done += try PosixFile.retrying("write", path) {
                posixWrite(fd, UnsafeRawBufferPointer(rebasing: buffer[done...]))
            }
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of file.
    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let done = try out.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        out.removeLast(count - done)
        return out
    }

    /// Fills `buffer` with the bytes at `offset` and returns how many it
    /// read, fewer only at the end of file: for the gzip code, which reuses
    /// one buffer per file rather than allocating per chunk.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = try PosixFile.retrying("pread", path) {
                posixRead(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Flushes the file's data (not every metadata) to stable storage: the
    /// daemon acknowledges spool records once `write` returns.
    public func sync() throws {
        _ = try PosixFile.retrying("fdatasync", path) { fdatasync(fd) }
    }

    func truncate(to length: Int64) throws {
        _ = try PosixFile.retrying("ftruncate", path) { ftruncate(fd, off_t(length)) }
    }

    // MARK: - Paths

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Renames atomically: a crash leaves the old name or the new one.
    public static func rename(_ from: String, to: String) throws {
        guard posixRename(from, to) == 0 else { throw storageError("rename \(from) to", to) }
    }

    /// Removes a file; one already gone is not an error.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw storageError("unlink", path) }
    }

    /// Makes a rename or a file creation in `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let dir = try open(directory, O_RDONLY | O_DIRECTORY)
        _ = try retrying("fsync", directory) { fsync(dir.fd) }
    }

    /// `mkdir -p`: the container directory normally exists already, the
    /// driver's own subdirectory may not.
    public static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty, !exists(path) else { return }
        let parent = parentDirectory(of: path)
        if parent != path { try makeDirectories(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw storageError("mkdir", path) }
    }

    /// The directory part of `path` ("." when it has none, "/" for a top-level name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The names in `directory` (without "." and ".."); empty when it does not exist.
    static func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw storageError("opendir", directory)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: - Errors

    private static func retrying<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno != EINTR { throw storageError(call, path) }
        }
    }

    static func storageError(_ call: String, _ path: String) -> LogDriverError {
        let code = errno
        return .storage("\(call) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }
}

// The C calls under names of their own: inside PosixFile, `open`, `close`,
// `write` and `rename` name the methods.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
private func posixRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
    return write(fd, base, buffer.count)
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
    guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
    return pread(fd, base, buffer.count, off_t(offset))
}
