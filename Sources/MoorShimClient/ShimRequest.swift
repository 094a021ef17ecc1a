import CMoorProtocol

/// Every request of the protocol with its payload (docs/shim-protocol.md,
/// "Messages"). The client encodes them; `decode` exists for fake shims in
/// tests and for tools that inspect traffic.
public enum ShimRequest: Equatable, Sendable {
    case hello(major: UInt16, minor: UInt16)
    case state(process: UInt32)
    /// `all`: every process of the container, not just this one.
    case signal(process: UInt32, signal: Int32, all: Bool)
    case stdinWrite(process: UInt32, bytes: [UInt8])
    case stdinClose(process: UInt32)
    case spoolRead(process: UInt32, maxBytes: UInt32, fromSeq: UInt64)
    case spoolAck(process: UInt32, seq: UInt64)
    /// `processJSON`: an OCI `process` object.
    case exec(stdin: Bool, processJSON: String)
    case resize(process: UInt32, rows: UInt16, cols: UInt16)
    /// `kill`: SIGKILL the container first if it still runs.
    case shutdown(kill: Bool)
    case wait(process: UInt32)
    case pause
    case resume

    static let signalAll = MOOR_SIGNAL_ALL
    static let execStdin = MOOR_EXEC_STDIN
    static let shutdownKill = MOOR_SHUTDOWN_KILL

    public var type: ShimMessageType {
        switch self {
        case .hello: .hello
        case .state: .state
        case .signal: .signal
        case .stdinWrite: .stdinWrite
        case .stdinClose: .stdinClose
        case .spoolRead: .spoolRead
        case .spoolAck: .spoolAck
        case .exec: .exec
        case .resize: .resize
        case .shutdown: .shutdown
        case .wait: .wait
        case .pause: .pause
        case .resume: .resume
        }
    }

    public func encodePayload() -> [UInt8] {
        var out = ByteWriter()
        switch self {
        case let .hello(major, minor):
            out.put(major)
            out.put(minor)
        case let .state(process), let .stdinClose(process), let .wait(process):
            out.put(process)
        case let .signal(process, signal, all):
            out.put(process)
            out.put(signal)
            out.put(all ? Self.signalAll : 0)
        case let .stdinWrite(process, bytes):
            out.put(process)
            out.put(bytes)
        case let .spoolRead(process, maxBytes, fromSeq):
            out.put(process)
            out.put(maxBytes)
            out.put(fromSeq)
        case let .spoolAck(process, seq):
            out.put(process)
            out.put(UInt32(0))  // reserved: keeps seq 8-byte aligned
            out.put(seq)
        case let .exec(stdin, processJSON):
            out.put(stdin ? Self.execStdin : 0)
            out.put(processJSON.utf8)
        case let .resize(process, rows, cols):
            out.put(process)
            out.put(rows)
            out.put(cols)
        case let .shutdown(kill):
            out.put(kill ? Self.shutdownKill : 0)
        case .pause, .resume:
            break
        }
        return out.bytes
    }

    /// Decodes a request payload. Trailing bytes after the known fields are
    /// ignored, as a newer minor version may append fields.
    public static func decode(type: ShimMessageType, payload: [UInt8]) throws -> ShimRequest {
        var r = ByteReader(payload, structure: "\(type) request")
        switch type {
        case .hello:
            return .hello(major: try r.read(UInt16.self, "major"), minor: try r.read(UInt16.self, "minor"))
        case .state:
            return .state(process: try r.read(UInt32.self, "process"))
        case .signal:
            let process = try r.read(UInt32.self, "process")
            let signal = try r.read(Int32.self, "signal")
            let flags = try r.read(UInt32.self, "flags")
            return .signal(process: process, signal: signal, all: flags & signalAll != 0)
        case .stdinWrite:
            return .stdinWrite(process: try r.read(UInt32.self, "process"), bytes: r.readRest())
        case .stdinClose:
            return .stdinClose(process: try r.read(UInt32.self, "process"))
        case .spoolRead:
            let process = try r.read(UInt32.self, "process")
            let maxBytes = try r.read(UInt32.self, "max_bytes")
            return .spoolRead(process: process, maxBytes: maxBytes, fromSeq: try r.read(UInt64.self, "from_seq"))
        case .spoolAck:
            let process = try r.read(UInt32.self, "process")
            _ = try r.read(UInt32.self, "reserved")
            return .spoolAck(process: process, seq: try r.read(UInt64.self, "seq"))
        case .exec:
            let flags = try r.read(UInt32.self, "flags")
            return .exec(stdin: flags & execStdin != 0, processJSON: ShimCodec.text(r.readRest()))
        case .resize:
            let process = try r.read(UInt32.self, "process")
            let rows = try r.read(UInt16.self, "rows")
            return .resize(process: process, rows: rows, cols: try r.read(UInt16.self, "cols"))
        case .shutdown:
            return .shutdown(kill: try r.read(UInt32.self, "flags") & shutdownKill != 0)
        case .wait:
            return .wait(process: try r.read(UInt32.self, "process"))
        case .pause:
            return .pause
        case .resume:
            return .resume
        default:
            throw ShimError.protocolViolation("unknown request type \(ShimCodec.hex(type.rawValue))")
        }
    }
}
