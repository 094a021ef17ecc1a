import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// moord's Engine API server: HTTP/1.1 on a unix socket.
///
/// Connections are NIO channels on a small event-loop group and each request
/// runs its responder in a Swift task, so hundreds of long-lived connections
/// (`events` followers, `wait`ers, attached sessions) cost no thread each.
public final class HTTPServer: Sendable {
    public let configuration: Configuration
    private let responder: any HTTPResponder
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private enum Phase {
        case idle, starting, running, stopping, stopped
    }

    private struct State {
        var phase = Phase.idle
        var serverChannel: (any Channel)?
        var socketIdentity: UnixSocketFile.Identity?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        /// `shutdown()` came while starting; honoured once started.
        var stopRequested = false
    }

    public init(
        configuration: Configuration, responder: some HTTPResponder,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "moor.http")
    ) {
        self.configuration = configuration
        self.responder = responder
        self.group = group
        self.logger = logger
    }

    /// Connections currently open.
    public var connectionCount: Int {
        state.withLockedValue { $0.connections.count }
    }

    /// Binds the socket and starts accepting. Removes a stale socket file
    /// first; throws `HTTPError` (`.socketInUse`) if a live server owns it.
    public func start() async throws {
        let fresh = state.withLockedValue { state in
            guard state.phase == .idle else { return false }
            state.phase = .starting
            return true
        }
        guard fresh else { throw HTTPError(.misuse, "the server was already started") }
        do {
            let path = configuration.socketPath
            try UnixSocketFile.prepare(path)
            let channel = try await bootstrap().bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            do {
                try UnixSocketFile.applyPermissions(path, mode: configuration.socketMode, groupName: configuration.socketGroup)
            } catch {
                try? await channel.close()
                UnixSocketFile.remove(path, ifStill: UnixSocketFile.identity(path))
                throw error
            }
            let stopRequested = state.withLockedValue { state in
                state.serverChannel = channel
                state.socketIdentity = UnixSocketFile.identity(path)
                state.phase = .running
                return state.stopRequested
            }
            logger.info("listening", metadata: ["socket": "\(path)"])
            if stopRequested { await shutdown() }
        } catch {
            let stopRequested = state.withLockedValue { state in
                state.phase = state.stopRequested ? .stopped : .idle
                return state.stopRequested
            }
            if stopRequested { markStopped() }
            if let error = error as? HTTPError { throw error }
            throw HTTPError(.socketSetup, "cannot listen", context: configuration.socketPath, cause: error)
        }
    }

    /// Starts, then serves until `shutdown()`; cancelling the calling task
    /// shuts down gracefully too.
    public func run() async throws {
        try await start()
        await withTaskCancellationHandler {
            await waitUntilStopped()
        } onCancel: {
            Task { await self.shutdown() }
        }
    }

    /// Stops accepting, lets in-flight requests finish for the grace period,
    /// then closes what is left and removes the socket file.
    public func shutdown() async {
        let (serverChannel, identity, connections) = state.withLockedValue { state in
            if state.phase == .idle { state.phase = .stopped }
            if state.phase == .starting { state.stopRequested = true }
            guard state.phase == .running else {
                return ((any Channel)?.none, UnixSocketFile.Identity?.none, [any Channel]())
            }
            state.phase = .stopping
            return (state.serverChannel, state.socketIdentity, Array(state.connections.values))
        }
        guard let serverChannel else {
            await waitUntilStopped()
            return
        }
        try? await serverChannel.close()
        UnixSocketFile.remove(configuration.socketPath, ifStill: identity)
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        await closeAll(connections, after: configuration.shutdownGracePeriod)
        markStopped()
        logger.info("stopped", metadata: ["socket": "\(configuration.socketPath)"])
    }

    private func markStopped() {
        let waiters = state.withLockedValue { state in
            state.phase = .stopped
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = state.withLockedValue { state in
                if state.phase == .stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Waits for `connections` to close by themselves, up to `grace`, then
    /// closes the rest (long streams and hijacked sessions never end alone).
    private func closeAll(_ connections: [any Channel], after grace: Duration) async {
        let loop = group.next()
        let settled = loop.makePromise(of: Void.self)
        EventLoopFuture.andAllComplete(connections.map(\.closeFuture), on: loop).cascade(to: settled)
        let (seconds, attoseconds) = grace.components
        let timer = loop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            settled.succeed()
        }
        try? await settled.futureResult.get()
        timer.cancel()
        for connection in connections where connection.isActive {
            try? await connection.close()
        }
    }

    private func bootstrap() -> ServerBootstrap {
        let settings = ServerConnectionHandler.Settings(
            headerLimit: configuration.maxHeaderSize,
            maxDiscardedBodyBytes: configuration.maxDiscardedBodySize,
            cancelRespondersOnClientClose: configuration.cancelRespondersOnClientClose
        )
        let responder = self.responder
        let logger = self.logger
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.listenBacklog)
            // The docker CLI half-closes at stdin EOF and still reads output.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                guard register(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = ServerConnectionHandler(
                        responder: responder, settings: settings, logger: logger, eventLoop: channel.eventLoop
                    )
                    try handler.install(in: channel.pipeline.syncOperations)
                }
            }
    }

    /// Tracks a new connection for shutdown; refuses it once stopping.
    private func register(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let accepted = state.withLockedValue { state in
            guard state.phase == .running || state.phase == .starting else { return false }
            state.connections[key] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { [state] _ in
                _ = state.withLockedValue { $0.connections.removeValue(forKey: key) }
            }
        }
        return accepted
    }
}
