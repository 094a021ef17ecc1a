import CMoorProtocol

/// A message type on the wire. The values come from `moor_protocol.h`, the
/// single definition shared with the C shim; a Swift enum cannot take its
/// raw values from C constants, hence a struct.
public struct ShimMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    private init(_ type: moor_msg_type) { rawValue = UInt16(truncatingIfNeeded: type.rawValue) }

    public static let hello = ShimMessageType(MOOR_MSG_HELLO)
    public static let state = ShimMessageType(MOOR_MSG_STATE)
    public static let signal = ShimMessageType(MOOR_MSG_SIGNAL)
    public static let stdinWrite = ShimMessageType(MOOR_MSG_STDIN_WRITE)
    public static let stdinClose = ShimMessageType(MOOR_MSG_STDIN_CLOSE)
    public static let spoolRead = ShimMessageType(MOOR_MSG_SPOOL_READ)
    public static let spoolAck = ShimMessageType(MOOR_MSG_SPOOL_ACK)
    public static let exec = ShimMessageType(MOOR_MSG_EXEC)
    public static let resize = ShimMessageType(MOOR_MSG_RESIZE)
    public static let shutdown = ShimMessageType(MOOR_MSG_SHUTDOWN)
    public static let wait = ShimMessageType(MOOR_MSG_WAIT)
    public static let pause = ShimMessageType(MOOR_MSG_PAUSE)
    public static let resume = ShimMessageType(MOOR_MSG_RESUME)
    /// An error reply: `i32 errno, UTF-8 message`.
    public static let error = ShimMessageType(MOOR_MSG_ERROR)

    static let replyBit = UInt16(truncatingIfNeeded: MOOR_MSG_REPLY_BIT.rawValue)

    static let requests: [ShimMessageType] = [
        .hello, .state, .signal, .stdinWrite, .stdinClose, .spoolRead, .spoolAck,
        .exec, .resize, .shutdown, .wait, .pause, .resume,
    ]

    /// The type of a successful reply to this request.
    public var reply: ShimMessageType { ShimMessageType(rawValue: rawValue | Self.replyBit) }

    public var isReply: Bool { self != .error && rawValue & Self.replyBit != 0 }

    public var description: String {
        if self == .error { return "ERROR" }
        let request = ShimMessageType(rawValue: rawValue & ~Self.replyBit)
        let name = Self.names[request] ?? "type \(request.rawValue)"
        return isReply ? "\(name) reply" : name
    }

    private static let names: [ShimMessageType: String] = [
        .hello: "HELLO", .state: "STATE", .signal: "SIGNAL", .stdinWrite: "STDIN_WRITE",
        .stdinClose: "STDIN_CLOSE", .spoolRead: "SPOOL_READ", .spoolAck: "SPOOL_ACK",
        .exec: "EXEC", .resize: "RESIZE", .shutdown: "SHUTDOWN", .wait: "WAIT",
        .pause: "PAUSE", .resume: "RESUME",
    ]
}

/// The 16-byte header in front of every message.
public struct ShimHeader: Equatable, Sendable {
    public var type: ShimMessageType
    /// Always 0 in this protocol version; kept so decoding is lossless.
    public var flags: UInt16
    /// Chosen by the client, echoed in the reply.
    public var requestId: UInt32
    /// Payload bytes that follow the header.
    public var length: UInt32

    public init(type: ShimMessageType, flags: UInt16 = 0, requestId: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.requestId = requestId
        self.length = length
    }
}

/// A whole message: header fields and the payload they announce.
public struct ShimFrame: Equatable, Sendable {
    public var type: ShimMessageType
    public var flags: UInt16
    public var requestId: UInt32
    public var payload: [UInt8]

    public init(type: ShimMessageType, flags: UInt16 = 0, requestId: UInt32, payload: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.requestId = requestId
        self.payload = payload
    }
}
