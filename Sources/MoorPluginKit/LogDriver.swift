/// `moor.logging.v1`: where a container's output goes, and how `docker logs`
/// reads it back.
///
/// The daemon drains each shim's spool into the container's `LogWriter`,
/// one line per entry, with the time the shim read the bytes. To deliver
/// every line exactly once across daemon crashes, every entry carries its
/// `LogPosition` in the spool, and a writer must be able to say, from its
/// own storage, the position of the last entry it holds: after a restart
/// the daemon resumes right after it.
public protocol LogDriver: Sendable {
    /// Checks per-container options (`--log-opt`) before a container is
    /// created: an unknown option or a bad value throws
    /// `LogDriverError.invalidOption` naming it.
    func validate(options: [String: String]) throws

    /// The writer of one container's log, opened when the container is
    /// created or restored, closed when it is removed or the daemon stops.
    func openWriter(for container: LogContainer, options: [String: String]) async throws -> any LogWriter

    /// A reader of what the writer stored, or `nil` when this driver keeps
    /// nothing to read (Docker's `none` and remote drivers).
    func openReader(for container: LogContainer, options: [String: String]) async throws -> (any LogReader)?
}

/// A container as its log driver sees it.
public struct LogContainer: Sendable, Equatable {
    public let id: String
    public let name: String
    /// `DATA_ROOT/containers/ID`: the driver keeps its files here, and they
    /// go when the container is removed.
    public let directory: String
    public let imageName: String
    public let imageID: String
    public let labels: [String: String]
    public let env: [String]
    /// Nanoseconds since the epoch.
    public let createdNs: Int64

    public init(id: String, name: String, directory: String, imageName: String = "", imageID: String = "",
                labels: [String: String] = [:], env: [String] = [], createdNs: Int64 = 0) {
        self.id = id
        self.name = name
        self.directory = directory
        self.imageName = imageName
        self.imageID = imageID
        self.labels = labels
        self.env = env
        self.createdNs = createdNs
    }
}

/// Where an entry ends in the shim's spool: the record `seq` and the byte
/// offset just past the entry's last byte within that record's payload.
/// Positions only grow; delivery resumes after the last one a driver holds.
public struct LogPosition: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var seq: UInt64
    public var offset: UInt32

    public init(seq: UInt64, offset: UInt32) {
        self.seq = seq
        self.offset = offset
    }

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.seq, lhs.offset) < (rhs.seq, rhs.offset)
    }

    public var description: String { "\(seq):\(offset)" }
}

public enum LogSource: String, Sendable, Codable, Equatable {
    case stdout
    case stderr
}

/// One line of output (Docker's log message).
public struct LogEntry: Sendable, Equatable {
    public var source: LogSource
    /// When the shim read the line's first bytes, ns since the epoch.
    public var timeNs: Int64
    /// The bytes, with the trailing "\n" unless `partial`.
    public var line: [UInt8]
    /// The line was cut (too long) or ended without a newline.
    public var partial: Bool
    public var position: LogPosition

    public init(source: LogSource, timeNs: Int64, line: [UInt8], partial: Bool = false, position: LogPosition) {
        self.source = source
        self.timeNs = timeNs
        self.line = line
        self.partial = partial
        self.position = position
    }
}

public protocol LogWriter: Sendable {
    /// Position of the last entry this writer durably holds, read from its
    /// own storage; `nil` when it holds none.
    func lastPosition() async throws -> LogPosition?
    /// For each stream, the position of the last entry of that stream the
    /// writer holds, among entries ending at spool record `floor` or later
    /// (the first record the daemon has not acknowledged). A stream with
    /// none there is absent. After a crash the daemon resumes each stream's
    /// open line exactly there, so a line cut at 16 KiB is neither doubled
    /// nor shortened when the other stream wrote after the cut. Optional:
    /// a writer that cannot tell answers `[:]`, and the daemon then relies
    /// on `lastPosition` alone.
    func lastPositions(since floor: UInt64) async throws -> [LogSource: LogPosition]
    /// Appends entries in order. Returns once they are stored.
    func write(_ entries: [LogEntry]) async throws
    func close() async
}

extension LogWriter {
    public func lastPositions(since floor: UInt64) async throws -> [LogSource: LogPosition] { [:] }
}

/// Gathers each stream's last position while entries are visited newest
/// first (a log walked backwards): the first one seen of a stream is its
/// last. Visiting stops once both streams are known or the entries are
/// older than `floor`.
public struct StreamPositions: Sendable, Equatable {
    public let floor: UInt64
    public private(set) var positions: [LogSource: LogPosition] = [:]
    /// An entry before `floor` was seen: older entries need no visit.
    public private(set) var reachedFloor = false

    public init(floor: UInt64) {
        self.floor = floor
    }

    /// Whether nothing older can change the answer.
    public var complete: Bool { reachedFloor || positions.count == 2 }

    /// Takes the next-older entry's stream and position; false once
    /// `complete` (stop visiting).
    @discardableResult
    public mutating func visit(_ source: LogSource, _ position: LogPosition) -> Bool {
        if position.seq < floor {
            reachedFloor = true
        } else if positions[source] == nil {
            positions[source] = position
        }
        return !complete
    }

    /// An entry before `floor` was seen (by a walk that does not go
    /// newest first).
    public mutating func noteEntryBeforeFloor() {
        reachedFloor = true
    }

    /// Adds what an older part of the log found (a rotated file), keeping
    /// the newer answers.
    public mutating func merge(older: StreamPositions) {
        for (source, position) in older.positions where positions[source] == nil { positions[source] = position }
        reachedFloor = reachedFloor || older.reachedFloor
    }
}

/// What `docker logs` asks for (filtering on time and streams; `tail` is the
/// number of most recent entries, nil for all).
public struct LogReadOptions: Sendable, Equatable {
    public var sinceNs: Int64?
    public var untilNs: Int64?
    public var tail: Int?
    public var stdout: Bool
    public var stderr: Bool

    public init(sinceNs: Int64? = nil, untilNs: Int64? = nil, tail: Int? = nil, stdout: Bool = true, stderr: Bool = true) {
        self.sinceNs = sinceNs
        self.untilNs = untilNs
        self.tail = tail
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether an entry passes the time and stream filters (not `tail`).
    public func admits(_ entry: LogEntry) -> Bool {
        if entry.source == .stdout && !stdout { return false }
        if entry.source == .stderr && !stderr { return false }
        if let since = sinceNs, entry.timeNs < since { return false }
        if let until = untilNs, entry.timeNs > until { return false }
        return true
    }
}

public protocol LogReader: Sendable {
    /// The stored entries that pass `options`, oldest first.
    func read(_ options: LogReadOptions) async throws -> [LogEntry]
}

public enum LogDriverError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An option this driver does not know, or a value it cannot use.
    case invalidOption(driver: String, option: String, reason: String)
    /// Storage failed: the message names the file.
    case storage(String)

    public var description: String {
        switch self {
        case let .invalidOption(driver, option, reason):
            "log driver \(driver): log-opt \(option): \(reason)"
        case let .storage(message):
            message
        }
    }
}
