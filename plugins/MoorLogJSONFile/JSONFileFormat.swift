import MoorLogFiles
import MoorPluginKit

/// The json-file format for the rotating writer and reader: no header, one
/// `JSONLine` per entry, a torn last line being one without its "\n".
struct JSONFileFormat: LogFileFormat {
    let driver = JSONFileLogDriver.id
    let header: [UInt8] = []
    /// The pre-encoded `"attrs":{...},` of this container, or nothing.
    let attributes: [UInt8]

    init(attributes: [String: String] = [:]) {
        self.attributes = JSONLine.encodeAttributes(attributes)
    }

    func append(_ entry: LogEntry, to out: inout [UInt8]) {
        JSONLine.append(entry, attributes: attributes, to: &out)
    }

    func validLength(of file: PosixFile, size: Int64) throws -> Int64 {
        try JSONFileScan.endOfLastLine(file, size: size)
    }

    func lastPosition(in file: PosixFile, length: Int64) throws -> LogPosition? {
        try JSONFileScan.lastPosition(file, end: length)
    }

    func streamPositions(in file: PosixFile, length: Int64, since floor: UInt64) throws -> StreamPositions {
        try JSONFileScan.streamPositions(file, end: length, since: floor)
    }

    /// Lines Docker wrote carry no position and are passed over, as
    /// `lastPosition(in:length:)` passes them over.
    func lastPosition(scanning file: any LogFileInput) throws -> LogPosition? {
        var last: LogPosition?
        try JSONFileScan.forEachLine(file) { line in
            if let decoded = JSONLine.decode(line), decoded.hasPosition { last = decoded.entry.position }
        }
        return last
    }

    func forEachEntry(in file: any LogFileInput, _ body: (LogEntry) throws -> Void) throws {
        try JSONFileScan.forEachLine(file) { line in
            if let decoded = JSONLine.decode(line) { try body(decoded.entry) }
        }
    }
}
