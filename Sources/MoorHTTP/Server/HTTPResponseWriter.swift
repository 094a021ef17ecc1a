import NIOCore

/// How a responder answers one request. Every method hops to the
/// connection's event loop; each returns once its bytes are handed to the
/// socket, which is the backpressure for streamed output.
///
/// Exactly one of `send`, `startStream` or `hijack` may be used per request;
/// a second one throws `HTTPError` with code `.misuse`.
public struct HTTPResponseWriter: Sendable {
    let connection: ServerConnectionRef
    let requestID: UInt64
    let closeSignal: ClientCloseSignal

    /// A complete response: `Content-Length` is set from `body` (a response
    /// to `HEAD` sends the headers only).
    public func send(status: HTTPStatus = .ok, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) async throws {
        let id = requestID
        try await connection.run { $0.sendComplete(id: id, status: status, headers: headers, body: body) }
    }

    public func send(status: HTTPStatus = .ok, headers: HTTPFields = [:], bytes: some Sequence<UInt8>) async throws {
        try await send(status: status, headers: headers, body: ByteBuffer(bytes: Array(bytes)))
    }

    /// A JSON body already encoded, with `Content-Type: application/json`.
    public func sendJSON(status: HTTPStatus = .ok, headers: HTTPFields = [:], _ json: some Sequence<UInt8>) async throws {
        var headers = headers
        headers.set("Content-Type", "application/json")
        try await send(status: status, headers: headers, bytes: json)
    }

    /// Docker's error response: `status` with `{"message": message}`.
    public func sendError(status: HTTPStatus, message: String) async throws {
        try await send(status: status, headers: ["Content-Type": "application/json"], body: ErrorBody.json(message))
    }

    /// Sends the status and headers at once and flushes them, before any
    /// body (`wait` and `events` clients need the headers immediately); the
    /// body follows in chunks through the returned writer.
    public func startStream(status: HTTPStatus = .ok, headers: HTTPFields = [:]) async throws -> HTTPStreamWriter {
        let id = requestID
        try await connection.run { $0.startStream(id: id, status: status, headers: headers) }
        return HTTPStreamWriter(connection: connection, requestID: id)
    }

    /// Turns the connection into a raw byte stream both ways.
    ///
    /// Answers `101 UPGRADED` with `Connection: Upgrade` and `Upgrade: tcp`
    /// when the client asked to upgrade, else `200 OK` (Docker does both);
    /// either carries `contentType`. A request body not yet read is read and
    /// dropped first. The connection closes when the stream's output is
    /// finished or the responder returns.
    public func hijack(
        contentType: String = "application/vnd.docker.raw-stream", headers: HTTPFields = [:]
    ) async throws -> HijackedStream {
        let id = requestID
        return try await connection.run { $0.hijack(id: id, contentType: contentType, headers: headers) }
    }

    /// Whether the client is gone (disconnected, or its read side ended).
    public var isClientGone: Bool { closeSignal.isFired }

    /// Runs `action` once when the client goes away (at once if it has).
    public func onClientClose(_ action: @escaping @Sendable () -> Void) {
        closeSignal.onFire(action)
    }

    /// Returns when the client goes away, or when the calling task is
    /// cancelled.
    public func clientClosed() async {
        await closeSignal.wait()
    }

    /// Called by the server when the responder has returned or thrown.
    func responderFinished(error: (any Error)?) async {
        let id = requestID
        _ = try? await connection.run { handler -> EventLoopFuture<Void> in
            handler.responderFinished(id: id, error: error)
            return handler.eventLoop.makeSucceededVoidFuture()
        }
    }
}

/// The body of a streamed response, sent with chunked transfer encoding
/// (read-until-close for an HTTP/1.0 client).
public struct HTTPStreamWriter: Sendable {
    let connection: ServerConnectionRef
    let requestID: UInt64

    /// Sends one chunk; throws `HTTPError` (`.connectionClosed`) once the
    /// client is gone, which is how a follower learns to stop.
    public func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        let id = requestID
        try await connection.run { $0.writeChunk(id: id, buffer) }
    }

    public func write(bytes: some Sequence<UInt8>) async throws {
        try await write(ByteBuffer(bytes: Array(bytes)))
    }

    public func write(string: String) async throws {
        try await write(ByteBuffer(string: string))
    }

    /// Ends the body. Done for the responder if it returns without calling it.
    public func finish() async throws {
        let id = requestID
        try await connection.run { $0.finishStream(id: id) }
    }
}

/// A way to reach a connection's handler from any task.
struct ServerConnectionRef: Sendable {
    let loop: any EventLoop
    let handler: NIOLoopBound<ServerConnectionHandler>

    func run<T: Sendable>(_ operation: @escaping @Sendable (ServerConnectionHandler) -> EventLoopFuture<T>) async throws -> T {
        let handler = self.handler
        do {
            return try await loop.flatSubmit { operation(handler.value) }.get()
        } catch let error as HTTPError {
            throw error
        } catch {
            // A write failed: the channel closed under it.
            throw HTTPError(.connectionClosed, "the client closed the connection", cause: error)
        }
    }
}
