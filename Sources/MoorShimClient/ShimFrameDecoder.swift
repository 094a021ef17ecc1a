/// Cuts a byte stream into messages: feed it whatever a read returned, take
/// out every whole message. Pure, so the blocking client and an async
/// transport share it. A bad magic or an oversized length makes the stream
/// untrustworthy: the decoder then fails for good, as the shim hangs up.
public struct ShimFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    /// Where the unread bytes of `buffer` start.
    private var start = 0
    private var failure: ShimError?

    public init() {}

    /// Bytes received but not yet returned as a message.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message, or nil until more bytes arrive.
    public mutating func next() throws -> ShimFrame? {
        if let failure { throw failure }
        guard bufferedBytes >= ShimCodec.headerSize else { return nil }
        let header: ShimHeader
        do {
            header = try ShimCodec.decodeHeader(buffer[start..<(start + ShimCodec.headerSize)])
        } catch let error as ShimError {
            failure = error
            throw error
        }
        let total = ShimCodec.headerSize + Int(header.length)
        guard bufferedBytes >= total else { return nil }
        let payload = Array(buffer[(start + ShimCodec.headerSize)..<(start + total)])
        start += total
        return ShimFrame(type: header.type, flags: header.flags, requestId: header.requestId, payload: payload)
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so
    /// appending stays amortised O(n) without unbounded growth.
    private mutating func compact() {
        guard start > 0, start >= buffer.count / 2 else { return }
        buffer.removeFirst(start)
        start = 0
    }
}
