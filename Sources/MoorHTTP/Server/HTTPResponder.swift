/// What the server calls for each request.
///
/// The responder answers through `response` in one of three ways: a complete
/// response, a streamed one, or a hijack. It runs in its own task; when the
/// client goes away that task is cancelled (unless the server is configured
/// otherwise), as Go cancels a request's context, so `for await` loops over
/// events or log lines end by themselves. An error it throws becomes the
/// response if nothing was sent yet (its `HTTPStatusError` status, else 500),
/// otherwise it closes the connection.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, response: HTTPResponseWriter) async throws
}

/// A responder from a closure: for tests and small servers.
public struct HTTPClosureResponder: HTTPResponder {
    private let body: @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void

    public init(_ body: @escaping @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void) {
        self.body = body
    }

    public func respond(to request: HTTPRequest, response: HTTPResponseWriter) async throws {
        try await body(request, response)
    }
}
