import MoorPluginKit

/// One line of a json-file log, in dockerd's format plus one key of moor's:
///
///     {"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z","pos":"42:6"}
///
/// Keys `log`, `stream`, `attrs` (only with the `labels`, `env` or `tag`
/// options) and `time` are Docker's, in Docker's order. `pos` is the
/// entry's `LogPosition` in the shim's spool, `"<seq>:<offset>"`: the
/// writer finds the last one after a crash so the daemon resumes delivery
/// exactly after it. Docker's readers and tools that parse these files
/// ignore keys they do not know. A partial entry is written, as by
/// dockerd, without the trailing "\n" in `log`.
enum JSONLine {
    /// Appends one line, with its terminating "\n".
    static func append(_ entry: LogEntry, attributes: [UInt8], to out: inout [UInt8]) {
        out += #"{"log":"#.utf8
        JSONString.append(entry.line, to: &out)
        out += entry.source == .stdout ? #","stream":"stdout","#.utf8 : #","stream":"stderr","#.utf8
        out += attributes
        out += #""time":""#.utf8
        RFC3339Nano.append(entry.timeNs, to: &out)
        out += #"","pos":""#.utf8
        out += entry.position.description.utf8
        out += "\"}\n".utf8
    }

    /// `"attrs":{...},` with keys sorted (as Go's encoder sorts a map), or
    /// nothing when there are no attributes.
    static func encodeAttributes(_ attributes: [String: String]) -> [UInt8] {
        guard !attributes.isEmpty else { return [] }
        var out = Array(#""attrs":{"#.utf8)
        for (index, key) in attributes.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONString.append(Array(key.utf8), to: &out)
            out.append(UInt8(ascii: ":"))
            JSONString.append(Array((attributes[key] ?? "").utf8), to: &out)
        }
        out += "},".utf8
        return out
    }

    /// The keys `decode` reads, in the order it finds their values.
    private static let keys = ["log", "stream", "time", "pos"].map { Array($0.utf8) }
    private static let stderr = Array("stderr".utf8)

    /// A line read back: the entry, and whether it carried moor's `pos`
    /// (a line written by dockerd has none; its position reads as 0:0).
    struct Decoded {
        var entry: LogEntry
        var hasPosition: Bool
    }

    /// Decodes one line (without its "\n"); nil when it is not a log line
    /// (malformed, or without a valid `time`).
    static func decode(_ line: ArraySlice<UInt8>) -> Decoded? {
        guard let fields = JSONObjectScanner.stringFields(of: line, keys: keys),
              let timeText = fields[2], let timeNs = RFC3339Nano.parse(timeText)
        else { return nil }
        let text = fields[0] ?? []
        let source: LogSource = fields[1] == stderr ? .stderr : .stdout
        let position = fields[3].flatMap(parsePosition)
        let entry = LogEntry(source: source, timeNs: timeNs, line: text, partial: text.last != UInt8(ascii: "\n"),
                             position: position ?? LogPosition(seq: 0, offset: 0))
        return Decoded(entry: entry, hasPosition: position != nil)
    }

    /// `"<seq>:<offset>"`, both plain decimal numbers.
    static func parsePosition(_ text: [UInt8]) -> LogPosition? {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")),
              let seq = decimal(text[..<colon], as: UInt64.self),
              let offset = decimal(text[(colon + 1)...], as: UInt32.self)
        else { return nil }
        return LogPosition(seq: seq, offset: offset)
    }

    private static func decimal<T: FixedWidthInteger>(_ digits: ArraySlice<UInt8>, as type: T.Type) -> T? {
        guard !digits.isEmpty else { return nil }
        var value: T = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(T(byte - UInt8(ascii: "0")))
            guard !overflow, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
