import Glibc

/// Runs programs with posix_spawn and waitpid.
///
/// Not Foundation's Process: in a multi-threaded process on Linux its
/// waitUntilExit() was seen never to return, the child left a zombie nobody
/// reaped (Process learns of exits from SIGCHLD, which another thread may
/// take first and drop); waitpid on the child's own pid cannot miss it.
/// Internal; tests reach it through `@testable import`.
struct ChildProcess {
    enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        init(waitStatus status: Int32) {
            let signal = status & 0x7f
            self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        }

        var description: String {
            switch self {
            case let .exited(code): "exited with status \(code)"
            case let .signaled(signal): "killed by signal \(signal)"
            }
        }
    }

    struct Output: Sendable {
        var termination: Termination
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    let pid: pid_t

    /// Runs `path` to completion. Output goes to unlinked temporary files,
    /// not pipes: nothing to drain concurrently, and no hang if a
    /// descendant (a detached shim) keeps a descriptor open. At most
    /// `outputLimit` bytes of each stream are kept.
    static func run(_ path: String, _ arguments: [String], outputLimit: Int = 1 << 20) throws -> Output {
        let out = try UnlinkedFile()
        let err = try UnlinkedFile()
        let child = try spawn(path, arguments, stdout: out.fd, stderr: err.fd)
        let termination = try child.wait()
        return Output(termination: termination, stdout: try out.contents(limit: outputLimit),
                      stderr: try err.contents(limit: outputLimit))
    }

    /// Starts `path` with stdin from /dev/null, the given stdout and stderr
    /// (the caller's when nil), default signal handling and no blocked
    /// signals: what the calling daemon set up for itself must not reach
    /// the shim or its container.
    static func spawn(_ path: String, _ arguments: [String], stdout: Int32? = nil,
                      stderr: Int32? = nil) throws -> ChildProcess {
        try systemCall("access \(path)") { access(path, X_OK) }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { args -> Int32 in
            guard let base = args.baseAddress else { return EINVAL }
            return posix_spawn(&pid, path, &actions, &attributes, base, environ)
        }
        // posix_spawn returns the error rather than setting errno.
        guard rc == 0 else { throw ShimError(code: rc, message: "posix_spawn \(path) failed") }
        return ChildProcess(pid: pid)
    }

    /// Blocks until the child ends and reaps it.
    func wait() throws -> Termination {
        var status: Int32 = 0
        try systemCall("waitpid \(pid)") { waitpid(pid, &status, 0) }
        return Termination(waitStatus: status)
    }
}

/// A temporary file with no name: created and unlinked at once, closed with
/// this value, so nothing is left behind whatever happens.
private final class UnlinkedFile {
    let fd: Int32

    init() throws {
        let env = getenv("TMPDIR").map { String(cString: $0) } ?? ""
        let dir = env.isEmpty ? "/tmp" : env
        var template = Array((dir + "/moor-child.XXXXXX").utf8CString)
        fd = try template.withUnsafeMutableBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { throw ShimError(code: EINVAL, message: "empty temp path") }
            return try systemCall("mkstemp in \(dir)") { mkstemp(base) }
        }
        // The child gets it through dup2 only; nothing else inherits it.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    deinit { close(fd) }

    /// Everything written to it, from the start, up to `limit` bytes.
    func contents(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = try chunk.withUnsafeMutableBytes { raw in
                try systemCall("pread") { pread(fd, raw.baseAddress, raw.count, off_t(bytes.count)) }
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk.prefix(min(n, limit - bytes.count)))
        }
        return bytes
    }
}
