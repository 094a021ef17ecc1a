import Glibc

/// Small whole-file and directory helpers over plain descriptors, each
/// error naming the path.
enum FileIO {
    /// Reads a (small, metadata) file completely.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = try sys("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { closeFD(fd) }
        var result = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                try sys("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Writes all of `bytes`, looping over short writes.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ subject: @autoclosure () -> String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try sys("write", subject()) {
                write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            offset += written
        }
    }

    /// The names in a directory, without "." and "..".
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw ImagesError.failure("opendir", path) }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates a directory; an existing directory is fine.
    static func makeDirectory(_ path: String, mode: mode_t) throws {
        let code = sysErrno { mkdir(path, mode) }
        if code == 0 || code == EEXIST { return }
        throw ImagesError.failure("mkdir", path, errno: code)
    }

    /// Flushes a directory so a rename or unlink in it survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = try sys("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { closeFD(fd) }
        try sys("fsync", path) { fsync(fd) }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// A random suffix for temporary names.
    static func randomSuffix() -> String {
        Hex.string(UInt64.random(in: .min ... .max))
    }
}
