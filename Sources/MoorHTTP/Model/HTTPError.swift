/// The one error type of MoorHTTP: a code, a message naming what is wrong
/// (the header, the query parameter, the socket path), where it happened, and
/// the underlying error if there was one.
///
/// It conforms to `HTTPStatusError`, so a responder may simply rethrow it (a
/// malformed body, a bad query parameter) and the client gets the matching
/// status with `{"message": ...}`.
public struct HTTPError: Error, CustomStringConvertible, HTTPStatusError {
    public enum Code: Sendable, Hashable {
        /// The request is malformed: request line, header, framing, encoding,
        /// or a parameter a responder could not parse (400).
        case badRequest
        /// The request head is larger than the server accepts (431).
        case headersTooLarge
        /// A body is larger than the caller agreed to buffer (413).
        case payloadTooLarge
        /// The peer closed the connection; nothing more can be written.
        case connectionClosed
        /// Client side: the daemon's socket could not be reached.
        case connectionFailed
        /// Client side: the server's answer is not valid HTTP.
        case invalidResponse
        /// Client side: a local file to upload could not be read.
        case localFile
        /// Server side: another process already listens on the socket path.
        case socketInUse
        /// Server side: the socket could not be prepared (bind, mode, owner).
        case socketSetup
        /// The API was used out of order (two responses to one request, a
        /// write after `finish()`): a bug in the caller.
        case misuse
    }

    public var code: Code
    public var message: String
    /// The socket path or request target the failure concerns, if known.
    public var context: String?
    /// The error that caused this one (a system call, an I/O failure).
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, context: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.cause = cause
    }

    public var description: String {
        var text = context.map { "\($0): \(message)" } ?? message
        if let cause { text += " (\(cause))" }
        return text
    }

    /// The status a server answers with when a responder throws this error.
    public var status: HTTPStatus {
        switch code {
        case .badRequest: .badRequest
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .payloadTooLarge: .payloadTooLarge
        case .connectionClosed, .connectionFailed, .invalidResponse, .localFile, .socketInUse, .socketSetup, .misuse:
            .internalServerError
        }
    }

    /// The client-facing message: the message alone; the context and cause
    /// are for logs.
    public var responseMessage: String { message }

    /// The peer went away: what every write after a disconnect throws.
    static func closed(_ what: String = "the client closed the connection") -> HTTPError {
        HTTPError(.connectionClosed, what)
    }
}

/// An error that knows the HTTP status and message Docker clients expect.
///
/// Errors thrown out of a responder that conform are answered with their
/// status and `{"message": responseMessage}`; any other error becomes a 500
/// with the error's description. The engine's error types conform to this so
/// MoorHTTP never needs to know them.
public protocol HTTPStatusError: Error {
    var status: HTTPStatus { get }
    var responseMessage: String { get }
}
