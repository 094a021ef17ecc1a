import MoorPluginKit
import Testing

/// The local driver, through the kit's LogDriver API as the engine uses it.
@Suite struct LocalLogTests {
    private func open(_ directory: String, _ options: [String: String] = [:])
        async throws -> (any LogWriter, any LogReader, String) {
        try await FileLogDriver.named("local").open(directory, options)
    }

    @Test func writesTheDocumentedRecordLayout() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(dir)
            let written = LogEntry(source: .stderr, timeNs: 0x0102_0304_0506_0708, line: Array("hi\n".utf8),
                                   position: LogPosition(seq: 7, offset: 12))
            try await writer.write([written])
            let header: [UInt8] = Array("MOORLOG".utf8) + [1]
            let record: [UInt8] = [31, 0, 0, 0] // body length: 28 + 3
                + [228, 245, 209, 254] // CRC-32 of the rest of the body
                + [8, 7, 6, 5, 4, 3, 2, 1] // time, little-endian
                + [7, 0, 0, 0, 0, 0, 0, 0] + [12, 0, 0, 0] // seq, offset
                + [2, 0, 0, 0] // stderr, not partial, reserved
                + Array("hi\n".utf8) + [31, 0, 0, 0]
            #expect(try fileBytes(path) == header + record)
            #expect(try await reader.read(LogReadOptions()) == [written])
        }
    }

    @Test func keepsPartialFlagStreamsAndBytesAsWritten() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, _) = try await open(dir)
            let entries = [
                entry("out\n", 1, offset: 4),
                LogEntry(source: .stderr, timeNs: -5, line: [0xFF, 0x00, 0x0A], position: LogPosition(seq: 1, offset: 7)),
                entry("cut", 2, offset: 3, partial: true),
            ]
            try await writer.write(entries)
            #expect(try await reader.read(LogReadOptions()) == entries)
        }
    }

    @Test func cutsATornTailOnReopen() async throws {
        let torn: [[UInt8]] = [
            [31, 0, 0, 0, 1, 2, 3], // the start of a record
            [UInt8](repeating: 0, count: 4096), // zeros a power loss left
            [40, 0, 0, 0] + [UInt8](repeating: 0xAA, count: 40) + [40, 0, 0, 0], // lengths agree, checksum does not
        ]
        for garbage in torn {
            try await withTemporaryDirectory { dir in
                let (writer, _, path) = try await open(dir)
                try await writer.write((1...3).map { entry("line \($0)\n", UInt64($0)) })
                await writer.close()
                let intact = try fileBytes(path)
                try appendBytes(garbage, to: path)

                let (reopened, reader, _) = try await open(dir)
                #expect(try await reopened.lastPosition() == LogPosition(seq: 3, offset: 0))
                #expect(try fileBytes(path) == intact)
                try await reopened.write([entry("line 4\n", 4)])
                #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4])
            }
        }
    }

    @Test func dropsALastRecordWhoseBytesWereDamaged() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await open(dir)
            try await writer.write((1...3).map { entry("line \($0)\n", UInt64($0)) })
            await writer.close()
            var bytes = try fileBytes(path)
            bytes[bytes.count - 6] ^= 0xFF // inside the last line
            try createFile(path, bytes)

            let (reopened, reader, _) = try await open(dir)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 2, offset: 0))
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2])
        }
    }

    @Test func recreatesAHeaderTornAtCreation() async throws {
        try await withTemporaryDirectory { dir in
            let (first, _, path) = try await open(dir)
            await first.close()
            try createFile(path, Array("MOOR".utf8))
            let (writer, reader, _) = try await open(dir)
            #expect(try await writer.lastPosition() == nil)
            try await writer.write([entry("a\n", 1)])
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1])
            #expect(try Array(fileBytes(path).prefix(8)) == Array("MOORLOG".utf8) + [1])
        }
    }

    @Test func refusesAFileInAnotherFormat() async throws {
        try await withTemporaryDirectory { dir in
            let (first, _, path) = try await open(dir)
            await first.close()
            try createFile(path, Array("{\"log\":\"x\"}\n".utf8))
            let error = await logDriverError { _ = try await open(dir) }
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func appliesDockersDefaultsAndRules() async throws {
        let driver = try await logDriver("local")
        try driver.validate(options: [:])
        try driver.validate(options: ["max-file": "1", "compress": "false"])
        try driver.validate(options: ["max-size": "10m", "max-file": "3", "tag": "{{.Name}}", "env": "A"])
        let cases: [([String: String], String)] = [
            (["max-file": "1"], "compress"), // compress defaults to true, as in dockerd
            (["max-size": "ten"], "max-size"),
            (["max-file": "-2"], "max-file"),
            (["compress": "yes"], "compress"),
            (["env-regex": "(x"], "env-regex"),
            (["mode": "non-blocking"], "mode"),
        ]
        for (options, name) in cases {
            let error = await logDriverError { try driver.validate(options: options) }
            #expect(invalidOptionName(error) == name, "\(options) gave \(String(describing: error))")
        }
        let unknown = await logDriverError { try driver.validate(options: ["max-buffer-size": "1m"]) }
        #expect(unknown == .invalidOption(driver: "local", option: "max-buffer-size",
                                          reason: "unknown log opt for log driver local"))
    }
}
