import MoorLogFiles
import MoorPluginKit

/// Walking the lines of one json-file log file, forwards for readers and
/// backwards for the writer's recovery, in fixed-size chunks so memory
/// stays bounded by the longest line whatever the file's size.
enum JSONFileScan {
    static let chunkSize = 1 << 16
    private static let newline = UInt8(ascii: "\n")

    /// Calls `body` with each complete line of `file`, without its "\n",
    /// in order. An unterminated last line (being written, or torn by a
    /// crash) is not a line yet and is skipped.
    static func forEachLine(_ file: any LogFileInput, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var offset: Int64 = 0
        var carry: [UInt8] = []
        while true {
            let chunk = try file.read(at: offset, count: chunkSize)
            if chunk.isEmpty { return }
            offset += Int64(chunk.count)
            var start = 0
            while let end = chunk[start...].firstIndex(of: newline) {
                if carry.isEmpty {
                    try body(chunk[start..<end])
                } else {
                    carry += chunk[start..<end]
                    try body(carry[...])
                    carry.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
            carry += chunk[start...]
        }
    }

    /// The offset just past the last "\n" in the first `size` bytes: where
    /// a torn last line begins (0 when the file has no complete line).
    static func endOfLastLine(_ file: PosixFile, size: Int64) throws -> Int64 {
        var end = size
        while end > 0 {
            let start = max(0, end - Int64(chunkSize))
            let chunk = try file.read(at: start, count: Int(end - start))
            if let last = chunk.lastIndex(of: newline) { return start + Int64(last) + 1 }
            end = start
        }
        return 0
    }

    /// The position of the last line before `end` (a line boundary) that
    /// carries one, reading backwards; nil when no line does.
    static func lastPosition(_ file: PosixFile, end: Int64) throws -> LogPosition? {
        var readFrom = end
        // Bytes from `readFrom` up to a line boundary: the start of a line
        // whose beginning lies in the chunk still to be read.
        var pending: [UInt8] = []
        while readFrom > 0 {
            let start = max(0, readFrom - Int64(chunkSize))
            let buffer = try file.read(at: start, count: Int(readFrom - start)) + pending
            readFrom = start
            var lineEnd = buffer.count
            while lineEnd > 0, let previous = buffer[..<(lineEnd - 1)].lastIndex(of: newline) {
                if let position = position(buffer[(previous + 1)..<(lineEnd - 1)]) { return position }
                lineEnd = previous + 1
            }
            if start == 0 {
                return lineEnd > 0 ? position(buffer[..<(lineEnd - 1)]) : nil
            }
            pending = Array(buffer[..<lineEnd])
        }
        return nil
    }

    private static func position(_ line: ArraySlice<UInt8>) -> LogPosition? {
        guard let decoded = JSONLine.decode(line), decoded.hasPosition else { return nil }
        return decoded.entry.position
    }
}
