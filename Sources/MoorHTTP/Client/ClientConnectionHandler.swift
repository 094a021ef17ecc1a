import NIOCore
import NIOHTTP1

/// The client's side of one request: NIOHTTP1's encoder and decoder do the
/// syntax; this handler hands the response head and a streamed body (with
/// backpressure) to the waiting task, or, for a hijack answered with 101 or
/// 200, swaps the HTTP handlers for a `RawStreamHandler` as the server does.
final class ClientConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case awaitingHead
        case streaming(BodySource.Source)
        /// A hijack was accepted; body bytes (a 200 answer's raw stream)
        /// wait here until the raw handler takes over.
        case switching(status: HTTPStatus, headers: HTTPFields, buffered: [ByteBuffer], ended: Bool)
        case done
    }

    /// Dropped once fulfilled: a fulfilled future keeps its value, and the
    /// response's body must die with the caller's last reference so that a
    /// dropped response closes the connection.
    private var outcome: EventLoopPromise<HTTPHijackOutcomeOrResponse>?
    private let wantsHijack: Bool
    /// A HEAD answer announces a length it does not carry.
    private let isHEAD: Bool
    private let encoder = HTTPRequestEncoder()
    private let decoderHandler = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
    private var state = State.awaitingHead
    private var context: ChannelHandlerContext?
    private var demand = true
    private var readPending = false
    /// The request's end has been written. A hijack switches only after it:
    /// an HTTP part reaching the raw pipeline would be a type error.
    private var requestEnded = false

    init(outcome: EventLoopPromise<HTTPHijackOutcomeOrResponse>, wantsHijack: Bool, isHEAD: Bool) {
        self.outcome = outcome
        self.wantsHijack = wantsHijack
        self.isHEAD = isHEAD
    }

    func install(in pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(encoder)
        try pipeline.addHandler(decoderHandler)
        try pipeline.addHandler(self)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        switch state {
        case .awaitingHead, .switching:
            // Closed before a response could be handed out.
            fulfil(.failure(HTTPError(.invalidResponse, "the connection ended without a response")))
            state = .done
        case let .streaming(source):
            source.finish(HTTPError(.invalidResponse, "the connection ended before the response was complete"))
            state = .done
        case .done:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case let (.head(head), .awaitingHead):
            receivedHead(head, context: context)
        case let (.body(buffer), .streaming(source)):
            if source.yield(buffer) == .stopProducing { demand = false }
        case let (.body(buffer), .switching(status, headers, buffered, ended)):
            state = .switching(status: status, headers: headers, buffered: buffered + [buffer], ended: ended)
        case let (.end, .streaming(source)):
            source.finish()
            state = .done
            context.close(promise: nil)
        case let (.end, .switching(status, headers, buffered, _)) where status.code != 101:
            // A 200 answer's "body" is the raw stream, read until the daemon
            // closes: its end is the stream's end. A 101 ends at its head.
            state = .switching(status: status, headers: headers, buffered: buffered, ended: true)
        default:
            break
        }
    }

    private func receivedHead(_ head: HTTPResponseHead, context: ChannelHandlerContext) {
        let status = HTTPStatus(code: Int(head.status.code), reason: head.status.reasonPhrase)
        let headers = HTTPFields(head.headers.map { ($0.name, $0.value) })
        if wantsHijack && (status.code == 101 || status.code == 200) {
            state = .switching(status: status, headers: headers, buffered: [], ended: false)
            if requestEnded { scheduleSwitch(context: context) }
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let delegate = BodyDemandDelegate(
            onProduceMore: { loop.execute { bound.value.bodyDemanded() } },
            onTerminate: { loop.execute { bound.value.bodyAbandoned() } }
        )
        let length = isHEAD || !status.allowsBody ? 0 : head.headers.first(name: "content-length").flatMap { Int($0) }
        let (body, source) = BodySource.make(expectedLength: length, delegate: delegate)
        state = .streaming(source)
        let response = HTTPClientResponse(
            status: status, version: HTTPProtocolVersion(major: head.version.major, minor: head.version.minor),
            headers: headers, body: body
        )
        fulfil(.success(.response(response)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd {
            requestEnded = true
            if case .switching = state { scheduleSwitch(context: context) }
        }
    }

    /// Not from inside the decoder's callback: the swap needs the decoder
    /// idle.
    private func scheduleSwitch(context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().execute { self.switchToRawStream() }
    }

    private func switchToRawStream() {
        guard let context, case let .switching(status, headers, buffered, ended) = state else { return }
        state = .done
        let raw = RawStreamHandler(onClose: {})
        let input = raw.makeInput(loop: context.eventLoop)
        buffered.forEach(raw.feed)
        let channel = context.channel
        guard let outcome = self.outcome else { return }
        self.outcome = nil
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(raw)
        } catch {
            outcome.fail(HTTPError(.connectionClosed, "could not switch to a raw stream", cause: error))
            context.close(promise: nil)
            return
        }
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(encoder, promise: nil)
        raw.startReading()
        // The decoder forwards the bytes after a 101 head on removal; only
        // then may raw writes start (it observes outbound HTTP parts).
        pipeline.removeHandler(decoderHandler).assumeIsolated().whenComplete { _ in
            if ended { raw.finishInput() }
            let stream = HijackedStream(input: input, output: RawStreamWriter(channel: channel))
            outcome.succeed(.hijacked(.hijacked(status: status, headers: headers, stream: stream)))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            ended(context: context, error: HTTPError(.invalidResponse, "the daemon closed the connection before the response was complete"))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended(context: context, error: HTTPError(.invalidResponse, "the daemon closed the connection before the response was complete"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure = error is HTTPParserError
            ? HTTPError(.invalidResponse, "the daemon's answer is not valid HTTP", cause: error)
            : HTTPError(.connectionClosed, "the connection failed", cause: error)
        ended(context: context, error: failure)
        context.close(promise: nil)
    }

    /// The input ended (or failed): whatever waits learns it.
    private func ended(context: ChannelHandlerContext, error: HTTPError) {
        switch state {
        case .awaitingHead:
            fulfil(.failure(error))
            state = .done
            context.close(promise: nil)
        case let .streaming(source):
            source.finish(error)
            state = .done
            context.close(promise: nil)
        case let .switching(status, headers, buffered, _):
            state = .switching(status: status, headers: headers, buffered: buffered, ended: true)
        case .done:
            break
        }
    }

    private func fulfil(_ result: Result<HTTPHijackOutcomeOrResponse, any Error>) {
        outcome?.completeWith(result)
        outcome = nil
    }

    func read(context: ChannelHandlerContext) {
        if case .streaming = state, !demand {
            readPending = true
        } else {
            context.read()
        }
    }

    private func bodyDemanded() {
        demand = true
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// The caller dropped the body: nobody reads the rest, so hang up.
    private func bodyAbandoned() {
        guard case let .streaming(source) = state, let context else { return }
        source.finish()
        state = .done
        context.close(promise: nil)
    }
}

/// What the handler hands back: a response, or a hijacked stream.
enum HTTPHijackOutcomeOrResponse: Sendable {
    case response(HTTPClientResponse)
    case hijacked(HTTPHijackOutcome)
}
