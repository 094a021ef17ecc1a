import NIOCore
import NIOHTTP1

/// Writing responses; called on the event loop through `HTTPResponseWriter`.
extension ServerConnectionHandler {
    func sendComplete(id: UInt64, status: HTTPStatus, headers: HTTPFields, body: ByteBuffer) -> EventLoopFuture<Void> {
        let request: InFlightRequest
        switch pendingRequest(id) {
        case let .success(found): request = found
        case let .failure(error): return eventLoop.makeFailedFuture(error)
        }
        var fields = headers
        fields.remove("transfer-encoding")
        if status.allowsBody {
            fields.set("Content-Length", String(body.readableBytes))
        } else {
            fields.remove("content-length")
        }
        let close = connectionHeader(&fields, for: request, readUntilClose: false)
        guard let head = responseHead(status, fields) else { return invalidHeaders(request) }
        write(.head(head))
        if status.allowsBody, request.head.method != .HEAD, body.readableBytes > 0 {
            write(.body(.byteBuffer(body)))
        }
        let done = write(.end(nil))
        responseCompleted(closing: close)
        return done
    }

    func startStream(id: UInt64, status: HTTPStatus, headers: HTTPFields) -> EventLoopFuture<Void> {
        var request: InFlightRequest
        switch pendingRequest(id) {
        case let .success(found): request = found
        case let .failure(error): return eventLoop.makeFailedFuture(error)
        }
        var fields = headers
        fields.remove("content-length")
        // Chunked needs HTTP/1.1; an HTTP/1.0 client reads until we close.
        let chunked = request.head.version.minor >= 1 && status.allowsBody
        if chunked {
            fields.set("Transfer-Encoding", "chunked")
        } else {
            fields.remove("transfer-encoding")
        }
        let close = connectionHeader(&fields, for: request, readUntilClose: !chunked && status.allowsBody)
        guard let head = responseHead(status, fields) else { return invalidHeaders(request) }
        let sent = write(.head(head))
        request.response = .streaming(
            suppressBody: request.head.method == .HEAD || !status.allowsBody, closeAfter: close
        )
        current = request
        return sent
    }

    func writeChunk(id: UInt64, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        switch streamingRequest(id) {
        case let .failure(error):
            return eventLoop.makeFailedFuture(error)
        case let .success((_, suppressBody, _)):
            if suppressBody { return eventLoop.makeSucceededVoidFuture() }
            return write(.body(.byteBuffer(buffer)))
        }
    }

    func finishStream(id: UInt64) -> EventLoopFuture<Void> {
        switch streamingRequest(id) {
        case let .failure(error):
            return eventLoop.makeFailedFuture(error)
        case let .success((_, suppressBody, closeAfter)):
            let done = suppressBody ? (lastWrite ?? eventLoop.makeSucceededVoidFuture()) : write(.end(nil))
            responseCompleted(closing: closeAfter)
            return done
        }
    }

    /// The responder returned (or threw): answer for it if it did not.
    func responderFinished(id: UInt64, error: (any Error)?) {
        guard let request = current, request.id == id else {
            if let error { logger.debug("responder failed after its response", metadata: ["error": "\(error)"]) }
            return
        }
        switch request.response {
        case .pending:
            guard !isClosed, !isClosing else { return }
            let (status, message) = error.map(ErrorBody.describe)
                ?? (.internalServerError, "no response was sent for \(request.description)")
            if status.code >= 500 {
                logger.warning("request failed", metadata: ["request": "\(request.description)", "error": "\(message)"])
            }
            _ = sendComplete(id: id, status: status, headers: ["Content-Type": "application/json"],
                             body: ErrorBody.json(message))
        case .streaming:
            if let error {
                // Headers are out: the only signal left is an incomplete body.
                logger.debug("streamed response failed", metadata: ["request": "\(request.description)", "error": "\(error)"])
                closeChannel()
            } else {
                _ = finishStream(id: id)
            }
        case let .hijackPending(pending):
            pending.promise.fail(HTTPError(.misuse, "the responder returned before its hijack completed"))
            closeChannel()
        case .hijacked:
            // The session ends with its responder.
            channel?.close(promise: nil)
        case .complete:
            break
        }
    }

    // MARK: helpers

    /// The request `id` if it is the one in flight and nothing was sent yet.
    /// A second answer is reported as misuse even when the client is gone,
    /// since that is the bug to fix.
    func pendingRequest(_ id: UInt64) -> Result<InFlightRequest, HTTPError> {
        guard let request = current, request.id == id else {
            return .failure(HTTPError(.misuse, "a response was already sent for this request"))
        }
        guard case .pending = request.response else {
            return .failure(HTTPError(.misuse, "a response was already sent for \(request.description)"))
        }
        guard !isClosed, context != nil else { return .failure(HTTPError.closed()) }
        return .success(request)
    }

    private func streamingRequest(_ id: UInt64) -> Result<(InFlightRequest, Bool, Bool), HTTPError> {
        guard let request = current, request.id == id, case let .streaming(suppressBody, closeAfter) = request.response
        else {
            return .failure(HTTPError(.misuse, "no streamed response is open for this request"))
        }
        guard !isClosed else { return .failure(HTTPError.closed()) }
        return .success((request, suppressBody, closeAfter))
    }

    /// Decides whether the connection closes after this response and says so
    /// in the `Connection` header.
    func connectionHeader(_ fields: inout HTTPFields, for request: InFlightRequest, readUntilClose: Bool) -> Bool {
        // An unread body known to exceed the drain limit will end the
        // connection anyway: say so now.
        let tooMuchUnread = (request.unreadRemainder ?? 0) > settings.maxDiscardedBodyBytes
        let close = request.closeAfter || !request.head.isKeepAlive || quiescing || inputClosed
            || request.decoderStopsAfter || readUntilClose || tooMuchUnread
        if close {
            fields.set("Connection", "close")
        } else if request.head.version.minor == 0 {
            fields.set("Connection", "keep-alive")
        }
        current?.closeAfter = close
        return close
    }

    /// The head for `status`, or nil if a header would break the framing
    /// (a CR or LF in a name or value, which must never reach the wire).
    func responseHead(_ status: HTTPStatus, _ fields: HTTPFields) -> HTTPResponseHead? {
        var headers = HTTPHeaders()
        for field in fields {
            let text = field.name + field.value
            if text.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) || field.name.isEmpty {
                return nil
            }
            headers.add(name: field.name, value: field.value)
        }
        return HTTPResponseHead(
            version: .http1_1, status: .custom(code: UInt(status.code), reasonPhrase: status.reason),
            headers: headers
        )
    }

    private func invalidHeaders(_ request: InFlightRequest) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(HTTPError(.misuse, "response header for \(request.description) contains CR or LF"))
    }

    @discardableResult
    func write(_ part: HTTPServerResponsePart) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(HTTPError.closed()) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(part), promise: promise)
        lastWrite = promise.futureResult
        return promise.futureResult
    }

    /// The response is fully written: close, drain the unread body, or go on.
    func responseCompleted(closing: Bool) {
        guard var request = current else { return }
        request.response = .complete
        if closing { request.closeAfter = true }
        switch request.body {
        case .complete:
            current = request
            requestDone()
        case let .receiving(source):
            source?.finish()
            request.body = .discarding(0)
            current = request
            if closing { closeChannel() } else { resumeReadingIfNeeded() }
        case .discarding:
            current = request
            if closing { closeChannel() } else { resumeReadingIfNeeded() }
        }
    }

    /// A request that cannot be parsed: 400 (431 for a header too large) with
    /// `{"message": ...}` naming the problem, then close.
    func respondToProtocolError(_ error: any Error) {
        guard let context, !isClosing else { return }
        let httpError = (error as? HTTPError) ?? ParserErrorMessage.httpError(for: error, headerLimit: settings.headerLimit)
        logger.debug("malformed request", metadata: ["error": "\(httpError)"])
        let body = ErrorBody.json(httpError.message)
        let fields: HTTPFields = [
            "Content-Type": "application/json", "Content-Length": String(body.readableBytes), "Connection": "close",
        ]
        guard let head = responseHead(httpError.status, fields) else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        write(.end(nil))
        current = nil
        closeChannel()
    }
}
