import Glibc
import Synchronization

/// A blocking client of one shim's control socket.
///
/// Each call sends one request and blocks until its reply, so one
/// connection serves one caller at a time: concurrent calls from several
/// threads are safe but wait for each other (`wait` included, which blocks
/// until the process exits). Use one client per concurrent caller.
///
/// Every call is bounded by `timeout` (seconds), except `wait`, which has
/// its own. A call that times out throws `ETIMEDOUT`; its late reply is
/// skipped when it comes, and the connection stays usable. Any other
/// transport or framing failure makes the connection unusable: every later
/// call throws; connect again. All errors carry the socket path as context;
/// errors the shim sent keep its errno and message.
///
/// Call `hello()` first and check `isSpoken`: a shim of another protocol
/// major must be reported, not spoken to, and after such a HELLO the client
/// refuses to send it anything else (`EPROTONOSUPPORT`).
public final class ShimClient: Sendable {
    public let socketPath: String
    public let timeout: Double
    private let connection: Mutex<ShimConnection>

    /// Largest STDIN_WRITE sent at once: a pipe's worth; the shim writes
    /// without blocking and reports how much it took.
    public static let maxStdinWrite = 64 * 1024

    public init(socketPath: String, timeout: Double = 10) throws {
        guard timeout.isFinite, timeout > 0 else {
            throw ShimError(code: EINVAL, message: "timeout must be a positive number of seconds, not \(timeout)",
                            context: socketPath)
        }
        self.socketPath = socketPath
        self.timeout = timeout
        do {
            connection = Mutex(ShimConnection(socket: try ShimSocket.connect(path: socketPath, timeout: timeout)))
        } catch let error as ShimError {
            throw error.within(socketPath)
        }
    }

    deinit {
        connection.withLock { $0.close() }
    }

    /// Closes the connection now; later calls throw `EBADF`.
    public func close() {
        connection.withLock { $0.close() }
    }

    /// Whether this client speaks protocol `major`.
    public static func speaks(major: UInt16) -> Bool { ShimProtocol.speaks(major: major) }

    /// The shim's HELLO, once `hello()` succeeded on this connection.
    public var peer: ShimHello? { connection.withLock { $0.peer } }

    // MARK: Requests

    /// The shim's version, pid and build; answered whatever its major.
    public func hello() throws -> ShimHello {
        try decoded(.hello(major: ShimProtocol.major, minor: ShimProtocol.minor), ShimHello.decode)
    }

    public func state(process: UInt32 = ShimProtocol.initProcess) throws -> ShimProcessState {
        try decoded(.state(process: process)) { try ShimProcessState.decode($0, structure: "STATE reply") }
    }

    /// `all`: every process of the container (for init only), not just this one.
    public func signal(process: UInt32 = ShimProtocol.initProcess, signal: Int32, all: Bool = false) throws {
        _ = try call(.signal(process: process, signal: signal, all: all))
    }

    /// Writes up to `maxStdinWrite` bytes of `bytes` to the process's stdin
    /// and returns how many the pipe took (possibly fewer, even 0: retry
    /// the rest later).
    @discardableResult
    public func writeStdin(process: UInt32 = ShimProtocol.initProcess, bytes: [UInt8]) throws -> Int {
        let chunk = Array(bytes.prefix(Self.maxStdinWrite))
        let accepted = try decoded(.stdinWrite(process: process, bytes: chunk)) { payload in
            var r = ByteReader(payload, structure: "STDIN_WRITE reply")
            return try r.read(UInt32.self, "accepted")
        }
        guard accepted <= chunk.count else {
            throw ShimError.protocolViolation("STDIN_WRITE reply: accepted \(accepted) of \(chunk.count) bytes sent")
                .within(socketPath)
        }
        return Int(accepted)
    }

    public func closeStdin(process: UInt32 = ShimProtocol.initProcess) throws {
        _ = try call(.stdinClose(process: process))
    }

    /// Whole records with seq >= `from`, at most `maxBytes` of them (0: as
    /// many as the shim sends at once); at least one if any exists.
    public func readSpool(process: UInt32 = ShimProtocol.initProcess, from: UInt64,
                          maxBytes: UInt32 = 0) throws -> SpoolBatch {
        try decoded(.spoolRead(process: process, maxBytes: maxBytes, fromSeq: from), SpoolBatch.decode)
    }

    /// Declares every record up to `seq` delivered, so the shim may reclaim it.
    public func ack(process: UInt32 = ShimProtocol.initProcess, seq: UInt64) throws {
        _ = try call(.spoolAck(process: process, seq: seq))
    }

    /// Starts a process in the container from an OCI `process` object.
    public func exec(processJSON: String, stdin: Bool = false) throws -> ExecStarted {
        try decoded(.exec(stdin: stdin, processJSON: processJSON), ExecStarted.decode)
    }

    public func resize(process: UInt32 = ShimProtocol.initProcess, rows: UInt16, cols: UInt16) throws {
        _ = try call(.resize(process: process, rows: rows, cols: cols))
    }

    /// Ends the shim (refused with `EBUSY` while the container runs, unless
    /// `kill`). The spool and exit records stay on disk.
    public func shutdown(kill: Bool = false) throws {
        _ = try call(.shutdown(kill: kill))
    }

    /// Blocks until the process has exited and returns its final state.
    /// `timeout`: seconds to wait at most (`ETIMEDOUT` then); nil, the
    /// default, waits as long as the process runs.
    public func wait(process: UInt32 = ShimProtocol.initProcess, timeout: Double? = nil) throws -> ShimProcessState {
        try decoded(.wait(process: process), timeout: .some(timeout)) {
            try ShimProcessState.decode($0, structure: "WAIT reply")
        }
    }

    /// Freezes every process of the container.
    public func pause() throws {
        _ = try call(.pause)
    }

    public func resume() throws {
        _ = try call(.resume)
    }

    // MARK: Exchange

    /// `timeout`: nil uses the client's; `.some(nil)` waits without limit.
    func call(_ request: ShimRequest, timeout: Double?? = nil) throws -> [UInt8] {
        let deadline = Deadline(seconds: timeout ?? self.timeout)
        do {
            return try connection.withLock { try $0.roundTrip(request, deadline: deadline) }
        } catch let error as ShimError {
            throw error.within(socketPath)
        }
    }

    private func decoded<T>(_ request: ShimRequest, timeout: Double?? = nil,
                            _ decode: ([UInt8]) throws -> T) throws -> T {
        let payload = try call(request, timeout: timeout)
        do {
            return try decode(payload)
        } catch let error as ShimError {
            throw error.within(socketPath)
        }
    }
}
