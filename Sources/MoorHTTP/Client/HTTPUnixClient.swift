#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOPosix

/// A small HTTP/1.1 client over a unix socket: how the `moor` CLI talks to
/// moord. One connection per request, closed when the response body ends.
public struct HTTPUnixClient: Sendable {
    public let socketPath: String
    private let group: any EventLoopGroup

    public init(socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.socketPath = socketPath
        self.group = group
    }

    /// Sends `request` and returns as soon as the response head arrives;
    /// the body streams after (the upload may still be going on while a
    /// server streams progress).
    public func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        switch try await perform(request, hijack: false) {
        case let .response(response):
            return response
        case .hijacked:
            throw HTTPError(.invalidResponse, "unexpected protocol switch", context: socketPath)
        }
    }

    /// Sends `request` with `Connection: Upgrade` and `Upgrade: tcp` and, on
    /// `101` or `200`, returns the connection as a raw stream both ways.
    /// Closing our write side (`output.closeWrite()`) tells the daemon stdin
    /// ended while its output keeps coming.
    public func hijack(_ request: HTTPClientRequest) async throws -> HTTPHijackOutcome {
        var request = request
        request.headers.set("Connection", "Upgrade")
        request.headers.set("Upgrade", "tcp")
        switch try await perform(request, hijack: true) {
        case let .response(response): return .refused(response)
        case let .hijacked(outcome): return outcome
        }
    }

    private func perform(_ request: HTTPClientRequest, hijack: Bool) async throws -> HTTPHijackOutcomeOrResponse {
        let file = try request.fileSource()
        let loop = group.next()
        let outcome = loop.makePromise(of: HTTPHijackOutcomeOrResponse.self)
        let channel: any Channel
        do {
            channel = try await connect(on: loop, outcome: outcome, hijack: hijack, isHEAD: request.method == "HEAD")
        } catch {
            let failure = HTTPError(.connectionFailed, "cannot connect to the daemon (is it running?)",
                                    context: socketPath, cause: error)
            outcome.fail(failure)
            throw failure
        }
        let upload = Task {
            do {
                try await Self.write(request, file: file, to: channel)
            } catch let error as HTTPError where error.code == .connectionClosed {
                // The daemon hung up; its answer, if any, is still readable.
                throw error
            } catch {
                // Our side failed (a file read, the caller's producer): the
                // request cannot be completed, so abort it.
                channel.close(promise: nil)
                throw error
            }
        }
        return try await withTaskCancellationHandler {
            do {
                return try await outcome.futureResult.get()
            } catch {
                // A failed upload explains a missing response best.
                if case let .failure(uploadError) = await upload.result, uploadError is HTTPError {
                    throw uploadError
                }
                throw error
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Connects, retrying briefly while the daemon's accept queue is full:
    /// a unix socket refuses a non-blocking connect with EAGAIN then.
    private func connect(
        on loop: any EventLoop, outcome: EventLoopPromise<HTTPHijackOutcomeOrResponse>, hijack: Bool, isHEAD: Bool
    ) async throws -> any Channel {
        var attempt = 0
        while true {
            do {
                return try await ClientBootstrap(group: loop)
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let handler = ClientConnectionHandler(outcome: outcome, wantsHijack: hijack, isHEAD: isHEAD)
                            try handler.install(in: channel.pipeline.syncOperations)
                        }
                    }
                    .connect(unixDomainSocketPath: socketPath).get()
            } catch let error as IOError where error.errnoCode == EAGAIN && attempt < 100 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    private static func write(_ request: HTTPClientRequest, file: FileBodySource?, to channel: any Channel) async throws {
        let writer = HTTPRequestBodyWriter(channel: channel)
        var headers = request.headers
        if !headers.contains("host") { headers.set("Host", "moor") }
        headers.remove("transfer-encoding")
        switch request.body {
        case .none:
            if ["POST", "PUT", "PATCH"].contains(request.method) { headers.set("Content-Length", "0") }
        case let .bytes(buffer):
            headers.set("Content-Length", String(buffer.readableBytes))
        case .file:
            setLength(file?.length, in: &headers)
        case let .stream(length, _):
            setLength(length, in: &headers)
        }
        let head = HTTPRequestHeadBuilder.head(method: request.method, target: request.target, headers: headers)
        try await send(.head(head), on: channel)
        switch request.body {
        case .none: break
        case let .bytes(buffer): try await writer.write(buffer)
        case .file: try await file?.send(to: writer)
        case let .stream(_, produce): try await produce(writer)
        }
        try await send(.end(nil), on: channel)
    }

    private static func setLength(_ length: Int?, in headers: inout HTTPFields) {
        if let length {
            headers.set("Content-Length", String(length))
        } else {
            headers.set("Transfer-Encoding", "chunked")
        }
    }

    private static func send(_ part: ClientConnectionHandler.OutboundIn, on channel: any Channel) async throws {
        do {
            try await channel.writeAndFlush(part).get()
        } catch {
            throw HTTPError(.connectionClosed, "the daemon closed the connection during the request", cause: error)
        }
    }
}

extension HTTPClientRequest {
    /// Opens the file to upload before connecting, so a missing file fails
    /// with its own message.
    func fileSource() throws -> FileBodySource? {
        guard case let .file(path) = body else { return nil }
        return try FileBodySource(path: path)
    }
}
