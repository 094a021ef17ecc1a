import MoorPluginKit
import Testing

/// The json-file driver, through the kit's LogDriver API as the engine uses it.
@Suite struct JSONFileLogTests {
    /// 2024-01-02T03:04:05Z in ns since the epoch.
    static let base: Int64 = 1_704_164_645_000_000_000

    private func open(_ directory: String, _ options: [String: String] = [:], container box: LogContainer? = nil)
        async throws -> (any LogWriter, any LogReader, String) {
        try await FileLogDriver.named("json-file").open(directory, options, container: box)
    }

    @Test func writesDockersLineFormatWithPosition() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(dir)
            let odd = Array("a \"q\" <b> & \t\u{2028}".utf8) + [0xFF, 0x0A]
            let entries = [
                entry("hello\n", 7, offset: 12, timeNs: Self.base + 123_456_789),
                LogEntry(source: .stderr, timeNs: Self.base + 120_000_000, line: odd,
                         position: LogPosition(seq: 7, offset: 40)),
                entry("no newline", 8, offset: 10, timeNs: Self.base, partial: true),
            ]
            try await writer.write(entries)
            await writer.close()

            let expected = #"""
            {"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z","pos":"7:12"}
            {"log":"a \"q\" \u003cb\u003e \u0026 \u0009\u2028\ufffd\n","stream":"stderr","time":"2024-01-02T03:04:05.12Z","pos":"7:40"}
            {"log":"no newline","stream":"stdout","time":"2024-01-02T03:04:05Z","pos":"8:10"}

            """#
            #expect(try fileText(path) == expected)

            // Read back: the invalid byte became U+FFFD, as in Docker.
            let read = try await reader.read(LogReadOptions())
            try #require(read.count == 3)
            #expect(read[0] == entries[0])
            #expect(read[1].line == Array("a \"q\" <b> & \t\u{2028}\u{FFFD}\n".utf8))
            #expect(read[1].source == .stderr && read[1].timeNs == Self.base + 120_000_000)
            #expect(read[2] == entries[2])
        }
    }

    @Test func replacesInvalidUTF8ByteByByteAsGoDoes() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await open(dir)
            // Overlong C0 80, surrogate ED A0 80, then a valid 4-byte rocket and DEL.
            let line: [UInt8] = [0xC0, 0x80, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x9A, 0x80, 0x7F, 0x0A]
            try await writer.write([LogEntry(source: .stdout, timeNs: Self.base, line: line,
                                             position: LogPosition(seq: 1, offset: 11))])
            let expected = #"{"log":"\ufffd\ufffd\ufffd\ufffd\ufffd🚀\#u{7F}\n","stream":"stdout","#
                + #""time":"2024-01-02T03:04:05Z","pos":"1:11"}"# + "\n"
            #expect(try fileText(path) == expected)
        }
    }

    @Test func refusesToWriteOnceClosed() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await open(dir)
            await writer.close()
            let error = await logDriverError { try await writer.write([entry("late\n", 1)]) }
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func writesExtraAttributesFromLabelsEnvAndTag() async throws {
        try await withTemporaryDirectory { dir in
            let options = ["labels": "app,missing", "env": "TIER", "env-regex": "^REG", "tag": "{{.Name}}/{{.ID}}"]
            let box = container(dir, labels: ["app": "web", "team": "ops"], env: ["TIER=front", "REGION=eu", "X=1"])
            let (writer, _, path) = try await open(dir, options, container: box)
            try await writer.write([entry("x\n", 1, offset: 2, timeNs: Self.base)])
            #expect(try fileText(path) == #"""
            {"log":"x\n","stream":"stdout","attrs":{"REGION":"eu","TIER":"front","app":"web","tag":"web/c0ffee012345"},"time":"2024-01-02T03:04:05Z","pos":"1:2"}

            """#)
        }
    }

    @Test func cutsATornLastLineOnReopen() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, _, path) = try await open(dir)
            try await writer.write((1...3).map { entry("line \($0)\n", UInt64($0)) })
            await writer.close()
            let intact = try fileText(path)
            try appendBytes(Array(#"{"log":"torn wri"#.utf8), to: path)

            let (reopened, reader, _) = try await open(dir)
            #expect(try await reopened.lastPosition() == LogPosition(seq: 3, offset: 0))
            #expect(try fileText(path) == intact)
            try await reopened.write([entry("line 4\n", 4)])
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [1, 2, 3, 4])
        }
    }

    @Test func maxFileOneKeepsOnlyTheCurrentFile() async throws {
        try await withTemporaryDirectory { dir in
            let (writer, reader, path) = try await open(dir, ["max-size": "100", "max-file": "1"])
            for seq in 1...5 { try await writer.write([entry("line \(seq)\n", UInt64(seq))]) }
            #expect(!fileExists("\(path).1"))
            #expect(try await reader.read(LogReadOptions()).map(\.position.seq) == [5])
        }
    }

    @Test func readsLinesDockerWroteWithoutAPosition() async throws {
        try await withTemporaryDirectory { dir in
            let path = "\(dir)/c0ffee0123456789-json.log"
            let docker = #"{"log":"from docker\n","stream":"stderr","attrs":{"a":[1,{"b":"}"}]},"time":"2024-01-02T03:04:05.5+01:00"}"#
            try createFile(path, Array((docker + "\n").utf8))
            let (writer, reader, _) = try await open(dir)
            #expect(try await writer.lastPosition() == nil)
            let read = try await reader.read(LogReadOptions())
            #expect(read == [LogEntry(source: .stderr, timeNs: Self.base - 3_600_000_000_000 + 500_000_000,
                                      line: Array("from docker\n".utf8), position: LogPosition(seq: 0, offset: 0))])
        }
    }

    @Test func refusesAnUnknownOptionByName() async throws {
        let driver = try await logDriver("json-file")
        let error = await logDriverError { try driver.validate(options: ["max-size": "10m", "max-sise": "1"]) }
        #expect(error == .invalidOption(driver: "json-file", option: "max-sise",
                                        reason: "unknown log opt for log driver json-file"))
        #expect(error?.description.contains("log-opt max-sise") == true)
    }

    @Test func refusesBadValuesNamingTheOption() async throws {
        let driver = try await logDriver("json-file")
        let cases: [([String: String], String)] = [
            (["max-size": "10x"], "max-size"),
            (["max-size": "0"], "max-size"),
            (["max-size": "-5"], "max-size"),
            (["max-file": "0"], "max-file"),
            (["max-file": "two"], "max-file"),
            (["compress": "maybe"], "compress"),
            (["compress": "true", "max-file": "3"], "compress"),
            (["compress": "true", "max-size": "10m"], "compress"),
            (["env-regex": "("], "env-regex"),
            (["labels-regex": "[a-"], "labels-regex"),
            (["tag": "{{.Command}}"], "tag"),
            (["tag": "{{.Name"], "tag"),
        ]
        for (options, name) in cases {
            let error = await logDriverError { try driver.validate(options: options) }
            #expect(invalidOptionName(error) == name, "\(options) gave \(String(describing: error))")
        }
        // And writers refuse them too, before creating anything.
        try await withTemporaryDirectory { dir in
            let error = await logDriverError { _ = try await driver.openWriter(for: container(dir), options: ["max-file": "0"]) }
            #expect(invalidOptionName(error) == "max-file")
        }
    }

    @Test func acceptsDockersSpellings() async throws {
        let driver = try await logDriver("json-file")
        for options in [
            ["max-size": "10k"], ["max-size": "10m"], ["max-size": "1g"], ["max-size": "1.5MB"], ["max-size": "-1"],
            ["max-size": "10 mib"], ["max-size": "10m", "max-file": "3", "compress": "true"], ["compress": "false"],
            ["labels": "a,b", "env": "X", "env-regex": "^A", "labels-regex": "b+", "tag": "{{.ImageName}}|{{ .FullID }}"],
        ] {
            try driver.validate(options: options)
        }
    }
}
