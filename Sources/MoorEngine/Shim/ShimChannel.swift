import Glibc
import Logging
import MoorShimClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The daemon's connection to one shim: the shim protocol (MoorShimClient's
/// codec) over a SwiftNIO unix-socket channel, with any number of requests
/// in flight. Replies are matched by request id, so a parked WAIT or a
/// long-polled SPOOL_READ never holds up the others, and a connection costs
/// no thread.
final class ShimChannel: Sendable {
    let socketPath: String
    private let channel: any Channel
    private let handler: NIOLoopBound<ShimReplyHandler>
    private let nextID = NIOLockedValueBox<UInt32>(1)

    private init(socketPath: String, channel: any Channel, handler: NIOLoopBound<ShimReplyHandler>) {
        self.socketPath = socketPath
        self.channel = channel
        self.handler = handler
    }

    static func connect(to socketPath: String, group: any EventLoopGroup) async throws -> ShimChannel {
        let eventLoop = group.next()
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ShimReplyHandler(socketPath: socketPath))
                    }
                }
                .connect(unixDomainSocketPath: socketPath)
                .get()
            let handler = try await channel.pipeline.handler(type: ShimReplyHandler.self).map {
                NIOLoopBound($0, eventLoop: channel.eventLoop)
            }.get()
            return ShimChannel(socketPath: socketPath, channel: channel, handler: handler)
        } catch {
            throw ShimError(code: ECONNREFUSED, message: "connect to the shim: \(error)", context: socketPath)
        }
    }

    var isActive: Bool { channel.isActive }

    /// Sends `request` and returns the reply's payload (or throws the shim's
    /// error). `timeout` nil waits as long as the shim takes (WAIT).
    func call(_ type: ShimMessageType, payload: [UInt8], timeout: TimeAmount? = .seconds(30)) async throws -> [UInt8] {
        let id = nextID.withLockedValue { value -> UInt32 in
            defer { value = value &+ 1 == 0 ? 1 : value &+ 1 }
            return value
        }
        let frame = ShimFrame(type: type, requestId: id, payload: payload)
        let bytes = try ShimCodec.encode(frame)
        // A closed connection (the daemon stopping, the shim gone) fails at
        // once, without touching the event loop, which may be shut down.
        guard channel.isActive else {
            throw ShimError(code: ECONNRESET, message: "the connection to the shim is closed", context: socketPath)
        }
        let promise = channel.eventLoop.makePromise(of: ShimFrame.self)
        let handler = self.handler
        let channel = self.channel
        let path = socketPath
        // Registration, write and timer all happen on the loop, in one task:
        // a loop that shut down meanwhile drops the task whole, and never
        // holds a timer it will not complete (NIO traps on such a leak).
        channel.eventLoop.execute {
            var timer: Scheduled<Void>?
            if let timeout {
                timer = channel.eventLoop.scheduleTask(in: timeout) {
                    handler.value.fail(id, ShimError(code: ETIMEDOUT, message: "\(type) got no answer within \(timeout)", context: path))
                }
            }
            handler.value.register(id, promise: promise, timer: timer)
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.writeAndFlush(buffer).whenFailure { error in
                handler.value.fail(id, error)
            }
        }
        let reply = try await promise.futureResult.get()
        do {
            return try ShimCodec.replyPayload(reply, to: type, requestId: id)
        } catch let error as ShimError {
            throw error.placed(socketPath)
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

extension ShimError {
    func placed(_ context: String) -> ShimError {
        var copy = self
        if copy.context == nil { copy.context = context }
        return copy
    }
}

/// Pipeline end of a shim connection: cuts frames, completes the promise
/// of the request each reply answers, fails every pending request when the
/// connection goes.
final class ShimReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let socketPath: String
    private var decoder = ShimFrameDecoder()
    /// A request waiting for its reply, and its timeout.
    private struct Waiting {
        let promise: EventLoopPromise<ShimFrame>
        let timer: Scheduled<Void>?

        func succeed(_ frame: ShimFrame) {
            timer?.cancel()
            promise.succeed(frame)
        }

        func fail(_ error: any Error) {
            timer?.cancel()
            promise.fail(error)
        }
    }

    private var pending: [UInt32: Waiting] = [:]
    private var closedError: (any Error)?

    init(socketPath: String) { self.socketPath = socketPath }

    func register(_ id: UInt32, promise: EventLoopPromise<ShimFrame>, timer: Scheduled<Void>?) {
        let waiting = Waiting(promise: promise, timer: timer)
        if let closedError {
            waiting.fail(closedError)
            return
        }
        pending[id] = waiting
    }

    func fail(_ id: UInt32, _ error: any Error) {
        pending.removeValue(forKey: id)?.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) {
            decoder.append(bytes)
        }
        do {
            while let frame = try decoder.next() {
                pending.removeValue(forKey: frame.requestId)?.succeed(frame)
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ShimError(code: ECONNRESET, message: "the shim closed the connection", context: socketPath))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(ShimError(code: EIO, message: "connection to the shim failed: \(error)", context: socketPath))
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        closedError = closedError ?? error
        let waiting = pending
        pending.removeAll()
        for request in waiting.values { request.fail(error) }
    }
}
