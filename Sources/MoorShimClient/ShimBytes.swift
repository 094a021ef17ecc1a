/// Little-endian building and parsing of protocol payloads.
///
/// The reader never traps: every read checks what is left first and throws
/// an `EPROTO` error naming the structure, the field and the offset.

struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func put(_ other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }
}

struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    /// Bytes consumed so far, counted from the start of what was given.
    private(set) var offset: Int = 0
    /// What is being parsed, for error messages ("state block").
    let structure: String

    init(_ bytes: ArraySlice<UInt8>, structure: String) {
        self.bytes = bytes
        self.structure = structure
    }

    init(_ bytes: [UInt8], structure: String) {
        self.init(bytes[...], structure: structure)
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: String) throws -> T {
        let size = MemoryLayout<T>.size
        let start = try claim(size, field)
        var value: T = 0
        for i in 0..<size {
            value |= T(truncatingIfNeeded: bytes[start + i]) << (8 * i)
        }
        return value
    }

    mutating func read(count: Int, _ field: String) throws -> [UInt8] {
        let start = try claim(count, field)
        return Array(bytes[start..<(start + count)])
    }

    /// An error for a field that was read whole but holds a value the
    /// protocol does not allow; `at` is where the field starts.
    func invalid(_ field: String, at start: Int, _ what: String) -> ShimError {
        ShimError.invalid(structure, field, at: start, what)
    }

    /// Everything not read yet (possibly nothing).
    mutating func readRest() -> [UInt8] {
        let rest = Array(bytes.dropFirst(offset))
        offset = bytes.count
        return rest
    }

    /// Reserves `count` bytes and returns the index where they start.
    private mutating func claim(_ count: Int, _ field: String) throws -> Int {
        guard count >= 0, count <= remaining else {
            throw ShimError.protocolViolation(
                "\(structure): truncated at \(field): needs \(count) bytes at offset \(offset), only \(remaining) left")
        }
        let start = bytes.startIndex + offset
        offset += count
        return start
    }
}
