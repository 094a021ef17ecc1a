import MoorHTTP
import NIOCore

/// A request body read through one iterator that outlives its consumer: a
/// `docker load` that fails half-way leaves the rest of the upload unread,
/// and the client (docker-py writes the whole body before it reads) only
/// sees the error once the rest has been drained.
final class SharedBody: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBufferView

    /// Used by one task at a time: the consumer, then `drain`.
    private var iterator: HTTPBody.AsyncIterator

    init(_ body: HTTPBody) {
        iterator = body.makeAsyncIterator()
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let owner: SharedBody

        mutating func next() async throws -> ByteBufferView? {
            try await owner.nextChunk()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: self) }

    private func nextChunk() async throws -> ByteBufferView? {
        try await iterator.next()?.readableBytesView
    }

    /// Reads and drops what is left; stops quietly if the client went away.
    func drain() async {
        while (try? await iterator.next()) != nil {}
    }
}
