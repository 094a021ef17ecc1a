import Foundation
import MoorPluginKit
import Testing

/// `compress` for json-file and local, through the kit's LogDriver API:
/// rotated files become `.N.gz` that gzip(1) reads, the reader inflates
/// them in order, and a crash at any step of a compressed rotation leaves
/// a log that reopens at the right position with every entry once.
@Suite struct LogCompressionTests {
    static let drivers = FileLogDriver.all.map(\.name)

    /// Options giving two "line N\n" entries per file for either driver.
    private func options(_ driver: String, maxFile: Int = 3, compress: Bool = true) throws -> [String: String] {
        try FileLogDriver.named(driver).twoPerFile.merging(["max-file": "\(maxFile)", "compress": "\(compress)"]) { $1 }
    }

    private func open(_ driver: String, _ dir: String, _ options: [String: String])
        async throws -> (any LogWriter, any LogReader, String) {
        try await FileLogDriver.named(driver).open(dir, options)
    }

    private func lines(_ seqs: ClosedRange<Int>) -> [LogEntry] {
        seqs.map { entry("line \($0)\n", UInt64($0)) }
    }

    /// The json-file line dockerd (and moor) writes for `entry("line N\n", N)`.
    private func jsonLine(_ seq: Int) -> String {
        let seconds = seq < 10 ? "0\(seq)" : "\(seq)"
        return #"{"log":"line \#(seq)\n","stream":"stdout","time":"1970-01-01T00:00:\#(seconds)Z","pos":"\#(seq):0"}"#
            + "\n"
    }

    @Test func jsonFileGzipsRotatedFilesAndNeverTheCurrentOne() async throws {
        for batched in [false, true] {
            try await withTemporaryDirectory { dir in
                let (writer, reader, path) = try await open("json-file", dir, try options("json-file"))
                if batched {
                    try await writer.write(lines(1...10))
                } else {
                    for item in lines(1...10) { try await writer.write([item]) }
                }
                #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
                #expect(try gzipAccepts("\(path).1.gz") && gzipAccepts("\(path).2.gz"))
                #expect(try zcat("\(path).2.gz") == jsonLine(5) + jsonLine(6))
                #expect(try zcat("\(path).1.gz") == jsonLine(7) + jsonLine(8))
                #expect(try fileText(path) == jsonLine(9) + jsonLine(10))
                #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [5, 6, 7, 8, 9, 10])
                #expect(try await writer.lastPosition() == LogPosition(seq: 10, offset: 0))
            }
        }
    }

    @Test func localGzipsRotatedFilesByDefaultWithTheBytesItWouldWritePlain() async throws {
        try await withTemporaryDirectory { dir in
            let defaults = ["max-size": "110", "max-file": "3"]
            let (writer, reader, path) = try await open("local", "\(dir)/gz", defaults)
            let (plainWriter, _, plainPath) = try await open("local", "\(dir)/plain", try options("local", compress: false))
            try await writer.write(lines(1...9))
            try await plainWriter.write(lines(1...9))

            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            for index in [1, 2] {
                #expect(try gzipAccepts("\(path).\(index).gz"))
                #expect(try zcatBytes("\(path).\(index).gz") == fileBytes("\(plainPath).\(index)"))
            }
            #expect(try fileBytes(path) == fileBytes(plainPath))
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [5, 6, 7, 8, 9])
        }
    }

    @Test(arguments: drivers) func readsAcrossCompressedAndPlainFilesInOrder(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(driver, dir, try options(driver, maxFile: 4))
            try await writer.write(lines(1...8))
            #expect(try rotatedNames(path) == ["1.gz", "2.gz", "3.gz"])
            // Generation 2 left plain (a compression that failed), generation
            // 3 with both files (a crash before the plain one was removed).
            try createFile("\(path).2", zcatBytes("\(path).2.gz"))
            try FileManager.default.removeItem(atPath: "\(path).2.gz")
            try createFile("\(path).3", zcatBytes("\(path).3.gz"))

            let second: Int64 = 1_000_000_000
            func seqs(_ options: LogReadOptions) async throws -> [UInt64] {
                try await reader.read(options).map(\.position.seq)
            }
            #expect(try await seqs(LogReadOptions()) == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(tail: 5)) == [4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(sinceNs: 2 * second, untilNs: 5 * second)) == [2, 3, 4, 5])

            // The next rotation compresses what is plain and moves one copy per generation.
            try await writer.write(lines(9...9))
            #expect(try rotatedNames(path) == ["1.gz", "2.gz", "3.gz"])
            for index in 1...3 { #expect(try gzipAccepts("\(path).\(index).gz")) }
            #expect(try await seqs(LogReadOptions()) == [3, 4, 5, 6, 7, 8, 9])
        }
    }

    @Test(arguments: drivers) func tailAndFiltersReachIntoCompressedFiles(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, _) = try await open(driver, dir, try options(driver, maxFile: 5))
            try await writer.write((1...8).map { seq in
                entry("line \(seq)\n", UInt64(seq), source: seq % 2 == 0 ? .stderr : .stdout)
            })
            func seqs(_ options: LogReadOptions) async throws -> [UInt64] {
                try await reader.read(options).map(\.position.seq)
            }
            #expect(try await seqs(LogReadOptions()) == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(tail: 3)) == [6, 7, 8])
            #expect(try await seqs(LogReadOptions(tail: 7)) == [2, 3, 4, 5, 6, 7, 8])
            #expect(try await seqs(LogReadOptions(tail: 0)) == [])
            #expect(try await seqs(LogReadOptions(tail: 3, stdout: false)) == [4, 6, 8])
            #expect(try await seqs(LogReadOptions(untilNs: 3_000_000_000, stderr: false)) == [1, 3])
        }
    }

    /// The states a crash can leave during the rotation after entry 5, once
    /// every file has moved one up and `BASE` became `BASE.1`.
    enum CrashPoint: String, CaseIterable {
        /// Before the new current file was created.
        case renamed
        /// While gzipping `BASE.1` into its temporary file.
        case compressing
        /// After the `.gz` got its name, before the plain file was removed.
        case compressedBothPresent
        /// After the plain file was removed, before anything else was written.
        case compressed
    }

    @Test(arguments: drivers, CrashPoint.allCases)
    func recoversFromACrashAtAnyStepOfACompressedRotation(driver: String, crash: CrashPoint) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await open(driver, dir, try options(driver))
            try await writer.write(lines(1...5))
            await writer.close()
            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            try moveFile("\(path).2.gz", to: "\(path).3.gz")
            try moveFile("\(path).1.gz", to: "\(path).2.gz")
            try moveFile(path, to: "\(path).1")
            let compressed = try gzip("\(path).1")
            switch crash {
            case .renamed:
                break
            case .compressing:
                try createFile(path, [])
                try createFile("\(path).1.gz.tmp", Array(compressed.prefix(compressed.count / 2)))
            case .compressedBothPresent:
                try createFile(path, [])
                try createFile("\(path).1.gz", compressed)
            case .compressed:
                try createFile(path, [])
                try createFile("\(path).1.gz", compressed)
                try FileManager.default.removeItem(atPath: "\(path).1")
            }

            // A reader before the writer's recovery already sees every entry once.
            let early = try #require(try await logDriver(driver).openReader(for: container(dir), options: try options(driver)))
            #expect(try await early.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4, 5])

            let (reopened, reader, _) = try await open(driver, dir, try options(driver))
            #expect(try await reopened.lastPosition() == LogPosition(seq: 5, offset: 0))
            let names = try rotatedNames(path)
            #expect(!names.contains { $0.hasSuffix(".tmp") })
            #expect(!(names.contains("1") && names.contains("1.gz")))
            try await reopened.write(lines(6...6))
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4, 5, 6])

            // Later rotations compress what the crash left plain and drop the surplus.
            try await reopened.write(lines(7...8))
            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [5, 6, 7, 8])
        }
    }

    @Test(arguments: drivers) func findsEachStreamsLastPositionInCompressedFiles(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let options = try options(driver)
            let (writer, _, path) = try await open(driver, dir, options)
            try await writer.write([
                entry("line 1\n", 1, source: .stderr), entry("line 2\n", 2), entry("line 3\n", 3),
                entry("line 4\n", 4), entry("line 5\n", 5),
            ])
            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            #expect(try await writer.lastPositions(since: 1)
                == [.stdout: LogPosition(seq: 5, offset: 0), .stderr: LogPosition(seq: 1, offset: 0)])
            #expect(try await writer.lastPositions(since: 2) == [.stdout: LogPosition(seq: 5, offset: 0)])
        }
    }

    @Test(arguments: drivers) func findsTheLastPositionInsideACompressedFileWithLongEntries(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let long = String(repeating: "0123456789abcdef", count: 12_000) + "\n" // 192 KB, past every buffer
            let entries = [entry("short\n", 1), entry(long, 2), entry(long, 3), entry(long, 4)]
            let options = ["max-size": "300k", "max-file": "3", "compress": "true"]
            let (writer, reader, path) = try await open(driver, dir, options)
            try await writer.write(entries)
            await writer.close()
            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            // A crash once the next rotation gzipped the file holding entry 4,
            // before anything was written to the new current file.
            try moveFile("\(path).2.gz", to: "\(path).3.gz")
            try moveFile("\(path).1.gz", to: "\(path).2.gz")
            try moveFile(path, to: "\(path).1")
            try createFile("\(path).1.gz", gzip("\(path).1"))
            try FileManager.default.removeItem(atPath: "\(path).1")
            try createFile(path, [])

            let (reopened, _, _) = try await open(driver, dir, options)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 4, offset: 0))
            #expect(try await reader.read(LogReadOptions()) == entries)
        }
    }

    @Test(arguments: drivers) func aFailedCompressionLosesNothingAndIsRetriedAtTheNextRotation(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(driver, dir, try options(driver, maxFile: 4))
            try await writer.write(lines(1...2))
            // A directory where the temporary .gz goes makes the compression fail.
            try FileManager.default.createDirectory(atPath: "\(path).1.gz.tmp", withIntermediateDirectories: false)
            let error = await logDriverError { try await writer.write(lines(3...3)) }
            #expect(error?.description.contains("\(path).1.gz.tmp") == true, "\(String(describing: error))")
            #expect(try rotatedNames(path) == ["1", "1.gz.tmp"])
            #expect(try await writer.lastPosition() == LogPosition(seq: 3, offset: 0))
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3])
            try await writer.write(lines(3...3)) // the daemon's retry stores nothing twice

            try FileManager.default.removeItem(atPath: "\(path).1.gz.tmp")
            try await writer.write(lines(4...5))
            #expect(try rotatedNames(path) == ["1.gz", "2.gz"])
            #expect(try zcatBytes("\(path).2.gz").count > 0)
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4, 5])
        }
    }

    @Test(arguments: drivers) func readsGzipFilesOtherToolsWroteIncludingSeveralMembers(driver: String) async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(driver, dir, try options(driver, maxFile: 4, compress: false))
            try await writer.write(lines(1...7))
            // gzip(1) at its best level for one file, two concatenated members for another.
            try createFile("\(path).1.gz", run("gzip", ["-9", "-c", "\(path).1"]).output)
            try FileManager.default.removeItem(atPath: "\(path).1")
            let plain = try fileBytes("\(path).2")
            let header = driver == "local" ? 8 : 0
            let cut = header + (plain.count - header) / 2 // entries of "line N\n" have one size
            try createFile("\(dir)/first", Array(plain[..<cut]))
            try createFile("\(dir)/second", Array(plain[cut...]))
            try createFile("\(path).2.gz", run("gzip", ["-c", "\(dir)/first"]).output
                + run("gzip", ["-c", "\(dir)/second"]).output)
            try FileManager.default.removeItem(atPath: "\(path).2")
            #expect(try zcatBytes("\(path).2.gz") == plain)
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4, 5, 6, 7])
        }
    }

    @Test(arguments: drivers) func reportsADamagedCompressedFileByPath(driver: String) async throws {
        for damage in ["truncated", "garbage"] {
            try await withTemporaryDirectory { dir in
                let (writer, reader, path) = try await open(driver, dir, try options(driver))
                try await writer.write(lines(1...5))
                var bytes = try fileBytes("\(path).1.gz")
                if damage == "truncated" {
                    bytes.removeLast(12)
                } else {
                    for index in 20..<bytes.count - 8 { bytes[index] = 0x5A }
                }
                try createFile("\(path).1.gz", bytes)
                let error = await logDriverError { _ = try await reader.read(LogReadOptions()) }
                #expect(error?.description.contains("\(path).1.gz") == true, "\(damage): \(String(describing: error))")
            }
        }
    }
}

// MARK: - Files and gzip(1)

/// The suffixes after `BASE.` of the rotated files (and leftovers) beside `path`, sorted.
func rotatedNames(_ path: String) throws -> [String] {
    let base = (path as NSString).lastPathComponent + "."
    return try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        .filter { $0.hasPrefix(base) }.map { String($0.dropFirst(base.count)) }.sorted()
}

/// Runs a tool found on PATH; its standard output and exit status.
func run(_ tool: String, _ arguments: [String]) throws -> (output: [UInt8], status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (Array(data), process.terminationStatus)
}

func gzipAccepts(_ path: String) throws -> Bool {
    try run("gzip", ["-t", path]).status == 0
}

func zcatBytes(_ path: String) throws -> [UInt8] {
    let result = try run("zcat", [path])
    #expect(result.status == 0, "zcat \(path)")
    return result.output
}

func zcat(_ path: String) throws -> String {
    String(decoding: try zcatBytes(path), as: UTF8.self)
}

/// `path` compressed by gzip(1), as another tool (or dockerd) would write it.
func gzip(_ path: String) throws -> [UInt8] {
    try run("gzip", ["-c", path]).output
}
