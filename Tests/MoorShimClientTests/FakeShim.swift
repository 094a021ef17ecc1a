import Foundation
import Synchronization
@testable import MoorShimClient

/// A tiny shim stand-in on a unix socket in a temporary directory: it
/// accepts one client, records every request frame, and sends back whatever
/// bytes `answer` returns for it (nothing, a reply, several, garbage).
final class FakeShim: Sendable {
    let dir: TempDir
    let socketPath: String
    private let listenFd: Int32
    private let clientFd = Mutex<Int32>(-1)
    private let frames = Mutex<[ShimFrame]>([])
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    /// Every request received so far.
    var received: [ShimFrame] { frames.withLock { $0 } }

    /// `byteByByte`: send replies one byte per write, to exercise framing
    /// across partial reads.
    init(byteByByte: Bool = false, answer: @escaping @Sendable (ShimFrame) -> [UInt8]) throws {
        dir = try TempDir()
        socketPath = dir.path + "/shim.sock"
        listenFd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listenFd >= 0 else { throw ShimError.fromErrno("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listenFd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listenFd, 4) == 0 else {
            let error = ShimError.fromErrno("bind/listen \(socketPath)")
            close(listenFd)
            throw error
        }
        let thread = Thread { [self] in
            serve(byteByByte: byteByByte, answer: answer)
            finished.signal()
        }
        thread.start()
    }

    private func serve(byteByByte: Bool, answer: (ShimFrame) -> [UInt8]) {
        let fd = accept(listenFd, nil, nil)
        guard fd >= 0 else { return }
        clientFd.withLock { $0 = fd }
        defer { close(fd) }
        var decoder = ShimFrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            decoder.append(buffer.prefix(n))
            while let frame = try? decoder.next() {
                frames.withLock { $0.append(frame) }
                let reply = answer(frame)
                let chunks = byteByByte ? reply.map { [$0] } : [reply]
                for chunk in chunks where !chunk.isEmpty {
                    guard chunk.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == chunk.count
                    else { return }
                }
            }
        }
    }

    /// Hangs up on the client (as a dying shim would).
    func hangUp() {
        clientFd.withLock { fd in
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Ends the server thread whatever state the test left it in; once.
    func stop() {
        guard !stopped.withLock({ stopped in defer { stopped = true }; return stopped }) else { return }
        hangUp()
        shutdown(listenFd, Int32(SHUT_RDWR))  // wakes an accept() still waiting
        _ = finished.wait(timeout: .now() + 10)
        close(listenFd)
    }

    // MARK: Answers

    static func reply(_ request: ShimFrame, _ reply: ShimReply, id: UInt32? = nil) -> [UInt8] {
        frame(type: request.type.reply, id: id ?? request.requestId, payload: reply.encodePayload())
    }

    static func error(_ request: ShimFrame, code: Int32, _ message: String) -> [UInt8] {
        frame(type: .error, id: request.requestId, payload: ShimCodec.encodeError(code: code, message: message))
    }

    static func frame(type: ShimMessageType, id: UInt32, payload: [UInt8]) -> [UInt8] {
        (try? ShimCodec.encode(ShimFrame(type: type, requestId: id, payload: payload))) ?? []
    }

    /// A plausible reply to any request.
    static func plausible(_ request: ShimFrame) -> [UInt8] {
        switch request.type {
        case .hello: reply(request, .hello(ShimHello(shimPid: 10, initPid: 11, build: "fake")))
        case .state, .wait: reply(request, .state(ShimProcessState(status: .exited, pid: 11, exitCode: 3)))
        case .stdinWrite: reply(request, .stdinAccepted(UInt32(max(0, request.payload.count - 4))))
        case .spoolRead: reply(request, .spool(SpoolBatch(nextSeq: 1, records: [])))
        case .exec: reply(request, .exec(ExecStarted(process: 1, pid: 12)))
        default: reply(request, .empty)
        }
    }
}
