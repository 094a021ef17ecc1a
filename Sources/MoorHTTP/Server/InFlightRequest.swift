import NIOCore
import NIOHTTP1

/// The state of the one request a connection is serving (requests on a
/// connection are answered one after the other; pipelined ones wait).
struct InFlightRequest {
    enum Body {
        /// Parts still arriving; nil source for a request without a body.
        case receiving(BodySource.Source?)
        /// The responder no longer wants the rest: read and drop it (up to a
        /// limit) so the connection can serve the next request.
        case discarding(Int)
        case complete
    }

    enum Response {
        case pending
        case streaming(suppressBody: Bool, closeAfter: Bool)
        case complete
        /// Hijack asked for while the request body was still arriving.
        case hijackPending(PendingHijack)
        case hijacked
    }

    struct PendingHijack {
        let promise: EventLoopPromise<HijackedStream>
        let contentType: String
        let headers: HTTPFields
    }

    let id: UInt64
    let head: HTTPRequestHead
    let signal: ClientCloseSignal
    /// llhttp stops parsing after an upgrade request (or CONNECT): the
    /// connection cannot serve another request after it.
    let decoderStopsAfter: Bool
    let wantsUpgrade: Bool
    var body: Body
    /// The announced Content-Length, and how much of the body arrived.
    let expectedLength: Int?
    var receivedBytes = 0
    var bodyDemand = true
    var response = Response.pending
    var closeAfter = false

    var description: String { "\(head.method.rawValue) \(head.uri)" }

    /// Body bytes still to come that nobody will read, if known.
    var unreadRemainder: Int? {
        guard !bodyIsComplete, let expectedLength else { return nil }
        return expectedLength - receivedBytes
    }

    var bodyIsComplete: Bool {
        if case .complete = body { return true }
        return false
    }

    var responseIsComplete: Bool {
        if case .complete = response { return true }
        return false
    }
}

/// A decoded part or decoder error that arrived while another request was
/// in flight (HTTP/1.1 pipelining); replayed once that one is answered.
enum QueuedEvent {
    case part(HTTPServerRequestPart)
    case error(any Error)
}
