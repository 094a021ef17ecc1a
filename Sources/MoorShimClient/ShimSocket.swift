import Glibc

/// A blocking connection to a shim's unix socket: bytes in, bytes out, with
/// time limits. Knows nothing of the protocol (that is `ShimCodec` and
/// `ShimFrameDecoder`). Errors name the call; the caller adds the path.
struct ShimSocket {
    private(set) var fd: Int32 = -1

    /// Connects with `timeout` seconds as the send limit, which on a unix
    /// socket also bounds connect() against a shim whose backlog is full.
    static func connect(path: String, timeout: Double) throws -> ShimSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else {
            throw ShimError(code: ENAMETOOLONG,
                            message: "socket path must be 1 to \(capacity - 1) bytes, not \(pathBytes.count)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        var socket = ShimSocket()
        socket.fd = try systemCall("socket") { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            try socket.setTimeout(SO_SNDTIMEO, seconds: timeout)
            // A backstop only: reads wait in poll() with the request's deadline.
            try socket.setTimeout(SO_RCVTIMEO, seconds: timeout)
            let length = socklen_t(MemoryLayout<sockaddr_un>.size)
            // connect() must not be retried after EINTR (it goes on in the
            // background, a retry says EALREADY), so no systemCall here.
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket.fd, $0, length) }
            }
            if rc < 0 { throw ShimError.fromErrno("connect") }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    private func setTimeout(_ option: Int32, seconds: Double) throws {
        let whole = seconds.rounded(.down)
        var tv = timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1e6))
        if tv.tv_sec == 0 && tv.tv_usec == 0 { tv.tv_usec = 1 }  // 0 would mean "no limit"
        try systemCall("setsockopt") {
            setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Sends all of `bytes`. A failure may leave part of a message sent, so
    /// the caller must stop using the connection.
    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                // MSG_NOSIGNAL: a shim that went away is an error, not SIGPIPE.
                return Glibc.send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                sent += n
                continue
            }
            let saved = errno
            if saved == EAGAIN {
                throw ShimError(code: ETIMEDOUT, message: "send timed out: the shim is not reading")
            }
            if saved != EINTR { throw ShimError.fromErrno("send", saved) }
        }
    }

    /// Waits until readable or `deadline`, then reads what is there into
    /// `buffer`. Returns the byte count, 0 at end of stream. Throws
    /// `ETIMEDOUT` at the deadline, with nothing consumed.
    func receive(into buffer: inout [UInt8], deadline: Deadline) throws -> Int {
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = try systemCall("poll") { poll(&pfd, 1, deadline.pollTimeout) }
            if ready == 0 { throw ShimError(code: ETIMEDOUT, message: "no reply in time") }
            let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress, raw.count) }
            if n >= 0 { return n }
            let saved = errno
            // Spurious wakeup or signal: poll again, within the same deadline.
            if saved != EINTR && saved != EAGAIN { throw ShimError.fromErrno("read", saved) }
        }
    }

    mutating func close() {
        guard fd >= 0 else { return }
        // Not retried on EINTR: Linux has closed the fd whatever close() says.
        _ = Glibc.close(fd)
        fd = -1
    }
}
