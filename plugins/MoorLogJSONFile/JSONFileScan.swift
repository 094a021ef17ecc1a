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
        var found: LogPosition?
        try forEachLineBackwards(file, end: end) { line in
            found = position(line)
            return found == nil
        }
        return found
    }

    /// Each stream's last position among lines before `end` from spool
    /// record `floor` on, reading backwards until both are known or the
    /// lines are older. Lines without a position (written by dockerd) are
    /// older than any moor wrote.
    static func streamPositions(_ file: PosixFile, end: Int64, since floor: UInt64) throws -> StreamPositions {
        var found = StreamPositions(floor: floor)
        try forEachLineBackwards(file, end: end) { line in
            guard let decoded = JSONLine.decode(line) else { return true }
            guard decoded.hasPosition else {
                found.noteEntryBeforeFloor()
                return false
            }
            return found.visit(decoded.entry.source, decoded.entry.position)
        }
        return found
    }

    /// Calls `body` with each line before `end` (a line boundary), newest
    /// first, without its "\n", until it returns false.
    static func forEachLineBackwards(_ file: PosixFile, end: Int64,
                                     _ body: (ArraySlice<UInt8>) throws -> Bool) throws {
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
                guard try body(buffer[(previous + 1)..<(lineEnd - 1)]) else { return }
                lineEnd = previous + 1
            }
            if start == 0 {
                if lineEnd > 0 { _ = try body(buffer[..<(lineEnd - 1)]) }
                return
            }
            pending = Array(buffer[..<lineEnd])
        }
    }

    private static func position(_ line: ArraySlice<UInt8>) -> LogPosition? {
        guard let decoded = JSONLine.decode(line), decoded.hasPosition else { return nil }
        return decoded.entry.position
    }
}
