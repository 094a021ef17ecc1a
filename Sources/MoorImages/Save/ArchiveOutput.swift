/// The bytes of an archive being written, handed on in large chunks (one
/// call per MiB, not per header) to an async consumer such as an HTTP
/// response.
final class ArchiveOutput {
    static let chunkSize = 1 << 20

    private let emit: ([UInt8]) async throws -> Void
    private var buffer = [UInt8]()
    private(set) var written: Int64 = 0

    init(emit: @escaping ([UInt8]) async throws -> Void) {
        self.emit = emit
        buffer.reserveCapacity(Self.chunkSize)
    }

    func write(_ bytes: [UInt8]) async throws {
        try await write(bytes[...])
    }

    func write(_ bytes: ArraySlice<UInt8>) async throws {
        written += Int64(bytes.count)
        var rest = bytes
        while !rest.isEmpty {
            let count = min(Self.chunkSize - buffer.count, rest.count)
            buffer.append(contentsOf: rest.prefix(count))
            rest = rest.dropFirst(count)
            if buffer.count == Self.chunkSize { try await flush() }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) async throws {
        try await write(Array(bytes)[...])
    }

    func flush() async throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        try await emit(chunk)
    }
}
