import NIOCore
import NIOHTTP1

/// Hijacking: the HTTP handlers leave the pipeline and the connection
/// becomes a raw byte stream both ways (Docker's attach and exec start).
extension ServerConnectionHandler {
    func hijack(id: UInt64, contentType: String, headers: HTTPFields) -> EventLoopFuture<HijackedStream> {
        var request: InFlightRequest
        switch pendingRequest(id) {
        case let .success(found): request = found
        case let .failure(error): return eventLoop.makeFailedFuture(error)
        }
        let pending = InFlightRequest.PendingHijack(
            promise: eventLoop.makePromise(), contentType: contentType, headers: headers
        )
        if request.bodyIsComplete {
            performHijack(pending)
        } else {
            // The body must be off the wire before the stream starts: drop
            // what the responder did not read, then switch at its end.
            if case let .receiving(source) = request.body { source?.finish() }
            if case .receiving = request.body { request.body = .discarding(0) }
            request.response = .hijackPending(pending)
            current = request
            resumeReadingIfNeeded()
        }
        return pending.promise.futureResult
    }

    /// Answers 101 (or 200), then swaps the HTTP handlers for a
    /// `RawStreamHandler`. Bytes the client sent after the request, already
    /// in the decoder's buffer, reach the raw stream when the decoder leaves
    /// (the gate hands them on unparsed).
    func performHijack(_ pending: InFlightRequest.PendingHijack) {
        guard let context, var request = current else {
            pending.promise.fail(HTTPError.closed())
            return
        }
        var fields = pending.headers
        fields.remove("content-length")
        fields.remove("transfer-encoding")
        fields.set("Content-Type", pending.contentType)
        let status: HTTPStatus
        if request.wantsUpgrade {
            status = .upgraded
            fields.set("Connection", "Upgrade")
            fields.set("Upgrade", "tcp")
        } else {
            status = .ok
        }
        guard let head = responseHead(status, fields) else {
            pending.promise.fail(HTTPError(.misuse, "hijack header for \(request.description) contains CR or LF"))
            request.response = .complete
            current = request
            closeChannel()
            return
        }
        write(.head(head))
        request.response = .hijacked
        current = request
        do {
            pending.promise.succeed(try switchToRawStream(context: context, signal: request.signal))
        } catch {
            pending.promise.fail(HTTPError(.connectionClosed, "could not switch to a raw stream", cause: error))
            closeChannel()
        }
    }

    private func switchToRawStream(context: ChannelHandlerContext, signal: ClientCloseSignal) throws -> HijackedStream {
        let channel = context.channel
        let raw = RawStreamHandler(onClose: { signal.fire() })
        let input = raw.makeInput(loop: context.eventLoop)
        let inputWasClosed = inputClosed
        gate.passthrough()
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandler(raw)
        if let stash = gate.takeStash() { raw.feed(stash) }
        // This handler and the encoder leave at once; the decoder leaves on
        // the next loop turn and forwards its buffered bytes to `raw` then.
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(encoder, promise: nil)
        raw.startReading()
        pipeline.removeHandler(decoderHandler).assumeIsolated().whenComplete { _ in
            if inputWasClosed { raw.finishInput() }
        }
        return HijackedStream(input: input, output: RawStreamWriter(channel: channel))
    }
}
