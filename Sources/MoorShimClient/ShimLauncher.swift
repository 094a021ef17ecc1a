import Foundation

/// What `moor-shim start` needs to start one container.
public struct ShimStartOptions: Equatable, Sendable {
    /// [A-Za-z0-9_.-], 1 to 128 characters: it names files and cgroups.
    public var id: String
    /// Absolute; holds config.json.
    public var bundle: String
    /// Absolute; the shim's socket, spool and exit records go here.
    public var stateDir: String
    /// Default `STATE_DIR/shim.sock`.
    public var socketPath: String?
    /// Default `STATE_DIR/spool`.
    public var spoolDir: String?
    /// The spool's bound in bytes; default 1 GiB, at least 256 KiB.
    public var spoolMax: UInt64?
    /// Overlay lower layers, top-most first; with `upperDir` and `workDir`.
    public var lowerDirs: [String] = []
    public var upperDir: String?
    public var workDir: String?
    /// Give init a stdin pipe fed through STDIN_WRITE.
    public var stdin = false
    /// The shim's own cgroup; default `/moor-shims/ID`.
    public var shimCgroup: String?

    public init(id: String, bundle: String, stateDir: String) {
        self.id = id
        self.bundle = bundle
        self.stateDir = stateDir
    }

    /// The `moor-shim` command line, after the program name.
    public var arguments: [String] {
        var args = ["start", "--id", id, "--bundle", bundle, "--state-dir", stateDir]
        func add(_ option: String, _ value: String?) {
            if let value { args += [option, value] }
        }
        add("--socket", socketPath)
        add("--spool-dir", spoolDir)
        add("--spool-max", spoolMax.map(String.init))
        for layer in lowerDirs { add("--lower", layer) }
        add("--upper", upperDir)
        add("--work", workDir)
        if stdin { args.append("--stdin") }
        add("--shim-cgroup", shimCgroup)
        return args
    }
}

/// What a successful start reports: `{"shim_pid":N,"pid":N,"socket":"..."}`.
public struct ShimStarted: Equatable, Sendable, Decodable {
    public var shimPid: Int32
    /// The container's init, host pid namespace.
    public var pid: Int32
    public var socket: String

    enum CodingKeys: String, CodingKey {
        case shimPid = "shim_pid"
        case pid
        case socket
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        shimPid = try c.field(.shimPid)
        pid = try c.field(.pid)
        socket = try c.field(.socket)
    }

    public init(shimPid: Int32, pid: Int32, socket: String) {
        self.shimPid = shimPid
        self.pid = pid
        self.socket = socket
    }
}

/// Runs `moor-shim start`, which returns once the container runs (or could
/// not be started) and leaves the shim detached in its own session.
public struct ShimLauncher: Sendable {
    public var shimPath: String

    public init(shimPath: String) {
        self.shimPath = shimPath
    }

    /// Throws a `ShimError` with the shim's own message, the container id as
    /// context and the exit status (126/127: the container's program could
    /// not be executed; 2: bad options; 1: anything else).
    public func start(_ options: ShimStartOptions) throws -> ShimStarted {
        let run: (status: Int32?, signal: Int32?, stdout: [UInt8], stderr: [UInt8])
        do {
            run = try runToCompletion(options.arguments)
        } catch let error as ShimError {
            throw ShimError(code: error.code, message: "run \(shimPath): \(error.message)", context: options.id)
        }
        guard let status = run.status else {
            throw ShimError(code: EIO, message: "\(shimPath) start was killed by signal \(run.signal ?? 0)",
                            context: options.id)
        }
        return try Self.outcome(status: status, stdout: run.stdout, stderr: run.stderr, id: options.id)
    }

    /// Interprets a finished `moor-shim start`: the JSON line on success,
    /// the stderr message otherwise. Pure, for tests.
    static func outcome(status: Int32, stdout: [UInt8], stderr: [UInt8], id: String) throws -> ShimStarted {
        guard status == 0 else {
            throw ShimError(code: errnoGuess(status: status), message: message(from: stderr, status: status),
                            context: id, exitStatus: status)
        }
        let line = stdout.split(separator: UInt8(ascii: "\n")).first.map(Array.init) ?? []
        do {
            return try JSONDecoder().decode(ShimStarted.self, from: Data(line))
        } catch let error as DecodingError {
            throw ShimError(code: EPROTO,
                            message: "moor-shim start succeeded but printed \(quoted(line)): \(ExitRecord.describe(error))",
                            context: id)
        }
    }

    /// The shim prints "moor-shim: <message>"; keep the message.
    static func message(from stderr: [UInt8], status: Int32) -> String {
        let text = ShimCodec.text(stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = text.split(separator: "\n").map { line in
            line.hasPrefix("moor-shim: ") ? String(line.dropFirst("moor-shim: ".count)) : String(line)
        }
        guard !lines.isEmpty else { return "moor-shim start failed with status \(status) and no message" }
        return lines.joined(separator: "; ")
    }

    /// The start report does not reach us with its errno, only the status
    /// the shell conventions give it; this is the closest errno.
    static func errnoGuess(status: Int32) -> Int32 {
        switch status {
        case 127: ENOENT
        case 126: EACCES
        case 2: EINVAL
        default: EIO
        }
    }

    static func quoted(_ bytes: [UInt8]) -> String {
        let text = ShimCodec.text(Array(bytes.prefix(200)))
        return "\"\(text)\"" + (bytes.count > 200 ? "…" : "")
    }

    /// Runs the shim with its output in unlinked temporary files rather than
    /// pipes: nothing to drain concurrently, and no hang should anything the
    /// shim leaves behind keep a descriptor open. posix_spawn + waitpid, not
    /// Foundation's Process: in a multi-threaded test process its
    /// waitUntilExit() was seen never to return, the starter left a zombie
    /// nobody reaped (its exit is learnt from SIGCHLD; waitpid cannot miss it).
    private func runToCompletion(_ arguments: [String]) throws
        -> (status: Int32?, signal: Int32?, stdout: [UInt8], stderr: [UInt8]) {
        try systemCall("access") { access(shimPath, X_OK) }
        let out = try UnlinkedFile()
        let err = try UnlinkedFile()
        let pid = try spawn([shimPath] + arguments, stdout: out.handle.fileDescriptor,
                            stderr: err.handle.fileDescriptor)
        var status: Int32 = 0
        try systemCall("waitpid") { waitpid(pid, &status, 0) }
        let termSignal = status & 0x7f
        return (termSignal == 0 ? (status >> 8) & 0xff : nil, termSignal == 0 ? nil : termSignal,
                try out.contents(limit: 1 << 20), try err.contents(limit: 1 << 20))
    }

    /// Starts the shim with stdin from /dev/null, the given stdout and
    /// stderr, default signal handling and no blocked signals (whatever the
    /// calling daemon set up for itself must not reach the container).
    private func spawn(_ argv: [String], stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let cArgs = argv.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawn returns the error instead of setting errno.
        let rc = (cArgs + [nil]).withUnsafeBufferPointer { args -> Int32 in
            guard let base = args.baseAddress else { return EINVAL }
            return posix_spawn(&pid, shimPath, &actions, &attributes, base, environ)
        }
        guard rc == 0 else { throw ShimError(code: rc, message: "posix_spawn failed") }
        return pid
    }
}

/// A temporary file with no name: created, unlinked at once, gone with its
/// handle, so nothing is left behind whatever happens.
private struct UnlinkedFile {
    let handle: FileHandle

    init() throws {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((dir + "/moor-shim-start.XXXXXX").utf8CString)
        let fd = try template.withUnsafeMutableBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { throw ShimError(code: EINVAL, message: "empty temp path") }
            return try systemCall("mkstemp in \(dir)") { mkstemp(base) }
        }
        // Not inherited by the shim, which would keep it for its lifetime.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Everything written to it, from the start.
    func contents(limit: Int) throws -> [UInt8] {
        let fd = handle.fileDescriptor
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var offset = 0
        while bytes.count < limit {
            let n = try chunk.withUnsafeMutableBytes { raw in
                try systemCall("pread") { pread(fd, raw.baseAddress, raw.count, off_t(offset)) }
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk.prefix(n))
            offset += n
        }
        return bytes
    }
}
