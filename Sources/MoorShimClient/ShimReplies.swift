import CMoorProtocol

// The fixed-layout reply payloads (docs/shim-protocol.md, "Messages" and
// "State block"). Decoding is total: short or meaningless input throws an
// `EPROTO` error naming the structure, the field and its offset. Bytes after
// the known fields are ignored, since a newer minor version may append some.
// The encoders exist for fake shims in tests and for tools.

/// The protocol version this client speaks.
public enum ShimProtocol {
    public static let major = UInt16(MOOR_PROTO_MAJOR)
    public static let minor = UInt16(MOOR_PROTO_MINOR)
    /// Process `0` of every shim is the container's init.
    public static let initProcess = UInt32(MOOR_PROCESS_INIT)

    /// Whether this client can talk to a shim of protocol `major`: minors of
    /// one major are compatible both ways, majors are not.
    public static func speaks(major: UInt16) -> Bool { major == self.major }
}

/// The reply to HELLO: who the shim is and which protocol it speaks.
public struct ShimHello: Equatable, Sendable {
    public var major: UInt16
    public var minor: UInt16
    public var shimPid: UInt32
    /// The container's init in the host pid namespace.
    public var initPid: UInt32
    /// The shim's build, e.g. "moor-shim 0.1.0".
    public var build: String

    public init(major: UInt16 = ShimProtocol.major, minor: UInt16 = ShimProtocol.minor,
                shimPid: UInt32, initPid: UInt32, build: String) {
        self.major = major
        self.minor = minor
        self.shimPid = shimPid
        self.initPid = initPid
        self.build = build
    }

    /// Whether this client may send this shim anything beyond HELLO.
    public var isSpoken: Bool { ShimProtocol.speaks(major: major) }

    /// "1.0 (moor-shim 0.1.0)", for reports.
    public var version: String { "\(major).\(minor) (\(build.isEmpty ? "unknown build" : build))" }

    /// Only the version is certain to keep its place across majors; the rest
    /// is required from a shim of our major and taken if present otherwise,
    /// so a foreign shim can still be reported with its pids and build.
    public static func decode(_ payload: [UInt8]) throws -> ShimHello {
        var r = ByteReader(payload, structure: "HELLO reply")
        let major = try r.read(UInt16.self, "major")
        let minor = try r.read(UInt16.self, "minor")
        guard ShimProtocol.speaks(major: major) || r.remaining >= 8 else {
            return ShimHello(major: major, minor: minor, shimPid: 0, initPid: 0, build: "")
        }
        let shimPid = try r.read(UInt32.self, "shim_pid")
        let initPid = try r.read(UInt32.self, "init_pid")
        return ShimHello(major: major, minor: minor, shimPid: shimPid, initPid: initPid,
                         build: ShimCodec.text(r.readRest()))
    }

    public func encode() -> [UInt8] {
        var out = ByteWriter(capacity: 12 + build.utf8.count)
        out.put(major)
        out.put(minor)
        out.put(shimPid)
        out.put(initPid)
        out.put(build.utf8)
        return out.bytes
    }
}

public enum ShimProcessStatus: UInt32, Sendable, CustomStringConvertible {
    case running = 1
    case paused = 2
    case exited = 3

    public var description: String {
        switch self {
        case .running: "running"
        case .paused: "paused"
        case .exited: "exited"
        }
    }
}

/// The 80-byte state block: the reply to STATE and to WAIT.
public struct ShimProcessState: Equatable, Sendable {
    public static let size = 80

    public var process: UInt32
    public var status: ShimProcessStatus
    /// In the host pid namespace.
    public var pid: Int32
    /// 128 + n when killed by signal n; meaningful once exited.
    public var exitCode: Int32
    /// The signal that killed the process, or 0.
    public var signal: Int32
    public var oomKilled: Bool
    public var terminal: Bool
    public var stdinOpen: Bool
    /// ns since the epoch.
    public var startedNs: UInt64
    /// ns since the epoch; 0 while running.
    public var finishedNs: UInt64
    /// Oldest seq still in the spool, 0 if it is empty.
    public var spoolFirstSeq: UInt64
    /// The seq the next record will get.
    public var spoolNextSeq: UInt64
    public var spoolAckedSeq: UInt64
    public var spoolBytes: UInt64
    /// Bytes ever dropped from the spool (its bound or a full disk).
    public var lostBytes: UInt64

    public init(process: UInt32 = 0, status: ShimProcessStatus, pid: Int32, exitCode: Int32 = 0,
                signal: Int32 = 0, oomKilled: Bool = false, terminal: Bool = false,
                stdinOpen: Bool = false, startedNs: UInt64 = 0, finishedNs: UInt64 = 0,
                spoolFirstSeq: UInt64 = 0, spoolNextSeq: UInt64 = 1, spoolAckedSeq: UInt64 = 0,
                spoolBytes: UInt64 = 0, lostBytes: UInt64 = 0) {
        self.process = process
        self.status = status
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
        self.terminal = terminal
        self.stdinOpen = stdinOpen
        self.startedNs = startedNs
        self.finishedNs = finishedNs
        self.spoolFirstSeq = spoolFirstSeq
        self.spoolNextSeq = spoolNextSeq
        self.spoolAckedSeq = spoolAckedSeq
        self.spoolBytes = spoolBytes
        self.lostBytes = lostBytes
    }

    static let oomFlag: UInt32 = 1
    static let terminalFlag: UInt32 = 2
    static let stdinFlag: UInt32 = 4

    public static func decode(_ payload: [UInt8], structure: String = "state block") throws -> ShimProcessState {
        var r = ByteReader(payload, structure: structure)
        let process = try r.read(UInt32.self, "process")
        let rawStatus = try r.read(UInt32.self, "status")
        guard let status = ShimProcessStatus(rawValue: rawStatus) else {
            throw r.invalid("status", at: 4, "unknown value \(rawStatus)")
        }
        let pid = try r.read(Int32.self, "pid")
        let exitCode = try r.read(Int32.self, "exit code")
        let signal = try r.read(Int32.self, "signal")
        // Unknown flag bits are a newer minor's business: ignored.
        let flags = try r.read(UInt32.self, "flags")
        return ShimProcessState(
            process: process, status: status, pid: pid, exitCode: exitCode, signal: signal,
            oomKilled: flags & oomFlag != 0, terminal: flags & terminalFlag != 0,
            stdinOpen: flags & stdinFlag != 0,
            startedNs: try r.read(UInt64.self, "started"),
            finishedNs: try r.read(UInt64.self, "finished"),
            spoolFirstSeq: try r.read(UInt64.self, "spool first seq"),
            spoolNextSeq: try r.read(UInt64.self, "spool next seq"),
            spoolAckedSeq: try r.read(UInt64.self, "spool acked seq"),
            spoolBytes: try r.read(UInt64.self, "spool bytes"),
            lostBytes: try r.read(UInt64.self, "lost bytes"))
    }

    public func encode() -> [UInt8] {
        var out = ByteWriter(capacity: Self.size)
        out.put(process)
        out.put(status.rawValue)
        out.put(pid)
        out.put(exitCode)
        out.put(signal)
        out.put((oomKilled ? Self.oomFlag : 0) | (terminal ? Self.terminalFlag : 0) | (stdinOpen ? Self.stdinFlag : 0))
        for value in [startedNs, finishedNs, spoolFirstSeq, spoolNextSeq, spoolAckedSeq, spoolBytes, lostBytes] {
            out.put(value)
        }
        return out.bytes
    }
}

/// The reply to EXEC: the new process's id in this shim and its host pid.
public struct ExecStarted: Equatable, Sendable {
    public var process: UInt32
    public var pid: Int32

    public init(process: UInt32, pid: Int32) {
        self.process = process
        self.pid = pid
    }

    public static func decode(_ payload: [UInt8]) throws -> ExecStarted {
        var r = ByteReader(payload, structure: "EXEC reply")
        return ExecStarted(process: try r.read(UInt32.self, "process"), pid: try r.read(Int32.self, "pid"))
    }

    public func encode() -> [UInt8] {
        var out = ByteWriter(capacity: 8)
        out.put(process)
        out.put(pid)
        return out.bytes
    }
}
