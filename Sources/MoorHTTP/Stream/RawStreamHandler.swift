import NIOCore

/// The pipeline's last handler once a connection is hijacked (server) or
/// upgraded (client): raw bytes in, raw bytes out.
///
/// Inbound bytes feed an `HTTPBody` with backpressure (reading stops while
/// the consumer is behind). The peer's half-close (`shutdown(SHUT_WR)`, the
/// docker CLI at stdin EOF) ends that stream and nothing else: our side keeps
/// writing until the session closes. Writes go through `channel.writeAndFlush`
/// and pass this handler untouched.
final class RawStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var source: BodySource.Source?
    private var context: ChannelHandlerContext?
    private var demand = true
    private var readPending = false
    private let onClose: @Sendable () -> Void

    /// - Parameters:
    ///   - onClose: run once when the connection closes (client gone).
    init(onClose: @escaping @Sendable () -> Void) {
        self.onClose = onClose
    }

    /// Creates the inbound stream; call on the event loop before adding the
    /// handler. The consumer's demand reaches this handler on `loop`.
    func makeInput(loop: any EventLoop) -> HTTPBody {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let delegate = BodyDemandDelegate(
            onProduceMore: { loop.execute { bound.value.produceMore() } },
            onTerminate: { loop.execute { bound.value.produceMore() } }
        )
        let (body, source) = BodySource.make(expectedLength: nil, delegate: delegate)
        self.source = source
        return body
    }

    /// Feeds bytes that arrived before this handler existed (the client's
    /// HTTP handler may have received some as body parts).
    func feed(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0, let source else { return }
        if source.yield(buffer) == .stopProducing { demand = false }
    }

    /// Ends the inbound stream: the peer half-closed (or did before the
    /// switch).
    func finishInput(error: (any Error)? = nil) {
        if let error { source?.finish(error) } else { source?.finish() }
        source = nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Asks for data once the HTTP handlers are gone: they may have held a
    /// read for their own backpressure, and a read issued while they are
    /// still in the pipeline would be held by them again.
    func startReading() {
        context?.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        feed(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            finishInput()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishInput()
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finishInput(error: HTTPError(.connectionClosed, "the connection failed", cause: error))
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if demand || source == nil {
            context.read()
        } else {
            readPending = true
        }
    }

    private func produceMore() {
        demand = true
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}

/// Writes raw bytes to a hijacked or upgraded connection.
///
/// Each write returns once the bytes are handed to the socket, so a producer
/// faster than the peer waits instead of filling memory.
public struct RawStreamWriter: Sendable {
    let channel: any Channel

    public func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        do {
            let written = channel.eventLoop.makePromise(of: Void.self)
            channel.writeAndFlush(buffer, promise: written)
            try await written.futureResult.get()
        } catch {
            throw HTTPError.closed("the peer closed the connection")
        }
    }

    public func write(bytes: some Sequence<UInt8>) async throws {
        try await write(ByteBuffer(bytes: Array(bytes)))
    }

    public func write(string: String) async throws {
        try await write(ByteBuffer(string: string))
    }

    /// Half-closes: tells the peer nothing more comes (its read sees EOF)
    /// while its bytes can still be read.
    public func closeWrite() async throws {
        do {
            try await channel.close(mode: .output).get()
        } catch ChannelError.alreadyClosed {
            return
        } catch {
            throw HTTPError(.connectionClosed, "could not half-close the connection", cause: error)
        }
    }

    /// Closes the connection both ways: the session is over.
    public func finish() async {
        try? await channel.close().get()
    }
}

/// A connection turned into a raw byte stream both ways (Docker's attach
/// and exec start).
public struct HijackedStream: Sendable {
    /// What the peer sends (stdin on the server); ends when the peer
    /// half-closes or disconnects.
    public let input: HTTPBody
    /// What we send (the container's output on the server).
    public let output: RawStreamWriter
}
