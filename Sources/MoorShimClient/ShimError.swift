import Glibc

/// The one error type of MoorShimClient: an errno, a message naming what
/// failed, and where (the shim socket or the container).
///
/// Errors the shim sends back keep the shim's own errno and message, so a
/// caller can tell `EBUSY` from `ENOENT` without parsing text.
public struct ShimError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A positive errno value (`EPROTO` for data that breaks the protocol).
    public var code: Int32
    public var message: String
    /// The shim socket path or container id the failure concerns, if known.
    public var context: String?
    /// The exit status of `moor-shim start` when the start failed
    /// (126/127: the container's program could not be executed).
    public var exitStatus: Int32?

    public init(code: Int32, message: String, context: String? = nil, exitStatus: Int32? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.exitStatus = exitStatus
    }

    public var description: String {
        let prefix = context.map { "\($0): " } ?? ""
        return "\(prefix)\(message) (\(Self.errnoName(code)))"
    }

    /// The same error, placed: a context already set is kept, since it is
    /// the more precise one.
    func within(_ context: String) -> ShimError {
        var copy = self
        if copy.context == nil { copy.context = context }
        return copy
    }

    /// Data from the other side that does not follow the protocol.
    static func protocolViolation(_ message: String) -> ShimError {
        ShimError(code: EPROTO, message: message)
    }

    /// A size beyond what the protocol allows.
    static func tooLarge(_ message: String) -> ShimError {
        ShimError(code: EMSGSIZE, message: message)
    }

    /// The error a failed system call left in `errno`, naming the call.
    static func fromErrno(_ call: String, _ saved: Int32 = errno) -> ShimError {
        ShimError(code: saved, message: "\(call) failed")
    }

    /// A value that has the right size but a meaning the protocol does not
    /// define (an unknown status, a bad record magic).
    static func invalid(_ structure: String, _ field: String, at offset: Int, _ what: String) -> ShimError {
        protocolViolation("\(structure): \(field) at offset \(offset): \(what)")
    }

    static func errnoName(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return "errno \(code): \(String(cString: text))"
    }
}
