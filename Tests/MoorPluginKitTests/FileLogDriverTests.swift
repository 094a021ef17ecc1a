import MoorPluginKit
import Testing

/// A log driver that keeps files (json-file, local), and the options that
/// make it rotate after about two "line N\n" entries per file.
struct FileLogDriver: Sendable, CustomStringConvertible {
    let name: String
    let twoPerFile: [String: String]
    /// The current log file of a container whose directory is the first argument.
    let currentFile: @Sendable (String, LogContainer) -> String

    var description: String { name }

    static let all = [
        FileLogDriver(name: "json-file", twoPerFile: ["max-size": "200", "max-file": "3"],
                      currentFile: { "\($0)/\($1.id)-json.log" }),
        // Plain rotated files; LogCompressionTests covers the default, compressed.
        FileLogDriver(name: "local", twoPerFile: ["max-size": "110", "max-file": "3", "compress": "false"],
                      currentFile: { directory, _ in "\(directory)/local-logs/container.log" }),
    ]

    static func named(_ name: String) throws -> FileLogDriver {
        try #require(all.first { $0.name == name }, "no file log driver \(name)")
    }

    /// Its writer, reader and current file for `box` (default: `container(directory)`).
    func open(_ directory: String, _ options: [String: String] = [:], container box: LogContainer? = nil)
        async throws -> (any LogWriter, any LogReader, String) {
        let driver = try await logDriver(name)
        let target = box ?? container(directory)
        let writer = try await driver.openWriter(for: target, options: options)
        let reader = try #require(try await driver.openReader(for: target, options: options))
        return (writer, reader, currentFile(directory, target))
    }
}

/// What the file drivers share, through the kit's LogDriver API as the
/// engine uses it: positions that make delivery exactly-once across
/// reopening, long entries, rotation (also when a crash cut it short), and
/// Docker's read filters across rotated files.
@Suite struct FileLogDriverTests {
    @Test(arguments: FileLogDriver.all)
    func lastPositionIsNilWhenEmptyAndSurvivesReopening(_ driver: FileLogDriver) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, _) = try await driver.open(dir)
            #expect(try await writer.lastPosition() == nil)
            try await writer.write([entry("a\n", 1, offset: 2), entry("b\n", 1, offset: 4)])
            try await writer.write([entry("c\n", 2, offset: 2)])
            #expect(try await writer.lastPosition() == LogPosition(seq: 2, offset: 2))
            await writer.close()

            let (reopened, _, _) = try await driver.open(dir)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 2, offset: 2))
        }
    }

    /// Each stream's last entry from a spool record on, found across
    /// rotated files, and again from the files after reopening.
    @Test(arguments: FileLogDriver.all)
    func lastPositionsGiveEachStreamsLastEntryFromTheFloorOn(_ driver: FileLogDriver) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await driver.open(dir, driver.twoPerFile)
            #expect(try await writer.lastPositions(since: 1).isEmpty)
            try await writer.write([
                entry("line 1\n", 1), entry("line 2\n", 2, source: .stderr), entry("line 3\n", 3),
                entry("line 4\n", 4), entry("line 5\n", 5, offset: 7),
            ])
            #expect(try rotatedNames(path).count == 2, "the test needs stderr's entry in an older rotated file")
            for reopen in [false, true] {
                var current = writer
                if reopen {
                    await writer.close()
                    current = try await driver.open(dir, driver.twoPerFile).0
                }
                #expect(try await current.lastPositions(since: 1)
                    == [.stdout: LogPosition(seq: 5, offset: 7), .stderr: LogPosition(seq: 2, offset: 0)])
                #expect(try await current.lastPositions(since: 3) == [.stdout: LogPosition(seq: 5, offset: 7)])
                #expect(try await current.lastPositions(since: 6).isEmpty)
            }
        }
    }

    @Test(arguments: FileLogDriver.all)
    func handlesEntriesLongerThanTheReadChunk(_ driver: FileLogDriver) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, _) = try await driver.open(dir)
            let long = String(repeating: "0123456789abcdef", count: 12_000) + "\n" // 192 KB
            let entries = [entry("short\n", 1), entry(long, 2), entry(long, 3), entry("short\n", 4)]
            try await writer.write(Array(entries.prefix(3)))
            await writer.close()
            let (reopened, _, _) = try await driver.open(dir)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 3, offset: 0))
            try await reopened.write([entries[3]])
            #expect(try await reader.read(LogReadOptions()) == entries)
        }
    }

    @Test(arguments: FileLogDriver.all)
    func skipsEntriesItAlreadyHoldsSoARetriedBatchIsStoredOnce(_ driver: FileLogDriver) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, _) = try await driver.open(dir)
            try await writer.write([entry("a\n", 1), entry("b\n", 2, offset: 2), entry("c\n", 3)])
            try await writer.write([entry("b\n", 2, offset: 2), entry("c\n", 3), entry("d\n", 4)])
            await writer.close()
            let (reopened, _, _) = try await driver.open(dir)
            try await reopened.write([entry("d\n", 4), entry("e\n", 5)])
            #expect(try await reader.read(LogReadOptions()).map(\.line) == ["a\n", "b\n", "c\n", "d\n", "e\n"].map { Array($0.utf8) })
        }
    }

    @Test(arguments: FileLogDriver.all, [false, true])
    func rotatesByMaxSizeKeepingMaxFileFiles(_ driver: FileLogDriver, batched: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await driver.open(dir, driver.twoPerFile)
            let entries = (1...10).map { entry("line \($0)\n", UInt64($0)) }
            if batched {
                try await writer.write(entries)
            } else {
                for item in entries { try await writer.write([item]) }
            }
            #expect(fileExists(path) && fileExists("\(path).1") && fileExists("\(path).2"))
            #expect(!fileExists("\(path).3"))
            let maxSize = Int(driver.twoPerFile["max-size"] ?? "") ?? 0
            for file in [path, "\(path).1", "\(path).2"] { #expect(try fileSize(file) <= maxSize) }
            // Two entries per file, three files: the oldest four rotated away.
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [5, 6, 7, 8, 9, 10])
            #expect(try await writer.lastPosition() == LogPosition(seq: 10, offset: 0))
        }
    }

    @Test(arguments: FileLogDriver.all, [false, true])
    func findsTheLastPositionInARotatedFileAfterACrashMidRotation(_ driver: FileLogDriver, emptyCurrent: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await driver.open(dir, driver.twoPerFile)
            try await writer.write((1...5).map { entry("line \($0)\n", UInt64($0)) })
            await writer.close()
            // The crash: every file renamed one up, the new current file
            // not written (or not even created) yet.
            try moveFile("\(path).2", to: "\(path).3")
            try moveFile("\(path).1", to: "\(path).2")
            try moveFile(path, to: "\(path).1")
            if emptyCurrent { try createFile(path, []) }

            let (reopened, reader, _) = try await driver.open(dir, driver.twoPerFile)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 5, offset: 0))
            try await reopened.write([entry("line 6\n", 6)])
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test(arguments: FileLogDriver.all)
    func readsWithSinceUntilTailAndStreamFiltersAcrossRotatedFiles(_ driver: FileLogDriver) async throws {
        try await withTemporaryDirectory { dir in
            // Room for all eight entries, two per file.
            var options = driver.twoPerFile
            options["max-file"] = "9"
            let (writer, reader, path) = try await driver.open(dir, options)
            try await writer.write((1...8).map { seq in
                entry("line \(seq)\n", UInt64(seq), source: seq % 2 == 0 ? .stderr : .stdout)
            })
            #expect(fileExists("\(path).3"))
            let second: Int64 = 1_000_000_000
            func seqs(_ options: LogReadOptions) async throws -> [UInt64] {
                try await reader.read(options).map(\.position.seq)
            }
            #expect(try await seqs(LogReadOptions()) == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(sinceNs: 3 * second, untilNs: 6 * second)) == [3, 4, 5, 6])
            #expect(try await seqs(LogReadOptions(stderr: false)) == [1, 3, 5, 7])
            #expect(try await seqs(LogReadOptions(stdout: false)) == [2, 4, 6, 8])
            #expect(try await seqs(LogReadOptions(tail: 3)) == [6, 7, 8])
            #expect(try await seqs(LogReadOptions(tail: 0)) == [])
            #expect(try await seqs(LogReadOptions(tail: -1)) == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(untilNs: 6 * second, tail: 2, stdout: false)) == [4, 6])
            #expect(try await seqs(LogReadOptions(sinceNs: 2 * second, tail: 2, stderr: false)) == [5, 7])
        }
    }
}
