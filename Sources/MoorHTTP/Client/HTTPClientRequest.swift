import NIOCore

/// A request the `moor` CLI sends to moord.
public struct HTTPClientRequest: Sendable {
    /// Where a request body comes from.
    public enum Body: Sendable {
        case none
        case bytes(ByteBuffer)
        /// A file streamed from disk (an image tarball): a regular file is sent
        /// with its length, anything else (a pipe, `/dev/stdin`) chunked.
        case file(path: String)
        /// Bytes produced by the caller through the writer; chunked unless
        /// `length` is given.
        case stream(length: Int?, @Sendable (HTTPRequestBodyWriter) async throws -> Void)
    }

    public var method: String
    /// Path and query, encoded (`/v1.43/containers/json?all=1`).
    public var target: String
    public var headers: HTTPFields
    public var body: Body

    public init(method: String = "GET", target: String, headers: HTTPFields = [:], body: Body = .none) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// A request for `path` with `query` encoded after it.
    public init(method: String = "GET", path: String, query: HTTPQuery, headers: HTTPFields = [:], body: Body = .none) {
        let encoded = query.encoded
        self.init(method: method, target: encoded.isEmpty ? path : path + "?" + encoded, headers: headers, body: body)
    }

    /// A JSON body (already encoded) with its Content-Type.
    public static func json(method: String = "POST", target: String, _ json: some Sequence<UInt8>) -> HTTPClientRequest {
        HTTPClientRequest(
            method: method, target: target, headers: ["Content-Type": "application/json"],
            body: .bytes(ByteBuffer(bytes: Array(json)))
        )
    }
}

/// Writes a streamed request body; each write returns once the bytes are on
/// their way, so a fast producer waits for the socket.
public struct HTTPRequestBodyWriter: Sendable {
    let channel: any Channel

    public func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        do {
            try await channel.writeAndFlush(ClientConnectionHandler.OutboundIn.body(.byteBuffer(buffer))).get()
        } catch {
            throw HTTPError(.connectionClosed, "the daemon closed the connection during the upload", cause: error)
        }
    }

    public func write(bytes: some Sequence<UInt8>) async throws {
        try await write(ByteBuffer(bytes: Array(bytes)))
    }
}

/// What a request to moord returned.
public struct HTTPClientResponse: Sendable {
    public var status: HTTPStatus
    public var version: HTTPProtocolVersion
    public var headers: HTTPFields
    /// The body, streamed (Content-Length, chunked or until the server
    /// closes); consume it or drop the response, which closes the connection.
    public var body: HTTPBody
}

/// The answer to a hijack request.
public enum HTTPHijackOutcome: Sendable {
    /// `101` or `200`: the connection is a raw stream now.
    case hijacked(status: HTTPStatus, headers: HTTPFields, stream: HijackedStream)
    /// Any other answer (an error such as 404 with its JSON message).
    case refused(HTTPClientResponse)
}
