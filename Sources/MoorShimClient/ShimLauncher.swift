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
    /// Where compiled seccomp filters are kept between starts.
    public var seccompCache: String?

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
        add("--seccomp-cache", seccompCache)
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
        let run: ChildProcess.Output
        do {
            run = try ChildProcess.run(shimPath, options.arguments)
        } catch let error as ShimError {
            throw ShimError(code: error.code, message: "run \(shimPath): \(error.message)", context: options.id)
        }
        guard case let .exited(status) = run.termination else {
            throw ShimError(code: EIO, message: "\(shimPath) start ended: \(run.termination)", context: options.id)
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
}
