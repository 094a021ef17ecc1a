#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HTTPServer {
    /// Where and how the server listens, and its limits.
    public struct Configuration: Sendable {
        /// The unix socket path (dockerd's `-H unix://PATH`).
        public var socketPath: String
        /// The socket file's mode: owner and group may connect, nobody else.
        public var socketMode: mode_t = 0o660
        /// The socket file's group if it exists (else root); nil leaves it.
        public var socketGroup: String? = "moor"
        /// The largest request line plus headers accepted; larger is a 431.
        public var maxHeaderSize = 64 * 1024
        /// A request body the responder did not read is drained up to this
        /// size to keep the connection; beyond it the connection closes.
        public var maxDiscardedBodySize = 1 << 20
        /// How long shutdown lets in-flight requests finish before closing.
        public var shutdownGracePeriod: Duration = .seconds(10)
        /// Cancel a responder's task when its client goes away (Go cancels
        /// the request context the same way).
        public var cancelRespondersOnClientClose = true
        /// Connections waiting to be accepted (the kernel caps it at
        /// `net.core.somaxconn`); a unix-socket client whose connect finds
        /// the queue full fails at once with EAGAIN rather than waiting.
        public var listenBacklog: Int32 = 4096

        public init(socketPath: String) {
            self.socketPath = socketPath
        }
    }
}
