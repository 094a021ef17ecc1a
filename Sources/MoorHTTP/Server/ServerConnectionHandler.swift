import Logging
import NIOCore
import NIOHTTP1

/// One server connection in HTTP mode: turns decoded requests into calls to
/// the responder and the responder's answers into response parts.
///
/// Design: NIOHTTP1's llhttp-based decoder and its encoder do the HTTP/1.1
/// syntax (a well-kept, fuzzed parser; nothing hand-written there). Around
/// them this handler bridges to Swift concurrency by hand instead of using
/// `NIOAsyncChannel`, because a Docker connection changes type in the middle:
/// a responder decides to hijack after reading the request, and from then on
/// the same connection carries raw bytes. The handler then removes itself,
/// the encoder and the decoder, as NIO's upgrade handlers do, and a
/// `RawStreamHandler` takes over (`+Hijack`). Backpressure: request bodies
/// go through an `NIOThrowingAsyncSequenceProducer` whose demand gates
/// `read()`; responses are written one awaited chunk at a time. Reading also
/// pauses while a response is pending, so a client can queue at most what
/// fits in one read.
///
/// All state lives here and is touched on the channel's event loop only;
/// writers reach it through `NIOLoopBound`.
final class ServerConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Settings: Sendable {
        var headerLimit: Int
        var maxDiscardedBodyBytes: Int
        var cancelRespondersOnClientClose: Bool
    }

    let responder: any HTTPResponder
    let settings: Settings
    let logger: Logger
    let eventLoop: any EventLoop
    let gate: RequestDecoderGate
    let decoderHandler: ByteToMessageHandler<RequestDecoderGate>
    let encoder: HTTPResponseEncoder

    var context: ChannelHandlerContext?
    var channel: (any Channel)?
    var current: InFlightRequest?
    var queued = CircularBuffer<QueuedEvent>()
    var readPending = false
    var inputClosed = false
    var quiescing = false
    var isClosed = false
    /// A protocol error was answered; everything else is dropped until close.
    var isClosing = false
    var nextID: UInt64 = 0
    /// The latest response write, which a close waits for.
    var lastWrite: EventLoopFuture<Void>?

    init(responder: any HTTPResponder, settings: Settings, logger: Logger, eventLoop: any EventLoop) {
        self.responder = responder
        self.settings = settings
        self.logger = logger
        self.eventLoop = eventLoop
        gate = RequestDecoderGate(headerLimit: settings.headerLimit)
        decoderHandler = ByteToMessageHandler(gate)
        var encoderConfiguration = HTTPResponseEncoder.Configuration()
        // Framing headers are set here, per response: HEAD, hijack and
        // HTTP/1.0 streams each need their own.
        encoderConfiguration.automaticallySetFramingHeaders = false
        encoder = HTTPResponseEncoder(configuration: encoderConfiguration)
    }

    /// Adds the decoder, the encoder and this handler to a new connection.
    func install(in pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(encoder)
        try pipeline.addHandler(decoderHandler)
        try pipeline.addHandler(self)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channel = context.channel
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: inbound events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        let part = unwrapInboundIn(data)
        if acceptsParts {
            handle(part)
        } else {
            queued.append(.part(part))
        }
    }

    /// Parts belong to the request in flight until its end; after that they
    /// belong to the next one, which waits.
    var acceptsParts: Bool {
        guard let current else { return true }
        return !current.bodyIsComplete
    }

    func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case let .head(head): startRequest(head)
        case let .body(buffer): receiveBody(buffer)
        case .end: endOfBody()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !isClosing else { return }
        if error is ByteToMessageDecoderError {
            // Data after a decoder failure: already answered.
            return
        }
        guard error is HTTPParserError else {
            logger.debug("connection failed", metadata: ["error": "\(error)"])
            closeChannel()
            return
        }
        if acceptsParts {
            decoderFailed(error)
        } else {
            queued.append(.error(error))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            clientHalfClosed()
        } else if event is ChannelShouldQuiesceEvent {
            quiesce()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        if var request = current {
            if case let .receiving(source) = request.body {
                source?.finish(HTTPError.closed("the client closed the connection before the request body was complete"))
                request.body = .complete
            }
            if case let .hijackPending(pending) = request.response {
                pending.promise.fail(HTTPError.closed())
                request.response = .complete
            }
            current = request
            request.signal.fire()
        }
        queued.removeAll()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if shouldRead {
            context.read()
        } else {
            readPending = true
        }
    }

    // MARK: request lifecycle

    func startRequest(_ head: HTTPRequestHead) {
        guard let context else { return }
        nextID += 1
        let target: HTTPRequestTarget
        do {
            target = try HTTPRequestTarget(parsing: head.uri)
        } catch {
            respondToProtocolError(error)
            return
        }
        let fields = HTTPFields(head.headers.map { ($0.name, $0.value) })
        let contentLength = head.headers.first(name: "content-length").flatMap { Int($0) }
        let (body, source) = makeBody(head: head, fields: fields, contentLength: contentLength, context: context)
        let request = HTTPRequest(
            method: head.method.rawValue, target: target, headers: fields,
            version: HTTPProtocolVersion(major: head.version.major, minor: head.version.minor), body: body
        )
        let signal = ClientCloseSignal()
        current = InFlightRequest(
            id: nextID, head: head, signal: signal,
            decoderStopsAfter: request.wantsUpgrade || head.method == .CONNECT,
            wantsUpgrade: request.wantsUpgrade, body: .receiving(source), expectedLength: contentLength
        )
        if inputClosed && !request.wantsUpgrade { signal.fire() }
        runResponder(request, id: nextID, signal: signal, loop: context.eventLoop)
    }

    /// The streamed body of a request that has one (and the interim 100 its
    /// client may wait for before sending it); an empty body otherwise.
    private func makeBody(
        head: HTTPRequestHead, fields: HTTPFields, contentLength: Int?, context: ChannelHandlerContext
    ) -> (HTTPBody, BodySource.Source?) {
        guard head.headers.contains(name: "transfer-encoding") || (contentLength ?? 0) > 0 else {
            return (.empty, nil)
        }
        if head.version.minor >= 1, fields.containsToken("100-continue", in: "expect") {
            let interim = HTTPResponseHead(version: head.version, status: .continue)
            context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
        }
        let (body, source) = BodySource.make(expectedLength: contentLength, delegate: bodyDelegate(for: nextID))
        return (body, source)
    }

    private func runResponder(_ request: HTTPRequest, id: UInt64, signal: ClientCloseSignal, loop: any EventLoop) {
        let writer = HTTPResponseWriter(
            connection: ServerConnectionRef(loop: loop, handler: NIOLoopBound(self, eventLoop: loop)),
            requestID: id, closeSignal: signal
        )
        let responder = self.responder
        let task = Task {
            var failure: (any Error)?
            do {
                try await responder.respond(to: request, response: writer)
            } catch {
                failure = error
            }
            await writer.responderFinished(error: failure)
        }
        if settings.cancelRespondersOnClientClose {
            signal.onFire { task.cancel() }
        }
    }

    private func bodyDelegate(for id: UInt64) -> BodyDemandDelegate {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        return BodyDemandDelegate(
            onProduceMore: { loop.execute { bound.value.bodyDemanded(id: id) } },
            onTerminate: { loop.execute { bound.value.bodyAbandoned(id: id) } }
        )
    }

    func receiveBody(_ buffer: ByteBuffer) {
        guard var request = current else { return }
        request.receivedBytes += buffer.readableBytes
        switch request.body {
        case let .receiving(source?):
            if source.yield(buffer) == .stopProducing { request.bodyDemand = false }
        case let .discarding(count):
            let total = count + buffer.readableBytes
            if total > settings.maxDiscardedBodyBytes {
                logger.debug("closing: unread request body too large", metadata: ["request": "\(request.description)"])
                closeChannel()
            }
            request.body = .discarding(total)
        case .receiving(nil), .complete:
            break
        }
        current = request
    }

    func endOfBody() {
        guard var request = current else { return }
        if case let .receiving(source) = request.body { source?.finish() }
        request.body = .complete
        current = request
        // Whatever follows is the next request's or, after a hijack, raw.
        gate.hold()
        switch request.response {
        case let .hijackPending(pending):
            // Not from inside the decoder's callback: llhttp may still be
            // handing out parts of this read, which must not reach the raw
            // handler. On the next loop turn they sit in `queued` instead.
            eventLoop.assumeIsolated().execute { self.performHijack(pending) }
        case .complete: requestDone()
        case .pending, .streaming, .hijacked: break
        }
    }

    /// The response is written and the body read: on to the next request.
    func requestDone() {
        guard let request = current else { return }
        current = nil
        if request.closeAfter || quiescing || (inputClosed && queued.isEmpty) {
            closeChannel()
            return
        }
        let kick = gate.resume()
        replayQueued()
        if kick, let context {
            // Bytes waited in the decoder's buffer while we held it; a read of
            // nothing makes it parse them.
            context.pipeline.syncOperations.fireChannelRead(NIOAny(context.channel.allocator.buffer(capacity: 0)))
        }
        resumeReadingIfNeeded()
    }

    private func replayQueued() {
        while !isClosing, acceptsParts, let event = queued.popFirst() {
            switch event {
            case let .part(part): handle(part)
            case let .error(error): decoderFailed(error)
            }
        }
    }

    /// The decoder failed: the request in flight (its body is broken) or, if
    /// none, the next request (it is answered with 400 or 431).
    func decoderFailed(_ error: any Error) {
        guard var request = current else {
            respondToProtocolError(error)
            return
        }
        let httpError = ParserErrorMessage.httpError(for: error, headerLimit: settings.headerLimit)
        if case let .receiving(source) = request.body { source?.finish(httpError) }
        request.body = .complete
        request.closeAfter = true
        current = request
        if request.responseIsComplete { closeChannel() }
    }

    func clientHalfClosed() {
        inputClosed = true
        guard var request = current else {
            if queued.isEmpty { closeChannel() }
            return
        }
        if case let .receiving(source) = request.body {
            source?.finish(HTTPError.closed("the client closed the connection before the request body was complete"))
            request.body = .complete
        }
        request.closeAfter = true
        current = request
        // An upgrade request's client may half-close before the hijack (no
        // more stdin); for any other request end-of-input means the client
        // is gone, as Go's server treats it.
        if !request.wantsUpgrade { request.signal.fire() }
        if request.responseIsComplete { closeChannel() }
    }

    func quiesce() {
        quiescing = true
        guard var request = current else {
            closeChannel()
            return
        }
        request.closeAfter = true
        current = request
    }

    // MARK: read control

    var shouldRead: Bool {
        guard let request = current else { return true }
        switch request.body {
        case let .receiving(source): return source == nil || request.bodyDemand
        case .discarding:
            switch request.response {
            case .complete, .hijackPending: return true
            case .pending, .streaming, .hijacked: return false
            }
        case .complete: return false
        }
    }

    func resumeReadingIfNeeded() {
        guard readPending, shouldRead, let context else { return }
        readPending = false
        context.read()
    }

    func bodyDemanded(id: UInt64) {
        guard current?.id == id else { return }
        current?.bodyDemand = true
        resumeReadingIfNeeded()
    }

    /// The responder dropped the body before its end: drain what is left.
    func bodyAbandoned(id: UInt64) {
        guard var request = current, request.id == id, case let .receiving(source?) = request.body else { return }
        source.finish()
        request.body = .discarding(0)
        current = request
        resumeReadingIfNeeded()
    }

    /// Closes once what was written is on its way: NIO's close drops writes
    /// still queued, and the last response must reach the client.
    func closeChannel() {
        isClosing = true
        guard let channel else { return }
        if let lastWrite {
            lastWrite.whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}
