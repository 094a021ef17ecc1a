#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The listening socket's file: stale-file cleanup before bind, mode and
/// group after, removal at shutdown.
enum UnixSocketFile {
    /// The file's identity after bind, so shutdown removes our socket and
    /// not one a successor created at the same path.
    struct Identity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// Leaves the path free for bind: removes a socket nobody listens on
    /// (left by a crash), refuses a live one and anything not a socket.
    static func prepare(_ path: String) throws(HTTPError) {
        guard path.utf8.count < maxPathLength else {
            throw HTTPError(.socketSetup, "socket path is longer than \(maxPathLength - 1) bytes", context: path)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw failure("lstat", path)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw HTTPError(.socketSetup, "exists and is not a socket; not removing it", context: path)
        }
        guard try !someoneListens(path) else {
            throw HTTPError(.socketInUse, "another process is listening on this socket (is a daemon already running?)",
                            context: path)
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink of the stale socket", path) }
    }

    /// Mode 0660 (or as configured) and the group: `groupName` if it exists,
    /// else root. Skipped for the group when not running as root, since
    /// only root may give a file away.
    static func applyPermissions(_ path: String, mode: mode_t, groupName: String?) throws(HTTPError) {
        guard chmod(path, mode) == 0 else { throw failure("chmod", path) }
        guard let groupName, geteuid() == 0 else { return }
        let gid = try groupID(groupName) ?? 0
        guard chown(path, uid_t.max, gid) == 0 else { throw failure("chown to group \(gid)", path) }
    }

    static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Removes the socket file if it is still the one we bound.
    static func remove(_ path: String, ifStill identity: Identity?) {
        guard let identity, self.identity(path) == identity else { return }
        _ = unlink(path)
    }

    static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Connects to `path`: success (or a full backlog) means a live server.
    private static func someoneListens(_ path: String) throws(HTTPError) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw failure("socket", path) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
        }
        var result: Int32
        repeat {
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        } while result != 0 && errno == EINTR
        if result == 0 || errno == EAGAIN { return true }
        if errno == ECONNREFUSED || errno == ENOENT { return false }
        throw failure("connect to probe the existing socket", path)
    }

    private static func groupID(_ name: String) throws(HTTPError) -> gid_t? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var size = 4096
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getgrnam_r(name, &entry, &buffer, size, &found)
            if rc == ERANGE {
                size *= 2
                continue
            }
            guard rc == 0 else {
                throw HTTPError(.socketSetup, "cannot look up group \(name)", cause: SystemError(call: "getgrnam_r", code: rc))
            }
            return found == nil ? nil : entry.gr_gid
        }
        throw HTTPError(.socketSetup, "group entry of \(name) is too large")
    }

    private static func failure(_ call: String, _ path: String, code: Int32 = errno) -> HTTPError {
        HTTPError(.socketSetup, "\(call) failed", context: path, cause: SystemError(call: call, code: code))
    }
}

/// A failed system call, as the cause of an `HTTPError`.
struct SystemError: Error, CustomStringConvertible {
    var call: String
    var code: Int32

    var description: String {
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return "\(call): \(text) (errno \(code))"
    }
}
