import NIOCore
import NIOHTTP1

/// NIOHTTP1's request decoder behind a gate the connection handler controls.
///
/// llhttp parses every byte it is given. That is wrong for two moments of a
/// Docker connection: while a response is pending (bytes that follow belong
/// to the next request, or, if the responder hijacks, to the raw stream), and
/// after a hijack (everything is stdin). So after each request's end the
/// handler puts the gate on `hold`: new bytes stay unparsed in the
/// ByteToMessageHandler's buffer. `resume` lets parsing go on for the next
/// request; `passthrough` hands every byte on raw, as ByteBuffers, until the
/// decoder leaves the pipeline at hijack time. llhttp has already consumed
/// what arrived in the same read as the request, except after an upgrade
/// request where it stops by itself (that is the case Docker clients use).
final class RequestDecoderGate: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart

    enum Mode {
        case parsing
        case holding
        case passthrough
    }

    private let decoder: HTTPRequestDecoder
    private(set) var mode = Mode.parsing
    /// Bytes arrived while holding; a resume must make the decoder look.
    private(set) var hasHeldBytes = false
    /// Bytes held when the input ended: the decoder gets no later call to
    /// hand them on, so a hijack takes them from here.
    private var stash: ByteBuffer?

    init(headerLimit: Int) {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = headerLimit
        limits.maxHeaderListSize = headerLimit
        decoder = HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits)
    }

    func hold() {
        if mode == .parsing { mode = .holding }
    }

    /// Back to parsing; returns whether bytes are waiting to be parsed.
    func resume() -> Bool {
        guard mode == .holding else { return false }
        mode = .parsing
        defer { hasHeldBytes = false }
        return hasHeldBytes
    }

    func passthrough() {
        mode = .passthrough
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch mode {
        case .parsing:
            return try decoder.decode(context: context, buffer: &buffer)
        case .holding:
            hasHeldBytes = hasHeldBytes || buffer.readableBytes > 0
            return .needMoreData
        case .passthrough:
            forwardRaw(context: context, buffer: &buffer)
            return .needMoreData
        }
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        switch mode {
        case .parsing:
            return try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
        case .holding:
            if seenEOF, buffer.readableBytes > 0 {
                stash = buffer.readSlice(length: buffer.readableBytes)
            }
            return .needMoreData
        case .passthrough:
            forwardRaw(context: context, buffer: &buffer)
            return .needMoreData
        }
    }

    func takeStash() -> ByteBuffer? {
        defer { stash = nil }
        return stash
    }

    private func forwardRaw(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        guard buffer.readableBytes > 0, let bytes = buffer.readSlice(length: buffer.readableBytes) else { return }
        context.fireChannelRead(NIOAny(bytes))
    }
}
