/// Every successful reply of the protocol, decoded by the request it answers
/// (a reply's payload layout depends only on its type). An error reply is not
/// a `ShimReply`: `ShimCodec.replyPayload` turns it into a thrown `ShimError`.
public enum ShimReply: Equatable, Sendable {
    case hello(ShimHello)
    /// STATE, and WAIT once the process has exited.
    case state(ShimProcessState)
    /// SIGNAL, STDIN_CLOSE, SPOOL_ACK, RESIZE, SHUTDOWN, PAUSE, RESUME.
    case empty
    /// STDIN_WRITE: bytes the pipe took (fewer than sent when it is full).
    case stdinAccepted(UInt32)
    case spool(SpoolBatch)
    case exec(ExecStarted)

    public static func decode(_ payload: [UInt8], answering request: ShimMessageType) throws -> ShimReply {
        switch request {
        case .hello:
            return .hello(try ShimHello.decode(payload))
        case .state, .wait:
            return .state(try ShimProcessState.decode(payload, structure: "\(request.reply) state block"))
        case .stdinWrite:
            var r = ByteReader(payload, structure: "STDIN_WRITE reply")
            return .stdinAccepted(try r.read(UInt32.self, "accepted"))
        case .spoolRead:
            return .spool(try SpoolBatch.decode(payload))
        case .exec:
            return .exec(try ExecStarted.decode(payload))
        case .signal, .stdinClose, .spoolAck, .resize, .shutdown, .pause, .resume:
            // Trailing bytes would be a newer minor's additions: ignored.
            return .empty
        default:
            throw ShimError.protocolViolation("reply to unknown request type \(ShimCodec.hex(request.rawValue))")
        }
    }

    public func encodePayload() -> [UInt8] {
        switch self {
        case let .hello(hello): hello.encode()
        case let .state(state): state.encode()
        case .empty: []
        case let .stdinAccepted(count): withUnsafeBytes(of: count.littleEndian) { Array($0) }
        case let .spool(batch): batch.encode()
        case let .exec(started): started.encode()
        }
    }
}
