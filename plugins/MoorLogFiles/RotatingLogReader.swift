import MoorPluginKit

/// Reads a rotated log back for `docker logs`: rotated files oldest first
/// (inflating compressed ones), then the current one, keeping the last
/// `tail` entries that pass the filters. Every file is opened before any
/// is read, so a rotation during the read cannot make one file be read
/// twice under two names.
public struct RotatingLogReader<Format: LogFileFormat>: LogReader {
    /// The log to read.
    public let files: LogFileSet
    /// How its entries are encoded.
    public let format: Format

    /// A reader opens nothing until `read`, so it is cheap to make per request.
    public init(files: LogFileSet, format: Format) {
        self.files = files
        self.format = format
    }

    /// The entries that pass `options`, oldest first, read on a dispatch
    /// worker because file reads block.
    public func read(_ options: LogReadOptions) async throws -> [LogEntry] {
        let files = files
        let format = format
        return try await runBlocking {
            var opened = try files.rotatedIndices().reversed().compactMap { try files.openRotated($0)?.input }
            if let current = try PosixFile.openIfPresent(files.current) { opened.append(current) }
            var tail = TailBuffer<LogEntry>(limit: options.tail)
            // Each file is let go once read: one inflate state at a time.
            while !opened.isEmpty {
                try format.forEachEntry(in: opened.removeFirst()) { entry in
                    if options.admits(entry) { tail.append(entry) }
                }
            }
            return tail.elements
        }
    }
}

/// Keeps the last `limit` elements appended (all of them when `limit` is
/// nil or negative, as dockerd reads `--tail -1`), for `docker logs --tail N`
/// without holding the whole log.
struct TailBuffer<Element> {
    private let limit: Int?
    private var storage: [Element] = []
    private var start = 0

    init(limit: Int?) {
        self.limit = limit.flatMap { $0 < 0 ? nil : $0 }
    }

    mutating func append(_ element: Element) {
        guard let limit else { return storage.append(element) }
        if storage.count < limit {
            storage.append(element)
        } else if limit > 0 {
            storage[start] = element
            start = (start + 1) % limit
        }
    }

    var elements: [Element] {
        Array(storage[start...] + storage[..<start])
    }
}
