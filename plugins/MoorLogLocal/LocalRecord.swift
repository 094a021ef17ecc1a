import MoorPluginKit

/// moor's `local` log format: compact binary records, each findable from
/// either end of the file.
///
///     file   = header record*
///     header = "MOORLOG" 0x01                         (8 bytes: magic, version)
///     record = u32 length | body | u32 length         (little-endian; length = body size)
///     body   = u32 crc32(rest of body)
///              i64 time (ns since the epoch, when the shim read the line)
///              u64 seq | u32 offset                    (the entry's LogPosition)
///              u8 stream (1 stdout, 2 stderr) | u8 flags (bit 0: partial) | u16 0
///              bytes of the line
///
/// The trailing length lets the writer find the last record from the end
/// of the file without reading the rest; the checksum tells a complete
/// record from a torn one.
enum LocalRecord {
    static let header: [UInt8] = Array("MOORLOG".utf8) + [1]
    /// Body bytes before the line's own.
    static let fixedBody = 28
    /// A larger length is not a record (the shim cuts lines far shorter).
    static let maximumBody = 1 << 26

    static func append(_ entry: LogEntry, to out: inout [UInt8]) {
        let length = UInt32(fixedBody + entry.line.count)
        appendInteger(length, &out)
        let crcAt = out.count
        appendInteger(UInt32(0), &out)
        appendInteger(entry.timeNs, &out)
        appendInteger(entry.position.seq, &out)
        appendInteger(entry.position.offset, &out)
        out.append(entry.source == .stdout ? 1 : 2)
        out.append(entry.partial ? 1 : 0)
        appendInteger(UInt16(0), &out)
        out += entry.line
        let crc = CRC32.checksum(out[(crcAt + 4)...])
        withUnsafeBytes(of: crc.littleEndian) { raw in
            for (index, byte) in raw.enumerated() { out[crcAt + index] = byte }
        }
        appendInteger(length, &out)
    }

    /// The size of the record at `start` in `bytes` according to its first
    /// length field, or nil when too few bytes are there to say or the
    /// length cannot be a record's.
    static func recordSize(_ bytes: ArraySlice<UInt8>, at start: Int) -> Int? {
        guard start + 4 <= bytes.endIndex else { return nil }
        let length = Int(readInteger(UInt32.self, bytes, at: start))
        guard length >= fixedBody, length <= maximumBody else { return nil }
        return length + 8
    }

    /// Decodes a whole record occupying `bytes` (both lengths included);
    /// nil unless the lengths agree, the checksum matches and the stream is known.
    static func decode(_ bytes: ArraySlice<UInt8>) -> LogEntry? {
        let start = bytes.startIndex
        guard let size = recordSize(bytes, at: start), size == bytes.count,
              readInteger(UInt32.self, bytes, at: bytes.endIndex - 4) == UInt32(size - 8),
              readInteger(UInt32.self, bytes, at: start + 4) == CRC32.checksum(bytes[(start + 8)..<(bytes.endIndex - 4)])
        else { return nil }
        let source: LogSource
        switch bytes[start + 28] {
        case 1: source = .stdout
        case 2: source = .stderr
        default: return nil
        }
        return LogEntry(
            source: source,
            timeNs: readInteger(Int64.self, bytes, at: start + 8),
            line: Array(bytes[(start + 32)..<(bytes.endIndex - 4)]),
            partial: bytes[start + 29] & 1 == 1,
            position: LogPosition(seq: readInteger(UInt64.self, bytes, at: start + 16),
                                  offset: readInteger(UInt32.self, bytes, at: start + 24)))
    }

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    static func readInteger<T: FixedWidthInteger>(_ type: T.Type, _ bytes: ArraySlice<UInt8>, at start: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(bytes[start + index])
        }
        return value
    }
}
