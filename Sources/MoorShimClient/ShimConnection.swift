import Glibc

/// The state of one client connection and its request/reply exchange:
/// request ids, reply matching, and what makes the connection unusable.
/// Owned by `ShimClient`, which serialises access to it.
struct ShimConnection {
    var socket: ShimSocket
    private var decoder = ShimFrameDecoder()
    private var nextId: UInt32 = 1
    /// Requests given up on (timed out) whose replies may still come: they
    /// are skipped when they do, so the connection stays usable.
    private var abandoned: Set<UInt32> = []
    /// Set once the stream cannot be trusted; every later call fails with it.
    private var broken: ShimError?
    /// The shim's HELLO, once one was exchanged.
    private(set) var peer: ShimHello?
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(socket: ShimSocket) {
        self.socket = socket
    }

    /// Sends `request` and returns its reply's payload, or throws the error
    /// the shim answered. Replies not for this request are a protocol
    /// violation, except late ones to abandoned requests.
    mutating func roundTrip(_ request: ShimRequest, deadline: Deadline) throws -> [UInt8] {
        if let broken { throw broken }
        try checkPeer(before: request.type)
        let id = nextId
        nextId = nextId == UInt32.max ? 1 : nextId + 1
        let frame = ShimFrame(type: request.type, requestId: id, payload: request.encodePayload())
        let bytes = try ShimCodec.encode(frame)
        do {
            try socket.send(bytes)
        } catch let error as ShimError {
            throw fail(error)
        }
        let reply = try awaitReply(id: id, request: request.type, deadline: deadline)
        let payload = try ShimCodec.replyPayload(reply, to: request.type, requestId: id)
        if request.type == .hello {
            peer = try ShimHello.decode(payload)
        }
        return payload
    }

    /// A shim of another major must not be sent anything but HELLO: its
    /// layouts differ, and a misread request could do harm.
    private func checkPeer(before type: ShimMessageType) throws {
        guard type != .hello, let peer, !peer.isSpoken else { return }
        throw ShimError(code: EPROTONOSUPPORT,
                        message: "shim speaks protocol \(peer.version), this client speaks major \(ShimProtocol.major): \(type) not sent")
    }

    private mutating func awaitReply(id: UInt32, request: ShimMessageType, deadline: Deadline) throws -> ShimFrame {
        while true {
            let frame: ShimFrame?
            do {
                frame = try decoder.next()
            } catch let error as ShimError {
                throw fail(error)
            }
            if let frame {
                if frame.requestId == id { return frame }
                if abandoned.remove(frame.requestId) != nil { continue }
                throw fail(.protocolViolation("\(frame.type) for request id \(frame.requestId) while waiting for \(request) id \(id)"))
            }
            try receive(id: id, request: request, deadline: deadline)
        }
    }

    private mutating func receive(id: UInt32, request: ShimMessageType, deadline: Deadline) throws {
        let n: Int
        do {
            n = try socket.receive(into: &scratch, deadline: deadline)
        } catch let error as ShimError where error.code == ETIMEDOUT {
            // The reply may still come; whatever part of it arrived stays in
            // the decoder, so the stream stays framed.
            abandoned.insert(id)
            throw ShimError(code: ETIMEDOUT, message: "no reply to \(request) (id \(id)) in time")
        } catch let error as ShimError {
            throw fail(error)
        }
        guard n > 0 else {
            throw fail(ShimError(code: ECONNRESET, message: "the shim closed the connection before answering \(request)"))
        }
        decoder.append(scratch.prefix(n))
    }

    /// Marks the connection unusable and returns the error that did it.
    private mutating func fail(_ error: ShimError) -> ShimError {
        broken = ShimError(code: error.code, message: "connection unusable after an earlier error: \(error.message)")
        return error
    }

    mutating func close() {
        socket.close()
        if broken == nil {
            broken = ShimError(code: EBADF, message: "the connection was closed")
        }
    }
}
