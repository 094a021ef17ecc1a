import NIOConcurrencyHelpers
import NIOCore

/// A message body as a stream of byte chunks: a request body on the server,
/// a response body in the client.
///
/// Bodies are never buffered behind the caller's back: an image tarball of
/// hundreds of MiB flows through with backpressure (the connection stops
/// reading while the consumer is behind). Consume it once, with `for try
/// await`, or buffer a small one whole with `collect(upTo:)`.
public struct HTTPBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemandDelegate
    >

    enum Storage: Sendable {
        case empty
        case buffer(ByteBuffer)
        case stream(Producer)
    }

    let storage: Storage
    private let claim = IterationClaim()
    /// The length the sender announced (`Content-Length`), if it did.
    public let expectedLength: Int?

    /// A body with no bytes.
    public static var empty: HTTPBody { HTTPBody(storage: .empty, expectedLength: 0) }

    /// A body already in memory: for responders tested without a socket.
    public init(_ buffer: ByteBuffer) {
        self.init(storage: .buffer(buffer), expectedLength: buffer.readableBytes)
    }

    /// A body from bytes: for responders tested without a socket.
    public init(bytes: some Sequence<UInt8>) {
        self.init(ByteBuffer(bytes: Array(bytes)))
    }

    init(storage: Storage, expectedLength: Int?) {
        self.storage = storage
        self.expectedLength = expectedLength
    }

    public func makeAsyncIterator() -> AsyncIterator {
        guard claim.take() else {
            return AsyncIterator(state: .failed(HTTPError(.misuse, "the body was already consumed")))
        }
        switch storage {
        case .empty: return AsyncIterator(state: .done)
        case let .buffer(buffer): return AsyncIterator(state: .buffer(buffer))
        case let .stream(producer): return AsyncIterator(state: .stream(producer.makeAsyncIterator()))
        }
    }

    /// The whole body, for small JSON bodies. Throws a 413 `HTTPError` as soon
    /// as the body is known to exceed `maxBytes` (at once when its announced
    /// length does), so a responder never buffers more than it allowed.
    public func collect(upTo maxBytes: Int) async throws -> ByteBuffer {
        if let expectedLength, expectedLength > maxBytes {
            throw Self.tooLarge(maxBytes)
        }
        var result = ByteBuffer()
        for try await var chunk in self {
            guard result.readableBytes + chunk.readableBytes <= maxBytes else { throw Self.tooLarge(maxBytes) }
            result.writeBuffer(&chunk)
        }
        return result
    }

    /// Reads and drops the rest of the body; returns how many bytes it had.
    @discardableResult
    public func discard() async throws -> Int {
        var total = 0
        for try await chunk in self { total += chunk.readableBytes }
        return total
    }

    private static func tooLarge(_ maxBytes: Int) -> HTTPError {
        HTTPError(.payloadTooLarge, "body is larger than the \(maxBytes) bytes accepted here")
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum State {
            case done
            case buffer(ByteBuffer)
            case stream(Producer.AsyncIterator)
            case failed(HTTPError)
        }

        var state: State

        public mutating func next() async throws -> ByteBuffer? {
            switch state {
            case .done:
                return nil
            case let .buffer(buffer):
                state = .done
                return buffer.readableBytes > 0 ? buffer : nil
            case let .failed(error):
                state = .done
                throw error
            case let .stream(iterator):
                let chunk = try await iterator.next()
                state = chunk == nil ? .done : .stream(iterator)
                // The producer ends quietly on cancellation; a consumer must
                // not take that for the end of the body.
                if chunk == nil { try Task.checkCancellation() }
                return chunk
            }
        }
    }
}

/// Makes a body single-consumer without the producer's fatalError on a
/// second iterator: the second one throws instead.
private final class IterationClaim: Sendable {
    private let taken = NIOLockedValueBox(false)

    func take() -> Bool {
        taken.withLockedValue { taken in
            defer { taken = true }
            return !taken
        }
    }
}

/// Forwards the producer's demand signals to the connection that feeds it,
/// which runs them on its event loop.
struct BodyDemandDelegate: NIOAsyncSequenceProducerDelegate {
    let onProduceMore: @Sendable () -> Void
    let onTerminate: @Sendable () -> Void

    func produceMore() { onProduceMore() }
    func didTerminate() { onTerminate() }
}

/// The feeding side of a streamed body, owned by a channel handler on its
/// event loop.
struct BodySource {
    typealias Source = HTTPBody.Producer.Source

    /// At most this many chunks wait unread before the connection stops
    /// reading (chunks are at most one socket read, 64 KiB by default).
    static let strategy = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
        lowWatermark: 2, highWatermark: 8
    )

    static func make(
        expectedLength: Int?, delegate: BodyDemandDelegate
    ) -> (HTTPBody, Source) {
        let made = HTTPBody.Producer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: strategy, finishOnDeinit: true, delegate: delegate
        )
        return (HTTPBody(storage: .stream(made.sequence), expectedLength: expectedLength), made.source)
    }
}
